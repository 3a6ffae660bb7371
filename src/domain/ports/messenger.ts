/**
 * The messenger port: posting and updating channel messages. Two adapters: slack/messenger.ts (one
 * Web API call each) and the outbox (src/outbox), which stores every message before it is sent and
 * delivers it until Slack takes it or refuses it for good.
 */
import type { MessageRef, Reply } from '../vocabulary.js';

/** What a message is for, so that a message Slack refuses for good still reaches someone. */
export interface Delivery {
  /** Who is told another way (response_url, else a DM) when Slack refuses the message for good. */
  requester?: string;
  /** What the message is about, for the audit row of a failure: a change's target and id. */
  about?: { target: string; changeId?: string };
  /** This content is how something ended: it must reach someone, whatever Slack says. */
  final?: boolean;
}

/** Posting and updating channel messages; implemented over Slack's Web API in slack/. */
export interface Messenger {
  post(
    channel: string,
    message: Pick<Reply, 'text' | 'blocks'>,
    threadTs?: string,
    delivery?: Delivery,
  ): Promise<MessageRef>;
  update(ref: MessageRef, message: Pick<Reply, 'text' | 'blocks'>, delivery?: Delivery): Promise<void>;
  ephemeral(channel: string, user: string, message: Pick<Reply, 'text' | 'blocks'>): Promise<void>;
}

/**
 * Slack refused a message for good (e.g. `channel_not_found`, `invalid_auth`): sending it again
 * cannot help. Anything else a messenger throws is worth another try later.
 */
export class UndeliverableError extends Error {
  override readonly name = 'UndeliverableError';
  constructor(
    /** Slack's error code, e.g. `not_in_channel`. */
    readonly code: string,
  ) {
    super(`Slack refused the message: ${code}`);
  }
}

/** Slack asked us to wait (HTTP 429): try again after `retryAfterMs`. */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
  constructor(readonly retryAfterMs: number) {
    super(`Slack rate-limited the call; retry after ${retryAfterMs} ms`);
  }
}
