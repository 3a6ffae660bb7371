/**
 * The ledger's table (`ledger_entries`, created by its migration in storage/migrations.ts): one row
 * per difference seen on a target, append-only except for the delivery columns. Recording is a
 * compare-and-set on the target's last entry, so two processes never record one difference twice.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import type { MessageRef } from '../domain/vocabulary.js';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, isUniqueViolation, leaseNow, run } from '../storage/sql.js';
import type {
  LedgerEntry,
  LedgerSource,
  LedgerTarget,
  NewLedgerEntry,
  Snapshot,
  TargetState,
} from './types.js';

const rowSchema = z.object({
  seq: z.number().int(),
  target: z.string(),
  target_json: z.string(),
  before_json: z.string().nullable(),
  after_json: z.string(),
  source: z.enum(['baseline', 'bot', 'out_of_band']),
  change_id: z.string().nullable(),
  actor: z.string().nullable(),
  facts_json: z.string().nullable(),
  at: z.number().int(),
  detected_at: z.number().int(),
  not_before: z.number().int().nullable(),
  notify_channel: z.string().nullable(),
  posted_at: z.number().int().nullable(),
  message_channel: z.string().nullable(),
  message_ts: z.string().nullable(),
  post_error: z.string().nullable(),
  post_attempts: z.number().int(),
  post_claimed_until: z.number().int().nullable(),
});

// The JSON columns hold values this code wrote; a shallow check catches a foreign row.
const targetSchema = z.union([
  z.object({ kind: z.literal('endpoint'), endpoint: z.string() }),
  z.object({ kind: z.literal('alias'), model: z.string(), alias: z.string() }),
]);
const stateSchema = z.union([
  z.looseObject({ kind: z.literal('endpoint'), config: z.looseObject({}).nullable() }),
  z.object({ kind: z.literal('alias'), version: z.number().int().nullable() }),
]);

function toEntry(raw: unknown): LedgerEntry {
  const row = rowSchema.parse(raw);
  const target = targetSchema.parse(JSON.parse(row.target_json)) as LedgerTarget;
  const after = stateSchema.parse(JSON.parse(row.after_json)) as TargetState;
  const before = row.before_json ? (stateSchema.parse(JSON.parse(row.before_json)) as TargetState) : null;
  const source: LedgerSource =
    row.source === 'bot'
      ? { kind: 'bot', changeId: row.change_id ?? '', appliedBy: row.actor ?? '' }
      : row.source === 'out_of_band'
        ? { kind: 'out_of_band', facts: row.facts_json ? JSON.parse(row.facts_json) : {} }
        : { kind: 'baseline' };
  return {
    seq: row.seq,
    key: row.target,
    target,
    before,
    after,
    source,
    at: row.at,
    detectedAt: row.detected_at,
    ...(row.not_before !== null ? { notBefore: row.not_before } : {}),
    ...(row.notify_channel !== null ? { notify: row.notify_channel } : {}),
    ...(row.posted_at !== null ? { postedAt: row.posted_at } : {}),
    ...(row.message_channel !== null && row.message_ts !== null
      ? { message: { channel: row.message_channel, ts: row.message_ts } }
      : {}),
    ...(row.post_error !== null ? { postError: row.post_error } : {}),
    postAttempts: row.post_attempts,
  };
}

export interface LedgerStore {
  /** The last entry of every target: what the ledger believes each holds now. */
  snapshots(): Promise<Map<string, Snapshot>>;
  /**
   * Compare-and-set: records the entry only if the target's last entry is still `expectedSeq`
   * (null: the target has none), and its bot change id is not attributed yet. Returns the stored
   * entry, or undefined when another process won.
   */
  record(entry: NewLedgerEntry, expectedSeq: number | null): Promise<LedgerEntry | undefined>;
  /** Entries of a target, oldest first. */
  entriesOf(key: string): Promise<LedgerEntry[]>;
  /** Change ids already attributed to an entry, among these. */
  claimed(changeIds: readonly string[]): Promise<Set<string>>;
  /** Every target key the ledger has seen. */
  keys(): Promise<string[]>;
  /** Entries owed to a channel and not posted yet, oldest first. */
  unposted(): Promise<LedgerEntry[]>;
  /**
   * Compare-and-set: takes the entry for posting until `until`, unless it was posted or another
   * process holds it. False: leave it alone.
   */
  claimPost(seq: number, now: number, until: number): Promise<boolean>;
  markPosted(seq: number, ref: MessageRef, at: number): Promise<void>;
  markPostFailed(seq: number, error: string): Promise<void>;
}

const CHANGE_INDEX = { sqlite: 'ledger_entries.change_id', postgres: 'ledger_entries_change' };

/**
 * On Postgres, `record` takes a transaction-scoped advisory lock per target before it compares the
 * last entry: two replicas recording the same target take turns, as they do on SQLite's IMMEDIATE
 * transaction (Postgres cannot lock a row that does not exist yet).
 *
 * @example const ledger = createLedgerStore(openDatabase(config.dbPath));
 */
export function createLedgerStore(database: StoreDatabase): LedgerStore {
  const db = database.kysely;
  const kind = database.kind;

  const recordOnce = (entry: NewLedgerEntry, expectedSeq: number | null) =>
    db.transaction().execute(async (trx) => {
      if (kind === 'postgres') {
        await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`ledger:${entry.key}`}, 0))`.execute(trx);
      }
      const last = (await first(
        trx,
        sql`SELECT max(seq) AS seq FROM ledger_entries WHERE target = ${entry.key}`,
      )) as { seq: number | null } | undefined;
      if ((last?.seq ?? null) !== expectedSeq) return undefined;
      const source = entry.source;
      const row = await first(
        trx,
        sql`INSERT INTO ledger_entries (target, target_json, before_json, after_json, source, change_id, actor,
              facts_json, at, detected_at, not_before, notify_channel)
            VALUES (${entry.key}, ${JSON.stringify(entry.target)}, ${entry.before ? JSON.stringify(entry.before) : null},
              ${JSON.stringify(entry.after)}, ${source.kind}, ${source.kind === 'bot' ? source.changeId : null},
              ${source.kind === 'bot' ? source.appliedBy : null},
              ${source.kind === 'out_of_band' ? JSON.stringify(source.facts) : null},
              ${Math.round(entry.at)}, ${Math.round(entry.detectedAt)},
              ${entry.notBefore === undefined ? null : Math.round(entry.notBefore)}, ${entry.notify ?? null})
            RETURNING *`,
      );
      return toEntry(row);
    });

  return {
    async snapshots() {
      const map = new Map<string, Snapshot>();
      const rows = await all(
        db,
        sql`SELECT * FROM ledger_entries WHERE seq IN (SELECT max(seq) FROM ledger_entries GROUP BY target)`,
      );
      for (const e of rows.map(toEntry)) {
        map.set(e.key, {
          seq: e.seq,
          key: e.key,
          target: e.target,
          after: e.after,
          detectedAt: e.detectedAt,
        });
      }
      return map;
    },
    async record(entry, expectedSeq) {
      try {
        return await recordOnce(entry, expectedSeq);
      } catch (e) {
        // Another process attributed the same bot change first: its entry stands.
        if (isUniqueViolation(e, CHANGE_INDEX)) return undefined;
        throw e;
      }
    },
    entriesOf: async (key) =>
      (await all(db, sql`SELECT * FROM ledger_entries WHERE target = ${key} ORDER BY seq`)).map(toEntry),
    async claimed(changeIds) {
      if (changeIds.length === 0) return new Set();
      const rows = (await all(
        db,
        sql`SELECT change_id FROM ledger_entries WHERE change_id IN (${sql.join(changeIds.map((c) => sql`${c}`))})`,
      )) as Array<{ change_id: string }>;
      return new Set(rows.map((r) => r.change_id));
    },
    keys: async () =>
      ((await all(db, sql`SELECT DISTINCT target FROM ledger_entries`)) as Array<{ target: string }>).map(
        (r) => r.target,
      ),
    unposted: async () =>
      (
        await all(
          db,
          sql`SELECT * FROM ledger_entries WHERE notify_channel IS NOT NULL AND posted_at IS NULL ORDER BY seq`,
        )
      ).map(toEntry),
    // A claim is a lease: on Postgres judged by the database's clock (`until` is kept as a span).
    claimPost: async (seq, now, until) => {
      const at = leaseNow(kind, () => now);
      return (
        (await run(
          db,
          sql`UPDATE ledger_entries SET post_claimed_until = ${at} + ${Math.round(until - now)}
              WHERE seq = ${seq} AND posted_at IS NULL AND (post_claimed_until IS NULL OR post_claimed_until <= ${at})`,
        )) === 1
      );
    },
    async markPosted(seq, ref, at) {
      await sql`UPDATE ledger_entries SET posted_at = ${Math.round(at)}, message_channel = ${ref.channel},
                  message_ts = ${ref.ts}, post_error = NULL, post_attempts = post_attempts + 1
                WHERE seq = ${seq} AND posted_at IS NULL`.execute(db);
    },
    async markPostFailed(seq, error) {
      await sql`UPDATE ledger_entries SET post_error = ${error.slice(0, 500)}, post_attempts = post_attempts + 1,
                  post_claimed_until = NULL WHERE seq = ${seq} AND posted_at IS NULL`.execute(db);
    },
  };
}
