import type { SlackSeed } from './seed.js';
import { TwinViews, type ViewChange } from './views.js';

/** A message as the twin keeps it: Slack's message fields, plus `channel` and, for ephemerals, `ephemeral_to`. */
export interface TwinMessage {
  type: 'message';
  channel: string;
  ts: string;
  user: string;
  team: string;
  text: string;
  bot_id?: string;
  app_id?: string;
  subtype?: string;
  blocks?: unknown[];
  thread_ts?: string;
  reply_count?: number;
  reply_users?: string[];
  latest_reply?: string;
  metadata?: { event_type: string; event_payload: unknown };
  files?: TwinFileInfo[];
  upload?: boolean;
  edited?: { user: string; ts: string };
  /** Set on ephemeral messages: the only user who sees it. */
  ephemeral_to?: string;
}

/** File metadata in Slack's shape (no bytes); `url_private` points at the twin's byte endpoint. */
export interface TwinFileInfo {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  size: number;
  user: string;
  created: number;
  url_private: string;
  permalink: string;
  alt_txt?: string;
}

export interface TwinFile extends TwinFileInfo {
  /** Bytes received on the upload URL; undefined until the upload POST arrived. */
  bytes?: Buffer;
  shares: { channel: string; ts: string; thread_ts?: string }[];
}

export interface TwinUser {
  id: string;
  name: string;
  realName: string;
  isBot: boolean;
  tz: string;
  /** Deactivated: conversations.open answers `user_disabled`, a post to their DM too. */
  deleted?: boolean;
  /** Has turned the app's Messages tab off: a post to their DM answers `messages_tab_disabled`. */
  dmsClosed?: boolean;
}

export interface TwinChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  topic: string;
  created: number;
  members: Set<string>;
}

export interface TwinUsergroup {
  id: string;
  handle: string;
  name: string;
  users: string[];
}

/** What the console (and `waitFor`) listens to. */
export type SlackChange =
  | { type: 'message_posted'; message: TwinMessage }
  | { type: 'message_updated'; message: TwinMessage; previous: TwinMessage }
  | { type: 'message_deleted'; message: TwinMessage }
  | { type: 'ephemeral_posted'; message: TwinMessage }
  | { type: 'file_shared'; file: TwinFileInfo; channel: string; ts: string; thread_ts?: string }
  | ViewChange;

export type SlackChangeListener = (change: SlackChange) => void;

export interface NewMessage {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  metadata?: TwinMessage['metadata'];
  files?: TwinFileInfo[];
  subtype?: string;
  upload?: boolean;
  /** For ephemeral messages: the recipient. */
  ephemeral_to?: string;
}

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  csv: 'text/csv',
  txt: 'text/plain',
  json: 'application/json',
  pdf: 'application/pdf',
};

function clone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * The in-memory Slack workspace: people, channels, messages, files. It knows nothing about HTTP; the server turns
 * Web API calls into calls on it, and the console reads it and subscribes to its changes.
 *
 * @example
 * const state = new SlackState(createDefaultSlackSeed(), { now: () => 1732650000000, baseUrl: 'http://127.0.0.1:1' });
 * state.subscribe((change) => console.log(change.type));
 * state.postMessage({ channel: MLOPS_CHANNEL_ID, user: BOT_USER_ID, text: 'hello' }); // logs message_posted
 */
export class SlackState {
  readonly team: SlackSeed['team'];
  readonly bot: SlackSeed['bot'];
  readonly users = new Map<string, TwinUser>();
  readonly channels = new Map<string, TwinChannel>();
  readonly usergroups = new Map<string, TwinUsergroup>();
  readonly files = new Map<string, TwinFile>();
  private readonly messagesByChannel = new Map<string, TwinMessage[]>();
  private readonly listeners = new Set<SlackChangeListener>();
  private readonly now: () => number;
  private lastTsMicros = 0;
  private fileSeq = 0;
  /** Base URL used in permalinks and file URLs; the server sets it once it knows its port. */
  baseUrl: string;
  /** Where apps.connections.open sends Socket Mode clients (a test's WebSocket server); unset = not enabled. */
  socketModeUrl?: string;
  /** Home tabs and modals (views.publish / views.open / views.update). */
  readonly views: TwinViews;

  constructor(seed: SlackSeed, options: { now?: () => number; baseUrl?: string } = {}) {
    this.now = options.now ?? Date.now;
    this.baseUrl = options.baseUrl ?? 'http://127.0.0.1';
    this.team = { ...seed.team };
    this.bot = { ...seed.bot };
    const created = Math.floor(this.now() / 1000);
    for (const u of seed.users) {
      this.users.set(u.id, {
        id: u.id,
        name: u.name,
        realName: u.realName,
        isBot: u.isBot ?? false,
        tz: u.tz ?? 'Europe/Berlin',
      });
    }
    if (!this.users.has(seed.bot.userId)) {
      this.users.set(seed.bot.userId, {
        id: seed.bot.userId,
        name: seed.bot.name,
        realName: seed.bot.name,
        isBot: true,
        tz: 'Europe/Berlin',
      });
    }
    for (const ch of seed.channels) {
      this.channels.set(ch.id, {
        id: ch.id,
        name: ch.name,
        isPrivate: ch.isPrivate ?? false,
        topic: ch.topic ?? '',
        created,
        members: new Set(ch.members),
      });
      this.messagesByChannel.set(ch.id, []);
    }
    for (const g of seed.usergroups) this.usergroups.set(g.id, { ...g, users: [...g.users] });
    this.views = new TwinViews(
      { team: this.team.id, app: this.bot.appId, bot: this.bot.botId },
      this.now,
      (change) => this.emit(change),
    );
  }

  /**
   * Fault knobs for DMs: `deactivated` (the account is disabled) or `dms_closed` (the app's Messages
   * tab is off for them); `reachable` undoes both.
   */
  setDmReachability(userId: string, how: 'deactivated' | 'dms_closed' | 'reachable'): void {
    const user = this.users.get(userId);
    if (!user) throw new Error(`no user ${userId} in the twin`);
    user.deleted = how === 'deactivated';
    user.dmsClosed = how === 'dms_closed';
  }

  /** Listen to every change; returns the function that stops listening. */
  subscribe(listener: SlackChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The bot's direct-message channel with a user (`D` + the user id), opened on first use: Slack
   * posts a `chat.postMessage` whose channel is a user id into that DM. Undefined for unknown users.
   */
  openDm(userId: string): TwinChannel | undefined {
    const user = this.users.get(userId);
    if (!user || user.isBot) return undefined;
    const id = `D${userId}`;
    let dm = this.channels.get(id);
    if (!dm) {
      dm = {
        id,
        name: `dm-${user.name}`,
        isPrivate: true,
        topic: '',
        created: Math.floor(this.now() / 1000),
        members: new Set([this.bot.userId, userId]),
      };
      this.channels.set(id, dm);
      this.messagesByChannel.set(id, []);
    }
    return dm;
  }

  isMember(channel: string, user: string): boolean {
    return this.channels.get(channel)?.members.has(user) ?? false;
  }

  /** A new message ts like '1732650000.000100': seconds from the clock, strictly increasing. */
  nextTs(): string {
    const candidate = Math.floor(this.now() / 1000) * 1_000_000 + 100;
    this.lastTsMicros = Math.max(candidate, this.lastTsMicros + 100);
    const seconds = Math.floor(this.lastTsMicros / 1_000_000);
    const micros = this.lastTsMicros % 1_000_000;
    return `${seconds}.${String(micros).padStart(6, '0')}`;
  }

  /** Every message of a channel in ts order: top level, thread replies and ephemerals (tagged `ephemeral_to`). */
  messages(channel: string): TwinMessage[] {
    return clone(this.messagesByChannel.get(channel) ?? []);
  }

  /** Top-level, non-ephemeral messages (what `conversations.history` shows), oldest first. */
  history(channel: string): TwinMessage[] {
    return this.messages(channel).filter((m) => !m.ephemeral_to && (!m.thread_ts || m.thread_ts === m.ts));
  }

  /** Thread parent followed by its replies, oldest first; empty when the parent does not exist. */
  replies(channel: string, threadTs: string): TwinMessage[] {
    const all = this.messages(channel).filter((m) => !m.ephemeral_to);
    const parent = all.find((m) => m.ts === threadTs);
    if (!parent) return [];
    return [parent, ...all.filter((m) => m.thread_ts === threadTs && m.ts !== threadTs)];
  }

  findMessage(channel: string, ts: string): TwinMessage | undefined {
    const found = this.messagesByChannel.get(channel)?.find((m) => m.ts === ts);
    return found ? clone(found) : undefined;
  }

  postMessage(input: NewMessage): TwinMessage {
    const list = this.requireChannel(input.channel);
    const author = this.users.get(input.user);
    const message: TwinMessage = {
      type: 'message',
      channel: input.channel,
      ts: this.nextTs(),
      user: input.user,
      team: this.team.id,
      text: input.text,
    };
    if (author?.isBot && input.user === this.bot.userId) {
      message.bot_id = this.bot.botId;
      message.app_id = this.bot.appId;
    }
    if (input.subtype) message.subtype = input.subtype;
    if (input.blocks) message.blocks = clone(input.blocks);
    if (input.metadata) message.metadata = clone(input.metadata);
    if (input.files) message.files = clone(input.files);
    if (input.upload) message.upload = true;
    if (input.ephemeral_to) message.ephemeral_to = input.ephemeral_to;
    if (input.thread_ts) {
      const parent = list.find((m) => m.ts === input.thread_ts && !m.ephemeral_to);
      const rootTs = parent?.thread_ts ?? input.thread_ts;
      message.thread_ts = rootTs;
      const root = list.find((m) => m.ts === rootTs);
      if (root && !message.ephemeral_to) {
        root.thread_ts = root.ts;
        root.reply_count = (root.reply_count ?? 0) + 1;
        root.reply_users = [...new Set([...(root.reply_users ?? []), input.user])];
        root.latest_reply = message.ts;
      }
    }
    list.push(message);
    this.emit({
      type: message.ephemeral_to ? 'ephemeral_posted' : 'message_posted',
      message: clone(message),
    });
    return clone(message);
  }

  /** Replaces the given fields of a stored message; fields left undefined keep their value (like chat.update). */
  updateMessage(
    channel: string,
    ts: string,
    patch: { text?: string; blocks?: unknown[]; metadata?: TwinMessage['metadata'] },
    editor: string,
  ): TwinMessage {
    const message = this.requireChannel(channel).find((m) => m.ts === ts);
    if (!message) throw new Error(`no message ${ts} in ${channel}`);
    const previous = clone(message);
    if (patch.text !== undefined) message.text = patch.text;
    if (patch.blocks !== undefined) {
      if (patch.blocks.length === 0) delete message.blocks;
      else message.blocks = clone(patch.blocks);
    }
    if (patch.metadata !== undefined) message.metadata = clone(patch.metadata);
    if (!message.ephemeral_to) message.edited = { user: editor, ts: this.nextTs() };
    this.emit({ type: 'message_updated', message: clone(message), previous });
    return clone(message);
  }

  deleteMessage(channel: string, ts: string): TwinMessage | undefined {
    const list = this.requireChannel(channel);
    const index = list.findIndex((m) => m.ts === ts);
    if (index < 0) return undefined;
    const [removed] = list.splice(index, 1);
    if (!removed) return undefined;
    if (removed.thread_ts && removed.thread_ts !== removed.ts && !removed.ephemeral_to) {
      const root = list.find((m) => m.ts === removed.thread_ts);
      if (root?.reply_count) root.reply_count -= 1;
    }
    this.emit({ type: 'message_deleted', message: clone(removed) });
    return clone(removed);
  }

  /** Registers a file awaiting its bytes (files.getUploadURLExternal). */
  createFile(input: { filename: string; length: number; user: string; altText?: string }): TwinFile {
    this.fileSeq += 1;
    const id = `F0SANDBOX${String(this.fileSeq).padStart(4, '0')}`;
    const extension = input.filename.includes('.') ? (input.filename.split('.').pop() ?? '') : '';
    const file: TwinFile = {
      id,
      name: input.filename,
      title: input.filename,
      mimetype: MIME_BY_EXTENSION[extension.toLowerCase()] ?? 'application/octet-stream',
      filetype: extension.toLowerCase() || 'binary',
      size: input.length,
      user: input.user,
      created: Math.floor(this.now() / 1000),
      url_private: `${this.baseUrl}/files/${id}/${encodeURIComponent(input.filename)}`,
      permalink: `${this.baseUrl}/files/${id}/${encodeURIComponent(input.filename)}`,
      shares: [],
    };
    if (input.altText) file.alt_txt = input.altText;
    this.files.set(id, file);
    return file;
  }

  storeFileBytes(id: string, bytes: Buffer): boolean {
    const file = this.files.get(id);
    if (!file) return false;
    file.bytes = bytes;
    file.size = bytes.length;
    return true;
  }

  fileInfo(file: TwinFile): TwinFileInfo {
    const { bytes: _bytes, shares: _shares, ...info } = file;
    return clone(info);
  }

  /** Posts the share message for uploaded files and records the share on each file. */
  shareFiles(input: {
    fileIds: string[];
    channel: string;
    user: string;
    text: string;
    blocks?: unknown[];
    thread_ts?: string;
  }): TwinMessage {
    const files = input.fileIds.map((id) => {
      const f = this.files.get(id);
      if (!f) throw new Error(`no file ${id}`);
      return f;
    });
    const message = this.postMessage({
      channel: input.channel,
      user: input.user,
      text: input.text,
      ...(input.blocks ? { blocks: input.blocks } : {}),
      ...(input.thread_ts ? { thread_ts: input.thread_ts } : {}),
      files: files.map((f) => this.fileInfo(f)),
      upload: true,
    });
    for (const f of files) {
      const share = {
        channel: input.channel,
        ts: message.ts,
        ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      };
      f.shares.push(share);
      this.emit({ type: 'file_shared', file: this.fileInfo(f), ...share });
    }
    return message;
  }

  permalink(channel: string, ts: string, threadTs?: string): string {
    const base = `${this.baseUrl}/archives/${channel}/p${ts.replace('.', '')}`;
    return threadTs && threadTs !== ts ? `${base}?thread_ts=${threadTs}&cid=${channel}` : base;
  }

  private requireChannel(channel: string): TwinMessage[] {
    const list = this.messagesByChannel.get(channel);
    if (!list) throw new Error(`no channel ${channel}`);
    return list;
  }

  private emit(change: SlackChange): void {
    for (const listener of [...this.listeners]) listener(change);
  }
}
