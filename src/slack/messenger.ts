import type { webApi } from '@slack/bolt';
import { type Messenger, RateLimitedError, UndeliverableError } from '../domain/ports/messenger.js';
import type { Reply } from '../domain/vocabulary.js';

type Client = Pick<webApi.WebClient, 'chat'>;
type Message = Pick<Reply, 'text' | 'blocks'>;

/**
 * Slack's `ok: false` answers that another try may cure; every other one is for good
 * (`channel_not_found`, `not_in_channel`, `is_archived`, `invalid_auth`, `account_inactive`,
 * `token_revoked`, `missing_scope`, `message_not_found`, `msg_too_long`, `invalid_blocks`, …).
 */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  'ratelimited',
  'rate_limited',
  'service_unavailable',
  'internal_error',
  'fatal_error',
  'request_timeout',
]);

/**
 * What a Web API failure means for a message: refused for good (UndeliverableError), wait as told
 * (RateLimitedError), or anything else (5xx, a dropped connection), thrown as it came.
 *
 * @example classifySlackError(Object.assign(new Error(), { code: 'slack_webapi_platform_error', data: { error: 'is_archived' } })) // UndeliverableError
 */
export function classifySlackError(e: unknown): unknown {
  const err = e as { code?: string; data?: { error?: string }; retryAfter?: number };
  if (err?.code === 'slack_webapi_platform_error' && typeof err.data?.error === 'string') {
    return TRANSIENT_PLATFORM_ERRORS.has(err.data.error) ? e : new UndeliverableError(err.data.error);
  }
  if (err?.code === 'slack_webapi_rate_limited_error') {
    return new RateLimitedError(Math.max(1, err.retryAfter ?? 1) * 1000);
  }
  return e;
}

async function classified<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw classifySlackError(e);
  }
}

/**
 * Channel messages over Slack's Web API, one call each. Blocks are sent with their fallback text
 * always, so notifications and screen readers have something to say. Errors come as web-api throws them.
 */
export function createSlackMessenger(client: Client): Messenger {
  return {
    async post(channel, message, threadTs) {
      const res = await client.chat.postMessage({
        channel,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
      return { channel: res.channel ?? channel, ts: res.ts ?? '' };
    },
    async update(ref, message) {
      await client.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
      });
    },
    async ephemeral(channel, user, message) {
      await client.chat.postEphemeral({
        channel,
        user,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
      });
    },
  };
}

/**
 * The same calls, for the outbox: failures classified as UndeliverableError (for good),
 * RateLimitedError (wait as told) or anything else (try again). Give it a client without retries
 * of its own, so one call never holds the outbox for minutes.
 *
 * @example const slack = createSlackDelivery(new webApi.WebClient(token, { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true }));
 */
export function createSlackDelivery(client: Client): Messenger {
  const raw = createSlackMessenger(client);
  return {
    post: (channel, message, threadTs) => classified(() => raw.post(channel, message, threadTs)),
    update: (ref, message) => classified(() => raw.update(ref, message)),
    ephemeral: (channel, user, message) => classified(() => raw.ephemeral(channel, user, message)),
  };
}

/** The other ways to reach a person when a channel message cannot be delivered. */
export interface SlackFallback {
  /** An ephemeral reply through a command's or click's response_url; throws when it is used up or expired. */
  respond(url: string, message: Message): Promise<void>;
  /** A direct message from the bot (chat.postMessage to the user id). */
  dm(user: string, message: Message): Promise<void>;
}

/**
 * @example const fallback = createSlackFallback(app.client, fastFetch); await fallback.dm('U1', { text: 'hi' });
 */
export function createSlackFallback(client: Client, fetcher: typeof fetch = fetch): SlackFallback {
  return {
    async respond(url, message) {
      const res = await fetcher(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          response_type: 'ephemeral',
          replace_original: false,
          text: message.text,
          ...(message.blocks ? { blocks: message.blocks } : {}),
        }),
      });
      // A used-up (5 uses) or expired (30 min) URL answers 404: the caller falls back to a DM.
      if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
    },
    dm: (user, message) =>
      classified(async () => {
        await client.chat.postMessage({
          channel: user,
          text: message.text,
          ...(message.blocks ? { blocks: message.blocks } : {}),
        });
      }),
  };
}
