/**
 * Tells the person who ran a command that a Databricks call inside it is being retried, through
 * the command's response_url, and lets the command's answer take that note's place. Domain code
 * knows nothing of it: the HTTP layer reports retries to the observer of the surrounding work
 * (lib/call-observer.ts), and app.ts wraps each command in one.
 */
import type { RespondFn } from '@slack/bolt';
import type { Reply } from '../domain/vocabulary.js';
import type { CallObserver } from '../lib/call-observer.js';
import type { Logger } from '../lib/logger.js';
import { buildRetryNotice } from './blocks/retry-notice.js';

export interface RetryNoticeOptions {
  logger: Logger;
  /**
   * How long a retry must have been under way before the note is shown (default 1 s): a blip
   * that one quick retry absorbs shows nothing, an outage is told well within 3 s.
   */
  delayMs?: number;
}

export interface RetryNotice extends CallObserver {
  /**
   * Ends the notice and returns the answer to send: an ephemeral answer replaces the note; before
   * an in-channel one the note is deleted. Call once, after the command's work.
   */
  settle(reply: Reply): Promise<Reply>;
}

/**
 * @example
 * const notice = createRetryNotice(respond, { logger });
 * const reply = await observeCalls(notice, () => handle(command));
 * await respond(await notice.settle(reply));
 */
export function createRetryNotice(respond: RespondFn, options: RetryNoticeOptions): RetryNotice {
  const { logger, delayMs = 1_000 } = options;
  let timer: NodeJS.Timeout | undefined;
  let posting: Promise<boolean> | undefined;
  let done = false;

  const post = async (cause: unknown): Promise<boolean> => {
    const note = buildRetryNotice(cause);
    try {
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: note.text,
        blocks: note.blocks,
      });
      return true;
    } catch (e) {
      logger.warn('could not show the retry notice:', (e as Error).message);
      return false;
    }
  };

  return {
    retrying(event) {
      if (done || timer || posting) return;
      timer = setTimeout(() => {
        timer = undefined;
        if (!done) posting = post(event.cause);
      }, delayMs);
      timer.unref();
    },
    async settle(reply) {
      done = true;
      if (timer) clearTimeout(timer);
      if (!posting || !(await posting)) return reply;
      if (reply.visibility === 'ephemeral') return { ...reply, replaceOriginal: true };
      try {
        await respond({ delete_original: true });
      } catch (e) {
        logger.warn('could not remove the retry notice:', (e as Error).message);
      }
      return reply;
    },
  };
}
