import { beforeEach, expect, it } from 'vitest';
import {
  createDeploymentApprovalStore,
  type DeploymentApprovalStore,
} from '../../src/deployment-jobs/store.js';
import { describeEachBackend } from '../support/backends.js';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const RUN = { jobId: 2001, runId: 7, model: 'acme.mlops.churn_model', version: 5 };

/** Postgres: truly at once, over two replicas' pools. SQLite: one after the other. */
const race = <T>(kind: string, calls: Array<() => Promise<T>>): Promise<T[]> =>
  kind === 'postgres'
    ? Promise.all(calls.map((c) => c()))
    : calls.reduce(async (acc, c) => [...(await acc), await c()], Promise.resolve([] as T[]));

describeEachBackend('the deployment-job approval store', (backend) => {
  let now: number;
  let one: DeploymentApprovalStore;
  let two: DeploymentApprovalStore;

  beforeEach(async () => {
    now = T0;
    // Two connections to one store: two processes (replicas on Postgres).
    one = createDeploymentApprovalStore(await backend.open({ shared: true }), () => now);
    two = createDeploymentApprovalStore(await backend.connect(), () => now);
  });

  it('notes a run once and ties it to one request', async () => {
    expect(
      (await race(backend.kind, [() => one.note(RUN), () => two.note(RUN)])).filter(Boolean),
    ).toHaveLength(1);
    now = T0 + 1_000;
    const attached = await race(backend.kind, [
      () => one.attachRequest(RUN.jobId, RUN.runId, 'apr-1'),
      () => two.attachRequest(RUN.jobId, RUN.runId, 'apr-2'),
    ]);
    expect(attached.filter(Boolean)).toHaveLength(1);
    const record = (await two.find(RUN.jobId, RUN.runId))!;
    expect(record).toMatchObject({
      ...RUN,
      tag: 'none',
      repair: 'none',
      createdAt: T0,
      updatedAt: T0 + 1_000,
    });
    expect(await one.byRequest(record.requestId!)).toEqual(record);
    // A request tied to one run is refused to another.
    await one.note({ ...RUN, runId: 8 });
    expect(await one.attachRequest(RUN.jobId, 8, record.requestId!)).toBe(false);
    expect((await one.find(RUN.jobId, 8))?.requestId).toBeUndefined();
  });

  it('lets one of two replicas set the tag, and one repair', async () => {
    await one.note(RUN);
    await one.attachRequest(RUN.jobId, RUN.runId, 'apr-1');
    const tagClaims = await race(backend.kind, [() => one.claimTag('apr-1'), () => two.claimTag('apr-1')]);
    expect(tagClaims.filter(Boolean)).toHaveLength(1);
    expect(await two.claimRepair('apr-1')).toBe(true);
    now = T0 + 5_000;
    expect(await two.tagSet('apr-1')).toBe(true);
    expect(await one.tagSet('apr-1')).toBe(false);
    expect(await one.claimRepair('apr-1')).toBe(false);
    expect(await one.repaired('apr-1', 9001)).toBe(true);
    expect(await two.repaired('apr-1', 9002)).toBe(false);
    expect(await two.byRequest('apr-1')).toMatchObject({
      tag: 'set',
      tagSetAt: T0 + 5_000,
      repair: 'repaired',
      repairId: 9001,
    });
  });
});
