import {
  type BlockActionOverrides,
  blockActionPayload,
  encodeBlockAction,
  encodeSlashCommand,
  SANDBOX_VERIFICATION_TOKEN,
  type SlashCommandFields,
  slashCommandFields,
} from '../../src/sandbox/slack/payloads.js';
import { signSlackRequest } from '../../src/sandbox/slack/sign.js';
import type { SlackTwin } from '../../src/sandbox/slack/start-slack-twin.js';

// The payload builders live next to the twin, where the sandbox console uses them too.
export type { BlockActionOverrides, SlashCommandFields };

/** The signing secret tests give Bolt unless they need another. */
export const TEST_SIGNING_SECRET = 'sandbox-signing-secret';
/** The deprecated verification token Slack still puts in payloads; Bolt ignores it. */
export const TEST_VERIFICATION_TOKEN = SANDBOX_VERIFICATION_TOKEN;

/** A request as Slack would send it to `/slack/events`: the exact body bytes and the headers. */
export interface SlackRequest {
  body: string;
  headers: Record<string, string>;
}

export interface SignOptions {
  /** Defaults to now. */
  timestampSeconds?: number;
  /** `bad`: signed with another secret; `stale`: timestamp 10 minutes old; `missing`: no signature headers. */
  signature?: 'valid' | 'bad' | 'stale' | 'missing';
  /** Adds `X-Slack-Retry-Num` (and `X-Slack-Retry-Reason`, default `http_timeout`). */
  retryNum?: number;
  retryReason?: string;
}

export interface SigningOptions extends SignOptions {
  /** Defaults to TEST_SIGNING_SECRET. */
  secret?: string;
}

const FORM = 'application/x-www-form-urlencoded';
const STALE_SECONDS = 10 * 60;

/**
 * Headers Slack adds to a request: content type, timestamp and v0 signature, optionally broken on purpose.
 *
 * @example
 * sign('text=hi', TEST_SIGNING_SECRET); // { 'Content-Type': ..., 'X-Slack-Request-Timestamp': ..., 'X-Slack-Signature': 'v0=…' }
 * sign('text=hi', TEST_SIGNING_SECRET, { signature: 'stale', retryNum: 1 });
 */
export function sign(
  body: string,
  secret: string = TEST_SIGNING_SECRET,
  options: number | SignOptions = {},
): Record<string, string> {
  const opts: SignOptions = typeof options === 'number' ? { timestampSeconds: options } : options;
  const mode = opts.signature ?? 'valid';
  const nowSeconds = Math.floor(Date.now() / 1000);
  const timestamp = mode === 'stale' ? nowSeconds - STALE_SECONDS : (opts.timestampSeconds ?? nowSeconds);
  const headers: Record<string, string> = { 'Content-Type': FORM };
  if (mode !== 'missing') {
    Object.assign(headers, signSlackRequest(body, mode === 'bad' ? `not-${secret}` : secret, timestamp));
  }
  if (opts.retryNum !== undefined) {
    headers['X-Slack-Retry-Num'] = String(opts.retryNum);
    headers['X-Slack-Retry-Reason'] = opts.retryReason ?? 'http_timeout';
  }
  return headers;
}

function signed(body: string, signing: SigningOptions): SlackRequest {
  const { secret = TEST_SIGNING_SECRET, ...opts } = signing;
  return { body, headers: sign(body, secret, opts) };
}

/**
 * A signed `/mlops` slash command as Slack posts it (reference §10 B). With `twin`, the response_url is a live
 * one on the twin and names come from its seed.
 *
 * @example
 * const req = slashCommand({ text: 'deploy churn 3', twin });
 * const res = await postToBolt(boltUrl, req);
 */
export function slashCommand(
  overrides: Partial<SlashCommandFields> & { twin?: SlackTwin } = {},
  signing: SigningOptions = {},
): SlackRequest {
  return signed(encodeSlashCommand(slashCommandFields(overrides)), signing);
}

/**
 * A signed `block_actions` click (`payload=<json>`), shaped like Slack's. With `twin` and `message_ts`, the message
 * and the button's block_id/label come from the twin's stored message, and the response_url is live.
 *
 * @example
 * const req = blockAction({ action_id: 'approve-request', value: 'req-1', user: APPROVER_USER_ID, message_ts: ts, twin });
 */
export function blockAction(
  overrides: BlockActionOverrides = {},
  signing: SigningOptions = {},
): SlackRequest {
  return signed(encodeBlockAction(blockActionPayload(overrides)), signing);
}

export interface BoltResponse {
  status: number;
  body: string;
  /** The body parsed as JSON when it is JSON. */
  json?: unknown;
}

/**
 * POSTs a built request to a Bolt HTTPReceiver. `url` is the receiver's base URL or its full endpoint URL;
 * a bare base gets `/slack/events`.
 */
export async function postToBolt(url: string, request: SlackRequest): Promise<BoltResponse> {
  const target = new URL(url);
  if (target.pathname === '/' || target.pathname === '') target.pathname = '/slack/events';
  const res = await fetch(target, { method: 'POST', headers: request.headers, body: request.body });
  const body = await res.text();
  try {
    return { status: res.status, body, json: JSON.parse(body) };
  } catch {
    return { status: res.status, body };
  }
}
