/**
 * Batch-scoring runs the bot started, and how each ended, in the process's store (SQLite or
 * Postgres). Every move is one compare-and-set UPDATE (`WHERE status = …`, one row moved or none),
 * so two processes, replicas or clicks never both win; a repeated trigger id is one
 * `ON CONFLICT DO NOTHING` insert, so a retried slash command starts one run.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { MessageRef } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, leaseNow, ownerGone, run } from '../storage/sql.js';

export type ScoreRunStatus = 'starting' | 'running' | 'succeeded' | 'failed' | 'unfollowed';

/** How a scoring run ended, as data (the views word it). */
export type ScoreResult =
  | { kind: 'succeeded'; url: string; rows?: number; tookMs?: number }
  | {
      kind: 'failed';
      url?: string;
      state?: string;
      /** Databricks' termination code and message, e.g. RUN_EXECUTION_ERROR / USER_CANCELED. */
      code?: string;
      message?: string;
      /** Our words for an error that stopped it before or while it ran. */
      reason?: string;
      hint?: string;
    }
  | { kind: 'unfollowed'; url: string; afterMs: number; state: string };

export interface ScoreRun {
  id: string;
  createdAt: number;
  updatedAt: number;
  requester: string;
  channel: string;
  model: string;
  version: number;
  alias?: string;
  modelUri: string;
  inputTable: string;
  outputTable: string;
  jobId: number;
  runId?: number;
  status: ScoreRunStatus;
  message?: MessageRef;
  result?: ScoreResult;
}

export type NewScoreRun = Pick<
  ScoreRun,
  | 'requester'
  | 'channel'
  | 'model'
  | 'version'
  | 'alias'
  | 'modelUri'
  | 'inputTable'
  | 'outputTable'
  | 'jobId'
> & { triggerId?: string };

export interface ScoreRunStore {
  /** A new run in `starting`; a second call with the same trigger id returns the first one. */
  create(input: NewScoreRun): Promise<{ run: ScoreRun; duplicate: boolean }>;
  get(id: string): Promise<ScoreRun | undefined>;
  setMessage(id: string, ref: MessageRef): Promise<void>;
  /** starting → running, with the Databricks run id; false when it was not starting any more. */
  recordRun(id: string, runId: number): Promise<boolean>;
  /** starting|running → the end; false when another caller ended it first. */
  finish(id: string, status: 'succeeded' | 'failed' | 'unfollowed', result: ScoreResult): Promise<boolean>;
  /** Runs not ended yet (to follow again after a restart). */
  inFlight(): Promise<ScoreRun[]>;
  /**
   * Claims the runs in flight nobody follows (no owner, or its heartbeat older than the lease: a
   * dead replica's; on SQLite all of them) for this store's owner, and returns them.
   */
  takeOver(): Promise<ScoreRun[]>;
  /** The owner says it is alive: its runs in flight keep their lease. */
  heartbeat(): Promise<void>;
}

const rowSchema = z.object({
  id: z.string(),
  created_at: z.coerce.number(),
  updated_at: z.coerce.number(),
  requester: z.string(),
  channel: z.string(),
  model: z.string(),
  version: z.coerce.number(),
  alias: z.string().nullable(),
  model_uri: z.string(),
  input_table: z.string(),
  output_table: z.string(),
  job_id: z.coerce.number(),
  run_id: z.coerce.number().nullable(),
  status: z.enum(['starting', 'running', 'succeeded', 'failed', 'unfollowed']),
  message_channel: z.string().nullable(),
  message_ts: z.string().nullable(),
  result_json: z.string().nullable(),
});

function toRun(raw: unknown): ScoreRun {
  const r = rowSchema.parse(raw);
  return {
    id: r.id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    requester: r.requester,
    channel: r.channel,
    model: r.model,
    version: r.version,
    ...(r.alias !== null ? { alias: r.alias } : {}),
    modelUri: r.model_uri,
    inputTable: r.input_table,
    outputTable: r.output_table,
    jobId: r.job_id,
    ...(r.run_id !== null ? { runId: r.run_id } : {}),
    status: r.status,
    ...(r.message_channel !== null && r.message_ts !== null
      ? { message: { channel: r.message_channel, ts: r.message_ts } }
      : {}),
    ...(r.result_json !== null ? { result: JSON.parse(r.result_json) as ScoreResult } : {}),
  };
}

/**
 * @example const store = createScoreRunStore(db, clock); const { run } = await store.create({ ... });
 */
export function createScoreRunStore(
  database: StoreDatabase,
  clock: Pick<Clock, 'now'>,
  ownership?: { instance: string; leaseMs: number },
): ScoreRunStore {
  const db = database.kysely;
  const now = () => Math.round(clock.now());
  const owner = ownership?.instance ?? null;
  const leaseClock = () => leaseNow(database.kind, () => clock.now());
  const free = () => ownerGone(database.kind, () => clock.now(), ownership?.leaseMs ?? 0);
  const byId = async (id: string) => {
    const row = await first(db, sql`SELECT * FROM score_runs WHERE id = ${id}`);
    return row === undefined ? undefined : toRun(row);
  };

  const inFlight = async () =>
    (
      await all(
        db,
        sql`SELECT * FROM score_runs WHERE status IN ('starting', 'running') ORDER BY created_at, id`,
      )
    ).map(toRun);

  return {
    async create(input) {
      const id = randomUUID();
      const at = now();
      const triggerId = input.triggerId ?? null;
      const inserted = await run(
        db,
        sql`INSERT INTO score_runs (id, trigger_id, created_at, updated_at, requester, channel, model, version,
              alias, model_uri, input_table, output_table, job_id, status, owner, heartbeat_at)
            VALUES (${id}, ${triggerId}, ${at}, ${at}, ${input.requester}, ${input.channel}, ${input.model},
              ${input.version}, ${input.alias ?? null}, ${input.modelUri}, ${input.inputTable},
              ${input.outputTable}, ${input.jobId}, 'starting', ${owner}, ${leaseClock()})
            ON CONFLICT (trigger_id) DO NOTHING`,
      );
      if (inserted === 0) {
        // Only a trigger id already taken refuses the row (a NULL one never conflicts).
        const row = await first(db, sql`SELECT * FROM score_runs WHERE trigger_id = ${triggerId}`);
        return { run: toRun(row), duplicate: true };
      }
      return { run: (await byId(id))!, duplicate: false };
    },
    get: byId,
    async setMessage(id, ref) {
      await run(
        db,
        sql`UPDATE score_runs SET message_channel = ${ref.channel}, message_ts = ${ref.ts}, updated_at = ${now()}
            WHERE id = ${id}`,
      );
    },
    recordRun: async (id, runId) =>
      (await run(
        db,
        sql`UPDATE score_runs SET status = 'running', run_id = ${runId}, updated_at = ${now()}
            WHERE id = ${id} AND status = 'starting'`,
      )) === 1,
    finish: async (id, status, result) =>
      (await run(
        db,
        sql`UPDATE score_runs SET status = ${status}, result_json = ${JSON.stringify(result)}, updated_at = ${now()}
            WHERE id = ${id} AND status IN ('starting', 'running')`,
      )) === 1,
    inFlight,
    async takeOver() {
      const taken: ScoreRun[] = [];
      for (const r of await inFlight()) {
        const won = await run(
          db,
          sql`UPDATE score_runs SET owner = ${owner}, heartbeat_at = ${leaseClock()}
              WHERE id = ${r.id} AND status IN ('starting', 'running') AND ${free()}`,
        );
        if (won === 1) taken.push((await byId(r.id))!);
      }
      return taken;
    },
    async heartbeat() {
      if (owner === null || !database.open) return;
      await run(
        db,
        sql`UPDATE score_runs SET heartbeat_at = ${leaseClock()} WHERE owner = ${owner} AND status IN ('starting', 'running')`,
      );
    },
  };
}
