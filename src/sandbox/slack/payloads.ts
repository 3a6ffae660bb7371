/**
 * The payloads Slack sends to an app, built the way Slack builds them: a slash command (form fields)
 * and a `block_actions` click (`payload=<json>`). Pure apart from fresh ids; signing is the caller's
 * (`signSlackRequest`). The console and the tests' request helpers share these builders.
 */
import { randomBytes } from 'node:crypto';
import { toApiMessage } from './methods.js';
import {
  BOT_ID,
  BOT_USER_ID,
  createDefaultSlackSeed,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  SANDBOX_APP_ID,
  SANDBOX_TEAM_DOMAIN,
  SANDBOX_TEAM_ID,
} from './seed.js';
import type { SlackTwin } from './start-slack-twin.js';
import { type TwinView, toApiView } from './views.js';

/** The deprecated verification token Slack still puts in payloads; Bolt ignores it. */
export const SANDBOX_VERIFICATION_TOKEN = 'sandbox-verification-token';

/** Used when no twin hands out a response_url: port 9 (discard) refuses, so a stray respond() fails fast. */
export const UNROUTABLE_RESPONSE_URL = 'http://127.0.0.1:9/response/none';

/** A fresh trigger_id in Slack's shape (`<ms>.<n>.<hex>`), unknown to any twin (use `twin.state.views.issueTrigger`). */
export function newTriggerId(): string {
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
 * The form fields of a `/mlops` slash command (reference §10 B): riley in #mlops unless overridden. With `twin`,
 * the response_url is a live one on the twin and names come from its workspace.
 *
 * @example
 * const body = encodeSlashCommand(slashCommandFields({ text: 'status', user_id: APPROVER_USER_ID, twin }));
 */
export function slashCommandFields(
  overrides: Partial<SlashCommandFields> & { twin?: SlackTwin } = {},
): SlashCommandFields {
  const { twin, ...fields } = overrides;
  const channel = fields.channel_id ?? MLOPS_CHANNEL_ID;
  const user = fields.user_id ?? REQUESTER_USER_ID;
  return {
    token: SANDBOX_VERIFICATION_TOKEN,
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
    trigger_id: twin ? twin.state.views.issueTrigger(user) : newTriggerId(),
    ...fields,
  };
}

/** The exact request body Slack sends for a slash command. */
export function encodeSlashCommand(fields: SlashCommandFields): string {
  return new URLSearchParams(Object.entries(fields)).toString();
}

export interface BlockActionOverrides {
  action_id?: string;
  /** The button's value; `null` leaves it out, as Slack does for a button without one. */
  value?: string | null;
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

/** The first button with this action id (in the block `blockId` when given). */
function findButton(blocks: unknown, actionId: string, blockId?: string): ButtonFacts | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const block of blocks as Record<string, unknown>[]) {
    if (blockId !== undefined && block.block_id !== blockId) continue;
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
  return undefined;
}

/**
 * A `block_actions` payload for a button click, shaped like Slack's. With `twin` and `message_ts`, the message
 * and the button's block_id/label/style come from the twin's stored message, and the response_url is live.
 * Like Slack, a click on an ephemeral message carries no `message`.
 *
 * @example
 * const body = encodeBlockAction(blockActionPayload({ action_id: 'change-apply', value: 'chg_1', message_ts: ts, twin }));
 */
export function blockActionPayload(overrides: BlockActionOverrides = {}): Record<string, unknown> {
  const { twin } = overrides;
  const user = overrides.user ?? REQUESTER_USER_ID;
  const channel = overrides.channel ?? MLOPS_CHANNEL_ID;
  const actionId = overrides.action_id ?? 'approve-request';
  const nowSeconds = Date.now() / 1000;
  const messageTs = overrides.message_ts ?? `${Math.floor(nowSeconds)}.000100`;
  const stored = twin?.state.findMessage(channel, messageTs);
  const storedEphemeral = stored?.ephemeral_to !== undefined;
  const message =
    overrides.message ??
    (stored ? (storedEphemeral ? undefined : { ...toApiMessage(stored), type: 'message' }) : undefined) ??
    (storedEphemeral
      ? undefined
      : {
          type: 'message',
          ts: messageTs,
          user: BOT_USER_ID,
          bot_id: BOT_ID,
          team: SANDBOX_TEAM_ID,
          text: 'Approval needed',
          blocks: [],
        });
  const blocks = message?.blocks ?? stored?.blocks;
  const button = findButton(blocks, actionId, overrides.block_id) ?? findButton(blocks, actionId) ?? {};
  const style = overrides.style ?? button.style;
  const value = overrides.value === undefined ? 'request-1' : overrides.value;
  const isEphemeral = overrides.is_ephemeral ?? storedEphemeral;
  return {
    type: 'block_actions',
    user: { id: user, username: userName(user, twin), name: userName(user, twin), team_id: SANDBOX_TEAM_ID },
    api_app_id: SANDBOX_APP_ID,
    token: SANDBOX_VERIFICATION_TOKEN,
    container: { type: 'message', message_ts: messageTs, channel_id: channel, is_ephemeral: isEphemeral },
    trigger_id: overrides.trigger_id ?? (twin ? twin.state.views.issueTrigger(user) : newTriggerId()),
    team: { id: SANDBOX_TEAM_ID, domain: SANDBOX_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: channelName(channel, twin) },
    ...(message ? { message } : {}),
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
        ...(value !== null ? { value } : {}),
        ...(style ? { style } : {}),
        action_ts: nowSeconds.toFixed(6),
      },
    ],
    ...overrides.payload,
  };
}

/** The exact request body Slack sends for an interaction: `payload=<url-encoded json>`. */
export function encodeBlockAction(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

const userOf = (id: string, twin: SlackTwin) => ({
  id,
  username: userName(id, twin),
  name: userName(id, twin),
  team_id: SANDBOX_TEAM_ID,
});

function storedView(twin: SlackTwin, viewId: string): TwinView {
  const view =
    twin.state.views.modal(viewId) ??
    [...twin.state.users.keys()].map((u) => twin.state.views.home(u)).find((v) => v?.id === viewId);
  if (!view) throw new Error(`slack twin: no view ${viewId}`);
  return view;
}

/**
 * A `block_actions` click on a button of a view (a Home tab or a modal): no channel, no message
 * and no response_url, as on Slack; the view rides along with a fresh trigger_id.
 *
 * @example blockActionInViewPayload({ twin, user: APPROVER_USER_ID, view_id: home.id, action_id: 'approval-approve', value: id })
 */
export function blockActionInViewPayload(o: {
  twin: SlackTwin;
  user: string;
  view_id: string;
  action_id: string;
  value?: string;
  block_id?: string;
}): Record<string, unknown> {
  const view = storedView(o.twin, o.view_id);
  return {
    type: 'block_actions',
    user: userOf(o.user, o.twin),
    api_app_id: SANDBOX_APP_ID,
    token: SANDBOX_VERIFICATION_TOKEN,
    container: { type: 'view', view_id: view.id },
    trigger_id: o.twin.state.views.issueTrigger(o.user),
    team: { id: SANDBOX_TEAM_ID, domain: SANDBOX_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    view: toApiView(view),
    actions: [
      {
        type: 'button',
        action_id: o.action_id,
        block_id: o.block_id ?? 'actions',
        text: { type: 'plain_text', text: o.action_id, emoji: true },
        ...(o.value !== undefined ? { value: o.value } : {}),
        action_ts: (Date.now() / 1000).toFixed(6),
      },
    ],
  };
}

/**
 * A `view_submission` of an open modal with what the user typed or picked (Slack's `state.values`
 * shapes: `{ type: 'plain_text_input', value }`, `{ type: 'external_select', selected_option }`).
 *
 * @example viewSubmissionPayload({ twin, user, view_id, values: { reason: { 'reason-input': { type: 'plain_text_input', value: 'no' } } } })
 */
export function viewSubmissionPayload(o: {
  twin: SlackTwin;
  user: string;
  view_id: string;
  values: Record<string, Record<string, unknown>>;
}): Record<string, unknown> {
  const view = o.twin.state.views.setValues(o.view_id, o.values);
  if (!view) throw new Error(`slack twin: no open modal ${o.view_id}`);
  return {
    type: 'view_submission',
    team: { id: SANDBOX_TEAM_ID, domain: SANDBOX_TEAM_DOMAIN },
    user: userOf(o.user, o.twin),
    api_app_id: SANDBOX_APP_ID,
    token: SANDBOX_VERIFICATION_TOKEN,
    trigger_id: o.twin.state.views.issueTrigger(o.user),
    view: toApiView(view),
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/**
 * A `block_suggestion` (options request) from an external_select in an open modal: what the user
 * typed so far, and the view with what is picked already.
 *
 * @example blockSuggestionPayload({ twin, user, view_id, block_id: 'deploy-model', action_id: 'deploy-model-select', value: 'chu' })
 */
export function blockSuggestionPayload(o: {
  twin: SlackTwin;
  user: string;
  view_id: string;
  block_id: string;
  action_id: string;
  value: string;
  values?: Record<string, Record<string, unknown>>;
}): Record<string, unknown> {
  const view = o.values
    ? o.twin.state.views.setValues(o.view_id, o.values)
    : o.twin.state.views.modal(o.view_id);
  if (!view) throw new Error(`slack twin: no open modal ${o.view_id}`);
  return {
    type: 'block_suggestion',
    user: userOf(o.user, o.twin),
    container: { type: 'view', view_id: view.id },
    api_app_id: SANDBOX_APP_ID,
    token: SANDBOX_VERIFICATION_TOKEN,
    action_id: o.action_id,
    block_id: o.block_id,
    value: o.value,
    team: { id: SANDBOX_TEAM_ID, domain: SANDBOX_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    view: toApiView(view),
  };
}

/**
 * The Events API envelope of `app_home_opened` (JSON body): the user entered the app's Home tab;
 * `view` comes along once a Home was published.
 *
 * @example JSON.stringify(appHomeOpenedEvent({ twin, user: APPROVER_USER_ID }))
 */
export function appHomeOpenedEvent(o: {
  twin: SlackTwin;
  user: string;
  tab?: 'home' | 'messages';
}): Record<string, unknown> {
  const home = o.twin.state.views.home(o.user);
  const tab = o.tab ?? 'home';
  const eventTs = (Date.now() / 1000).toFixed(6);
  return {
    token: SANDBOX_VERIFICATION_TOKEN,
    team_id: SANDBOX_TEAM_ID,
    api_app_id: SANDBOX_APP_ID,
    event: {
      type: 'app_home_opened',
      user: o.user,
      channel: `D${o.user}`,
      tab,
      event_ts: eventTs,
      ...(home && tab === 'home' ? { view: toApiView(home) } : {}),
    },
    type: 'event_callback',
    event_id: `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      { team_id: SANDBOX_TEAM_ID, user_id: BOT_USER_ID, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  };
}
