/**
 * The outbox's rows over the process's one connection (tables in storage/migrations.ts): one row
 * per logical message, holding the latest content the bot owes and what Slack has of it. Every
 * state change is a compare-and-set on `version` / `delivered_version` / `status`.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Delivery } from '../domain/ports/messenger.js';
import type { MessageRef, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, leaseNow, run } from '../storage/sql.js';

export type OutboxBody = Pick<Reply, 'text' | 'blocks'>;
export type OutboxStatus = 'owed' | 'delivered' | 'undeliverable';

/** One logical message and how far its delivery got. */
export interface OutboxRow {
  id: string;
  createdAt: number;
  updatedAt: number;
  /** When the oldest version Slack does not have yet was written; undefined when nothing is owed. */
  owedSince?: number;
  channel: string;
  /** The thread it goes in: a Slack ts, or the logical ref of another outbox message. */
  threadTs?: string;
  /** Slack's ts (and channel) once posted. */
  posted?: MessageRef;
  body: OutboxBody;
  version: number;
  deliveredVersion: number;
  final: boolean;
  requester?: string;
  about?: { target: string; changeId?: string };
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError?: string;
  notifiedVersion: number;
}

const rowSchema = z.object({
  id: z.string(),
  created_at: z.number(),
  updated_at: z.number(),
  owed_since: z.number().nullable(),
  channel: z.string(),
  thread_ts: z.string().nullable(),
  ts: z.string().nullable(),
  posted_channel: z.string().nullable(),
  body_json: z.string(),
  version: z.number(),
  delivered_version: z.number(),
  final: z.number(),
  requester: z.string().nullable(),
  about_target: z.string().nullable(),
  about_change: z.string().nullable(),
  status: z.enum(['owed', 'delivered', 'undeliverable']),
  attempts: z.number(),
  next_attempt_at: z.number(),
  last_error: z.string().nullable(),
  notified_version: z.number(),
  lease_owner: z.string().nullable().optional(),
  lease_until: z.number().nullable().optional(),
});

function toRow(raw: unknown): OutboxRow {
  const r = rowSchema.parse(raw);
  return {
    id: r.id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.owed_since !== null ? { owedSince: r.owed_since } : {}),
    channel: r.channel,
    ...(r.thread_ts !== null ? { threadTs: r.thread_ts } : {}),
    ...(r.ts !== null && r.posted_channel !== null
      ? { posted: { channel: r.posted_channel, ts: r.ts } }
      : {}),
    body: JSON.parse(r.body_json) as OutboxBody,
    version: r.version,
    deliveredVersion: r.delivered_version,
    final: r.final !== 0,
    ...(r.requester !== null ? { requester: r.requester } : {}),
    ...(r.about_target !== null
      ? {
          about: { target: r.about_target, ...(r.about_change !== null ? { changeId: r.about_change } : {}) },
        }
      : {}),
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    notifiedVersion: r.notified_version,
  };
}

/** How a rate limit's last_error starts (RateLimitedError's message): its wait is Slack's, kept. */
export const RATE_LIMITED_PREFIX = 'Slack rate-limited';

/** How long a replica holds a message it is sending, unless told otherwise (longer than one Slack call). */
export const DEFAULT_SEND_LEASE_MS = 30_000;

/** The prefix of a logical ref's ts: what the outbox hands out before Slack has posted. */
export const OUTBOX_TS_PREFIX = 'outbox:';

/** A response_url a user's command or click came with, and how often we used it. */
export interface ReplyRoute {
  userId: string;
  url: string;
  issuedAt: number;
  uses: number;
}

export interface OutboxStore {
  /** A new logical message, owed at once. */
  create(
    channel: string,
    body: OutboxBody,
    threadTs: string | undefined,
    delivery: Delivery,
  ): Promise<OutboxRow>;
  /** New content for a message: its version goes up, so whatever delivery is in flight sends again. */
  write(id: string, body: OutboxBody, delivery: Delivery): Promise<OutboxRow | undefined>;
  /** A row for a message Slack already shows that no row tracks (posted before the outbox kept it). */
  adopt(posted: MessageRef, delivery: Delivery): Promise<OutboxRow>;
  get(id: string): Promise<OutboxRow | undefined>;
  /** The message Slack knows by this channel and ts, if the outbox posted it. */
  byPosted(ref: MessageRef): Promise<OutboxRow | undefined>;
  /** Owed messages whose next attempt is due and no other replica holds, oldest first. */
  due(now: number, limit?: number): Promise<OutboxRow[]>;
  /** When the next owed message is due (another replica's held one: when its lease ends); undefined when nothing is owed. */
  nextDue(): Promise<number | undefined>;
  /**
   * Takes the send lease of an owed message (compare-and-set, judged by the database's clock on
   * Postgres): free, already this store's, or its holder's lease ran out. Only the holder sends;
   * `delivered`, `retryAt` and `undeliverable` let go of it. False: another replica sends it.
   */
  claim(id: string): Promise<boolean>;
  /** Slack has `version` (and, for a first post, its ts). False when someone recorded a later one. */
  delivered(id: string, version: number, posted: MessageRef | undefined): Promise<boolean>;
  /**
   * Slack took a message: every other one backing off after a failure is due now (a rate limit's
   * wait excepted). Returns how many.
   */
  recovered(now: number): Promise<number>;
  /** Makes the owed message due soonest (a rate limit's wait excepted) due now: one probe of Slack. */
  probe(now: number): Promise<boolean>;
  /** Another try after `at`. */
  retryAt(id: string, at: number, error: string): Promise<boolean>;
  /** Slack refused it for good. */
  undeliverable(id: string, error: string): Promise<boolean>;
  /** The requester was told of `version` another way (or that telling them failed). */
  notified(id: string, version: number): Promise<boolean>;
  /** Undeliverable messages with a final version nobody was told of yet. */
  toNotify(): Promise<OutboxRow[]>;
  /** Owed messages written before `before`. */
  stuck(before: number): Promise<OutboxRow[]>;
  rememberRoute(userId: string, url: string, at: number): Promise<void>;
  route(userId: string): Promise<ReplyRoute | undefined>;
  /** Counts one use of a route, unless it is used up (5) or someone replaced it. */
  useRoute(route: ReplyRoute): Promise<boolean>;
}

/**
 * Times are whole milliseconds (Postgres's BIGINT takes no fraction; simulated clocks give some).
 *
 * @example const outbox = createOutboxStore(db, clock); const row = await outbox.create('C1', { text: 'hi' }, undefined, {});
 */
export function createOutboxStore(
  database: StoreDatabase,
  clock: Clock,
  lease: { owner?: string; leaseMs?: number } = {},
): OutboxStore {
  const db = database.kysely;
  const ms = (v: number) => Math.round(v);
  const now = () => ms(clock.now());
  // Each store its own holder by default: two stores are two replicas.
  const me = lease.owner ?? `outbox-${randomUUID().slice(0, 8)}`;
  const leaseMs = lease.leaseMs ?? DEFAULT_SEND_LEASE_MS;
  const leaseClock = () => leaseNow(database.kind, clock.now);
  /** Rows this store may send: nobody holds them, it does, or the holder's lease ran out. */
  const mayHold = () =>
    sql`(lease_owner IS NULL OR lease_owner = ${me} OR lease_until IS NULL OR lease_until <= ${leaseClock()})`;
  const letGo = sql`lease_owner = CASE WHEN lease_owner = ${me} THEN NULL ELSE lease_owner END`;
  const notRateLimited = sql`(last_error IS NULL OR last_error NOT LIKE ${`${RATE_LIMITED_PREFIX}%`})`;
  const aboutOf = (d: Delivery) => ({
    requester: d.requester ?? null,
    target: d.about?.target ?? null,
    change: d.about?.changeId ?? null,
  });
  const get = async (id: string) => {
    const raw = await first(db, sql`SELECT * FROM outbox WHERE id = ${id}`);
    return raw === undefined ? undefined : toRow(raw);
  };

  const newId = () => `om-${randomUUID().replaceAll('-', '').slice(0, 16)}`;

  return {
    async create(channel, body, threadTs, delivery) {
      const id = newId();
      const at = now();
      const a = aboutOf(delivery);
      await sql`
        INSERT INTO outbox (id, created_at, updated_at, owed_since, channel, thread_ts, body_json, version, final,
          requester, about_target, about_change, status, next_attempt_at)
        VALUES (${id}, ${at}, ${at}, ${at}, ${channel}, ${threadTs ?? null}, ${JSON.stringify(body)}, 1,
          ${delivery.final ? 1 : 0}, ${a.requester}, ${a.target}, ${a.change}, 'owed', ${at})`.execute(db);
      return (await get(id))!;
    },
    async write(id, body, delivery) {
      const at = now();
      const a = aboutOf(delivery);
      // Writing a delivered message owes it again; an undeliverable one stays so (its requester gets the news).
      await sql`
        UPDATE outbox SET body_json = ${JSON.stringify(body)}, version = version + 1, updated_at = ${at},
          final = ${delivery.final ? 1 : 0},
          requester = COALESCE(${a.requester}, requester), about_target = COALESCE(${a.target}, about_target),
          about_change = COALESCE(${a.change}, about_change),
          owed_since = CASE WHEN status = 'undeliverable' THEN owed_since ELSE COALESCE(owed_since, ${at}) END,
          status = CASE WHEN status = 'delivered' THEN 'owed' ELSE status END,
          next_attempt_at = CASE WHEN status = 'delivered' THEN ${at} ELSE next_attempt_at END
        WHERE id = ${id}`.execute(db);
      return get(id);
    },
    async adopt(posted, delivery) {
      const id = newId();
      const at = now();
      const a = aboutOf(delivery);
      await sql`
        INSERT INTO outbox (id, created_at, updated_at, channel, ts, posted_channel, body_json, version, requester,
          about_target, about_change, status, next_attempt_at)
        VALUES (${id}, ${at}, ${at}, ${posted.channel}, ${posted.ts}, ${posted.channel}, '{"text":""}', 0,
          ${a.requester}, ${a.target}, ${a.change}, 'delivered', ${at})`.execute(db);
      return (await get(id))!;
    },
    get,
    async byPosted(ref) {
      const raw = await first(
        db,
        sql`SELECT * FROM outbox WHERE posted_channel = ${ref.channel} AND ts = ${ref.ts}`,
      );
      return raw === undefined ? undefined : toRow(raw);
    },
    due: async (at, limit = 50) =>
      (
        await all(
          db,
          sql`SELECT * FROM outbox WHERE status = 'owed' AND next_attempt_at <= ${ms(at)} AND ${mayHold()}
              ORDER BY created_at, id LIMIT ${limit}`,
        )
      ).map(toRow),
    nextDue: async () =>
      (
        (await first(
          db,
          sql`SELECT min(CASE WHEN ${mayHold()} THEN next_attempt_at ELSE lease_until END) AS at
              FROM outbox WHERE status = 'owed'`,
        )) as { at: number | null } | undefined
      )?.at ?? undefined,
    claim: async (id) =>
      (await run(
        db,
        sql`UPDATE outbox SET lease_owner = ${me}, lease_until = ${leaseClock()} + ${leaseMs}
            WHERE id = ${id} AND status = 'owed' AND delivered_version < version AND ${mayHold()}`,
      )) === 1,
    delivered: async (id, version, posted) => {
      const at = now();
      return (
        (await run(
          db,
          sql`UPDATE outbox SET delivered_version = ${version}, updated_at = ${at},
                ts = COALESCE(ts, ${posted?.ts ?? null}), posted_channel = COALESCE(posted_channel, ${posted?.channel ?? null}),
                status = CASE WHEN version = ${version} THEN 'delivered' ELSE 'owed' END,
                owed_since = CASE WHEN version = ${version} THEN NULL ELSE owed_since END,
                attempts = 0, last_error = NULL, next_attempt_at = ${at}, ${letGo}
              WHERE id = ${id} AND status = 'owed' AND delivered_version < ${version}`,
        )) === 1
      );
    },
    recovered: (at) =>
      run(
        db,
        sql`UPDATE outbox SET next_attempt_at = ${ms(at)}
            WHERE status = 'owed' AND attempts > 0 AND next_attempt_at > ${ms(at)} AND ${notRateLimited}`,
      ),
    probe: async (at) =>
      (await run(
        db,
        sql`UPDATE outbox SET next_attempt_at = ${ms(at)} WHERE id = (
              SELECT id FROM outbox WHERE status = 'owed' AND next_attempt_at > ${ms(at)} AND ${notRateLimited}
              ORDER BY next_attempt_at LIMIT 1)`,
      )) === 1,
    retryAt: async (id, at, error) =>
      (await run(
        db,
        sql`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ${ms(at)}, last_error = ${error},
              updated_at = ${now()}, ${letGo} WHERE id = ${id} AND status = 'owed'`,
      )) === 1,
    undeliverable: async (id, error) =>
      (await run(
        db,
        sql`UPDATE outbox SET status = 'undeliverable', last_error = ${error}, updated_at = ${now()},
              attempts = attempts + 1, ${letGo} WHERE id = ${id} AND status = 'owed'`,
      )) === 1,
    notified: async (id, version) =>
      (await run(
        db,
        sql`UPDATE outbox SET notified_version = ${version} WHERE id = ${id} AND notified_version < ${version}`,
      )) === 1,
    toNotify: async () =>
      (
        await all(
          db,
          sql`SELECT * FROM outbox WHERE status = 'undeliverable' AND requester IS NOT NULL
                AND notified_version < version AND (notified_version = 0 OR final = 1) ORDER BY created_at`,
        )
      ).map(toRow),
    stuck: async (before) =>
      (
        await all(
          db,
          sql`SELECT * FROM outbox WHERE status = 'owed' AND owed_since < ${ms(before)} ORDER BY owed_since`,
        )
      ).map(toRow),
    async rememberRoute(userId, url, at) {
      await sql`
        INSERT INTO reply_routes (user_id, url, issued_at, uses) VALUES (${userId}, ${url}, ${ms(at)}, 1)
        ON CONFLICT (user_id) DO UPDATE SET url = excluded.url, issued_at = excluded.issued_at, uses = 1
        WHERE excluded.issued_at >= reply_routes.issued_at`.execute(db);
    },
    async route(userId) {
      const r = (await first(
        db,
        sql`SELECT user_id, url, issued_at, uses FROM reply_routes WHERE user_id = ${userId}`,
      )) as { user_id: string; url: string; issued_at: number; uses: number } | undefined;
      return r ? { userId: r.user_id, url: r.url, issuedAt: r.issued_at, uses: r.uses } : undefined;
    },
    useRoute: async (r) =>
      (await run(
        db,
        sql`UPDATE reply_routes SET uses = uses + 1
            WHERE user_id = ${r.userId} AND url = ${r.url} AND uses = ${r.uses} AND uses < 5`,
      )) === 1,
  };
}
