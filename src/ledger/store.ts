/**
 * The ledger's table (`ledger_entries`, created by its migration in storage/migrations.ts): one row
 * per difference seen on a target, append-only except for the delivery columns. Recording is a
 * compare-and-set on the target's last entry, so two processes never record one difference twice.
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { MessageRef } from '../domain/vocabulary.js';
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
  snapshots(): Map<string, Snapshot>;
  /**
   * Compare-and-set: records the entry only if the target's last entry is still `expectedSeq`
   * (null: the target has none), and its bot change id is not attributed yet. Returns the stored
   * entry, or undefined when another process won.
   */
  record(entry: NewLedgerEntry, expectedSeq: number | null): LedgerEntry | undefined;
  /** Entries of a target, oldest first. */
  entriesOf(key: string): LedgerEntry[];
  /** Change ids already attributed to an entry, among these. */
  claimed(changeIds: readonly string[]): Set<string>;
  /** Every target key the ledger has seen. */
  keys(): string[];
  /** Entries owed to a channel and not posted yet, oldest first. */
  unposted(): LedgerEntry[];
  /**
   * Compare-and-set: takes the entry for posting until `until`, unless it was posted or another
   * process holds it. False: leave it alone.
   */
  claimPost(seq: number, now: number, until: number): boolean;
  markPosted(seq: number, ref: MessageRef, at: number): void;
  markPostFailed(seq: number, error: string): void;
}

/**
 * @example const ledger = createLedgerStore(openDatabase(config.dbPath));
 */
export function createLedgerStore(db: Database.Database): LedgerStore {
  const lastSeq = db.prepare('SELECT max(seq) AS seq FROM ledger_entries WHERE target = ?');
  const insert = db.prepare(`
    INSERT INTO ledger_entries (target, target_json, before_json, after_json, source, change_id, actor,
      facts_json, at, detected_at, not_before, notify_channel)
    VALUES (@target, @target_json, @before_json, @after_json, @source, @change_id, @actor, @facts_json,
      @at, @detected_at, @not_before, @notify_channel)`);
  const selectSeq = db.prepare('SELECT * FROM ledger_entries WHERE seq = ?');
  const selectLatest = db.prepare(
    'SELECT * FROM ledger_entries WHERE seq IN (SELECT max(seq) FROM ledger_entries GROUP BY target)',
  );
  const selectOf = db.prepare('SELECT * FROM ledger_entries WHERE target = ? ORDER BY seq');
  const selectUnposted = db.prepare(
    'SELECT * FROM ledger_entries WHERE notify_channel IS NOT NULL AND posted_at IS NULL ORDER BY seq',
  );
  const posted = db.prepare(
    'UPDATE ledger_entries SET posted_at = ?, message_channel = ?, message_ts = ?, post_error = NULL, post_attempts = post_attempts + 1 WHERE seq = ? AND posted_at IS NULL',
  );
  const failed = db.prepare(
    'UPDATE ledger_entries SET post_error = ?, post_attempts = post_attempts + 1, post_claimed_until = NULL WHERE seq = ? AND posted_at IS NULL',
  );
  const claim = db.prepare(
    'UPDATE ledger_entries SET post_claimed_until = ? WHERE seq = ? AND posted_at IS NULL AND (post_claimed_until IS NULL OR post_claimed_until <= ?)',
  );

  const record = db.transaction((entry: NewLedgerEntry, expectedSeq: number | null) => {
    const current = (lastSeq.get(entry.key) as { seq: number | null }).seq;
    if (current !== expectedSeq) return undefined;
    const source = entry.source;
    const result = insert.run({
      target: entry.key,
      target_json: JSON.stringify(entry.target),
      before_json: entry.before ? JSON.stringify(entry.before) : null,
      after_json: JSON.stringify(entry.after),
      source: source.kind,
      change_id: source.kind === 'bot' ? source.changeId : null,
      actor: source.kind === 'bot' ? source.appliedBy : null,
      facts_json: source.kind === 'out_of_band' ? JSON.stringify(source.facts) : null,
      at: entry.at,
      detected_at: entry.detectedAt,
      not_before: entry.notBefore ?? null,
      notify_channel: entry.notify ?? null,
    });
    return toEntry(selectSeq.get(result.lastInsertRowid));
  });

  return {
    snapshots() {
      const map = new Map<string, Snapshot>();
      for (const e of selectLatest.all().map(toEntry)) {
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
    record(entry, expectedSeq) {
      try {
        return record.immediate(entry, expectedSeq);
      } catch (e) {
        // Another process attributed the same bot change first: its entry stands.
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return undefined;
        throw e;
      }
    },
    entriesOf: (key) => selectOf.all(key).map(toEntry),
    claimed(changeIds) {
      if (changeIds.length === 0) return new Set();
      const marks = changeIds.map(() => '?').join(', ');
      const rows = db
        .prepare(`SELECT change_id FROM ledger_entries WHERE change_id IN (${marks})`)
        .all(...changeIds) as Array<{ change_id: string }>;
      return new Set(rows.map((r) => r.change_id));
    },
    keys: () =>
      (db.prepare('SELECT DISTINCT target FROM ledger_entries').all() as Array<{ target: string }>).map(
        (r) => r.target,
      ),
    unposted: () => selectUnposted.all().map(toEntry),
    claimPost: (seq, now, until) => claim.run(until, seq, now).changes === 1,
    markPosted(seq, ref, at) {
      posted.run(at, ref.channel, ref.ts, seq);
    },
    markPostFailed(seq, error) {
      failed.run(error.slice(0, 500), seq);
    },
  };
}
