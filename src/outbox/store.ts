/**
 * The outbox's rows over the process's one connection (tables in storage/migrations.ts): one row
 * per logical message, holding the latest content the bot owes and what Slack has of it. Every
 * state change is a compare-and-set on `version` / `delivered_version` / `status`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Delivery } from '../domain/ports/messenger.js';
import type { MessageRef, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { SqliteDatabase } from '../storage/database.js';

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
  create(channel: string, body: OutboxBody, threadTs: string | undefined, delivery: Delivery): OutboxRow;
  /** New content for a message: its version goes up, so whatever delivery is in flight sends again. */
  write(id: string, body: OutboxBody, delivery: Delivery): OutboxRow | undefined;
  /** A row for a message Slack already shows that no row tracks (posted before the outbox kept it). */
  adopt(posted: MessageRef, delivery: Delivery): OutboxRow;
  get(id: string): OutboxRow | undefined;
  /** The message Slack knows by this channel and ts, if the outbox posted it. */
  byPosted(ref: MessageRef): OutboxRow | undefined;
  /** Owed messages whose next attempt is due, oldest first. */
  due(now: number, limit?: number): OutboxRow[];
  /** When the next owed message is due; undefined when nothing is owed. */
  nextDue(): number | undefined;
  /** Slack has `version` (and, for a first post, its ts). False when someone recorded a later one. */
  delivered(id: string, version: number, posted: MessageRef | undefined): boolean;
  /**
   * Slack took a message: every other one backing off after a failure is due now (a rate limit's
   * wait excepted). Returns how many.
   */
  recovered(now: number): number;
  /** Makes the owed message due soonest (a rate limit's wait excepted) due now: one probe of Slack. */
  probe(now: number): boolean;
  /** Another try after `at`. */
  retryAt(id: string, at: number, error: string): boolean;
  /** Slack refused it for good. */
  undeliverable(id: string, error: string): boolean;
  /** The requester was told of `version` another way (or that telling them failed). */
  notified(id: string, version: number): boolean;
  /** Undeliverable messages with a final version nobody was told of yet. */
  toNotify(): OutboxRow[];
  /** Owed messages written before `before`. */
  stuck(before: number): OutboxRow[];
  rememberRoute(userId: string, url: string, at: number): void;
  route(userId: string): ReplyRoute | undefined;
  /** Counts one use of a route, unless it is used up (5) or someone replaced it. */
  useRoute(route: ReplyRoute): boolean;
}

/** @example const outbox = createOutboxStore(db, clock); const row = outbox.create('C1', { text: 'hi' }, undefined, {}); */
export function createOutboxStore(db: SqliteDatabase, clock: Clock): OutboxStore {
  const insert = db.prepare(`
    INSERT INTO outbox (id, created_at, updated_at, owed_since, channel, thread_ts, body_json, version, final,
      requester, about_target, about_change, status, next_attempt_at)
    VALUES (@id, @now, @now, @now, @channel, @thread_ts, @body, 1, @final, @requester, @about_target, @about_change, 'owed', @now)`);
  // Writing a delivered message owes it again; an undeliverable one stays so (its requester gets the news).
  const write = db.prepare(`
    UPDATE outbox SET body_json = @body, version = version + 1, updated_at = @now, final = @final,
      requester = COALESCE(@requester, requester), about_target = COALESCE(@about_target, about_target),
      about_change = COALESCE(@about_change, about_change),
      owed_since = CASE WHEN status = 'undeliverable' THEN owed_since ELSE COALESCE(owed_since, @now) END,
      status = CASE WHEN status = 'delivered' THEN 'owed' ELSE status END,
      next_attempt_at = CASE WHEN status = 'delivered' THEN @now ELSE next_attempt_at END
    WHERE id = @id`);
  const insertPosted = db.prepare(`
    INSERT INTO outbox (id, created_at, updated_at, channel, ts, posted_channel, body_json, version, requester,
      about_target, about_change, status, next_attempt_at)
    VALUES (@id, @now, @now, @channel, @ts, @channel, '{"text":""}', 0, @requester, @about_target, @about_change,
      'delivered', @now)`);
  const select = db.prepare('SELECT * FROM outbox WHERE id = ?');
  const selectPosted = db.prepare('SELECT * FROM outbox WHERE posted_channel = ? AND ts = ?');
  const selectDue = db.prepare(
    "SELECT * FROM outbox WHERE status = 'owed' AND next_attempt_at <= ? ORDER BY created_at, id LIMIT ?",
  );
  const selectNextDue = db.prepare("SELECT min(next_attempt_at) AS at FROM outbox WHERE status = 'owed'");
  const delivered = db.prepare(`
    UPDATE outbox SET delivered_version = @version, updated_at = @now,
      ts = COALESCE(ts, @ts), posted_channel = COALESCE(posted_channel, @posted_channel),
      status = CASE WHEN version = @version THEN 'delivered' ELSE 'owed' END,
      owed_since = CASE WHEN version = @version THEN NULL ELSE owed_since END,
      attempts = 0, last_error = NULL, next_attempt_at = @now
    WHERE id = @id AND status = 'owed' AND delivered_version < @version`);
  const retry = db.prepare(`
    UPDATE outbox SET attempts = attempts + 1, next_attempt_at = @at, last_error = @error, updated_at = @now
    WHERE id = @id AND status = 'owed'`);
  const recovered = db.prepare(`
    UPDATE outbox SET next_attempt_at = @now
    WHERE status = 'owed' AND attempts > 0 AND next_attempt_at > @now
      AND (last_error IS NULL OR last_error NOT LIKE '${RATE_LIMITED_PREFIX}%')`);
  const probe = db.prepare(`
    UPDATE outbox SET next_attempt_at = @now WHERE id = (
      SELECT id FROM outbox WHERE status = 'owed' AND next_attempt_at > @now
        AND (last_error IS NULL OR last_error NOT LIKE '${RATE_LIMITED_PREFIX}%')
      ORDER BY next_attempt_at LIMIT 1)`);
  const refuse = db.prepare(`
    UPDATE outbox SET status = 'undeliverable', last_error = @error, updated_at = @now, attempts = attempts + 1
    WHERE id = @id AND status = 'owed'`);
  const notified = db.prepare(
    'UPDATE outbox SET notified_version = @version WHERE id = @id AND notified_version < @version',
  );
  const selectToNotify = db.prepare(
    "SELECT * FROM outbox WHERE status = 'undeliverable' AND requester IS NOT NULL AND notified_version < version AND (notified_version = 0 OR final = 1) ORDER BY created_at",
  );
  const selectStuck = db.prepare(
    "SELECT * FROM outbox WHERE status = 'owed' AND owed_since < ? ORDER BY owed_since",
  );
  const upsertRoute = db.prepare(`
    INSERT INTO reply_routes (user_id, url, issued_at, uses) VALUES (?, ?, ?, 1)
    ON CONFLICT (user_id) DO UPDATE SET url = excluded.url, issued_at = excluded.issued_at, uses = 1
    WHERE excluded.issued_at >= reply_routes.issued_at`);
  const selectRoute = db.prepare('SELECT user_id, url, issued_at, uses FROM reply_routes WHERE user_id = ?');
  const useRoute = db.prepare(
    'UPDATE reply_routes SET uses = uses + 1 WHERE user_id = ? AND url = ? AND uses = ? AND uses < 5',
  );

  const now = () => clock.now();
  const aboutOf = (d: Delivery) => ({
    requester: d.requester ?? null,
    about_target: d.about?.target ?? null,
    about_change: d.about?.changeId ?? null,
  });
  const get = (id: string) => {
    const raw = select.get(id);
    return raw === undefined ? undefined : toRow(raw);
  };

  const newId = () => `om-${randomUUID().replaceAll('-', '').slice(0, 16)}`;

  return {
    create(channel, body, threadTs, delivery) {
      const id = newId();
      insert.run({
        id,
        now: now(),
        channel,
        thread_ts: threadTs ?? null,
        body: JSON.stringify(body),
        final: delivery.final ? 1 : 0,
        ...aboutOf(delivery),
      });
      return get(id)!;
    },
    write(id, body, delivery) {
      write.run({
        id,
        now: now(),
        body: JSON.stringify(body),
        final: delivery.final ? 1 : 0,
        ...aboutOf(delivery),
      });
      return get(id);
    },
    adopt(posted, delivery) {
      const id = newId();
      insertPosted.run({ id, now: now(), channel: posted.channel, ts: posted.ts, ...aboutOf(delivery) });
      return get(id)!;
    },
    get,
    byPosted(ref) {
      const raw = selectPosted.get(ref.channel, ref.ts);
      return raw === undefined ? undefined : toRow(raw);
    },
    due: (at, limit = 50) => selectDue.all(at, limit).map(toRow),
    nextDue: () => (selectNextDue.get() as { at: number | null }).at ?? undefined,
    delivered: (id, version, posted) =>
      delivered.run({
        id,
        version,
        now: now(),
        ts: posted?.ts ?? null,
        posted_channel: posted?.channel ?? null,
      }).changes === 1,
    recovered: (at) => recovered.run({ now: at }).changes,
    probe: (at) => probe.run({ now: at }).changes === 1,
    retryAt: (id, at, error) => retry.run({ id, at, error, now: now() }).changes === 1,
    undeliverable: (id, error) => refuse.run({ id, error, now: now() }).changes === 1,
    notified: (id, version) => notified.run({ id, version }).changes === 1,
    toNotify: () => selectToNotify.all().map(toRow),
    stuck: (before) => selectStuck.all(before).map(toRow),
    rememberRoute(userId, url, at) {
      upsertRoute.run(userId, url, at);
    },
    route(userId) {
      const r = selectRoute.get(userId) as
        | { user_id: string; url: string; issued_at: number; uses: number }
        | undefined;
      return r ? { userId: r.user_id, url: r.url, issuedAt: r.issued_at, uses: r.uses } : undefined;
    },
    useRoute: (r) => useRoute.run(r.userId, r.url, r.uses).changes === 1,
  };
}
