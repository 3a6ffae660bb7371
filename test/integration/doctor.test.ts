import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { type CheckResult, doctor, formatResults } from '../../src/doctor.js';
import { type SlackTwin, startSlackTwin } from '../../src/sandbox/slack/start-slack-twin.js';
import { seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';

const fixture = (name: string) => new URL(`../fixtures/policy/${name}`, import.meta.url).pathname;
/** No ~/.databrickscfg: only the variables a test passes count. */
const noProfile = {
  readFile: () => {
    throw new Error('ENOENT');
  },
  home: '/nowhere',
};

let slack: SlackTwin;
let workspace: WorkspaceTwin;

beforeEach(async () => {
  [slack, workspace] = await Promise.all([
    startSlackTwin(),
    startWorkspaceTwin({ state: seedDemoWorkspace() }),
  ]);
});

afterEach(async () => {
  expect(slack.unknownCalls()).toEqual([]);
  await Promise.all([slack.stop(), workspace.stop()]);
});

/** A production-shaped environment pointing at the two twins. */
function envFor(overrides: Record<string, string | undefined> = {}) {
  return {
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_SIGNING_SECRET: 'sandbox-signing-secret',
    SLACK_API_URL: slack.apiUrl,
    DATABRICKS_HOST: workspace.url,
    DATABRICKS_TOKEN: workspace.token,
    MODELGATE_CONFIG: EXAMPLE_POLICY_PATH,
    MODELGATE_DB: ':memory:',
    ...overrides,
  };
}

const find = (results: CheckResult[], name: string) => results.find((r) => r.name === name);
const failures = (results: CheckResult[]) => results.filter((r) => r.status === 'fail');

describe('doctor against the twins', () => {
  it('passes every check for a healthy configuration', async () => {
    const results = await doctor(envFor(), noProfile);
    expect(failures(results)).toEqual([]);
    expect(results.map((r) => r.name)).toEqual([
      'Environment',
      'Policy',
      'Slack token',
      'Slack scopes',
      'Slack signing secret',
      'Slack user groups',
      'Databricks',
      'Endpoint churn-endpoint',
      'Change store',
    ]);
    expect(find(results, 'Slack token')?.detail).toBe(
      'signed in to Modelgate Sandbox as @modelgate (bot B0BOT)',
    );
    expect(find(results, 'Endpoint churn-endpoint')?.detail).toContain('serving acme.mlops.churn_model v2');
    expect(formatResults(results)).toMatch(/All checks passed\.$/);
  });

  it('tells a wrong Databricks token by its 401 and says how to get a new one', async () => {
    const results = await doctor(envFor({ DATABRICKS_TOKEN: 'dapi-wrong-secret' }), noProfile);
    expect(find(results, 'Databricks')).toEqual({
      status: 'fail',
      name: 'Databricks',
      detail: `${workspace.url} refused the credentials (HTTP 401 Unauthorized)`,
      fix: expect.stringContaining('create a new personal access token'),
    });
    expect(find(results, 'Endpoint churn-endpoint')?.status).toBe('skip');
    expect(formatResults(results)).not.toContain('dapi-wrong-secret');
  });

  it('tells a 403 apart from a 401', async () => {
    // The workspace twin has no permission model; a loopback server answering 403 stands in for a
    // workspace that knows the principal but denies it.
    const denying = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error_code: 'PERMISSION_DENIED', message: 'User is not authorized.' }));
    });
    await new Promise<void>((resolve) => denying.listen(0, '127.0.0.1', resolve));
    const { port } = denying.address() as AddressInfo;
    try {
      const results = await doctor(envFor({ DATABRICKS_HOST: `http://127.0.0.1:${port}` }), noProfile);
      expect(find(results, 'Databricks')).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('accepted the credentials but refused to list serving endpoints'),
        fix: expect.stringContaining('CAN VIEW'),
      });
    } finally {
      await new Promise((resolve) => denying.close(resolve));
    }
  });

  it('says when the workspace cannot be reached at all', async () => {
    const results = await doctor(envFor({ DATABRICKS_HOST: 'http://127.0.0.1:9' }), noProfile);
    expect(find(results, 'Databricks')).toMatchObject({
      status: 'fail',
      detail: 'cannot reach http://127.0.0.1:9 (connection failed)',
      fix: expect.stringContaining('DATABRICKS_HOST'),
    });
  });

  it('names an endpoint of the policy that does not exist', async () => {
    const results = await doctor(envFor({ MODELGATE_CONFIG: fixture('missing-endpoint.yml') }), noProfile);
    expect(find(results, 'Endpoint churn-endpoint')?.status).toBe('ok');
    expect(find(results, 'Endpoint fraud-endpoint')).toEqual({
      status: 'fail',
      name: 'Endpoint fraud-endpoint',
      detail: `not found in ${workspace.url}`,
      fix: expect.stringMatching(
        /^fix the name under protectedEndpoints in .*missing-endpoint\.yml, or create it/,
      ),
    });
    expect(failures(results)).toHaveLength(1);
  });

  it('names a user group of the policy that Slack does not know', async () => {
    const results = await doctor(envFor({ MODELGATE_CONFIG: fixture('unknown-group.yml') }), noProfile);
    expect(find(results, 'Slack user groups')).toMatchObject({
      status: 'fail',
      detail: 'no user group @ml-aprovers in this workspace',
    });
  });

  it('says a Slack token was refused and how to get the right one', async () => {
    const results = await doctor(envFor({ SLACK_BOT_TOKEN: 'xoxb-revoked-secret' }), noProfile);
    expect(find(results, 'Slack token')).toMatchObject({
      status: 'fail',
      detail: 'Slack refused SLACK_BOT_TOKEN (invalid_auth)',
      fix: expect.stringContaining('Bot User OAuth Token'),
    });
    expect(find(results, 'Slack user groups')?.status).toBe('skip');
    expect(formatResults(results)).not.toContain('xoxb-revoked-secret');
  });

  it('lists the scopes the installed app is missing', async () => {
    slack.setScopes(['commands', 'chat:write']);
    const results = await doctor(envFor(), noProfile);
    expect(find(results, 'Slack scopes')).toMatchObject({
      status: 'fail',
      detail: 'missing chat:write.public, usergroups:read, files:write',
      fix: expect.stringContaining('reinstall the app'),
    });
    expect(find(results, 'Slack user groups')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('usergroups:read'),
    });
  });

  it('lists every configuration problem and checks no connection until they are fixed', async () => {
    const results = await doctor(
      envFor({ SLACK_SIGNING_SECRET: undefined, MODELGATE_CONFIG: fixture('many-problems.yml') }),
      noProfile,
    );
    expect(failures(results).map((r) => r.name)).toEqual([
      'SLACK_SIGNING_SECRET',
      expect.stringMatching(/many-problems\.yml: defaults\.catalog$/),
      expect.stringMatching(/channels\[0\]$/),
      expect.stringMatching(/access\.deploy\.groups\[0\]$/),
      expect.stringMatching(/access\.split\.users$/),
      expect.stringMatching(/autoApply\[0\]$/),
    ]);
    expect(results.at(-1)).toMatchObject({ status: 'skip', name: 'Connections' });
    expect(slack.calls()).toEqual([]);
  });
});

describe('doctor with nothing configured', () => {
  it('says it would run the sandbox and checks the local twins instead', async () => {
    const results = await doctor({ MODELGATE_DB: ':memory:' }, noProfile);
    expect(results[0]).toMatchObject({
      status: 'info',
      name: 'Mode',
      detail: expect.stringContaining('sandbox mode'),
    });
    expect(failures(results)).toEqual([]);
    expect(find(results, 'Databricks')?.detail).toContain('the local workspace twin');
    expect(find(results, 'Endpoint churn-endpoint')?.status).toBe('ok');
  });
});

describe('formatResults', () => {
  it('prints one line per check with the fix under each failure, and counts the failures', () => {
    const text = formatResults([
      { status: 'ok', name: 'Slack token', detail: 'signed in' },
      { status: 'fail', name: 'Databricks', detail: 'HTTP 401', fix: 'new token' },
      { status: 'skip', name: 'Endpoint e', detail: 'needs Databricks' },
    ]);
    expect(text).toBe(
      [
        'modelgate doctor',
        '',
        '  ✓ Slack token: signed in',
        '  ✗ Databricks: HTTP 401',
        '      fix: new token',
        '  – Endpoint e: needs Databricks',
        '',
        '1 check failed.',
      ].join('\n'),
    );
  });
});
