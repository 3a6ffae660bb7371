import { createHmac } from 'node:crypto';

/** The two headers Slack adds to every request it sends to an app. */
export interface SlackSignatureHeaders {
  'X-Slack-Request-Timestamp': string;
  'X-Slack-Signature': string;
}

/**
 * Signs a raw request body the way Slack does: `v0=` + hex(HMAC-SHA256(secret, `v0:<ts>:<body>`)).
 * The body must be the exact bytes that are sent.
 *
 * @example
 * const headers = signSlackRequest('token=x&text=hi', 'shh', 1732650000);
 * // { 'X-Slack-Request-Timestamp': '1732650000', 'X-Slack-Signature': 'v0=5f2c…' }
 */
export function signSlackRequest(
  body: string,
  secret: string,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): SlackSignatureHeaders {
  const timestamp = String(timestampSeconds);
  const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'X-Slack-Request-Timestamp': timestamp, 'X-Slack-Signature': `v0=${digest}` };
}
