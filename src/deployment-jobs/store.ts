/**
 * What the bot did for each deployment-job run it asked approval for: the request it opened, and
 * how far an approved one got (the tag, the repair). One row per (job, run); every move is a
 * single-statement compare-and-set, so a second tick, a duplicate click or a take-over after a
 * crash never opens a second request, sets the tag twice or repairs twice, on one process or on
 * several replicas. One implementation over the process's store, SQLite or Postgres; the table is
 * the `deployment_approvals` migration of storage/migrations.ts.
 */
import { type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { StoreDatabase } from '../storage/database.js';
import { first, isUniqueViolation, run } from '../storage/sql.js';

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

const COLUMNS = sql.raw(
  'job_id, run_id, model, version, request_id, tag_state, tag_set_at, repair_state, repair_id, created_at, updated_at',
);

/** A request tied to one run only: attaching it to a second run is refused by this index. */
const REQUEST_INDEX = { sqlite: 'deployment_approvals.request_id', postgres: 'deployment_approvals_request' };

/**
 * @example const store = createDeploymentApprovalStore(db, () => clock.now()); await store.note({ jobId: 2001, runId: 7, model, version: 5 });
 */
export function createDeploymentApprovalStore(
  database: StoreDatabase,
  now: () => number,
): DeploymentApprovalStore {
  const db = database.kysely;
  const stamp = () => Math.round(now());

  const one = async (where: RawBuilder<unknown>) => {
    const row = await first(db, sql`SELECT ${COLUMNS} FROM deployment_approvals WHERE ${where}`);
    return row === undefined ? undefined : toRecord(row);
  };
  /** Compare-and-set on the tag: `from` → `to`, stamping `tag_set_at` when it becomes `set`. */
  const moveTag = async (requestId: string, from: TagState, to: TagState) => {
    const at = stamp();
    const setAt = to === 'set' ? sql`${at}` : sql`tag_set_at`;
    return (
      (await run(
        db,
        sql`UPDATE deployment_approvals SET tag_state = ${to}, tag_set_at = ${setAt}, updated_at = ${at}
            WHERE request_id = ${requestId} AND tag_state = ${from}`,
      )) === 1
    );
  };
  /** Compare-and-set on the repair: `from` → `to`, recording the repair's id when given. */
  const moveRepair = async (requestId: string, from: RepairState, to: RepairState, repairId?: number) => {
    const id = repairId === undefined ? sql`repair_id` : sql`${repairId}`;
    return (
      (await run(
        db,
        sql`UPDATE deployment_approvals SET repair_state = ${to}, repair_id = ${id}, updated_at = ${stamp()}
            WHERE request_id = ${requestId} AND repair_state = ${from}`,
      )) === 1
    );
  };

  return {
    find: (jobId, runId) => one(sql`job_id = ${jobId} AND run_id = ${runId}`),
    byRequest: (requestId) => one(sql`request_id = ${requestId}`),
    async note(r) {
      const at = stamp();
      return (
        (await run(
          db,
          sql`INSERT INTO deployment_approvals (job_id, run_id, model, version, tag_state, repair_state, created_at,
                updated_at)
              VALUES (${r.jobId}, ${r.runId}, ${r.model}, ${r.version}, 'none', 'none', ${at}, ${at})
              ON CONFLICT (job_id, run_id) DO NOTHING`,
        )) === 1
      );
    },
    async attachRequest(jobId, runId, requestId) {
      try {
        return (
          (await run(
            db,
            sql`UPDATE deployment_approvals SET request_id = ${requestId}, updated_at = ${stamp()}
                WHERE job_id = ${jobId} AND run_id = ${runId} AND request_id IS NULL`,
          )) === 1
        );
      } catch (e) {
        // The request is tied to another run already: this run is not tied to it.
        if (isUniqueViolation(e, REQUEST_INDEX)) return false;
        throw e;
      }
    },
    claimTag: (requestId) => moveTag(requestId, 'none', 'setting'),
    tagSet: (requestId) => moveTag(requestId, 'setting', 'set'),
    claimRepair: (requestId) => moveRepair(requestId, 'none', 'repairing'),
    repaired: (requestId, repairId) => moveRepair(requestId, 'repairing', 'repaired', repairId),
  };
}
