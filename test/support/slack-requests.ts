import { randomBytes } from 'node:crypto';
import { toApiMessage } from '../../src/sandbox/slack/methods.js';
import {
  BOT_ID,
  BOT_USER_ID,
  createDefaultSlackSeed,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  SANDBOX_APP_ID,
  SANDBOX_TEAM_DOMAIN,
  SANDBOX_TEAM_ID,
} from '../../src/sandbox/slack/seed.js';
import { signSlackRequest } from '../../src/sandbox/slack/sign.js';
import type { SlackTwin } from '../../src/sandbox/slack/start-slack-twin.js';

/** The signing secret tests give Bolt unless they need another. */
export const TEST_SIGNING_SECRET = 'sandbox-signing-secret';
/** The deprecated verification token Slack still puts in payloads; Bolt ignores it. */
export const TEST_VERIFICATION_TOKEN = 'sandbox-verification-token';

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

function triggerId(): string {
  return `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(8).toString('hex')}`;
}

const defaultSeed = createDefaultSlackSeed();

function userName(id: string, twin?: SlackTwin): string {
  return (
    twin?.state.users.get(id)?.name ?? defaultSeed.users.find((u) => u.id === id)?.name ?? id.toLowerCase()
  );
}

function channelName(id: string, twin?: SlackTwin): string {
  return (
    twin?.state.channels.get(id)?.name ??
    defaultSeed.channels.find((c) => c.id === id)?.name ??
    id.toLowerCase()
  );
}

/** Used when no twin hands out a response_url: port 9 (discard) refuses, so a stray respond() fails fast. */
const UNROUTABLE_RESPONSE_URL = 'http://127.0.0.1:9/response/none';

export interface SlashCommandFields {
  token: string;
  team_id: string;
  team_domain: string;
  channel_id: string;
  channel_name: string;
  user_id: string;
  user_name: string;
  command: string;
  text: string;
  api_app_id: string;
  is_enterprise_install: string;
  response_url: string;
  trigger_id: string;
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
  const { twin, ...fields } = overrides;
  const channel = fields.channel_id ?? MLOPS_CHANNEL_ID;
  const user = fields.user_id ?? REQUESTER_USER_ID;
  const all: SlashCommandFields = {
    token: TEST_VERIFICATION_TOKEN,
    team_id: SANDBOX_TEAM_ID,
    team_domain: SANDBOX_TEAM_DOMAIN,
    channel_id: channel,
    channel_name: channelName(channel, twin),
    user_id: user,
    user_name: userName(user, twin),
    command: '/mlops',
    text: '',
    api_app_id: SANDBOX_APP_ID,
    is_enterprise_install: 'false',
    response_url: twin ? twin.createResponseUrl({ channel, user }) : UNROUTABLE_RESPONSE_URL,
    trigger_id: triggerId(),
    ...fields,
  };
  return signed(new URLSearchParams(Object.entries(all)).toString(), signing);
}

export interface BlockActionOverrides {
  action_id?: string;
  value?: string;
  block_id?: string;
  /** Clicking user id. */
  user?: string;
  channel?: string;
  message_ts?: string;
  is_ephemeral?: boolean;
  style?: 'primary' | 'danger';
  response_url?: string;
  trigger_id?: string;
  /** The message carrying the button; with `twin` it defaults to the stored message at `message_ts`. */
  message?: Record<string, unknown>;
  /** Extra top-level payload fields (e.g. `state`). */
  payload?: Record<string, unknown>;
  twin?: SlackTwin;
}

interface ButtonFacts {
  blockId?: string;
  label?: string;
  style?: string;
}

function findButton(blocks: unknown, actionId: string): ButtonFacts {
  if (!Array.isArray(blocks)) return {};
  for (const block of blocks as Record<string, unknown>[]) {
    const elements = Array.isArray(block.elements) ? (block.elements as Record<string, unknown>[]) : [];
    const candidates = block.accessory ? [...elements, block.accessory as Record<string, unknown>] : elements;
    const button = candidates.find((e) => e.action_id === actionId);
    if (button) {
      const text = button.text as { text?: string } | undefined;
      return {
        ...(typeof block.block_id === 'string' ? { blockId: block.block_id } : {}),
        ...(text?.text ? { label: text.text } : {}),
        ...(typeof button.style === 'string' ? { style: button.style } : {}),
      };
    }
  }
  return {};
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
  const { twin } = overrides;
  const user = overrides.user ?? REQUESTER_USER_ID;
  const channel = overrides.channel ?? MLOPS_CHANNEL_ID;
  const actionId = overrides.action_id ?? 'approve-request';
  const nowSeconds = Date.now() / 1000;
  const messageTs = overrides.message_ts ?? `${Math.floor(nowSeconds)}.000100`;
  const stored = twin?.state.findMessage(channel, messageTs);
  const message = overrides.message ??
    (stored ? { ...toApiMessage(stored), type: 'message' } : undefined) ?? {
      type: 'message',
      ts: messageTs,
      user: BOT_USER_ID,
      bot_id: BOT_ID,
      team: SANDBOX_TEAM_ID,
      text: 'Approval needed',
      blocks: [],
    };
  const button = findButton(message.blocks, actionId);
  const style = overrides.style ?? button.style;
  const isEphemeral = overrides.is_ephemeral ?? stored?.ephemeral_to !== undefined;
  const payload = {
    type: 'block_actions',
    user: { id: user, username: userName(user, twin), name: userName(user, twin), team_id: SANDBOX_TEAM_ID },
    api_app_id: SANDBOX_APP_ID,
    token: TEST_VERIFICATION_TOKEN,
    container: { type: 'message', message_ts: messageTs, channel_id: channel, is_ephemeral: isEphemeral },
    trigger_id: overrides.trigger_id ?? triggerId(),
    team: { id: SANDBOX_TEAM_ID, domain: SANDBOX_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: channelName(channel, twin) },
    message,
    state: { values: {} },
    response_url:
      overrides.response_url ??
      (twin ? twin.createResponseUrl({ channel, user, messageTs }) : UNROUTABLE_RESPONSE_URL),
    actions: [
      {
        type: 'button',
        action_id: actionId,
        block_id: overrides.block_id ?? button.blockId ?? 'actions',
        text: { type: 'plain_text', text: button.label ?? 'Approve', emoji: true },
        value: overrides.value ?? 'request-1',
        ...(style ? { style } : {}),
        action_ts: nowSeconds.toFixed(6),
      },
    ],
    ...overrides.payload,
  };
  return signed(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), signing);
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
