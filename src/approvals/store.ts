/**
 * Approval requests and their votes in the process's SQLite database (their tables are migration 2
 * of storage/migrations.ts; changes/store.ts hands this module the connection). The rules that must hold across
 * concurrent clicks, Slack retries and restarts are enforced here, each in one IMMEDIATE
 * transaction:
 * - a vote is a row unique per (request, voter): a second vote by the same person is refused;
 * - a status move is `UPDATE … WHERE id = ? AND status = ?` (compare-and-set): of any number of
 *   concurrent approvals exactly one moves a request to `approved`;
 * - an execution holds an attempt token: only its holder may record a run or finish it, and a
 *   restart takes the execution over by replacing the token (again compare-and-set).
 * Every move writes its audit row in the same transaction.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { AuditEntry, AuditInput } from '../changes/audit.js';
import type { Approvers } from '../config/policy-gates.js';
import type { MessageRef } from '../domain/vocabulary.js';
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
  create(request: NewApprovalRequest): { request: ApprovalRequest; duplicate: boolean };
  get(id: string): ApprovalRequest | undefined;
  /** An approval click, decided and applied in one transaction. */
  vote(id: string, voter: string, isApprover: boolean, at: number): Applied;
  /** A rejection (or the requester withdrawing), decided and applied in one transaction. */
  reject(id: string, by: string, isApprover: boolean, reason: string | undefined, at: number): Applied;
  /** Moves every pending request whose time is up to `expired`; returns those it moved. */
  expireDue(now: number): ApprovalRequest[];
  /** The plan went stale: `pending`, `approved` or `executing` → `superseded`, saying what changed. */
  supersede(id: string, what: string, actor: string): Applied;
  /** `approved` → `executing` under a fresh attempt token; only one caller gets it. */
  startExecution(id: string, actor: string): { attempt: string; request: ApprovalRequest } | undefined;
  /** A restart takes over an `executing` request from the attempt that was under way. */
  takeOver(
    id: string,
    previousAttempt: string | undefined,
  ): { attempt: string; request: ApprovalRequest } | undefined;
  /** Refreshes the lease of every execution this process owns; returns how many. */
  heartbeat(): number;
  /** Lets go of an execution at shutdown (holder of the attempt only): the next process may take it at once. */
  release(id: string, attempt: string): void;
  /** Ends the leases of a process known dead (its lock ran out). */
  expireLeasesOf(instance: string): number;
  /**
   * An attempt that lost its execution to another (a take-over) after it had acted: the facts go
   * in the audit log instead of being dropped.
   */
  noteLost(id: string, attempt: string, what: string, result?: ExecutionResult): void;
  /** Records the job run a retraining started (holder of the attempt only). */
  recordRun(id: string, attempt: string, runId: number): boolean;
  /** `executing` → `executed` / `failed`, by the holder of the attempt only. */
  finish(id: string, attempt: string, result: ExecutionResult, actor: string): Applied;
  setMessage(id: string, ref: MessageRef): void;
  /** Records what status the message shows now. */
  markShown(id: string, status: ApprovalStatus): void;
  pending(): ApprovalRequest[];
  /** `approved` and `executing` requests: what a restart must finish. */
  inFlight(): ApprovalRequest[];
  /** Requests whose message shows another status than theirs (Slack was down, or a crash). */
  unshown(): ApprovalRequest[];
  /** Audit rows filed under the given targets, newest first. */
  auditFor(filter: ApprovalAuditFilter): AuditEntry[];
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

/**
 * The approval tables over an open connection. `now` is the store's clock; `writeAudit` appends
 * an audit row (inside whatever transaction is running). With `ownership`, executions record this
 * process as their owner, and a take-over waits for the owner's lease to run out.
 *
 * @example const approvals = createApprovalStore(db, () => clock.now(), writeAudit, { instance, leaseMs: 30_000 });
 */
export function createApprovalStore(
  db: Database.Database,
  now: () => number,
  writeAudit: (entry: AuditInput) => void,
  ownership?: { instance: string; leaseMs: number },
): ApprovalStore {
  const owner = ownership?.instance ?? null;
  const leaseMs = ownership?.leaseMs ?? 0;
  const insert = db.prepare(`
    INSERT INTO approval_requests (id, created_at, updated_at, expires_at, gate, kind, requester, channel,
      thread_ts, target, plan_json, evidence_json, required, approvers_json, status, trigger_id)
    VALUES (@id, @now, @now, @expires_at, @gate, @kind, @requester, @channel, @thread_ts, @target,
      @plan_json, @evidence_json, @required, @approvers_json, 'pending', @trigger_id)`);
  const selectById = db.prepare(`SELECT ${LIVE_COLUMNS} FROM approval_requests WHERE id = ?`);
  const selectFrozen = db.prepare(
    'SELECT plan_json, evidence_json, approvers_json FROM approval_requests WHERE id = ?',
  );
  const selectByTrigger = db.prepare('SELECT id FROM approval_requests WHERE trigger_id = ?');
  const selectVotes = db.prepare(
    'SELECT voter, at FROM approval_votes WHERE request_id = ? ORDER BY at, rowid',
  );
  const insertVote = db.prepare(
    'INSERT OR IGNORE INTO approval_votes (request_id, voter, at) VALUES (?, ?, ?)',
  );
  const casStatus = db.prepare(`
    UPDATE approval_requests SET status = @to, updated_at = @now,
      decided_by = COALESCE(@decided_by, decided_by), decided_at = COALESCE(@decided_at, decided_at),
      reason = COALESCE(@reason, reason)
    WHERE id = @id AND status = @from`);
  const casStart = db.prepare(`
    UPDATE approval_requests SET status = 'executing', attempt = @attempt, attempts = attempts + 1, updated_at = @now,
      owner = @owner, heartbeat_at = @now
    WHERE id = @id AND status = 'approved'`);
  // Only an execution whose owner let go (none, released, or silent past the lease) is taken over.
  const casTakeOver = db.prepare(`
    UPDATE approval_requests SET attempt = @attempt, attempts = attempts + 1, updated_at = @now,
      owner = @owner, heartbeat_at = @now
    WHERE id = @id AND status = 'executing' AND attempt IS @previous
      AND (owner IS NULL OR heartbeat_at IS NULL OR heartbeat_at <= @now - @lease)`);
  const heartbeatStatement = db.prepare(
    "UPDATE approval_requests SET heartbeat_at = @now WHERE owner = @owner AND status = 'executing'",
  );
  const releaseStatement = db.prepare(
    "UPDATE approval_requests SET heartbeat_at = NULL WHERE id = @id AND attempt = @attempt AND owner = @owner AND status = 'executing'",
  );
  const expireStatement = db.prepare(
    "UPDATE approval_requests SET heartbeat_at = NULL WHERE owner = @owner AND status = 'executing'",
  );
  const casRun = db.prepare(`
    UPDATE approval_requests SET run_id = @run_id, updated_at = @now
    WHERE id = @id AND status = 'executing' AND attempt = @attempt`);
  const casFinish = db.prepare(`
    UPDATE approval_requests SET status = @to, outcome = @outcome, reason = COALESCE(@reason, reason), updated_at = @now
    WHERE id = @id AND status = 'executing' AND attempt = @attempt`);
  const selectDue = db.prepare(
    "SELECT id FROM approval_requests WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at, rowid",
  );
  const selectPending = db.prepare(
    "SELECT * FROM approval_requests WHERE status = 'pending' ORDER BY created_at, rowid",
  );
  const selectInFlight = db.prepare(
    "SELECT * FROM approval_requests WHERE status IN ('approved', 'executing') ORDER BY created_at, rowid",
  );
  const selectUnshown = db.prepare(`
    SELECT * FROM approval_requests
    WHERE message_ts IS NOT NULL AND (shown_status IS NULL OR shown_status != status)
    ORDER BY updated_at, rowid`);
  const updateMessage = db.prepare(
    'UPDATE approval_requests SET message_channel = ?, message_ts = ?, shown_status = status WHERE id = ?',
  );
  const updateShown = db.prepare('UPDATE approval_requests SET shown_status = ? WHERE id = ?');

  const votesOf = (id: string): Vote[] => selectVotes.all(id).map((v) => voteRowSchema.parse(v));

  // Plans, evidence and approvers never change once stored, and a burst of clicks reads the same
  // request many times: parse them once (the most recent requests are kept).
  const frozenCache = new Map<string, Frozen>();
  function frozenOf(id: string, row?: unknown): Frozen {
    const hit = frozenCache.get(id);
    if (hit) return hit;
    const frozen = toFrozen(id, row ?? selectFrozen.get(id));
    if (frozenCache.size >= FROZEN_CACHE_SIZE) frozenCache.delete(frozenCache.keys().next().value!);
    frozenCache.set(id, frozen);
    return frozen;
  }

  function get(id: string): ApprovalRequest | undefined {
    const row = selectById.get(id);
    return row === undefined ? undefined : toRequest(row, votesOf(id), frozenOf(id));
  }

  const many = (rows: unknown[]): ApprovalRequest[] =>
    rows.map((row) => {
      const id = (row as { id: string }).id;
      return toRequest(row, votesOf(id), frozenOf(id, row));
    });

  /** Applies a `moved` decision: the CAS, and its audit row; throws (rolling back) if the CAS lost. */
  function move(
    r: ApprovalRequest,
    from: ApprovalStatus,
    to: ApprovalStatus,
    fields: { decidedBy?: string; decidedAt?: number; reason?: string },
    audit: Omit<AuditInput, 'target' | 'changeId'>,
  ): void {
    const result = casStatus.run({
      id: r.id,
      from,
      to,
      now: now(),
      decided_by: fields.decidedBy ?? null,
      decided_at: fields.decidedAt ?? null,
      reason: fields.reason ?? null,
    });
    if (result.changes !== 1) throw new Error(`approval ${r.id} moved while ${from} → ${to} was applied`);
    writeAudit({ ...audit, target: r.target, changeId: r.id });
  }

  const createTx = db.transaction((n: NewApprovalRequest) => {
    if (n.triggerId !== undefined) {
      const seen = selectByTrigger.get(n.triggerId) as { id: string } | undefined;
      if (seen) return { request: get(seen.id)!, duplicate: true };
    }
    const id = newRequestId();
    const at = now();
    insert.run({
      id,
      now: at,
      expires_at: Math.round(n.expiresAt),
      gate: n.gate,
      // The column's CHECK (migration 2) knows two kinds: a deployment-job approval, a job run
      // too, is filed with retraining; plan_json says which it is.
      kind: n.plan.kind === 'change' ? 'change' : 'retrain',
      requester: n.requester,
      channel: n.channel,
      thread_ts: n.threadTs ?? null,
      target: n.target,
      plan_json: JSON.stringify(n.plan),
      evidence_json: n.evidence === undefined ? null : JSON.stringify(n.evidence),
      required: n.required,
      approvers_json: JSON.stringify({ users: n.approvers.users, groups: n.approvers.groups }),
      trigger_id: n.triggerId ?? null,
    });
    writeAudit({
      at,
      actor: n.requester,
      action: 'approval_requested',
      target: n.target,
      changeId: id,
      after: { gate: n.gate, required: n.required, plan: n.plan },
    });
    return { request: get(id)!, duplicate: false };
  });

  const voteTx = db.transaction((id: string, voter: string, isApprover: boolean, at: number): Applied => {
    const r = get(id);
    if (!r) return { decision: { kind: 'refused', reason: 'not_pending' }, request: undefined };
    const decision = decide(stateOf(r), { type: 'approve', by: voter, isApprover, at });
    if (decision.kind === 'voted' || (decision.kind === 'moved' && decision.to === 'approved')) {
      // The primary key makes a second vote of the same person impossible whatever the caller did.
      if (insertVote.run(id, voter, Math.round(at)).changes !== 1) {
        return { decision: { kind: 'refused', reason: 'already_voted' }, request: r };
      }
      writeAudit({
        actor: voter,
        action: 'approval_vote',
        target: r.target,
        changeId: id,
        detail: `vote ${r.votes.length + 1} of ${r.required}`,
      });
    }
    if (decision.kind === 'moved') {
      const approved = decision.to === 'approved';
      move(
        r,
        decision.from,
        decision.to,
        approved ? { decidedBy: voter, decidedAt: at } : {},
        approved
          ? { actor: voter, action: 'approved', outcome: 'approved' }
          : { actor: 'modelgate', action: 'expired', outcome: 'expired' },
      );
    }
    return { decision, request: get(id) };
  });

  const rejectTx = db.transaction(
    (id: string, by: string, isApprover: boolean, reason: string | undefined, at: number): Applied => {
      const r = get(id);
      if (!r) return { decision: { kind: 'refused', reason: 'not_pending' }, request: undefined };
      const decision = decide(stateOf(r), { type: 'reject', by, isApprover, at });
      if (decision.kind === 'moved') {
        const rejected = decision.to === 'rejected';
        const withdrawn = rejected && by === r.requester;
        move(
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
      return { decision, request: get(id) };
    },
  );

  const expireTx = db.transaction((at: number): ApprovalRequest[] => {
    const moved: ApprovalRequest[] = [];
    for (const { id } of selectDue.all(at) as Array<{ id: string }>) {
      const r = get(id)!;
      const decision = decide(stateOf(r), { type: 'expire', at });
      if (decision.kind !== 'moved') continue;
      move(
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
      moved.push(get(id)!);
    }
    return moved;
  });

  const supersedeTx = db.transaction((id: string, what: string, actor: string): Applied => {
    const r = get(id);
    if (!r) return { decision: { kind: 'refused', reason: 'not_pending' }, request: undefined };
    const decision = decide(stateOf(r), { type: 'stale' });
    if (decision.kind === 'moved') {
      move(
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
    return { decision, request: get(id) };
  });

  const startTx = db.transaction((id: string, actor: string) => {
    const attempt = newAttempt();
    if (casStart.run({ id, attempt, now: Math.round(now()), owner }).changes !== 1) return undefined;
    const request = get(id)!;
    writeAudit({
      actor,
      action: 'executing',
      target: request.target,
      changeId: id,
      detail: `attempt ${request.attempts}`,
    });
    return { attempt, request };
  });

  const takeOverTx = db.transaction((id: string, previous: string | undefined) => {
    const attempt = newAttempt();
    const before = get(id);
    const at = Math.round(now());
    if (
      casTakeOver.run({ id, attempt, previous: previous ?? null, now: at, owner, lease: leaseMs }).changes !==
      1
    )
      return undefined;
    const request = get(id)!;
    const from = before?.owner;
    writeAudit({
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

  const finishTx = db.transaction(
    (id: string, attempt: string, result: ExecutionResult, actor: string): Applied => {
      const r = get(id);
      if (!r) return { decision: { kind: 'refused', reason: 'not_executing' }, request: undefined };
      const decision = decide(stateOf(r), { type: 'finish', ok: result.ok });
      if (decision.kind !== 'moved') return { decision, request: r };
      const changed = casFinish.run({
        id,
        attempt,
        to: decision.to,
        // Facts, never sentences: the views word them (and can change their words).
        outcome: JSON.stringify(result),
        reason: null,
        now: now(),
      }).changes;
      if (changed !== 1) return { decision: { kind: 'refused', reason: 'not_executing' }, request: r };
      writeAudit({
        actor,
        action: decision.to,
        target: r.target,
        changeId: id,
        outcome: decision.to,
        detail: JSON.stringify(result),
      });
      return { decision, request: get(id) };
    },
  );

  return {
    create: (n) => createTx.immediate(n),
    get,
    vote: (id, voter, isApprover, at) => voteTx.immediate(id, voter, isApprover, at),
    reject: (id, by, isApprover, reason, at) => rejectTx.immediate(id, by, isApprover, reason, at),
    expireDue: (at) => expireTx.immediate(at),
    supersede: (id, what, actor) => supersedeTx.immediate(id, what, actor),
    startExecution: (id, actor) => startTx.immediate(id, actor),
    takeOver: (id, previous) => takeOverTx.immediate(id, previous),
    heartbeat: () => (owner === null ? 0 : heartbeatStatement.run({ owner, now: Math.round(now()) }).changes),
    release(id, attempt) {
      if (owner !== null && db.open) releaseStatement.run({ id, attempt, owner });
    },
    expireLeasesOf: (instance) => expireStatement.run({ owner: instance }).changes,
    noteLost(id, attempt, what, result) {
      const r = get(id);
      writeAudit({
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
    recordRun: (id, attempt, runId) => casRun.run({ id, attempt, run_id: runId, now: now() }).changes === 1,
    finish: (id, attempt, result, actor) => finishTx.immediate(id, attempt, result, actor),
    setMessage(id, ref) {
      updateMessage.run(ref.channel, ref.ts, id);
    },
    markShown(id, status) {
      updateShown.run(status, id);
    },
    pending: () => many(selectPending.all()),
    inFlight: () => many(selectInFlight.all()),
    unshown: () => many(selectUnshown.all()),
    auditFor(filter) {
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: filter.limit ?? 100 };
      (filter.targets ?? []).forEach((t, i) => {
        where.push(`target = @t${i}`);
        params[`t${i}`] = t;
      });
      (filter.prefixes ?? []).forEach((p, i) => {
        // Prefixes are ours (model and endpoint names); escape LIKE's wildcards anyway.
        where.push(`target LIKE @p${i} ESCAPE '\\'`);
        params[`p${i}`] = `${p.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      });
      const sql = `SELECT * FROM audit ${where.length > 0 ? `WHERE ${where.join(' OR ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
      return db
        .prepare(sql)
        .all(params)
        .map((raw) => {
          const row = raw as Record<string, unknown>;
          const entry: AuditEntry = {
            seq: row.seq as number,
            at: row.at as number,
            actor: row.actor as string,
            action: row.action as string,
            target: row.target as string,
          };
          if (row.change_id !== null) entry.changeId = row.change_id as string;
          if (row.before_json !== null) entry.before = JSON.parse(row.before_json as string);
          if (row.after_json !== null) entry.after = JSON.parse(row.after_json as string);
          if (row.outcome !== null) entry.outcome = row.outcome as string;
          if (row.detail !== null) entry.detail = row.detail as string;
          return entry;
        });
    },
  };
}
