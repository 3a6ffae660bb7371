/**
 * The console's Slack-side transport: signs a request body with the app's signing secret and POSTs
 * it to the Bolt receiver, as Slack does; then reads the answer as Slack would (a slash command's
 * ack body is shown to its user; a failure becomes Slack's "failed with the error …").
 */
import { signSlackRequest } from '../slack/sign.js';

/** How long Slack waits for an ack before it gives up with `operation_timeout`. */
export const SLACK_ACK_TIMEOUT_MS = 3_000;

/** What an app's HTTP answer means to the person who typed the command or clicked. */
export type AckOutcome =
  | { kind: 'ok' }
  | { kind: 'reply'; text: string; blocks?: unknown[]; inChannel: boolean }
  | { kind: 'failed'; error: string; status?: number };

/**
 * Reads an app's answer to a slash command or a click the way Slack does. Only slash commands show
 * an ack body; for clicks pass `showsBody: false`.
 *
 * @example interpretAck(200, '{"text":"Working on it"}') // { kind: 'reply', text: 'Working on it', inChannel: false }
 * @example interpretAck(500, '') // { kind: 'failed', error: 'http_service_error', status: 500 }
 */
export function interpretAck(status: number, body: string, showsBody = true): AckOutcome {
  if (status >= 500) return { kind: 'failed', error: 'http_service_error', status };
  if (status < 200 || status >= 300) return { kind: 'failed', error: 'http_client_error', status };
  const trimmed = body.trim();
  if (!showsBody || trimmed === '') return { kind: 'ok' };
  try {
    const json = JSON.parse(trimmed) as { text?: unknown; blocks?: unknown; response_type?: unknown };
    if (typeof json === 'object' && json !== null) {
      const blocks = Array.isArray(json.blocks) ? json.blocks : undefined;
      const text = typeof json.text === 'string' ? json.text : '';
      if (!text && !blocks) return { kind: 'ok' };
      return {
        kind: 'reply',
        text,
        ...(blocks ? { blocks } : {}),
        inChannel: json.response_type === 'in_channel',
      };
    }
  } catch {
    // Plain text: Slack shows it as is.
  }
  return { kind: 'reply', text: trimmed, inChannel: false };
}

export interface DeliverOptions {
  /** Where the app listens, e.g. http://127.0.0.1:4000/slack/events */
  eventsUrl: string;
  signingSecret: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Events API envelopes are JSON; commands and interactions are forms (the default). */
  json?: boolean;
}

/**
 * Signs and POSTs a form body to the app, like Slack; returns the raw answer, or Slack's error name
 * when the app could not be reached (`dispatch_failed`) or did not answer in time (`operation_timeout`).
 *
 * @example const answer = await deliverToApp(encodeSlashCommand(fields), { eventsUrl, signingSecret });
 */
export async function deliverToApp(
  body: string,
  options: DeliverOptions,
): Promise<{ status: number; body: string } | { error: 'dispatch_failed' | 'operation_timeout' }> {
  const doFetch = options.fetch ?? fetch;
  const headers = {
    'Content-Type': options.json ? 'application/json' : 'application/x-www-form-urlencoded',
    ...signSlackRequest(body, options.signingSecret),
  };
  try {
    const res = await doFetch(options.eventsUrl, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? SLACK_ACK_TIMEOUT_MS),
    });
    return { status: res.status, body: await res.text() };
  } catch (e) {
    const name = (e as Error).name;
    return {
      error: name === 'TimeoutError' || name === 'AbortError' ? 'operation_timeout' : 'dispatch_failed',
    };
  }
}
