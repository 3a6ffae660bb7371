import { checkBlocks, formatBlockProblem } from '../../slack/blocks/limits.js';
import type { MethodContext, MethodResult, MethodSpec } from './method-spec.js';
import type { SlackState, TwinChannel, TwinFile, TwinMessage, TwinUser } from './state.js';
import { VIEW_METHODS } from './view-methods.js';

export type { MethodContext, MethodResult, MethodSpec } from './method-spec.js';

type Args = Record<string, unknown>;

const MAX_TEXT = 40_000;

function fail(error: string, extra: Record<string, unknown> = {}): MethodResult {
  return { ok: false, error, ...extra };
}

function str(args: Args, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function flag(args: Args, key: string): boolean {
  const value = args[key];
  return value === true || value === 'true' || value === '1' || value === 1;
}

function resolveChannel(state: SlackState, idOrName: string | undefined): TwinChannel | undefined {
  if (!idOrName) return undefined;
  const byId = state.channels.get(idOrName);
  if (byId) return byId;
  // A user id as channel: the bot's DM with that person (Slack opens it on the first post).
  if (/^[UW][A-Z0-9]+$/.test(idOrName) && state.users.has(idOrName)) return state.openDm(idOrName);
  const name = idOrName.replace(/^#/, '');
  return [...state.channels.values()].find((c) => c.name === name);
}

/** A channel the actor may read: private channels are invisible to non-members, like on Slack. */
function visibleChannel(ctx: MethodContext, idOrName: string | undefined): TwinChannel | MethodResult {
  const channel = resolveChannel(ctx.state, idOrName);
  if (!channel || (channel.isPrivate && !channel.members.has(ctx.actor))) return fail('channel_not_found');
  return channel;
}

/** A channel the actor may post to: members always, public channels also with chat:write.public. */
function postableChannel(ctx: MethodContext, idOrName: string | undefined): TwinChannel | MethodResult {
  const channel = visibleChannel(ctx, idOrName);
  if (isError(channel)) return channel;
  if (!channel.members.has(ctx.actor) && !ctx.scopes.includes('chat:write.public'))
    return fail('not_in_channel');
  return channel;
}

/** Why a post into a person's DM is refused (deactivated, Messages tab off), if it is. */
function dmRefusal(ctx: MethodContext, channel: TwinChannel): MethodResult | undefined {
  if (!channel.id.startsWith('D')) return undefined;
  const user = ctx.state.users.get(channel.id.slice(1));
  if (user?.deleted) return fail('user_disabled');
  if (user?.dmsClosed) return fail('messages_tab_disabled');
  return undefined;
}

function isError(value: unknown): value is MethodResult {
  return typeof value === 'object' && value !== null && 'ok' in value && (value as MethodResult).ok === false;
}

interface MessageContent {
  text?: string;
  blocks?: unknown[];
  metadata?: TwinMessage['metadata'];
}

/** Validates text, blocks and metadata like chat.postMessage does; `requireContent` → `no_text` when both are absent. */
export function checkMessageContent(args: Args, requireContent: boolean): MessageContent | MethodResult {
  const text = str(args, 'text');
  const content: MessageContent = {};
  if (text !== undefined) {
    if (text.length > MAX_TEXT) return fail('msg_too_long');
    content.text = text;
  }
  if (args.blocks !== undefined && args.blocks !== '') {
    if (typeof args.blocks === 'string') return fail('invalid_blocks_format');
    const problems = checkBlocks(args.blocks);
    if (problems.length > 0) {
      const errors = problems.map(formatBlockProblem);
      return fail('invalid_blocks', {
        errors,
        response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
      });
    }
    content.blocks = args.blocks as unknown[];
  }
  if (args.metadata !== undefined && args.metadata !== '') {
    const m = args.metadata;
    if (
      typeof m !== 'object' ||
      m === null ||
      typeof (m as Args).event_type !== 'string' ||
      !/^[A-Za-z0-9_-]+$/.test((m as Args).event_type as string) ||
      typeof (m as Args).event_payload !== 'object'
    ) {
      return fail('invalid_metadata_format');
    }
    content.metadata = m as TwinMessage['metadata'];
  }
  const hasBlocks = content.blocks !== undefined && content.blocks.length > 0;
  if (requireContent && !content.text && !hasBlocks && args.attachments === undefined) return fail('no_text');
  return content;
}

/** A stored message in the shape the Web API returns (no twin-only fields; metadata only on request). */
export function toApiMessage(message: TwinMessage, includeMetadata = true): Record<string, unknown> {
  const { channel: _channel, ephemeral_to: _to, metadata, ...rest } = message;
  return includeMetadata && metadata ? { ...rest, metadata } : rest;
}

function userObject(user: TwinUser, teamId: string): Record<string, unknown> {
  return {
    id: user.id,
    team_id: teamId,
    name: user.name,
    deleted: user.deleted ?? false,
    real_name: user.realName,
    tz: user.tz,
    is_bot: user.isBot,
    is_admin: false,
    is_app_user: false,
    profile: {
      real_name: user.realName,
      display_name: user.name,
      image_48: `https://avatars.sandbox.invalid/${user.id}.png`,
      team: teamId,
    },
  };
}

function channelObject(channel: TwinChannel, actor: string, withCount: boolean): Record<string, unknown> {
  return {
    id: channel.id,
    name: channel.name,
    name_normalized: channel.name,
    is_channel: !channel.isPrivate,
    is_group: channel.isPrivate,
    is_im: false,
    is_mpim: false,
    is_private: channel.isPrivate,
    is_archived: false,
    is_general: false,
    is_shared: false,
    is_ext_shared: false,
    is_org_shared: false,
    is_member: channel.members.has(actor),
    created: channel.created,
    creator: '',
    topic: { value: channel.topic, creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
    ...(withCount ? { num_members: channel.members.size } : {}),
  };
}

function fileObject(file: TwinFile, ctx: MethodContext): Record<string, unknown> {
  const shares: Record<'public' | 'private', Record<string, unknown[]>> = { public: {}, private: {} };
  for (const share of file.shares) {
    const channel = ctx.state.channels.get(share.channel);
    const bucket = channel?.isPrivate ? shares.private : shares.public;
    const list = bucket[share.channel] ?? [];
    list.push({
      ts: share.ts,
      channel_name: channel?.name ?? '',
      ...(share.thread_ts ? { thread_ts: share.thread_ts } : {}),
    });
    bucket[share.channel] = list;
  }
  return {
    ...ctx.state.fileInfo(file),
    channels: [...new Set(file.shares.map((s) => s.channel))],
    shares: Object.fromEntries(Object.entries(shares).filter(([, v]) => Object.keys(v).length > 0)),
  };
}

function historyScopes(args: Args, ctx: MethodContext): readonly string[] {
  const channel = resolveChannel(ctx.state, str(args, 'channel'));
  return channel?.isPrivate ? ['groups:history'] : ['channels:history'];
}

function readScopes(args: Args, ctx: MethodContext): readonly string[] {
  const channel = resolveChannel(ctx.state, str(args, 'channel'));
  return channel?.isPrivate ? ['groups:read'] : ['channels:read'];
}

function page<T>(items: T[], args: Args): { items: T[]; nextCursor: string } {
  const limit = Math.min(Math.max(Number(str(args, 'limit') ?? 100) || 100, 1), 1000);
  const cursor = str(args, 'cursor');
  const offset = cursor
    ? Number(Buffer.from(cursor, 'base64').toString('utf8').replace('offset:', '')) || 0
    : 0;
  const slice = items.slice(offset, offset + limit);
  const next =
    offset + limit < items.length ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '';
  return { items: slice, nextCursor: next };
}

const WRITE = ['chat:write'] as const;

const METHODS: Record<string, MethodSpec> = {
  // Socket Mode: an app-level token (connections:write) asks where to open its WebSocket.
  'apps.connections.open': {
    scopes: ['connections:write'],
    handle: (_args, ctx) =>
      ctx.state.socketModeUrl ? { ok: true, url: ctx.state.socketModeUrl } : fail('socket_mode_not_enabled'),
  },

  'auth.test': {
    handle: (_args, ctx) => {
      const { state } = ctx;
      const isBot = ctx.actor === state.bot.userId;
      return {
        ok: true,
        url: `${state.baseUrl}/`,
        team: state.team.name,
        user: state.users.get(ctx.actor)?.name ?? ctx.actor,
        team_id: state.team.id,
        user_id: ctx.actor,
        ...(isBot ? { bot_id: state.bot.botId, app_id: state.bot.appId } : {}),
        is_enterprise_install: false,
      };
    },
  },

  'chat.postMessage': {
    scopes: WRITE,
    handle: (args, ctx) => {
      const channel = postableChannel(ctx, str(args, 'channel'));
      if (isError(channel)) return channel;
      const refused = dmRefusal(ctx, channel);
      if (refused) return refused;
      const content = checkMessageContent(args, true);
      if (isError(content)) return content;
      const threadTs = str(args, 'thread_ts');
      if (threadTs && !ctx.state.findMessage(channel.id, threadTs)) return fail('thread_not_found');
      const message = ctx.state.postMessage({
        channel: channel.id,
        user: ctx.actor,
        text: content.text ?? '',
        ...(content.blocks ? { blocks: content.blocks } : {}),
        ...(content.metadata ? { metadata: content.metadata } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
      return { ok: true, channel: channel.id, ts: message.ts, message: toApiMessage(message) };
    },
  },

  'chat.update': {
    scopes: WRITE,
    handle: (args, ctx) => {
      const channel = visibleChannel(ctx, str(args, 'channel'));
      if (isError(channel)) return channel;
      const ts = str(args, 'ts');
      const existing = ts ? ctx.state.findMessage(channel.id, ts) : undefined;
      if (!ts || !existing || existing.ephemeral_to) return fail('message_not_found');
      if (existing.user !== ctx.actor) return fail('cant_update_message');
      const content = checkMessageContent(args, true);
      if (isError(content)) return content;
      const updated = ctx.state.updateMessage(channel.id, ts, content, ctx.actor);
      return { ok: true, channel: channel.id, ts, text: updated.text, message: toApiMessage(updated) };
    },
  },

  'chat.postEphemeral': {
    scopes: WRITE,
    handle: (args, ctx) => {
      const channel = postableChannel(ctx, str(args, 'channel'));
      if (isError(channel)) return channel;
      const user = str(args, 'user');
      if (!user || !ctx.state.users.has(user)) return fail('user_not_found');
      if (!channel.members.has(user)) return fail('user_not_in_channel');
      const content = checkMessageContent(args, true);
      if (isError(content)) return content;
      const threadTs = str(args, 'thread_ts');
      const message = ctx.state.postMessage({
        channel: channel.id,
        user: ctx.actor,
        text: content.text ?? '',
        ephemeral_to: user,
        ...(content.blocks ? { blocks: content.blocks } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
      return { ok: true, message_ts: message.ts };
    },
  },

  'chat.getPermalink': {
    handle: (args, ctx) => {
      const channel = visibleChannel(ctx, str(args, 'channel'));
      if (isError(channel)) return channel;
      const ts = str(args, 'message_ts');
      const message = ts ? ctx.state.findMessage(channel.id, ts) : undefined;
      if (!ts || !message || message.ephemeral_to) return fail('message_not_found');
      return {
        ok: true,
        channel: channel.id,
        permalink: ctx.state.permalink(channel.id, ts, message.thread_ts),
      };
    },
  },

  'conversations.info': {
    scopes: readScopes,
    handle: (args, ctx) => {
      const channel = visibleChannel(ctx, str(args, 'channel'));
      if (isError(channel)) return channel;
      return { ok: true, channel: channelObject(channel, ctx.actor, flag(args, 'include_num_members')) };
    },
  },

  'conversations.history': {
    scopes: historyScopes,
    handle: (args, ctx) => {
      const channel = visibleChannel(ctx, str(args, 'channel'));
      if (isError(channel)) return channel;
      if (!channel.members.has(ctx.actor)) return fail('not_in_channel');
      const oldest = Number(str(args, 'oldest') ?? 0);
      const latest = Number(str(args, 'latest') ?? Number.POSITIVE_INFINITY);
      const inclusive = flag(args, 'inclusive');
      const newestFirst = ctx.state
        .history(channel.id)
        .filter((m) => {
          const t = Number(m.ts);
          return inclusive ? t >= oldest && t <= latest : t > oldest && t < latest;
        })
        .reverse();
      const { items, nextCursor } = page(newestFirst, args);
      const withMetadata = flag(args, 'include_all_metadata');
      return {
        ok: true,
        messages: items.map((m) => toApiMessage(m, withMetadata)),
        has_more: nextCursor !== '',
        pin_count: 0,
        response_metadata: { next_cursor: nextCursor },
      };
    },
  },

  'conversations.replies': {
    scopes: historyScopes,
    handle: (args, ctx) => {
      const channel = visibleChannel(ctx, str(args, 'channel'));
      if (isError(channel)) return channel;
      const ts = str(args, 'ts');
      const thread = ts ? ctx.state.replies(channel.id, ts) : [];
      if (thread.length === 0) return fail('thread_not_found');
      const { items, nextCursor } = page(thread, args);
      const withMetadata = flag(args, 'include_all_metadata');
      return {
        ok: true,
        messages: items.map((m) => toApiMessage(m, withMetadata)),
        has_more: nextCursor !== '',
        response_metadata: { next_cursor: nextCursor },
      };
    },
  },

  // The bot's DM with one person (several users would make a group DM, which the bot never opens).
  'conversations.open': {
    scopes: ['im:write'],
    handle: (args, ctx) => {
      const users = (str(args, 'users') ?? '').split(',').filter(Boolean);
      if (users.length === 0) return fail('not_enough_users');
      if (users.length > 1) return fail('method_not_supported_for_channel_type');
      const user = ctx.state.users.get(users[0]!);
      if (!user) return fail('user_not_found');
      if (user.isBot) return fail('cannot_dm_bot');
      if (user.deleted) return fail('user_disabled');
      const existed = ctx.state.channels.has(`D${user.id}`);
      const dm = ctx.state.openDm(user.id)!;
      return { ok: true, channel: { id: dm.id }, ...(existed ? { already_open: true } : {}) };
    },
  },

  'users.info': {
    scopes: ['users:read'],
    handle: (args, ctx) => {
      const user = ctx.state.users.get(str(args, 'user') ?? '');
      if (!user) return fail('user_not_found');
      return { ok: true, user: userObject(user, ctx.state.team.id) };
    },
  },

  'usergroups.list': {
    scopes: ['usergroups:read'],
    handle: (args, ctx) => {
      const includeUsers = flag(args, 'include_users');
      const usergroups = [...ctx.state.usergroups.values()].map((g) => ({
        id: g.id,
        team_id: ctx.state.team.id,
        is_usergroup: true,
        is_subteam: true,
        name: g.name,
        handle: g.handle,
        description: '',
        is_external: false,
        date_delete: 0,
        user_count: g.users.length,
        ...(includeUsers ? { users: [...g.users] } : {}),
      }));
      return { ok: true, usergroups };
    },
  },

  'usergroups.users.list': {
    scopes: ['usergroups:read'],
    handle: (args, ctx) => {
      const group = ctx.state.usergroups.get(str(args, 'usergroup') ?? '');
      if (!group) return fail('no_such_subteam');
      return { ok: true, users: [...group.users] };
    },
  },

  'files.getUploadURLExternal': {
    scopes: ['files:write'],
    handle: (args, ctx) => {
      const filename = str(args, 'filename');
      const length = Number(str(args, 'length'));
      if (!filename || !Number.isInteger(length) || length < 0) return fail('invalid_arguments');
      const altText = str(args, 'alt_txt') ?? str(args, 'alt_text');
      const file = ctx.state.createFile({
        filename,
        length,
        user: ctx.actor,
        ...(altText ? { altText } : {}),
      });
      return { ok: true, upload_url: ctx.uploadUrl(file.id), file_id: file.id };
    },
  },

  'files.completeUploadExternal': {
    scopes: ['files:write'],
    handle: (args, ctx) => {
      const files = args.files;
      if (!Array.isArray(files) || files.length === 0) return fail('invalid_arguments');
      const entries: { id: string; title?: string }[] = [];
      for (const entry of files) {
        const id = typeof entry === 'object' && entry !== null ? (entry as Args).id : undefined;
        const file = typeof id === 'string' ? ctx.state.files.get(id) : undefined;
        if (!file || file.user !== ctx.actor || file.bytes === undefined) return fail('file_not_found');
        const title = (entry as Args).title;
        entries.push(typeof title === 'string' ? { id: file.id, title } : { id: file.id });
      }
      const channelArg = str(args, 'channel_id') ?? str(args, 'channels');
      const threadTs = str(args, 'thread_ts');
      const initialComment = str(args, 'initial_comment');
      let target: TwinChannel | undefined;
      let content: MessageContent = {};
      if (channelArg) {
        const channel = postableChannel(ctx, channelArg);
        if (isError(channel)) return channel;
        target = channel;
        if (threadTs && !ctx.state.findMessage(channel.id, threadTs)) return fail('thread_not_found');
        // Slack ignores blocks when initial_comment is set.
        const checked = checkMessageContent(
          initialComment !== undefined ? { text: initialComment } : args,
          false,
        );
        if (isError(checked)) return checked;
        content = checked;
      }
      for (const entry of entries) {
        const file = ctx.state.files.get(entry.id);
        if (file && entry.title) file.title = entry.title;
      }
      if (target) {
        ctx.state.shareFiles({
          fileIds: entries.map((e) => e.id),
          channel: target.id,
          user: ctx.actor,
          text: content.text ?? '',
          ...(content.blocks && initialComment === undefined ? { blocks: content.blocks } : {}),
          ...(threadTs ? { thread_ts: threadTs } : {}),
        });
      }
      return {
        ok: true,
        files: entries.map((e) => {
          const file = ctx.state.files.get(e.id);
          return file ? ctx.state.fileInfo(file) : { id: e.id };
        }),
      };
    },
  },

  'files.info': {
    scopes: ['files:read'],
    handle: (args, ctx) => {
      const file = ctx.state.files.get(str(args, 'file') ?? '');
      if (!file) return fail('file_not_found');
      return { ok: true, file: fileObject(file, ctx), comments: [], response_metadata: { next_cursor: '' } };
    },
  },
};

Object.assign(METHODS, VIEW_METHODS);

/** Names of every Web API method the twin answers. */
export const SUPPORTED_METHODS: readonly string[] = Object.keys(METHODS);

/**
 * Runs one Web API method for an authenticated caller: scope check, then the method.
 * Returns undefined for a method the twin does not know.
 *
 * @example
 * callMethod('usergroups.users.list', { usergroup: 'S0APPROVERS' }, ctx); // { ok: true, users: ['U0APPROVE'] }
 */
export function callMethod(method: string, args: Args, ctx: MethodContext): MethodResult | undefined {
  const spec = METHODS[method];
  if (!spec) return undefined;
  const accepted = typeof spec.scopes === 'function' ? spec.scopes(args, ctx) : (spec.scopes ?? []);
  if (accepted.length > 0 && !accepted.some((s) => ctx.scopes.includes(s))) {
    return fail('missing_scope', { needed: accepted.join(','), provided: ctx.scopes.join(',') });
  }
  return spec.handle(args, ctx);
}

/** The scopes a method accepts for these arguments (for the `X-Accepted-OAuth-Scopes` header). */
export function acceptedScopes(method: string, args: Args, ctx: MethodContext): readonly string[] {
  const spec = METHODS[method];
  if (!spec?.scopes) return [];
  return typeof spec.scopes === 'function' ? spec.scopes(args, ctx) : spec.scopes;
}
