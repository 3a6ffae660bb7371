/**
 * The outbox: a durable Messenger. Every message the bot owes (progress, outcome, approval request,
 * thread line) is written to the store before it is sent; a delivery worker sends the latest
 * content of each until Slack takes it or refuses it for good, and then tells the requester
 * another way (response_url while it is valid, else a DM) and records the failure in the audit.
 */
import type { AuditInput } from '../changes/audit.js';
import {
  type Delivery,
  type Messenger,
  RateLimitedError,
  UndeliverableError,
} from '../domain/ports/messenger.js';
import type { MessageRef } from '../domain/vocabulary.js';
import { type Clock, systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { OUTBOX_TS_PREFIX, type OutboxBody, type OutboxRow, type OutboxStore } from './store.js';

/** The other ways to reach a person (implemented by slack/messenger.ts's createSlackFallback). */
export interface OutboxFallback {
  respond(url: string, message: OutboxBody): Promise<void>;
  dm(user: string, message: OutboxBody): Promise<void>;
}

/** What a person is told when a message could not be delivered (worded in slack/blocks/undelivered.ts). */
export interface UndeliveredNotice {
  channel: string;
  /** Slack's error code, e.g. `channel_not_found`. */
  error: string;
  message: OutboxBody;
  /** The message is how something ended. */
  final: boolean;
}

export interface OutboxViews {
  undelivered(notice: UndeliveredNotice): OutboxBody;
}

export interface OutboxBackoff {
  /** First wait after a failed attempt; each next one is `factor` times longer, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
}

export interface OutboxDeps {
  store: OutboxStore;
  /** One Web API call per send, without retries of its own: the outbox retries. */
  slack: Messenger;
  fallback: OutboxFallback;
  views: OutboxViews;
  /** The append-only audit log. */
  audit: (entry: AuditInput) => Promise<void>;
  clock: Clock;
  logger: Logger;
  backoff?: Partial<OutboxBackoff>;
  /** A message still owed after this long is stuck: logged, and shown by the doctor (default 5 min). */
  stuckAfterMs?: number;
  /** How long a response_url may be used (Slack: 30 min). */
  responseUrlTtlMs?: number;
  /** While messages back off, how often one of them tries Slack anyway (default 5 s). */
  probeEveryMs?: number;
  /** Real-time waits between passes of the worker (tests may pass a faster one). */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Least time between two sends of one message (default 1 s): Slack asks for about one message a
   * second per channel, and chat.update is Tier 3 (~50 a minute per workspace). Updates written
   * meanwhile coalesce: the send after the pause carries the latest.
   */
  minIntervalMs?: number;
}

export interface Outbox {
  /** The durable Messenger the pipeline and approvals post and update through. */
  messenger: Messenger;
  /** Keeps the latest response_url of a user's command or click, to tell them another way. */
  rememberReplyUrl(userId: string, url: string): Promise<void>;
  /** Delivers what is due now (start-up, tests), then tells requesters of refused messages. */
  drain(): Promise<void>;
  /** Drains now and keeps delivering until stop(). */
  start(): Promise<void>;
  /** Owed messages older than the stuck threshold. */
  stuck(): Promise<OutboxRow[]>;
  /** Resolves when no delivery is in flight (and, after stop(), when the worker has ended). */
  settled(): Promise<void>;
  stop(): void;
}

export const DEFAULT_OUTBOX_BACKOFF: OutboxBackoff = {
  initialDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  factor: 2,
};
/** While messages back off, one of them tries Slack this often, to see a recovery early. */
export const DEFAULT_PROBE_EVERY_MS = 5_000;
/** A message owed for longer than this is stuck (logs and `npm run doctor`). */
export const DEFAULT_STUCK_AFTER_MS = 5 * 60_000;
const RESPONSE_URL_TTL_MS = 30 * 60_000;
/** Least time between two sends of one message, unless the deps say otherwise. */
export const DEFAULT_MIN_INTERVAL_MS = 1_000;
/** How long a thread line waits between looks at a parent that is not posted yet. */
const PARENT_WAIT_MS = 250;

const realWait = (ms: number, signal: AbortSignal) => systemClock.sleep(ms, signal).catch(() => undefined);

/** The delay before attempt `attempts + 1`, with up to 20% jitter so a recovering Slack is not hit at once. */
export function backoffDelay(attempts: number, b: OutboxBackoff, random = Math.random): number {
  const base = Math.min(b.maxDelayMs, b.initialDelayMs * b.factor ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.2 * random()));
}

const logicalId = (ts: string) =>
  ts.startsWith(OUTBOX_TS_PREFIX) ? ts.slice(OUTBOX_TS_PREFIX.length) : undefined;

/**
 * @example
 * const outbox = createOutbox({ store: createOutboxStore(db, clock), slack, fallback, views, audit, clock, logger });
 * await outbox.start();
 * const ref = await outbox.messenger.post('C1', { text: 'Deploying…' }, undefined, { requester: 'U1' });
 */
export function createOutbox(deps: OutboxDeps): Outbox {
  const { store, slack, fallback, views, clock, logger } = deps;
  const backoff = { ...DEFAULT_OUTBOX_BACKOFF, ...deps.backoff };
  const stuckAfterMs = deps.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS;
  const ttl = deps.responseUrlTtlMs ?? RESPONSE_URL_TTL_MS;
  const wait = deps.wait ?? realWait;
  const probeEveryMs = deps.probeEveryMs ?? DEFAULT_PROBE_EVERY_MS;
  /** Per message: the tail of its chain of attempts, so one message has one send in flight. */
  const chains = new Map<string, Promise<void>>();
  const writes = new Map<string, Promise<unknown>>();
  /** Runs `fn` after every earlier call with the same key has finished. */
  function inOrder<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const run = (writes.get(key) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    writes.set(key, tail);
    void tail.then(() => {
      if (writes.get(key) === tail) writes.delete(key);
    });
    return run;
  }
  /** Stuck messages already logged, so the log says it once per message. */
  const warned = new Set<string>();
  const stopping = new AbortController();
  /** Some message failed since the last success: the next success releases them all. */
  let backingOff = true;
  let wake = new AbortController();
  let loop: Promise<void> | undefined;
  const minIntervalMs = deps.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
  /** Per message: when this process last sent it (in memory: after a restart everything goes at once). */
  const lastSent = new Map<string, number>();

  /** How long a message must still wait before its next send; 0 when it may go now. */
  function pause(id: string): number {
    const at = lastSent.get(id);
    if (at === undefined) return 0;
    const left = at + minIntervalMs - clock.now();
    if (left <= 0) lastSent.delete(id);
    return Math.max(0, left);
  }

  function noteSent(id: string): void {
    lastSent.set(id, clock.now());
    // Forget messages sent long enough ago: the map holds only those that could still be paced.
    if (lastSent.size > 1_000) for (const key of [...lastSent.keys()]) pause(key);
  }

  const refOf = (row: OutboxRow): MessageRef =>
    row.posted ?? { channel: row.channel, ts: `${OUTBOX_TS_PREFIX}${row.id}` };

  /** Queues one attempt on a message behind the one in flight; the attempt sends the latest content. */
  function attempt(id: string): Promise<void> {
    const next = (chains.get(id) ?? Promise.resolve()).then(async () => {
      const row = await store.get(id);
      const owed = row?.status === 'owed' && row.deliveredVersion < row.version;
      const left = owed ? pause(id) : 0;
      if (left > 0) await wait(left, stopping.signal);
      return sendLatest(id);
    });
    const tail = next.catch((e: unknown) => logger.error(`outbox: delivering ${id} failed:`, e));
    chains.set(id, tail);
    void tail.finally(() => {
      if (chains.get(id) === tail) chains.delete(id);
    });
    return tail;
  }

  async function sendLatest(id: string): Promise<void> {
    const seen = await store.get(id);
    if (seen?.status !== 'owed' || seen.deliveredVersion >= seen.version) return;
    // Backing off (a 5xx, a 429's Retry-After): the worker sends it when it is due.
    if (seen.nextAttemptAt > clock.now()) return;
    // Several replicas drain one outbox: only the holder of the row's send lease sends it.
    if (!(await store.claim(id))) return;
    const row = await store.get(id);
    if (row?.status !== 'owed' || row.deliveredVersion >= row.version) return;
    let threadTs = row.threadTs;
    const parentId = threadTs ? logicalId(threadTs) : undefined;
    if (parentId) {
      const parent = await store.get(parentId);
      if (!parent || parent.status === 'undeliverable') {
        await refused(row, parent?.lastError ?? 'thread_not_found');
        return;
      }
      if (!parent.posted) {
        // The thread's first message is not in Slack yet: look again shortly.
        await store.retryAt(id, clock.now() + PARENT_WAIT_MS, 'waiting for the thread to be posted');
        kick();
        return;
      }
      threadTs = parent.posted.ts;
    }
    try {
      if (row.posted) {
        await slack.update(row.posted, row.body);
        await store.delivered(id, row.version, undefined);
      } else {
        const posted = await slack.post(row.channel, row.body, threadTs);
        await store.delivered(id, row.version, posted);
      }
      warned.delete(id);
      noteSent(id);
      // Written meanwhile (perhaps by another replica, whose own attempt found the row held): the
      // worker sends the latest after the pause.
      const after = await store.get(id);
      if (after?.status === 'owed' && after.deliveredVersion < after.version) kick();
      // Slack answers again: whatever is backing off after the outage goes now, not at its next slot.
      if (backingOff) {
        backingOff = false;
        if ((await store.recovered(clock.now())) > 0) kick();
      }
    } catch (e) {
      if (e instanceof UndeliverableError) {
        await refused(row, e.code);
        return;
      }
      backingOff = true;
      const delay = e instanceof RateLimitedError ? e.retryAfterMs : backoffDelay(row.attempts + 1, backoff);
      await store.retryAt(id, clock.now() + delay, e instanceof Error ? e.message : String(e));
      noteIfStuck(await store.get(id));
      kick();
    }
  }

  function noteIfStuck(row: OutboxRow | undefined): void {
    if (!row?.owedSince || warned.has(row.id)) return;
    if (clock.now() - row.owedSince < stuckAfterMs) return;
    warned.add(row.id);
    logger.warn(
      `outbox: a message for ${row.channel} is still not delivered after ${Math.round((clock.now() - row.owedSince) / 1000)} s (${row.attempts} attempts; last error: ${row.lastError ?? 'none'}); retrying`,
    );
  }

  /** Slack refused the message for good: record it, and tell the requester another way. */
  async function refused(row: OutboxRow, code: string): Promise<void> {
    if (!(await store.undeliverable(row.id, code))) return;
    logger.warn(`outbox: Slack refused a message for ${row.channel} for good (${code})`);
    await notifyPending();
  }

  async function tell(row: OutboxRow): Promise<void> {
    // Claimed first: of two passes only one tells, and a crash after this never tells twice.
    if (!row.requester || !(await store.notified(row.id, row.version))) return;
    const error = row.lastError ?? 'unknown';
    const body = views.undelivered({ channel: row.channel, error, message: row.body, final: row.final });
    let how: string | undefined;
    const route = await store.route(row.requester);
    if (route && clock.now() - route.issuedAt < ttl && route.uses < 5 && (await store.useRoute(route))) {
      try {
        await fallback.respond(route.url, body);
        how = 'response_url';
      } catch (e) {
        logger.warn('outbox: the response_url did not take the notice:', (e as Error).message);
      }
    }
    if (!how) {
      try {
        await fallback.dm(row.requester, body);
        how = 'dm';
      } catch (e) {
        logger.error(`outbox: could not tell ${row.requester} that a message was refused:`, e);
      }
    }
    await deps.audit({
      actor: 'modelgate',
      action: 'message_undeliverable',
      target: row.about?.target ?? `channel:${row.channel}`,
      ...(row.about?.changeId ? { changeId: row.about.changeId } : {}),
      outcome: how ? `told ${row.requester} by ${how}` : `could not tell ${row.requester}`,
      detail: `Slack refused a message for ${row.channel}: ${error}`,
    });
  }

  /** One pass of telling at a time: a caller waits for the pass in flight, then makes its own. */
  let telling: Promise<void> = Promise.resolve();
  function notifyPending(): Promise<void> {
    const pass = telling.then(async () => {
      for (const row of await store.toNotify()) await tell(row);
    });
    telling = pass.catch((e: unknown) => logger.error('outbox: telling requesters failed:', e));
    return telling;
  }

  /** The row behind a ref: a logical one by id, a Slack one by channel and ts (undefined: not ours yet). */
  async function rowFor(ref: MessageRef): Promise<OutboxRow | undefined> {
    const id = logicalId(ref.ts);
    return id ? await store.get(id) : await store.byPosted(ref);
  }

  async function drain(): Promise<void> {
    for (;;) {
      const due = await store.due(clock.now());
      if (due.length === 0) break;
      // One channel's messages go out one after the other, oldest first, so they arrive in the
      // order they were owed (on a Postgres pool concurrent sends could overtake each other);
      // channels go in parallel.
      const byChannel = new Map<string, OutboxRow[]>();
      for (const r of due) byChannel.set(r.channel, [...(byChannel.get(r.channel) ?? []), r]);
      await Promise.all(
        [...byChannel.values()].map(async (rows) => {
          for (const r of rows) await attempt(r.id);
        }),
      );
      if (stopping.signal.aborted) break;
      // Rows rescheduled into the future drop out of `due`; anything else is delivered by now.
      let rescheduled = true;
      for (const r of due) {
        if (((await store.get(r.id))?.nextAttemptAt ?? 0) <= clock.now()) rescheduled = false;
      }
      if (rescheduled) break;
    }
    await notifyPending();
    for (const row of await store.stuck(clock.now() - stuckAfterMs)) noteIfStuck(row);
  }

  function kick(): void {
    wake.abort();
  }

  async function run(): Promise<void> {
    let probedAt = clock.now();
    while (!stopping.signal.aborted) {
      // While messages back off, one of them tries Slack every probeEveryMs: the first success
      // releases the rest, so recovery is seen within seconds whatever the backoff has grown to.
      if (backingOff && clock.now() - probedAt >= probeEveryMs) {
        probedAt = clock.now();
        await store.probe(probedAt);
      }
      await drain();
      const next = await store.nextDue();
      let delay = next === undefined ? 60_000 : Math.max(0, Math.min(60_000, next - clock.now()));
      if (backingOff && next !== undefined)
        delay = Math.min(delay, Math.max(0, probedAt + probeEveryMs - clock.now()));
      if (wake.signal.aborted) wake = new AbortController();
      const signal = AbortSignal.any([stopping.signal, wake.signal]);
      if (delay > 0) await wait(delay, signal);
    }
  }

  const messenger: Messenger = {
    async post(channel, message, threadTs, delivery: Delivery = {}) {
      const row = await store.create(channel, message, threadTs, delivery);
      await attempt(row.id);
      const now = (await store.get(row.id)) ?? row;
      // Refused for good at once (the requester is told already): the caller knows there is no message.
      if (now.status === 'undeliverable') throw new UndeliverableError(now.lastError ?? 'unknown');
      return refOf(now);
    },
    async update(ref, message, delivery: Delivery = {}) {
      // Writes to one message are stored in the order they were asked for (on a Postgres pool two
      // of them could otherwise commit the other way round, and a message no row tracks be adopted twice).
      const { row, written } = await inOrder(`${ref.channel}:${ref.ts}`, async () => {
        const found = (await rowFor(ref)) ?? (await store.adopt(ref, delivery));
        return { row: found, written: await store.write(found.id, message, delivery) };
      });
      // Sent just now: this one goes after the pause, with whatever is latest then. The caller
      // need not wait for it (the row is stored, so it is owed whatever happens).
      const paced = pause(row.id) > 0;
      const sending = attempt(row.id);
      if (!paced) await sending;
      // A message Slack refused for good still owes its requester how it ended.
      if (written?.status === 'undeliverable' && written.final) await notifyPending();
    },
    // Ephemerals do not outlive a reload, so they are not owed: sent once, as Slack takes them.
    ephemeral: (channel, user, message) => slack.ephemeral(channel, user, message),
  };

  return {
    messenger,
    rememberReplyUrl: (userId, url) => store.rememberRoute(userId, url, clock.now()),
    drain,
    async start() {
      // At start-up everything owed gets one try at once, whatever backoff a previous process left.
      await store.recovered(clock.now());
      await drain();
      loop ??= run();
    },
    stuck: () => store.stuck(clock.now() - stuckAfterMs),
    async settled() {
      if (stopping.signal.aborted) await loop;
      while (chains.size > 0) await Promise.allSettled([...chains.values()]);
      await telling;
    },
    stop() {
      stopping.abort();
      kick();
    },
  };
}
