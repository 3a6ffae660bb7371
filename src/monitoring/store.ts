/**
 * Monitor set-ups (a plan waiting for Create, then the create call) and monitor refreshes the bot
 * follows, in the process's store (SQLite or Postgres). Every move is one compare-and-set UPDATE
 * (`WHERE status = …`, one row moved or none), so of two clicks, processes or replicas one wins; a
 * repeated trigger id is one `ON CONFLICT DO NOTHING` insert.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { MonitorSpec } from '../domain/ports/monitors.js';
import type { MessageRef } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, leaseNow, ownerGone, run } from '../storage/sql.js';

export type MonitorOpStatus = 'proposed' | 'cancelled' | 'working' | 'succeeded' | 'failed';

/** How a create or a refresh ended, as data (the views word it). */
export type MonitorOpResult =
  | {
      kind: 'created';
      api: 'data-quality' | 'legacy';
      profileTable?: string;
      driftTable?: string;
      dashboardId?: string;
      /** Found on Databricks after a lost answer or a restart rather than told by the create call. */
      found?: boolean;
    }
  | { kind: 'refreshed'; refreshId: string; tookMs?: number }
  | {
      kind: 'failed';
      /** Databricks' state and message (a refresh that FAILED or was CANCELED). */
      state?: string;
      message?: string;
      /** Our words for an error that stopped it. */
      reason?: string;
      hint?: string;
      refreshId?: string;
    }
  | { kind: 'cancelled' };

export interface MonitorOp {
  id: string;
  kind: 'create' | 'refresh';
  createdAt: number;
  updatedAt: number;
  requester: string;
  channel: string;
  monitor: string;
  table: string;
  /** create: what was planned. */
  spec?: MonitorSpec;
  /** refresh: the Databricks refresh id. */
  refreshId?: string;
  status: MonitorOpStatus;
  decidedBy?: string;
  message?: MessageRef;
  result?: MonitorOpResult;
}

export interface MonitorOpStore {
  /** A create plan waiting for its requester's Create; the same trigger id returns the first. */
  propose(input: {
    requester: string;
    channel: string;
    monitor: string;
    spec: MonitorSpec;
    triggerId?: string;
  }): Promise<{ op: MonitorOp; duplicate: boolean }>;
  /** A refresh being followed (status working). */
  startRefresh(input: {
    requester: string;
    channel: string;
    monitor: string;
    table: string;
    refreshId: string;
    triggerId?: string;
  }): Promise<{ op: MonitorOp; duplicate: boolean }>;
  get(id: string): Promise<MonitorOp | undefined>;
  /** proposed → working | cancelled; false when it was not proposed any more. */
  decide(id: string, to: 'working' | 'cancelled', by: string): Promise<boolean>;
  setMessage(id: string, ref: MessageRef): Promise<void>;
  /** working → succeeded | failed; false when another caller ended it first. */
  finish(id: string, status: 'succeeded' | 'failed', result: MonitorOpResult): Promise<boolean>;
  /** Ops in `working` (to settle after a restart). */
  working(): Promise<MonitorOp[]>;
  /**
   * Claims the ops in `working` nobody follows (no owner, or its heartbeat older than the lease: a
   * dead replica's; on SQLite all of them) for this store's owner, and returns them.
   */
  takeOver(): Promise<MonitorOp[]>;
  /** The owner says it is alive: its ops in `working` keep their lease. */
  heartbeat(): Promise<void>;
}

const rowSchema = z.object({
  id: z.string(),
  kind: z.enum(['create', 'refresh']),
  created_at: z.coerce.number(),
  updated_at: z.coerce.number(),
  requester: z.string(),
  channel: z.string(),
  monitor: z.string(),
  monitored_table: z.string(),
  spec_json: z.string().nullable(),
  refresh_id: z.string().nullable(),
  status: z.enum(['proposed', 'cancelled', 'working', 'succeeded', 'failed']),
  decided_by: z.string().nullable(),
  message_channel: z.string().nullable(),
  message_ts: z.string().nullable(),
  result_json: z.string().nullable(),
});

function toOp(raw: unknown): MonitorOp {
  const r = rowSchema.parse(raw);
  return {
    id: r.id,
    kind: r.kind,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    requester: r.requester,
    channel: r.channel,
    monitor: r.monitor,
    table: r.monitored_table,
    ...(r.spec_json !== null ? { spec: JSON.parse(r.spec_json) as MonitorSpec } : {}),
    ...(r.refresh_id !== null ? { refreshId: r.refresh_id } : {}),
    status: r.status,
    ...(r.decided_by !== null ? { decidedBy: r.decided_by } : {}),
    ...(r.message_channel !== null && r.message_ts !== null
      ? { message: { channel: r.message_channel, ts: r.message_ts } }
      : {}),
    ...(r.result_json !== null ? { result: JSON.parse(r.result_json) as MonitorOpResult } : {}),
  };
}

/** @example const ops = createMonitorOpStore(db, clock); */
export function createMonitorOpStore(
  database: StoreDatabase,
  clock: Pick<Clock, 'now'>,
  ownership?: { instance: string; leaseMs: number },
): MonitorOpStore {
  const db = database.kysely;
  const now = () => Math.round(clock.now());
  const owner = ownership?.instance ?? null;
  const leaseClock = () => leaseNow(database.kind, () => clock.now());
  const free = () => ownerGone(database.kind, () => clock.now(), ownership?.leaseMs ?? 0);
  const byId = async (id: string) => {
    const row = await first(db, sql`SELECT * FROM monitor_ops WHERE id = ${id}`);
    return row === undefined ? undefined : toOp(row);
  };

  async function add(row: {
    kind: 'create' | 'refresh';
    requester: string;
    channel: string;
    monitor: string;
    table: string;
    spec?: MonitorSpec;
    refreshId?: string;
    status: MonitorOpStatus;
    triggerId?: string | undefined;
  }): Promise<{ op: MonitorOp; duplicate: boolean }> {
    const id = randomUUID();
    const at = now();
    const triggerId = row.triggerId ?? null;
    const inserted = await run(
      db,
      sql`INSERT INTO monitor_ops (id, kind, trigger_id, created_at, updated_at, requester, channel, monitor,
            monitored_table, spec_json, refresh_id, status, owner, heartbeat_at)
          VALUES (${id}, ${row.kind}, ${triggerId}, ${at}, ${at}, ${row.requester}, ${row.channel}, ${row.monitor},
            ${row.table}, ${row.spec ? JSON.stringify(row.spec) : null}, ${row.refreshId ?? null}, ${row.status},
            ${owner}, ${leaseClock()})
          ON CONFLICT (trigger_id) DO NOTHING`,
    );
    if (inserted === 0) {
      // Only a trigger id already taken refuses the row (a NULL one never conflicts).
      const existing = await first(db, sql`SELECT * FROM monitor_ops WHERE trigger_id = ${triggerId}`);
      return { op: toOp(existing), duplicate: true };
    }
    return { op: (await byId(id))!, duplicate: false };
  }

  const working = async () =>
    (await all(db, sql`SELECT * FROM monitor_ops WHERE status = 'working' ORDER BY created_at, id`)).map(
      toOp,
    );

  return {
    propose: (input) => add({ kind: 'create', ...input, table: input.spec.table, status: 'proposed' }),
    startRefresh: (input) => add({ kind: 'refresh', ...input, status: 'working' }),
    get: byId,
    decide: async (id, to, by) =>
      (await run(
        db,
        sql`UPDATE monitor_ops SET status = ${to}, decided_by = ${by}, updated_at = ${now()},
              owner = ${owner}, heartbeat_at = ${leaseClock()}
            WHERE id = ${id} AND status = 'proposed'`,
      )) === 1,
    async setMessage(id, ref) {
      await run(
        db,
        sql`UPDATE monitor_ops SET message_channel = ${ref.channel}, message_ts = ${ref.ts}, updated_at = ${now()}
            WHERE id = ${id}`,
      );
    },
    finish: async (id, status, result) =>
      (await run(
        db,
        sql`UPDATE monitor_ops SET status = ${status}, result_json = ${JSON.stringify(result)}, updated_at = ${now()}
            WHERE id = ${id} AND status = 'working'`,
      )) === 1,
    working,
    async takeOver() {
      const taken: MonitorOp[] = [];
      for (const op of await working()) {
        const won = await run(
          db,
          sql`UPDATE monitor_ops SET owner = ${owner}, heartbeat_at = ${leaseClock()}
              WHERE id = ${op.id} AND status = 'working' AND ${free()}`,
        );
        if (won === 1) taken.push((await byId(op.id))!);
      }
      return taken;
    },
    async heartbeat() {
      if (owner === null || !database.open) return;
      await run(
        db,
        sql`UPDATE monitor_ops SET heartbeat_at = ${leaseClock()} WHERE owner = ${owner} AND status = 'working'`,
      );
    },
  };
}
