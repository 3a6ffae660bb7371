import { randomBytes } from 'node:crypto';
import { checkMessageContent } from './methods.js';
import type { SlackState } from './state.js';

/** What an interaction's response_url acts on: where it was used, by whom, and the message it came from. */
export interface ResponseUrlTarget {
  channel: string;
  /** The user who ran the command or clicked: the recipient of ephemeral responses. */
  user: string;
  /** The message holding the clicked button; required for replace_original / delete_original. */
  messageTs?: string;
}

interface Entry {
  target: ResponseUrlTarget;
  uses: number;
  expiresAt: number;
  /** The last message this URL posted: what a command's replace_original / delete_original act on. */
  posted?: string;
}

/** The twin's answer to one POST on a response_url. */
export interface ResponseUrlOutcome {
  status: number;
  body: { ok: boolean } & Record<string, unknown>;
}

export const RESPONSE_URL_MAX_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;

/**
 * Issues response_url ids and applies POSTs to them like Slack: `response_type` `ephemeral` (default) or
 * `in_channel`, `replace_original`, `delete_original` (on the clicked message, or for a command on the
 * last message the URL posted); at most 5 uses within 30 minutes, then 404.
 *
 * @example
 * const urls = new ResponseUrls(state);
 * const id = urls.issue({ channel: 'C0MLOPS', user: 'U0REQUEST' });
 * urls.apply(id, { text: 'Deploy queued' }); // { status: 200, body: { ok: true } }, an ephemeral for U0REQUEST
 */
export class ResponseUrls {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly state: SlackState,
    private readonly now: () => number = Date.now,
  ) {}

  issue(target: ResponseUrlTarget): string {
    const id = randomBytes(12).toString('hex');
    this.entries.set(id, { target: { ...target }, uses: 0, expiresAt: this.now() + RESPONSE_URL_TTL_MS });
    return id;
  }

  target(id: string): ResponseUrlTarget | undefined {
    return this.entries.get(id)?.target;
  }

  apply(id: string, payload: unknown): ResponseUrlOutcome {
    const entry = this.entries.get(id);
    if (!entry || this.now() > entry.expiresAt)
      return { status: 404, body: { ok: false, error: 'expired_url' } };
    if (entry.uses >= RESPONSE_URL_MAX_USES) return { status: 404, body: { ok: false, error: 'used_url' } };
    entry.uses += 1;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      return { status: 400, body: { ok: false, error: 'invalid_payload' } };
    }
    const args = payload as Record<string, unknown>;
    const { target } = entry;
    // A button's URL acts on the message holding the button; a command's on the last message it posted.
    const originalTs = target.messageTs ?? entry.posted;
    const original = originalTs ? this.state.findMessage(target.channel, originalTs) : undefined;

    if (args.delete_original === true || args.delete_original === 'true') {
      if (!original) return { status: 404, body: { ok: false, error: 'message_not_found' } };
      this.state.deleteMessage(target.channel, original.ts);
      return { status: 200, body: { ok: true } };
    }

    const content = checkMessageContent(args, true);
    if ('ok' in content) return { status: 400, body: content };

    if (args.replace_original === true || args.replace_original === 'true') {
      if (!original) return { status: 404, body: { ok: false, error: 'message_not_found' } };
      this.state.updateMessage(
        target.channel,
        original.ts,
        { text: content.text ?? '', blocks: content.blocks ?? [] },
        this.state.bot.userId,
      );
      return { status: 200, body: { ok: true } };
    }

    const inChannel = args.response_type === 'in_channel';
    const posted = this.state.postMessage({
      channel: target.channel,
      user: this.state.bot.userId,
      text: content.text ?? '',
      ...(content.blocks ? { blocks: content.blocks } : {}),
      ...(inChannel ? {} : { ephemeral_to: target.user }),
    });
    entry.posted = posted.ts;
    return { status: 200, body: { ok: true } };
  }
}
