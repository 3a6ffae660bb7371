import { describe, expect, it } from 'vitest';
import { parseErrorResponse } from '../../src/databricks/http.js';
import { REDACTED, redactSecrets } from '../../src/databricks/redact.js';

const PAT = 'dapi0123456789abcdef0123456789abcdef';
const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJib3QiLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';

describe('redacting secrets from relayed error text', () => {
  it.each([
    { name: 'a personal access token', text: `Invalid token ${PAT}`, want: `Invalid token ${REDACTED}` },
    { name: 'a workspace-suffixed PAT', text: `token ${PAT}-2 rejected`, want: `token ${REDACTED} rejected` },
    {
      name: 'an OAuth secret',
      text: 'client secret dose0123456789abcdef0123 is not valid',
      want: `client secret ${REDACTED} is not valid`,
    },
    {
      name: 'a bearer header',
      text: `Authorization: Bearer ${PAT}`,
      want: `Authorization: Bearer ${REDACTED}`,
    },
    { name: 'a bearer JWT', text: `header was Bearer ${JWT}.`, want: `header was Bearer ${REDACTED}.` },
    { name: 'a bare JWT', text: `jwt ${JWT} expired`, want: `jwt ${REDACTED} expired` },
    {
      name: 'basic credentials',
      text: 'Basic dXNlcjpwYXNzd29yZA== refused',
      want: `Basic ${REDACTED} refused`,
    },
    {
      name: 'a Slack bot token',
      text: 'posted with xoxb-123456789012-abcdefABCDEF',
      want: `posted with ${REDACTED}`,
    },
    { name: 'a Slack user token', text: 'xoxp-1234-5678-abcdefgh leaked', want: `${REDACTED} leaked` },
    { name: 'a Slack app token', text: 'xapp-1-A0123-456-abcdef0123', want: REDACTED },
    {
      name: 'a long hex secret',
      text: 'key 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 bad',
      want: `key ${REDACTED} bad`,
    },
    {
      name: 'a token query value',
      text: 'GET https://x.test/a?token=s3cr3t&page=2 failed',
      want: `GET https://x.test/a?token=${REDACTED}&page=2 failed`,
    },
    {
      name: 'a password query value',
      text: 'jdbc:spark://h:443/default;x=1?user=bot&password=hunter2',
      want: `jdbc:spark://h:443/default;x=1?user=bot&password=${REDACTED}`,
    },
    {
      name: 'an Azure SAS signature',
      text: 'Could not read https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sig=AbC%2Bd%3D&se=2026',
      want: `Could not read https://acct.blob.core.windows.net/c/f?sv=2022-11-02&sig=${REDACTED}&se=2026`,
    },
    {
      name: 'an S3 presigned URL',
      text: 's3 ?X-Amz-Credential=AKIAX%2F2026&X-Amz-Signature=abc123',
      want: `s3 ?X-Amz-Credential=${REDACTED}&X-Amz-Signature=${REDACTED}`,
    },
    {
      name: 'a JSON password',
      text: '{"user":"a","password":"p@ss"}',
      want: `{"user":"a","password":${REDACTED}}`,
    },
    { name: 'a quoted client secret', text: "client_secret: 'abc'", want: `client_secret: ${REDACTED}` },
    { name: 'an AWS access key', text: 'key AKIAIOSFODNN7EXAMPLE denied', want: `key ${REDACTED} denied` },
    { name: 'a GitHub token', text: 'ghp_0123456789abcdefghijABCDEFGHIJ0123', want: REDACTED },
    // What must stay: the words people need to fix the problem.
    {
      name: 'a plain permission message',
      text: "User does not have permission 'CAN_MANAGE' on endpoint churn-endpoint.",
      want: "User does not have permission 'CAN_MANAGE' on endpoint churn-endpoint.",
    },
    {
      name: 'an expired token message',
      text: 'Invalid access token: it expired',
      want: 'Invalid access token: it expired',
    },
    {
      name: 'a basic-auth notice',
      text: 'Basic authentication is disabled',
      want: 'Basic authentication is disabled',
    },
    {
      name: 'a request id',
      text: 'request 4b1f9c2e-8d3a-4f6b-9e21-7c5d0a1b2c3d failed',
      want: 'request 4b1f9c2e-8d3a-4f6b-9e21-7c5d0a1b2c3d failed',
    },
    { name: 'a design= parameter', text: 'design=blue', want: 'design=blue' },
  ])('$name', ({ text, want }) => {
    expect(redactSecrets(text)).toBe(want);
  });

  it('leaves no secret in the error a Databricks error envelope becomes', () => {
    const body = JSON.stringify({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `Cannot fetch https://x.test/m?token=abc: Bearer ${PAT} rejected`,
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: `jwt ${JWT}` }],
    });
    const err = parseErrorResponse(400, body, new Headers(), 'PUT', '/api/2.0/serving-endpoints/x/config', 0);
    const everything = `${err.message} ${JSON.stringify(err.details)}`;
    expect(err.errorCode).toBe('INVALID_PARAMETER_VALUE');
    expect(everything).not.toContain(PAT);
    expect(everything).not.toContain(JWT);
    expect(everything).not.toContain('token=abc');
    expect(err.message).toContain('Cannot fetch https://x.test/m?token=[redacted]');
  });

  it('redacts a plain-text error body as well', () => {
    const err = parseErrorResponse(401, `bad credential ${PAT}`, new Headers(), 'GET', '/api/2.0/x', 0);
    expect(err.message).toBe(`bad credential ${REDACTED}`);
  });
});
