import { sql } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import type { ExecutionResult } from '../../src/approvals/execution-result.js';
import type { RetrainApprovalPlan } from '../../src/approvals/request-plan.js';
import type { ApprovalStore, NewApprovalRequest } from '../../src/approvals/store.js';
import type { ChangeStore } from '../../src/changes/store.js';
import { executionText } from '../../src/slack/blocks/approval-outcome.js';
import type { StoreDatabase } from '../../src/storage/database.js';
import { describeEachBackend } from '../support/backends.js';
import { openStores } from '../support/stores.js';

const DONE: ExecutionResult = { kind: 'changes', ok: true, done: ['done'] };

const plan: RetrainApprovalPlan = {
  kind: 'retrain',
  model: 'acme.mlops.churn_model',
  jobId: 1001,
  jobName: 'churn-retrain',
  parameters: {},
  reason: 'drift',
  fingerprint: 'f1',
};
const request = (over: Partial<NewApprovalRequest> = {}): NewApprovalRequest => ({
  gate: 'retrain',
  requester: 'U0REQUEST',
  channel: 'C0MLOPS',
  target: 'retrain:acme.mlops.churn_model',
  plan,
  required: 2,
  approvers: { users: ['U1', 'U2', 'U3'], groups: [] },
  expiresAt: 10_000,
  ...over,
});

let db: StoreDatabase;
let store: ChangeStore;
let approvals: ApprovalStore;

describeEachBackend('the approval store', (backend) => {
  beforeEach(async () => {
    db = await backend.open({ shared: true });
    ({ changes: store, approvals } = openStores(db));
  });

  it('stores how an execution ended as facts, and still reads the sentence of an older row', async () => {
    const { request: r } = await approvals.create(request({ required: 1 }));
    await approvals.vote(r.id, 'U1', true, 1);
    const started = (await approvals.startExecution(r.id, 'U1'))!;
    await approvals.finish(r.id, started.attempt, DONE, 'U1');
    expect(await approvals.get(r.id)).toMatchObject({ status: 'executed', result: DONE });
    expect((await approvals.get(r.id))?.outcome).toBeUndefined();
    // A row the previous version wrote: a sentence with a Slack link in the outcome column.
    const legacy = '<https://ws.example/jobs/1/runs/9|run 9> of churn-retrain succeeded.';
    await sql`UPDATE approval_requests SET outcome = ${legacy} WHERE id = ${r.id}`.execute(db.kysely);
    await db.close();
    db = await backend.connect();
    ({ changes: store, approvals } = openStores(db));
    const old = (await approvals.get(r.id))!;
    expect(old.result).toBeUndefined();
    expect(executionText(old)).toBe(legacy);
  });

  it('keeps one vote per person, and moves to approved on the vote that makes the quorum only', async () => {
    const { request: r } = await approvals.create(request());
    expect((await approvals.vote(r.id, 'U1', true, 1)).decision).toEqual({
      kind: 'voted',
      votes: 1,
      remaining: 1,
    });
    expect((await approvals.vote(r.id, 'U1', true, 2)).decision).toEqual({
      kind: 'refused',
      reason: 'already_voted',
    });
    const won = await approvals.vote(r.id, 'U2', true, 3);
    expect(won.decision).toEqual({ kind: 'moved', from: 'pending', to: 'approved', votes: 2 });
    expect(won.request?.decidedBy).toBe('U2');
    expect((await approvals.vote(r.id, 'U3', true, 4)).decision).toEqual({
      kind: 'refused',
      reason: 'not_pending',
    });
    expect((await approvals.get(r.id))?.votes.map((v) => v.voter)).toEqual(['U1', 'U2']);
  });

  it('lets one of two processes approve when both vote at the same moment', async () => {
    const { request: r } = await approvals.create(request({ required: 1 }));
    // A second process (a replica on Postgres): its own connection to the same store, at once.
    const other = openStores(await backend.connect());
    const votes = [
      () => approvals.vote(r.id, 'U1', true, 1),
      () => other.approvals.vote(r.id, 'U2', true, 1),
    ];
    // Postgres: truly at once. SQLite: one after the other (two connections of one process cannot
    // hold transactions at once; two processes take turns on the file's lock).
    const results =
      backend.kind === 'postgres'
        ? await Promise.all(votes.map((v) => v()))
        : [await votes[0]!(), await votes[1]!()];
    expect(results.filter((x) => x.decision.kind === 'moved')).toHaveLength(1);
    expect((await approvals.get(r.id))?.votes).toHaveLength(1);
  });

  it('lets only one caller start an execution, and only its attempt finish it', async () => {
    const { request: r } = await approvals.create(request({ required: 1 }));
    await approvals.vote(r.id, 'U1', true, 1);
    const first = await approvals.startExecution(r.id, 'U1');
    expect(first).toBeDefined();
    expect(await approvals.startExecution(r.id, 'U1')).toBeUndefined();
    // A restart takes the execution over; the old attempt can no longer record or finish anything.
    const taken = await approvals.takeOver(r.id, first!.attempt);
    expect(taken).toBeDefined();
    expect(await approvals.takeOver(r.id, first!.attempt)).toBeUndefined();
    expect(await approvals.recordRun(r.id, first!.attempt, 7)).toBe(false);
    expect((await approvals.finish(r.id, first!.attempt, DONE, 'U1')).decision.kind).toBe('refused');
    expect(await approvals.recordRun(r.id, taken!.attempt, 7)).toBe(true);
    const done = await approvals.finish(r.id, taken!.attempt, DONE, 'U1');
    // The outcome is stored as facts; it reads 'done'.
    expect({ ...done.request, outcome: executionText(done.request!) }).toMatchObject({
      status: 'executed',
      outcome: 'done',
      runId: 7,
      attempts: 2,
    });
  });

  it('expires what is due once, and writes every move to the append-only audit log', async () => {
    const { request: due } = await approvals.create(request({ expiresAt: 100 }));
    const { request: later } = await approvals.create(request({ expiresAt: 1_000, triggerId: 't2' }));
    expect((await approvals.expireDue(500)).map((r) => r.id)).toEqual([due.id]);
    expect(await approvals.expireDue(500)).toEqual([]);
    expect((await approvals.get(later.id))?.status).toBe('pending');
    expect((await store.recentAudit({ changeId: due.id })).map((a) => a.action)).toEqual([
      'expired',
      'approval_requested',
    ]);
  });

  it('returns the first request for a Slack retry of the same command', async () => {
    const first = await approvals.create(request({ triggerId: 'trigger-1' }));
    const again = await approvals.create(request({ triggerId: 'trigger-1' }));
    expect(again).toEqual({ request: first.request, duplicate: true });
    expect(await approvals.pending()).toHaveLength(1);
  });

  it('records what made a request stale, from pending or from an execution', async () => {
    const { request: r } = await approvals.create(request());
    const moved = await approvals.supersede(r.id, 'job 1001 changed', 'U1');
    expect(moved.request).toMatchObject({ status: 'superseded', reason: 'job 1001 changed' });
    expect((await approvals.supersede(r.id, 'again', 'U1')).decision.kind).toBe('refused');
  });
});
