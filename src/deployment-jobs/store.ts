/**
 * What the bot did for each deployment-job run it asked approval for: the request it opened, and
 * how far an approved one got (the tag, the repair). One row per (job, run); every move is a
 * single-statement compare-and-set, so a second tick, a duplicate click or a take-over after a
 * crash never opens a second request, sets the tag twice or repairs twice. Async on purpose: the
 * stores are moving to Kysely (SQLite and Postgres); today it runs over the one better-sqlite3
 * connection. The table is the `deployment_approvals` migration of storage/migrations.ts.
 */
import { z } from 'zod';
import type { SqliteDatabase } from '../storage/database.js';

/** Where the approval tag stands: not set by the bot, being set (an attempt claimed it), set. */
export type TagState = 'none' | 'setting' | 'set';
/** Where the repair stands: not asked, being asked (an attempt claimed it), made. */
export type RepairState = 'none' | 'repairing' | 'repaired';

export interface DeploymentApprovalRecord {
  jobId: number;
  runId: number;
  model: string;
  version: number;
  requestId?: string;
  tag: TagState;
  tagSetAt?: number;
  repair: RepairState;
  repairId?: number;
  createdAt: number;
  updatedAt: number;
}

export interface DeploymentApprovalStore {
  find(jobId: number, runId: number): Promise<DeploymentApprovalRecord | undefined>;
  byRequest(requestId: string): Promise<DeploymentApprovalRecord | undefined>;
  /** Notes a waiting run; false when it was noted before. */
  note(r: { jobId: number; runId: number; model: string; version: number }): Promise<boolean>;
  /** Ties the run to its request, once. */
  attachRequest(jobId: number, runId: number, requestId: string): Promise<boolean>;
  /** `none` → `setting`: only one attempt may set the tag. */
  claimTag(requestId: string): Promise<boolean>;
  /** `setting` → `set`. */
  tagSet(requestId: string): Promise<boolean>;
  /** `none` → `repairing`: only one attempt may repair. */
  claimRepair(requestId: string): Promise<boolean>;
  /** `repairing` → `repaired`, with the repair's id. */
  repaired(requestId: string, repairId: number): Promise<boolean>;
}

const rowSchema = z.object({
  job_id: z.number().int(),
  run_id: z.number().int(),
  model: z.string(),
  version: z.number().int(),
  request_id: z.string().nullable(),
  tag_state: z.enum(['none', 'setting', 'set']),
  tag_set_at: z.number().int().nullable(),
  repair_state: z.enum(['none', 'repairing', 'repaired']),
  repair_id: z.number().int().nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
});

function toRecord(raw: unknown): DeploymentApprovalRecord {
  const r = rowSchema.parse(raw);
  return {
    jobId: r.job_id,
    runId: r.run_id,
    model: r.model,
    version: r.version,
    tag: r.tag_state,
    repair: r.repair_state,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.request_id !== null ? { requestId: r.request_id } : {}),
    ...(r.tag_set_at !== null ? { tagSetAt: r.tag_set_at } : {}),
    ...(r.repair_id !== null ? { repairId: r.repair_id } : {}),
  };
}

/**
 * @example const store = createDeploymentApprovalStore(db, () => clock.now()); await store.note({ jobId: 2001, runId: 7, model, version: 5 });
 */
export function createDeploymentApprovalStore(
  db: SqliteDatabase,
  now: () => number,
): DeploymentApprovalStore {
  const COLUMNS =
    'job_id, run_id, model, version, request_id, tag_state, tag_set_at, repair_state, repair_id, created_at, updated_at';
  const selectRun = db.prepare(`SELECT ${COLUMNS} FROM deployment_approvals WHERE job_id = ? AND run_id = ?`);
  const selectRequest = db.prepare(`SELECT ${COLUMNS} FROM deployment_approvals WHERE request_id = ?`);
  const insert = db.prepare(`
    INSERT INTO deployment_approvals (job_id, run_id, model, version, tag_state, repair_state, created_at, updated_at)
    VALUES (@job_id, @run_id, @model, @version, 'none', 'none', @now, @now)
    ON CONFLICT (job_id, run_id) DO NOTHING`);
  const attach = db.prepare(`
    UPDATE deployment_approvals SET request_id = @request_id, updated_at = @now
    WHERE job_id = @job_id AND run_id = @run_id AND request_id IS NULL`);
  const moveTag = db.prepare(`
    UPDATE deployment_approvals SET tag_state = @to, tag_set_at = CASE WHEN @to = 'set' THEN @now ELSE tag_set_at END,
      updated_at = @now
    WHERE request_id = @request_id AND tag_state = @from`);
  const moveRepair = db.prepare(`
    UPDATE deployment_approvals SET repair_state = @to, repair_id = COALESCE(@repair_id, repair_id), updated_at = @now
    WHERE request_id = @request_id AND repair_state = @from`);
  const stamp = () => Math.round(now());

  return {
    async find(jobId, runId) {
      const row = selectRun.get(jobId, runId);
      return row === undefined ? undefined : toRecord(row);
    },
    async byRequest(requestId) {
      const row = selectRequest.get(requestId);
      return row === undefined ? undefined : toRecord(row);
    },
    async note(r) {
      return (
        insert.run({ job_id: r.jobId, run_id: r.runId, model: r.model, version: r.version, now: stamp() })
          .changes === 1
      );
    },
    async attachRequest(jobId, runId, requestId) {
      return attach.run({ job_id: jobId, run_id: runId, request_id: requestId, now: stamp() }).changes === 1;
    },
    async claimTag(requestId) {
      return moveTag.run({ request_id: requestId, from: 'none', to: 'setting', now: stamp() }).changes === 1;
    },
    async tagSet(requestId) {
      return moveTag.run({ request_id: requestId, from: 'setting', to: 'set', now: stamp() }).changes === 1;
    },
    async claimRepair(requestId) {
      return (
        moveRepair.run({
          request_id: requestId,
          from: 'none',
          to: 'repairing',
          repair_id: null,
          now: stamp(),
        }).changes === 1
      );
    },
    async repaired(requestId, repairId) {
      return (
        moveRepair.run({
          request_id: requestId,
          from: 'repairing',
          to: 'repaired',
          repair_id: repairId,
          now: stamp(),
        }).changes === 1
      );
    },
  };
}
