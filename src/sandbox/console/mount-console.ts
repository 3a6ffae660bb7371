/**
 * The local Slack console: a web page on the Slack twin's own address (127.0.0.1) that shows the
 * twin's channels as Slack would and lets a person type `/mlops …` and press buttons as one of the
 * demo users. It drives the real app exactly as Slack does: signed slash-command and block_actions
 * requests into the Bolt receiver, with live response URLs on the twin. Nothing here calls a
 * handler of the bot.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { SandboxKnobs } from '../canary-demo.js';
import {
  appHomeOpenedEvent,
  blockActionInViewPayload,
  blockActionPayload,
  blockSuggestionPayload,
  encodeBlockAction,
  encodeSlashCommand,
  slashCommandFields,
  viewSubmissionPayload,
} from '../slack/payloads.js';
import { readBody } from '../slack/request-body.js';
import type { SlackTwin, TwinRoute } from '../slack/start-slack-twin.js';
import type { SlackChange } from '../slack/state.js';
import { deliverToApp, interpretAck } from './deliver.js';
import { buildWorkspaceView, findStoredButton, visibleTo } from './workspace-view.js';

export interface ConsoleOptions {
  /** The Bolt receiver, e.g. http://127.0.0.1:4000/slack/events */
  eventsUrl: string;
  /** The app's signing secret: the console signs like Slack. */
  signingSecret: string;
  /** The slash command the app registers. */
  command?: string;
  fetch?: typeof fetch;
  /** The sandbox's own switches (traffic, canary faults), shown beside the channels; none when absent. */
  knobs?: SandboxKnobs;
}

export interface SandboxConsole {
  /** The page to open, e.g. http://127.0.0.1:3000/ */
  readonly url: string;
  unmount(): void;
}

const STATIC_DIR = new URL('./static/', import.meta.url);
const STATIC_FILES: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'mrkdwn.js': 'text/javascript; charset=utf-8',
  'blocks.js': 'text/javascript; charset=utf-8',
};

const userId = z.string().regex(/^[UW][A-Z0-9]+$/, 'a user id like U0REQUEST');
const channelId = z.string().regex(/^[CGD][A-Z0-9]+$/, 'a channel id like C0MLOPS');

export const consoleCommandSchema = z.strictObject({
  user: userId,
  channel: channelId,
  /** What follows the command name, e.g. 'status churn-endpoint'. */
  text: z.string().max(4000),
});

export const consoleActionSchema = z.strictObject({
  user: userId,
  channel: channelId,
  ts: z.string().regex(/^\d+\.\d+$/),
  action_id: z.string().min(1).max(255),
  block_id: z.string().max(255).optional(),
  /** What was typed into the message's input blocks: block id → action id → text. */
  values: z.record(z.string().max(255), z.record(z.string().max(255), z.string().max(3000))).optional(),
});

export const consoleMessageSchema = z.strictObject({
  user: userId,
  channel: channelId,
  text: z.string().min(1).max(40_000),
  thread_ts: z
    .string()
    .regex(/^\d+\.\d+$/)
    .optional(),
});

const viewId = z.string().regex(/^V[A-Z0-9]+$/, 'a view id like V0SANDBOX0001');
const blockOrAction = z.string().min(1).max(255);
/** A modal's values as Slack sends them: typed text, or the picked option of a select. */
const viewValue = z.union([
  z.strictObject({ type: z.literal('plain_text_input'), value: z.string().max(3000).nullable() }),
  z.strictObject({
    type: z.literal('external_select'),
    selected_option: z
      .strictObject({
        text: z.strictObject({ type: z.literal('plain_text'), text: z.string().max(75) }),
        value: z.string().max(150),
      })
      .nullable(),
  }),
]);
const viewValues = z.record(z.string().max(255), z.record(z.string().max(255), viewValue));

export const consoleHomeSchema = z.strictObject({ user: userId });
export const consoleViewActionSchema = z.strictObject({
  user: userId,
  view_id: viewId,
  action_id: blockOrAction,
  block_id: blockOrAction.optional(),
});
export const consoleOptionsSchema = z.strictObject({
  user: userId,
  view_id: viewId,
  block_id: blockOrAction,
  action_id: blockOrAction,
  value: z.string().max(200),
  values: viewValues.optional(),
});
export const consoleSubmitSchema = z.strictObject({ user: userId, view_id: viewId, values: viewValues });
export const consoleKnobSchema = z.strictObject({ id: z.string().min(1).max(64), on: z.boolean() });

/** Typed text as Slack puts it in `state.values`: an empty input is null. */
function stateValues(values: Record<string, Record<string, string>>) {
  return Object.fromEntries(
    Object.entries(values).map(([block, actions]) => [
      block,
      Object.fromEntries(
        Object.entries(actions).map(([action, text]) => [
          action,
          { type: 'plain_text_input', value: text === '' ? null : text },
        ]),
      ),
    ]),
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Loopback only: a page on another site that resolves its name to 127.0.0.1 must not drive the bot. */
function fromLoopback(req: IncomingMessage): boolean {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/**
 * Serves the console on the twin's address and returns where to open it.
 *
 * @example
 * const consolePage = mountConsole(slackTwin, { eventsUrl: bot.eventsUrl, signingSecret });
 * console.log(`open ${consolePage.url}`);
 */
export function mountConsole(twin: SlackTwin, options: ConsoleOptions): SandboxConsole {
  const command = options.command ?? '/mlops';
  const deliver = (body: string, json = false) =>
    deliverToApp(body, {
      eventsUrl: options.eventsUrl,
      signingSecret: options.signingSecret,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(json ? { json } : {}),
    });
  const deliverJson = (body: string) => deliver(body, true);

  /** The person must exist and be in the channel, as in Slack's composer. */
  function checkMember(user: string, channel: string): { error: string; status: number } | undefined {
    if (!twin.state.users.has(user)) return { error: 'user_not_found', status: 404 };
    if (!twin.state.channels.has(channel)) return { error: 'channel_not_found', status: 404 };
    if (!twin.state.isMember(channel, user)) return { error: 'not_in_channel', status: 403 };
    return undefined;
  }

  async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T | { invalid: string }> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return { invalid: 'send application/json' };
    }
    let raw: unknown;
    try {
      raw = JSON.parse((await readBody(req)).toString('utf8'));
    } catch {
      return { invalid: 'the body is not JSON' };
    }
    const parsed = schema.safeParse(raw);
    return parsed.success ? parsed.data : { invalid: z.prettifyError(parsed.error) };
  }

  /** The sandbox's knobs: not Slack, so apart from the Slack routes, and only when the sandbox gives them. */
  async function handleKnobs(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const knobs = options.knobs;
    if (!knobs) return sendJson(res, 404, { ok: false, error: 'no_knobs' });
    if (req.method === 'POST') {
      const input = await readJson(req, consoleKnobSchema);
      if ('invalid' in input)
        return sendJson(res, 400, { ok: false, error: 'invalid_request', detail: input.invalid });
      if (!knobs.set(input.id, input.on)) return sendJson(res, 404, { ok: false, error: 'unknown_knob' });
    }
    sendJson(res, 200, { ok: true, knobs: knobs.list() });
  }

  async function handleCommand(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await readJson(req, consoleCommandSchema);
    if ('invalid' in input)
      return sendJson(res, 400, { ok: false, error: 'invalid_request', detail: input.invalid });
    const refused = checkMember(input.user, input.channel);
    if (refused) return sendJson(res, refused.status, { ok: false, error: refused.error });
    const fields = slashCommandFields({
      twin,
      user_id: input.user,
      channel_id: input.channel,
      command,
      text: input.text.trim(),
    });
    const answer = await deliver(encodeSlashCommand(fields));
    if ('error' in answer) return sendJson(res, 200, { ok: false, error: answer.error });
    const outcome = interpretAck(answer.status, answer.body);
    if (outcome.kind === 'failed') return sendJson(res, 200, { ok: false, ...outcome });
    if (outcome.kind === 'reply') {
      // Slack shows an ack body itself: to the user alone unless the app asked for in_channel.
      twin.state.postMessage({
        channel: input.channel,
        user: twin.state.bot.userId,
        text: outcome.text,
        ...(outcome.blocks ? { blocks: outcome.blocks } : {}),
        ...(outcome.inChannel ? {} : { ephemeral_to: input.user }),
      });
    }
    sendJson(res, 200, { ok: true });
  }

  async function handleAction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await readJson(req, consoleActionSchema);
    if ('invalid' in input)
      return sendJson(res, 400, { ok: false, error: 'invalid_request', detail: input.invalid });
    if (!twin.state.users.has(input.user)) return sendJson(res, 404, { ok: false, error: 'user_not_found' });
    const message = twin.state.findMessage(input.channel, input.ts);
    if (!message || !visibleTo(message, input.user)) {
      return sendJson(res, 404, { ok: false, error: 'message_not_found' });
    }
    const button = findStoredButton(message.blocks, input.action_id, input.block_id);
    if (!button) return sendJson(res, 404, { ok: false, error: 'button_not_found' });
    const payload = blockActionPayload({
      twin,
      user: input.user,
      channel: input.channel,
      message_ts: input.ts,
      action_id: button.actionId,
      value: button.value ?? null,
      ...(button.blockId ? { block_id: button.blockId } : {}),
      payload: { state: { values: stateValues(input.values ?? {}) } },
    });
    const answer = await deliver(encodeBlockAction(payload));
    if ('error' in answer) return sendJson(res, 200, { ok: false, error: answer.error });
    const outcome = interpretAck(answer.status, answer.body, false);
    sendJson(res, 200, outcome.kind === 'failed' ? { ok: false, ...outcome } : { ok: true });
  }

  async function handleMessage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await readJson(req, consoleMessageSchema);
    if ('invalid' in input)
      return sendJson(res, 400, { ok: false, error: 'invalid_request', detail: input.invalid });
    const refused = checkMember(input.user, input.channel);
    if (refused) return sendJson(res, refused.status, { ok: false, error: refused.error });
    if (input.thread_ts && !twin.state.findMessage(input.channel, input.thread_ts)) {
      return sendJson(res, 404, { ok: false, error: 'thread_not_found' });
    }
    const message = twin.state.postMessage({
      channel: input.channel,
      user: input.user,
      text: input.text,
      ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
    });
    sendJson(res, 200, { ok: true, ts: message.ts });
  }

  /** The user opens the app's Home tab: Slack sends app_home_opened (the app publishes the view). */
  async function handleOpenHome(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await readJson(req, consoleHomeSchema);
    if ('invalid' in input)
      return sendJson(res, 400, { ok: false, error: 'invalid_request', detail: input.invalid });
    if (!twin.state.users.has(input.user)) return sendJson(res, 404, { ok: false, error: 'user_not_found' });
    const answer = await deliverJson(JSON.stringify(appHomeOpenedEvent({ twin, user: input.user })));
    if ('error' in answer) return sendJson(res, 200, { ok: false, error: answer.error });
    sendJson(res, 200, { ok: answer.status < 300 });
  }

  /** A view's button (Home or modal) must be on the view the user sees. */
  function ownView(user: string, id: string) {
    const view = twin.state.views.modal(id) ?? twin.state.views.home(user);
    return view && view.id === id && view.user === user ? view : undefined;
  }

  async function handleViewAction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await readJson(req, consoleViewActionSchema);
    if ('invalid' in input)
      return sendJson(res, 400, { ok: false, error: 'invalid_request', detail: input.invalid });
    const view = ownView(input.user, input.view_id);
    if (!view) return sendJson(res, 404, { ok: false, error: 'view_not_found' });
    const button = findStoredButton(view.blocks, input.action_id, input.block_id);
    if (!button) return sendJson(res, 404, { ok: false, error: 'button_not_found' });
    const payload = blockActionInViewPayload({
      twin,
      user: input.user,
      view_id: view.id,
      action_id: button.actionId,
      ...(button.value !== undefined ? { value: button.value } : {}),
      ...(button.blockId ? { block_id: button.blockId } : {}),
    });
    const answer = await deliver(encodeBlockAction(payload));
    if ('error' in answer) return sendJson(res, 200, { ok: false, error: answer.error });
    const outcome = interpretAck(answer.status, answer.body, false);
    sendJson(res, 200, outcome.kind === 'failed' ? { ok: false, ...outcome } : { ok: true });
  }

  async function handleOptions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await readJson(req, consoleOptionsSchema);
    if ('invalid' in input)
      return sendJson(res, 400, { ok: false, error: 'invalid_request', detail: input.invalid });
    if (!ownView(input.user, input.view_id))
      return sendJson(res, 404, { ok: false, error: 'view_not_found' });
    const payload = blockSuggestionPayload({
      twin,
      ...input,
      ...(input.values ? { values: input.values } : {}),
    });
    const answer = await deliver(encodeBlockAction(payload));
    if ('error' in answer) return sendJson(res, 200, { ok: false, error: answer.error });
    let options: unknown = [];
    try {
      options = (JSON.parse(answer.body) as { options?: unknown }).options ?? [];
    } catch {
      options = [];
    }
    sendJson(res, 200, { ok: answer.status < 300, options });
  }

  async function handleSubmit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await readJson(req, consoleSubmitSchema);
    if ('invalid' in input)
      return sendJson(res, 400, { ok: false, error: 'invalid_request', detail: input.invalid });
    if (!ownView(input.user, input.view_id))
      return sendJson(res, 404, { ok: false, error: 'view_not_found' });
    const payload = viewSubmissionPayload({
      twin,
      user: input.user,
      view_id: input.view_id,
      values: input.values,
    });
    const answer = await deliver(encodeBlockAction(payload));
    if ('error' in answer) return sendJson(res, 200, { ok: false, error: answer.error });
    if (answer.status >= 300) return sendJson(res, 200, { ok: false, ...interpretAck(answer.status, '') });
    let ack: unknown = {};
    try {
      ack = answer.body.trim() === '' ? {} : JSON.parse(answer.body);
    } catch {
      ack = {};
    }
    const errors = twin.state.views.applySubmissionAck(input.view_id, ack);
    sendJson(res, 200, { ok: true, ...(errors ? { errors } : {}) });
  }

  async function handleClose(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const input = await readJson(req, z.strictObject({ user: userId, view_id: viewId }));
    if ('invalid' in input)
      return sendJson(res, 400, { ok: false, error: 'invalid_request', detail: input.invalid });
    if (!ownView(input.user, input.view_id))
      return sendJson(res, 404, { ok: false, error: 'view_not_found' });
    twin.state.views.close(input.view_id);
    sendJson(res, 200, { ok: true });
  }

  function handleStream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const viewer = url.searchParams.get('user') ?? '';
    if (!twin.state.users.has(viewer)) {
      sendJson(res, 404, { ok: false, error: 'user_not_found' });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    // The snapshot goes first on the same stream, so no change can fall between a fetch and a subscribe.
    send('snapshot', buildWorkspaceView(twin.state, viewer));
    const unsubscribe = twin.state.subscribe((change: SlackChange) => {
      if (change.type === 'file_shared') return; // the share message carries the file
      if (!('message' in change)) {
        // A Home tab or a modal: only its own user sees it.
        if (change.user === viewer) send('view', change);
        return;
      }
      if (!visibleTo(change.message, viewer)) return;
      send('change', { type: change.type, message: change.message });
    });
    const ping = setInterval(() => res.write(': ping\n\n'), 20_000);
    ping.unref();
    req.on('close', () => {
      clearInterval(ping);
      unsubscribe();
    });
  }

  async function handleStatic(res: ServerResponse, name: string): Promise<void> {
    const type = name === 'index.html' ? 'text/html; charset=utf-8' : STATIC_FILES[name];
    if (!type) return sendJson(res, 404, { ok: false, error: 'unknown_route' });
    const body = await readFile(new URL(name, STATIC_DIR));
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  }

  const route: TwinRoute = async (req, res, url) => {
    const verb = req.method ?? 'GET';
    const path = url.pathname;
    const isConsole = path === '/' || path === '/console' || path.startsWith('/console/');
    if (!isConsole || path === '/console/events') return false;
    if (!fromLoopback(req)) {
      sendJson(res, 403, { ok: false, error: 'loopback_only' });
      return true;
    }
    if (verb === 'GET' && (path === '/' || path === '/console' || path === '/console/')) {
      await handleStatic(res, 'index.html');
    } else if (verb === 'GET' && path.startsWith('/console/static/')) {
      await handleStatic(res, path.slice('/console/static/'.length));
    } else if (verb === 'GET' && path === '/console/api/stream') {
      handleStream(req, res, url);
    } else if (verb === 'POST' && path === '/console/api/command') {
      await handleCommand(req, res);
    } else if (verb === 'POST' && path === '/console/api/action') {
      await handleAction(req, res);
    } else if (verb === 'POST' && path === '/console/api/message') {
      await handleMessage(req, res);
    } else if (verb === 'POST' && path === '/console/api/home') {
      await handleOpenHome(req, res);
    } else if (verb === 'POST' && path === '/console/api/view-action') {
      await handleViewAction(req, res);
    } else if (verb === 'POST' && path === '/console/api/options') {
      await handleOptions(req, res);
    } else if (verb === 'POST' && path === '/console/api/submit') {
      await handleSubmit(req, res);
    } else if (verb === 'POST' && path === '/console/api/close') {
      await handleClose(req, res);
    } else if ((verb === 'GET' || verb === 'POST') && path === '/console/api/knobs') {
      await handleKnobs(req, res);
    } else {
      return false;
    }
    return true;
  };

  const unmount = twin.use(route);
  return { url: `${twin.url}/`, unmount };
}
