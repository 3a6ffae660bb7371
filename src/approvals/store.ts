/**
 * Approval requests and their votes in the process's store (SQLite or Postgres) (their tables are migration 2
 * of storage/migrations.ts; changes/store.ts hands this module the connection). The rules that must hold across
 * concurrent clicks, Slack retries and restarts are enforced here, each in one transaction
 * (IMMEDIATE on SQLite; on Postgres the request row is locked first):
 * - a vote is a row unique per (request, voter): a second vote by the same person is refused;
 * - a status move is `UPDATE … WHERE id = ? AND status = ?` (compare-and-set): of any number of
 *   concurrent approvals exactly one moves a request to `approved`;
 * - an execution holds an attempt token: only its holder may record a run or finish it, and a
 *   restart takes the execution over by replacing the token (again compare-and-set).
 * Every move writes its audit row in the same transaction.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { AuditEntry, AuditInput } from '../changes/audit.js';
import { toAuditEntry, writeAuditRow } from '../changes/store.js';
import type { Approvers } from '../config/policy-gates.js';
import type { MessageRef } from '../domain/vocabulary.js';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, forUpdate, isUniqueViolation, leaseNow, type Queryable, run } from '../storage/sql.js';
import type { Evidence } from './evidence.js';
import { type ExecutionResult, parseExecutionResult } from './execution-result.js';
import type { ApprovalPlan } from './request-plan.js';
import {
  APPROVAL_STATUSES,
  type ApprovalDecision,
  type ApprovalState,
  type ApprovalStatus,
  decide,
} from './state.js';

const requestRowSchema = z.object({
  id: z.string(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  expires_at: z.number().int(),
  gate: z.string(),
  kind: z.enum(['change', 'retrain']),
  requester: z.string(),
  channel: z.string(),
  thread_ts: z.string().nullable(),
  target: z.string(),
  required: z.number().int(),
  status: z.enum(APPROVAL_STATUSES),
  decided_by: z.string().nullable(),
  decided_at: z.number().int().nullable(),
  reason: z.string().nullable(),
  outcome: z.string().nullable(),
  message_channel: z.string().nullable(),
  message_ts: z.string().nullable(),
  shown_status: z.enum(APPROVAL_STATUSES).nullable(),
  trigger_id: z.string().nullable(),
  attempt: z.string().nullable(),
  attempts: z.number().int(),
  run_id: z.number().int().nullable(),
  owner: z.string().nullable(),
  heartbeat_at: z.number().int().nullable(),
});

/** Columns written once, when the request is made: read and parsed once per request and kept. */
const frozenRowSchema = z.object({
  plan_json: z.string(),
  evidence_json: z.string().nullable(),
  approvers_json: z.string(),
});
/** The columns that change, for the statements that read a request again and again. */
const LIVE_COLUMNS = Object.keys(requestRowSchema.shape).join(', ');

const FROZEN_CACHE_SIZE = 500;

const voteRowSchema = z.object({ voter: z.string(), at: z.number().int() });

// JSON columns hold values this code wrote; a shallow check catches a foreign or corrupted row.
/**
 * The column's CHECK (migration 2) knows two kinds: a deployment-job approval, a job run too, is
 * filed with retraining; plan_json says which it is.
 */
const storedKind = (kind: string): 'change' | 'retrain' => (kind === 'change' ? 'change' : 'retrain');

const storedPlanSchema = z.looseObject({ kind: z.enum(['change', 'retrain', 'deployment']) });
const storedApproversSchema = z.object({ users: z.array(z.string()), groups: z.array(z.string()) });

export interface Vote {
  voter: string;
  at: number;
}

/** An approval request as the service sees it. */
export interface ApprovalRequest {
  id: string;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  /** The gate's name in the policy (`production`, `retrain`, or a custom one). */
  gate: string;
  /** Slack user id of whoever asked. */
  requester: string;
  /** The channel it was asked in. */
  channel: string;
  /** The thread it was asked from (a drift alert), if any. */
  threadTs?: string;
  /** Audit target: `alias:<model>@production`, `endpoint:<name>`, `retrain:<model>`. */
  target: string;
  plan: ApprovalPlan;
  evidence?: Evidence;
  /** Distinct approvals needed, and who may give them, as the gate said when it was asked. */
  required: number;
  approvers: Approvers;
  status: ApprovalStatus;
  votes: Vote[];
  /** Who rejected it, or whose vote made the quorum. */
  decidedBy?: string;
  decidedAt?: number;
  /** Rejection reason, what changed (superseded), or why the execution failed (older rows). */
  reason?: string;
  /** How the execution ended, as facts (the views word them). */
  result?: ExecutionResult;
  /** How the execution ended, as a sentence: rows written before facts were stored. */
  outcome?: string;
  /** The request message, updated in place. */
  message?: MessageRef;
  /** The status the message shows; differs from `status` when an update is owed. */
  shownStatus?: ApprovalStatus;
  triggerId?: string;
  /** Token of the execution attempt under way. */
  attempt?: string;
  attempts: number;
  /** The job run a retraining started. */
  runId?: number;
  /** The process that runs the execution (its instance id), when ownership is on. */
  owner?: string;
  /** When that process last said it still runs it; absent once it let go. */
  heartbeatAt?: number;
}

/** What a new request is made of; the store adds its id, times, status and the rest. */
export type NewApprovalRequest = Pick<
  ApprovalRequest,
  | 'gate'
  | 'requester'
  | 'channel'
  | 'threadTs'
  | 'target'
  | 'plan'
  | 'evidence'
  | 'required'
  | 'approvers'
  | 'expiresAt'
  | 'triggerId'
>;

/** The outcome of a click or an event applied atomically: the decision and the request after it. */
export interface Applied {
  decision: ApprovalDecision;
  request: ApprovalRequest | undefined;
}

export interface ApprovalAuditFilter {
  /** Exact audit targets. */
  targets?: readonly string[];
  /** Target prefixes, e.g. `alias:acme.mlops.churn_model@`. */
  prefixes?: readonly string[];
  limit?: number;
}

export interface ApprovalStore {
  /** Stores a pending request. A trigger id seen before is a Slack retry: the first comes back. */
  create(request: NewApprovalRequest): Promise<{ request: ApprovalRequest; duplicate: boolean }>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  /** An approval click, decided and applied in one transaction. */
  vote(id: string, voter: string, isApprover: boolean, at: number): Promise<Applied>;
  /** A rejection (or the requester withdrawing), decided and applied in one transaction. */
  reject(
    id: string,
    by: string,
    isApprover: boolean,
    reason: string | undefined,
    at: number,
  ): Promise<Applied>;
  /** Moves every pending request whose time is up to `expired`; returns those it moved. */
  expireDue(now: number): Promise<ApprovalRequest[]>;
  /** The plan went stale: `pending`, `approved` or `executing` → `superseded`, saying what changed. */
  supersede(id: string, what: string, actor: string): Promise<Applied>;
  /** `approved` → `executing` under a fresh attempt token; only one caller gets it. */
  startExecution(
    id: string,
    actor: string,
  ): Promise<{ attempt: string; request: ApprovalRequest } | undefined>;
  /** A restart takes over an `executing` request from the attempt that was under way. */
  takeOver(
    id: string,
    previousAttempt: string | undefined,
  ): Promise<{ attempt: string; request: ApprovalRequest } | undefined>;
  /** Refreshes the lease of every execution this process owns; returns how many. */
  heartbeat(): Promise<number>;
  /** Lets go of an execution at shutdown (holder of the attempt only): the next process may take it at once. */
  release(id: string, attempt: string): Promise<void>;
  /** Ends the leases of a process known dead (its lock ran out). */
  expireLeasesOf(instance: string): Promise<number>;
  /**
   * An attempt that lost its execution to another (a take-over) after it had acted: the facts go
   * in the audit log instead of being dropped.
   */
  noteLost(id: string, attempt: string, what: string, result?: ExecutionResult): Promise<void>;
  /** Records the job run a retraining started (holder of the attempt only). */
  recordRun(id: string, attempt: string, runId: number): Promise<boolean>;
  /** `executing` → `executed` / `failed`, by the holder of the attempt only. */
  finish(id: string, attempt: string, result: ExecutionResult, actor: string): Promise<Applied>;
  setMessage(id: string, ref: MessageRef): Promise<void>;
  /** Records what status the message shows now. */
  markShown(id: string, status: ApprovalStatus): Promise<void>;
  pending(): Promise<ApprovalRequest[]>;
  /** `approved` and `executing` requests: what a restart must finish. */
  inFlight(): Promise<ApprovalRequest[]>;
  /** Requests whose message shows another status than theirs (Slack was down, or a crash). */
  unshown(): Promise<ApprovalRequest[]>;
  /** Audit rows filed under the given targets, newest first. */
  auditFor(filter: ApprovalAuditFilter): Promise<AuditEntry[]>;
}

/** A request id: `apr-` and 10 chars of [a-z0-9]; short enough for a run-now idempotency token. */
export function newRequestId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `apr-${[...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

const newAttempt = (): string => randomBytes(8).toString('hex');

interface Frozen {
  plan: ApprovalPlan;
  evidence?: Evidence;
  approvers: Approvers;
}

function toFrozen(id: string, raw: unknown): Frozen {
  const row = frozenRowSchema.parse(raw);
  const plan = storedPlanSchema.safeParse(JSON.parse(row.plan_json));
  const approvers = storedApproversSchema.safeParse(JSON.parse(row.approvers_json));
  if (!plan.success || !approvers.success) {
    throw new Error(`approval request ${id} in the store is unreadable (plan or approvers do not match)`);
  }
  return {
    plan: plan.data as unknown as ApprovalPlan,
    approvers: approvers.data,
    ...(row.evidence_json !== null ? { evidence: JSON.parse(row.evidence_json) as Evidence } : {}),
  };
}

function toRequest(raw: unknown, votes: Vote[], frozen: Frozen): ApprovalRequest {
  const row = requestRowSchema.parse(raw);
  const r: ApprovalRequest = {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    expiresAt: row.expires_at,
    gate: row.gate,
    requester: row.requester,
    channel: row.channel,
    target: row.target,
    plan: frozen.plan,
    required: row.required,
    approvers: frozen.approvers,
    status: row.status,
    votes,
    attempts: row.attempts,
  };
  if (row.thread_ts !== null) r.threadTs = row.thread_ts;
  if (frozen.evidence !== undefined) r.evidence = frozen.evidence;
  if (row.decided_by !== null) r.decidedBy = row.decided_by;
  if (row.decided_at !== null) r.decidedAt = row.decided_at;
  if (row.reason !== null) r.reason = row.reason;
  if (row.outcome !== null) {
    const result = parseExecutionResult(row.outcome);
    if (result) r.result = result;
    else r.outcome = row.outcome;
  }
  if (row.message_channel !== null && row.message_ts !== null) {
    r.message = { channel: row.message_channel, ts: row.message_ts };
  }
  if (row.shown_status !== null) r.shownStatus = row.shown_status;
  if (row.trigger_id !== null) r.triggerId = row.trigger_id;
  if (row.attempt !== null) r.attempt = row.attempt;
  if (row.run_id !== null) r.runId = row.run_id;
  if (row.owner !== null) r.owner = row.owner;
  if (row.heartbeat_at !== null) r.heartbeatAt = row.heartbeat_at;
  return r;
}

const stateOf = (r: ApprovalRequest): ApprovalState => ({
  status: r.status,
  requester: r.requester,
  required: r.required,
  votes: r.votes.map((v) => v.voter),
  expiresAt: r.expiresAt,
});

const TRIGGER_INDEX = { sqlite: 'approval_requests.trigger_id', postgres: 'approval_requests_trigger_id' };

/**
 * The approval tables over the store. `now` is the store's clock; audit rows go in the same
 * transaction as the move they record. With `ownership`, executions record this process as their
 * owner, and a take-over waits for the owner's lease to run out (on Postgres by the database's
 * clock). On Postgres every read-decide-write transaction locks the request row first
 * (`FOR UPDATE`), so concurrent clicks on several replicas take turns as they do on SQLite.
 *
 * @example const approvals = createApprovalStore(db, () => clock.now(), { instance, leaseMs: 30_000 });
 */
export function createApprovalStore(
  database: StoreDatabase,
  now: () => number,
  ownership?: { instance: string; leaseMs: number },
): ApprovalStore {
  const db = database.kysely;
  const kind = database.kind;
  const owner = ownership?.instance ?? null;
  const leaseMs = ownership?.leaseMs ?? 0;
  const leaseClock = () => leaseNow(kind, now);
  const live = sql.raw(LIVE_COLUMNS);
  const writeAudit = (q: Queryable, entry: AuditInput) => writeAuditRow(q, entry, now);

  const votesOf = async (q: Queryable, id: string): Promise<Vote[]> =>
    (await all(q, sql`SELECT voter, at FROM approval_votes WHERE request_id = ${id} ORDER BY at, rowid`)).map(
      (v) => voteRowSchema.parse(v),
    );

  // Plans, evidence and approvers never change once stored, and a burst of clicks reads the same
  // request many times: parse them once (the most recent requests are kept).
  const frozenCache = new Map<string, Frozen>();
  async function frozenOf(q: Queryable, id: string, row?: unknown): Promise<Frozen> {
    const hit = frozenCache.get(id);
    if (hit) return hit;
    const raw =
      row ??
      (await first(
        q,
        sql`SELECT plan_json, evidence_json, approvers_json FROM approval_requests WHERE id = ${id}`,
      ));
    const frozen = toFrozen(id, raw);
    if (frozenCache.size >= FROZEN_CACHE_SIZE) frozenCache.delete(frozenCache.keys().next().value!);
    frozenCache.set(id, frozen);
    return frozen;
  }

  /** The request; `lock` (inside a transaction) holds its row until the transaction ends, on Postgres. */
  async function get(id: string, q: Queryable = db, lock = false): Promise<ApprovalRequest | undefined> {
    const row = await first(
      q,
      sql`SELECT ${live} FROM approval_requests WHERE id = ${id}${lock ? forUpdate(kind) : sql``}`,
    );
    return row === undefined ? undefined : toRequest(row, await votesOf(q, id), await frozenOf(q, id));
  }

  const many = async (q: Queryable, rows: unknown[]): Promise<ApprovalRequest[]> => {
    const out: ApprovalRequest[] = [];
    for (const row of rows) {
      const id = (row as { id: string }).id;
      out.push(toRequest(row, await votesOf(q, id), await frozenOf(q, id, row)));
    }
    return out;
  };

  /** Applies a `moved` decision: the CAS, and its audit row; throws (rolling back) if the CAS lost. */
  async function move(
    q: Queryable,
    r: ApprovalRequest,
    from: ApprovalStatus,
    to: ApprovalStatus,
    fields: { decidedBy?: string; decidedAt?: number; reason?: string },
    audit: Omit<AuditInput, 'target' | 'changeId'>,
  ): Promise<void> {
    const changed = await run(
      q,
      sql`UPDATE approval_requests SET status = ${to}, updated_at = ${Math.round(now())},
            decided_by = COALESCE(${fields.decidedBy ?? null}, decided_by),
            decided_at = COALESCE(${fields.decidedAt === undefined ? null : Math.round(fields.decidedAt)}, decided_at),
            reason = COALESCE(${fields.reason ?? null}, reason)
          WHERE id = ${r.id} AND status = ${from}`,
    );
    if (changed !== 1) throw new Error(`approval ${r.id} moved while ${from} → ${to} was applied`);
    await writeAudit(q, { ...audit, target: r.target, changeId: r.id });
  }

  const tx = <T>(fn: (trx: Queryable) => Promise<T>): Promise<T> => db.transaction().execute(fn);

  const createOnce = (n: NewApprovalRequest) =>
    tx(async (trx) => {
      if (n.triggerId !== undefined) {
        const seen = (await first(
          trx,
          sql`SELECT id FROM approval_requests WHERE trigger_id = ${n.triggerId}`,
        )) as { id: string } | undefined;
        if (seen) return { request: (await get(seen.id, trx))!, duplicate: true };
      }
      const id = newRequestId();
      const at = Math.round(now());
      await sql`
        INSERT INTO approval_requests (id, created_at, updated_at, expires_at, gate, kind, requester, channel,
          thread_ts, target, plan_json, evidence_json, required, approvers_json, status, trigger_id)
        VALUES (${id}, ${at}, ${at}, ${Math.round(n.expiresAt)}, ${n.gate}, ${storedKind(n.plan.kind)}, ${n.requester},
          ${n.channel}, ${n.threadTs ?? null}, ${n.target}, ${JSON.stringify(n.plan)},
          ${n.evidence === undefined ? null : JSON.stringify(n.evidence)}, ${n.required},
          ${JSON.stringify({ users: n.approvers.users, groups: n.approvers.groups })}, 'pending',
          ${n.triggerId ?? null})`.execute(trx);
      await writeAudit(trx, {
        at,
        actor: n.requester,
        action: 'approval_requested',
        target: n.target,
        changeId: id,
        after: { gate: n.gate, required: n.required, plan: n.plan },
      });
      return { request: (await get(id, trx))!, duplicate: false };
    });

  const vote = (id: string, voter: string, isApprover: boolean, at: number): Promise<Applied> =>
    tx(async (trx) => {
      const r = await get(id, trx, true);
      if (!r) return { decision: { kind: 'refused', reason: 'not_pending' }, request: undefined };
      const decision = decide(stateOf(r), { type: 'approve', by: voter, isApprover, at });
      if (decision.kind === 'voted' || (decision.kind === 'moved' && decision.to === 'approved')) {
        // The primary key makes a second vote of the same person impossible whatever the caller did.
        const inserted = await run(
          trx,
          sql`INSERT INTO approval_votes (request_id, voter, at) VALUES (${id}, ${voter}, ${Math.round(at)})
              ON CONFLICT DO NOTHING`,
        );
        if (inserted !== 1) return { decision: { kind: 'refused', reason: 'already_voted' }, request: r };
        await writeAudit(trx, {
          actor: voter,
          action: 'approval_vote',
          target: r.target,
          changeId: id,
          detail: `vote ${r.votes.length + 1} of ${r.required}`,
        });
      }
      if (decision.kind === 'moved') {
        const approved = decision.to === 'approved';
        await move(
          trx,
          r,
          decision.from,
          decision.to,
          approved ? { decidedBy: voter, decidedAt: at } : {},
          approved
            ? { actor: voter, action: 'approved', outcome: 'approved' }
            : { actor: 'modelgate', action: 'expired', outcome: 'expired' },
        );
      }
      return { decision, request: await get(id, trx) };
    });

  const reject = (
    id: string,
    by: string,
    isApprover: boolean,
    reason: string | undefined,
    at: number,
  ): Promise<Applied> =>
    tx(async (trx) => {
      const r = await get(id, trx, true);
      if (!r) return { decision: { kind: 'refused', reason: 'not_pending' }, request: undefined };
      const decision = decide(stateOf(r), { type: 'reject', by, isApprover, at });
      if (decision.kind === 'moved') {
        const rejected = decision.to === 'rejected';
        const withdrawn = rejected && by === r.requester;
        await move(
          trx,
          r,
          decision.from,
          decision.to,
          rejected ? { decidedBy: by, decidedAt: at, ...(reason ? { reason } : {}) } : {},
          rejected
            ? {
                actor: by,
                action: withdrawn ? 'withdrawn' : 'rejected',
                outcome: 'rejected',
                ...(reason ? { detail: reason } : {}),
              }
            : { actor: 'modelgate', action: 'expired', outcome: 'expired' },
        );
      }
      return { decision, request: await get(id, trx) };
    });

  const expireDue = (at: number): Promise<ApprovalRequest[]> =>
    tx(async (trx) => {
      const moved: ApprovalRequest[] = [];
      const due = (await all(
        trx,
        sql`SELECT id FROM approval_requests WHERE status = 'pending' AND expires_at <= ${Math.round(at)}
            ORDER BY expires_at, rowid${forUpdate(kind)}`,
      )) as Array<{ id: string }>;
      for (const { id } of due) {
        const r = (await get(id, trx))!;
        const decision = decide(stateOf(r), { type: 'expire', at });
        if (decision.kind !== 'moved') continue;
        await move(
          trx,
          r,
          decision.from,
          decision.to,
          {},
          {
            actor: 'modelgate',
            action: 'expired',
            outcome: 'expired',
            detail: `${r.votes.length} of ${r.required} approvals when it expired`,
          },
        );
        moved.push((await get(id, trx))!);
      }
      return moved;
    });

  const supersede = (id: string, what: string, actor: string): Promise<Applied> =>
    tx(async (trx) => {
      const r = await get(id, trx, true);
      if (!r) return { decision: { kind: 'refused', reason: 'not_pending' }, request: undefined };
      const decision = decide(stateOf(r), { type: 'stale' });
      if (decision.kind === 'moved') {
        await move(
          trx,
          r,
          decision.from,
          decision.to,
          { reason: what },
          {
            actor,
            action: 'superseded',
            outcome: 'superseded',
            detail: what,
          },
        );
      }
      return { decision, request: await get(id, trx) };
    });

  const startExecution = (id: string, actor: string) =>
    tx(async (trx) => {
      const attempt = newAttempt();
      const changed = await run(
        trx,
        sql`UPDATE approval_requests SET status = 'executing', attempt = ${attempt}, attempts = attempts + 1,
              updated_at = ${Math.round(now())}, owner = ${owner}, heartbeat_at = ${leaseClock()}
            WHERE id = ${id} AND status = 'approved'`,
      );
      if (changed !== 1) return undefined;
      const request = (await get(id, trx))!;
      await writeAudit(trx, {
        actor,
        action: 'executing',
        target: request.target,
        changeId: id,
        detail: `attempt ${request.attempts}`,
      });
      return { attempt, request };
    });

  const takeOver = (id: string, previous: string | undefined) =>
    tx(async (trx) => {
      const attempt = newAttempt();
      const before = await get(id, trx);
      // Only an execution whose owner let go (none, released, or silent past the lease) is taken over.
      const changed = await run(
        trx,
        sql`UPDATE approval_requests SET attempt = ${attempt}, attempts = attempts + 1, updated_at = ${Math.round(now())},
              owner = ${owner}, heartbeat_at = ${leaseClock()}
            WHERE id = ${id} AND status = 'executing' AND attempt IS NOT DISTINCT FROM ${previous ?? null}
              AND (owner IS NULL OR heartbeat_at IS NULL OR heartbeat_at <= ${leaseClock()} - ${leaseMs})`,
      );
      if (changed !== 1) return undefined;
      const request = (await get(id, trx))!;
      const from = before?.owner;
      await writeAudit(trx, {
        actor: 'modelgate',
        action: 'execution_resumed',
        target: request.target,
        changeId: id,
        detail:
          from !== undefined && from !== owner
            ? `attempt ${request.attempts}, taken over from ${from}` +
              (before?.heartbeatAt !== undefined
                ? `, silent since ${new Date(before.heartbeatAt).toISOString()}`
                : ', which had let go of it')
            : `attempt ${request.attempts} after a restart`,
      });
      return { attempt, request };
    });

  const finish = (id: string, attempt: string, result: ExecutionResult, actor: string): Promise<Applied> =>
    tx(async (trx) => {
      const r = await get(id, trx, true);
      if (!r) return { decision: { kind: 'refused', reason: 'not_executing' }, request: undefined };
      const decision = decide(stateOf(r), { type: 'finish', ok: result.ok });
      if (decision.kind !== 'moved') return { decision, request: r };
      const changed = await run(
        trx,
        // Facts, never sentences: the views word them (and can change their words).
        sql`UPDATE approval_requests SET status = ${decision.to}, outcome = ${JSON.stringify(result)},
              updated_at = ${Math.round(now())}
            WHERE id = ${id} AND status = 'executing' AND attempt = ${attempt}`,
      );
      if (changed !== 1) return { decision: { kind: 'refused', reason: 'not_executing' }, request: r };
      await writeAudit(trx, {
        actor,
        action: decision.to,
        target: r.target,
        changeId: id,
        outcome: decision.to,
        detail: JSON.stringify(result),
      });
      return { decision, request: await get(id, trx) };
    });

  return {
    async create(n) {
      try {
        return await createOnce(n);
      } catch (e) {
        // Two replicas took the same Slack retry at once: the one that lost reads the winner's.
        if (n.triggerId === undefined || !isUniqueViolation(e, TRIGGER_INDEX)) throw e;
        const seen = (await first(
          db,
          sql`SELECT id FROM approval_requests WHERE trigger_id = ${n.triggerId}`,
        )) as { id: string } | undefined;
        const request = seen ? await get(seen.id) : undefined;
        if (!request) throw e;
        return { request, duplicate: true };
      }
    },
    get: (id) => get(id),
    vote,
    reject,
    expireDue,
    supersede,
    startExecution,
    takeOver,
    heartbeat: async () =>
      owner === null
        ? 0
        : run(
            db,
            sql`UPDATE approval_requests SET heartbeat_at = ${leaseClock()} WHERE owner = ${owner} AND status = 'executing'`,
          ),
    async release(id, attempt) {
      if (owner === null || !database.open) return;
      await sql`UPDATE approval_requests SET heartbeat_at = NULL
                WHERE id = ${id} AND attempt = ${attempt} AND owner = ${owner} AND status = 'executing'`.execute(
        db,
      );
    },
    expireLeasesOf: (instance) =>
      run(
        db,
        sql`UPDATE approval_requests SET heartbeat_at = NULL WHERE owner = ${instance} AND status = 'executing'`,
      ),
    async noteLost(id, attempt, what, result) {
      const r = await get(id);
      await writeAudit(db, {
        actor: 'modelgate',
        action: 'late_result',
        target: r?.target ?? `approval:${id}`,
        changeId: id,
        detail:
          `attempt ${attempt} of ${owner ?? 'a process'} lost the execution to ${r?.owner ?? 'another process'} ` +
          `(now ${r?.status ?? 'missing'}); ${what}` +
          (result ? `: ${JSON.stringify(result)}` : ''),
      });
    },
    recordRun: async (id, attempt, runId) =>
      (await run(
        db,
        sql`UPDATE approval_requests SET run_id = ${runId}, updated_at = ${Math.round(now())}
            WHERE id = ${id} AND status = 'executing' AND attempt = ${attempt}`,
      )) === 1,
    finish,
    async setMessage(id, ref) {
      await sql`UPDATE approval_requests SET message_channel = ${ref.channel}, message_ts = ${ref.ts},
                  shown_status = status WHERE id = ${id}`.execute(db);
    },
    async markShown(id, status) {
      await sql`UPDATE approval_requests SET shown_status = ${status} WHERE id = ${id}`.execute(db);
    },
    pending: async () =>
      many(
        db,
        await all(
          db,
          sql`SELECT * FROM approval_requests WHERE status = 'pending' ORDER BY created_at, rowid`,
        ),
      ),
    inFlight: async () =>
      many(
        db,
        await all(
          db,
          sql`SELECT * FROM approval_requests WHERE status IN ('approved', 'executing') ORDER BY created_at, rowid`,
        ),
      ),
    unshown: async () =>
      many(
        db,
        await all(
          db,
          sql`SELECT * FROM approval_requests
              WHERE message_ts IS NOT NULL AND (shown_status IS NULL OR shown_status != status)
              ORDER BY updated_at, rowid`,
        ),
      ),
    async auditFor(filter) {
      const where = [
        ...(filter.targets ?? []).map((t) => sql`target = ${t}`),
        // Prefixes are ours (model and endpoint names); escape LIKE's wildcards anyway.
        ...(filter.prefixes ?? []).map(
          (p) => sql`target LIKE ${`${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`} ESCAPE '\\'`,
        ),
      ];
      const clause = where.length > 0 ? sql`WHERE ${sql.join(where, sql` OR `)}` : sql``;
      return (
        await all(db, sql`SELECT * FROM audit ${clause} ORDER BY seq DESC LIMIT ${filter.limit ?? 100}`)
      ).map(toAuditEntry);
    },
  };
}
