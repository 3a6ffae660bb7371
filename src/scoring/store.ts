/**
 * Batch-scoring runs the bot started, and how each ended. Every move is one compare-and-set UPDATE
 * (`WHERE status = ?`, checked by `changes`), so two processes or two clicks never both win; the
 * methods are async so the store can move to another database unchanged.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { MessageRef } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { SqliteDatabase } from '../storage/database.js';

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
export function createScoreRunStore(db: SqliteDatabase, clock: Pick<Clock, 'now'>): ScoreRunStore {
  const byId = db.prepare('SELECT * FROM score_runs WHERE id = ?');
  const byTrigger = db.prepare('SELECT * FROM score_runs WHERE trigger_id = ?');
  const insert = db.prepare(
    `INSERT INTO score_runs (id, trigger_id, created_at, updated_at, requester, channel, model, version, alias,
       model_uri, input_table, output_table, job_id, status)
     VALUES (@id, @trigger_id, @now, @now, @requester, @channel, @model, @version, @alias, @model_uri,
       @input_table, @output_table, @job_id, 'starting')
     ON CONFLICT (trigger_id) DO NOTHING`,
  );
  const setMessage = db.prepare(
    'UPDATE score_runs SET message_channel = ?, message_ts = ?, updated_at = ? WHERE id = ?',
  );
  const recordRun = db.prepare(
    `UPDATE score_runs SET status = 'running', run_id = ?, updated_at = ? WHERE id = ? AND status = 'starting'`,
  );
  const finish = db.prepare(
    `UPDATE score_runs SET status = ?, result_json = ?, updated_at = ?
     WHERE id = ? AND status IN ('starting', 'running')`,
  );
  const inFlight = db.prepare(
    `SELECT * FROM score_runs WHERE status IN ('starting', 'running') ORDER BY created_at`,
  );

  return {
    async create(input) {
      const id = randomUUID();
      const result = insert.run({
        id,
        trigger_id: input.triggerId ?? null,
        now: clock.now(),
        requester: input.requester,
        channel: input.channel,
        model: input.model,
        version: input.version,
        alias: input.alias ?? null,
        model_uri: input.modelUri,
        input_table: input.inputTable,
        output_table: input.outputTable,
        job_id: input.jobId,
      });
      if (result.changes === 0) return { run: toRun(byTrigger.get(input.triggerId)), duplicate: true };
      return { run: toRun(byId.get(id)), duplicate: false };
    },
    async get(id) {
      const row = byId.get(id);
      return row === undefined ? undefined : toRun(row);
    },
    async setMessage(id, ref) {
      setMessage.run(ref.channel, ref.ts, clock.now(), id);
    },
    async recordRun(id, runId) {
      return recordRun.run(runId, clock.now(), id).changes === 1;
    },
    async finish(id, status, result) {
      return finish.run(status, JSON.stringify(result), clock.now(), id).changes === 1;
    },
    async inFlight() {
      return inFlight.all().map(toRun);
    },
  };
}
