/**
 * Start-up resume with several replicas (issue #13): a replica that starts takes over only the
 * scoring runs and monitor operations whose owner's lease ran out (judged by the database's clock
 * on Postgres); a live replica's work is left alone. On SQLite the process lock already says the
 * previous process is dead, so everything in flight is taken.
 */
import { expect, it } from 'vitest';
import { createChangeStore } from '../../src/changes/store.js';
import { systemClock } from '../../src/lib/clock.js';
import { createMonitorOpStore } from '../../src/monitoring/store.js';
import { createScoreRunStore } from '../../src/scoring/store.js';
import { describeEachBackend } from '../support/backends.js';

const LEASE_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const scoreInput = {
  requester: 'U1',
  channel: 'C1',
  model: 'main.ml.churn',
  version: 3,
  modelUri: 'models:/main.ml.churn/3',
  inputTable: 'main.raw.customers',
  outputTable: 'main.raw.customers_scored',
  jobId: 42,
};

describeEachBackend('work in flight across replicas', (backend) => {
  it('a starting replica takes over a scoring run only once its owner stopped heartbeating', async () => {
    const live = { instance: 'replica-live', leaseMs: LEASE_MS };
    const a = createScoreRunStore(await backend.open({ shared: true }), systemClock, live);
    const b = createScoreRunStore(await backend.connect(), systemClock, {
      instance: 'replica-new',
      leaseMs: LEASE_MS,
    });
    const { run } = await a.create(scoreInput);
    if (backend.kind === 'sqlite') {
      // One process per file: whatever is in flight at start-up was left by a dead one.
      expect((await b.takeOver()).map((r) => r.id)).toEqual([run.id]);
      return;
    }
    await sleep(LEASE_MS / 2);
    await a.heartbeat();
    await sleep(LEASE_MS / 2);
    expect(await b.takeOver()).toEqual([]);
    // The owner dies: no more heartbeats, and the lease runs out.
    await sleep(LEASE_MS + 100);
    expect((await b.takeOver()).map((r) => r.id)).toEqual([run.id]);
    expect(await a.takeOver()).toEqual([]);
  });

  it('a starting replica leaves a live replica’s monitor refresh alone', async () => {
    const a = createMonitorOpStore(await backend.open({ shared: true }), systemClock, {
      instance: 'replica-live',
      leaseMs: LEASE_MS,
    });
    const b = createMonitorOpStore(await backend.connect(), systemClock, {
      instance: 'replica-new',
      leaseMs: LEASE_MS,
    });
    const { op } = await a.startRefresh({
      requester: 'U1',
      channel: 'C1',
      monitor: 'churn',
      table: 'main.ml.churn_inference',
      refreshId: 'r-1',
    });
    if (backend.kind === 'sqlite') {
      expect((await b.takeOver()).map((o) => o.id)).toEqual([op.id]);
      return;
    }
    expect(await b.takeOver()).toEqual([]);
    await sleep(LEASE_MS + 100);
    expect((await b.takeOver()).map((o) => o.id)).toEqual([op.id]);
  });

  it('lets one change per endpoint be applied at a time, whichever replicas apply them', async () => {
    const a = createChangeStore(await backend.open({ shared: true }), systemClock, {
      instance: 'replica-a',
      leaseMs: 30_000,
    });
    const b = createChangeStore(await backend.connect(), systemClock, {
      instance: 'replica-b',
      leaseMs: 30_000,
    });
    const propose = (store: typeof a, version: number) =>
      store.createProposal({
        requester: 'U1',
        channel: 'C1',
        input: { subcommand: 'deploy', dryRun: false } as never,
        plan: {
          kind: 'alias',
          subcommand: 'promote',
          fingerprint: `f${version}`,
          model: 'm',
          alias: 'Champion',
          toVersion: version,
        } as never,
      });
    const [{ change: first }, { change: second }] = [await propose(a, 2), await propose(b, 3)];
    expect(first.target).toBe(second.target);
    const applyFirst = () => a.transition(first.id, 'proposed', 'applying');
    const applySecond = () => b.transition(second.id, 'proposed', 'applying');
    // Two SQLite connections of one process must not hold transactions at once: one after the other there.
    const moves =
      backend.kind === 'postgres'
        ? await Promise.all([applyFirst(), applySecond()])
        : [await applyFirst(), await applySecond()];
    expect(moves.filter((m) => m.won)).toHaveLength(1);
  });
});
