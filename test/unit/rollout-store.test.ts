import { beforeEach, expect, it } from 'vitest';
import { simulatedClock } from '../../src/lib/clock.js';
import { createRolloutStore, type NewRollout, type RolloutStore } from '../../src/rollouts/store.js';
import type { RolloutPlan } from '../../src/rollouts/types.js';
import { describeEachBackend } from '../support/backends.js';

const T0 = Date.parse('2026-12-04T09:00:00Z');
const plan = (endpoint: string): RolloutPlan => ({
  endpoint,
  model: 'acme.mlops.churn_model',
  version: 7,
  baseline: {
    name: 'churn-6',
    modelName: 'acme.mlops.churn_model',
    modelVersion: '6',
    workloadSize: 'Small',
    scaleToZero: false,
  },
  canary: {
    name: 'churn-7',
    modelName: 'acme.mlops.churn_model',
    modelVersion: '7',
    workloadSize: 'Small',
    scaleToZero: false,
  },
  steps: [10, 50, 100],
  everyMs: 600_000,
  analysisName: 'default',
  analysis: {
    guardrails: [{ metric: 'error_rate', max: 0.02 }],
    minRequests: 50,
    failuresToRollback: 2,
    inconclusiveLimit: 3,
    checkEveryMs: 120_000,
    unreadableForMs: 900_000,
  },
  payloadTable: 'acme.mlops.churn_payload',
});
const proposal = (endpoint = 'churn', over: Partial<NewRollout> = {}): NewRollout => ({
  requester: 'U1',
  channel: 'C1',
  plan: plan(endpoint),
  state: 'proposed',
  ...over,
});

describeEachBackend('the rollout store', (backend) => {
  let clock: ReturnType<typeof simulatedClock>;
  let one: RolloutStore;
  let two: RolloutStore;
  beforeEach(async () => {
    clock = simulatedClock(T0);
    // Two connections to one store: two processes (replicas on Postgres).
    one = createRolloutStore(await backend.open({ shared: true }), clock);
    two = createRolloutStore(await backend.connect(), clock);
  });

  it('creates a rollout once per trigger id, and reads it back whole', async () => {
    const first = await one.create(proposal('churn', { triggerId: 't-1' }));
    expect(first.duplicate).toBe(false);
    expect(first.rollout).toMatchObject({
      rev: 1,
      state: 'proposed',
      stepIndex: -1,
      createdAt: T0,
      approvals: [],
    });
    expect(first.rollout.plan).toEqual(plan('churn'));
    const again = await two.create(proposal('churn', { triggerId: 't-1' }));
    expect(again).toEqual({ rollout: first.rollout, duplicate: true });
    expect(await two.get(first.rollout.id)).toEqual(first.rollout);
  });

  it('lets one of two writers of the same revision win; the other is told it is stale', async () => {
    const { rollout } = await one.create(proposal());
    const a = await one.write(rollout, { state: 'stepping', stepIndex: 0, startedBy: 'U2', nextAt: T0 + 1 });
    const b = await two.write(rollout, { state: 'stepping', stepIndex: 0, startedBy: 'U3' });
    expect(a).toMatchObject({
      won: true,
      rollout: { rev: 2, state: 'stepping', startedBy: 'U2', nextAt: T0 + 1 },
    });
    expect(b).toMatchObject({ won: false, reason: 'stale', current: { rev: 2, startedBy: 'U2' } });
    // `undefined` in a patch clears the field.
    const c = await two.write((b as { current: typeof rollout }).current, { nextAt: undefined });
    expect(c.won && c.rollout.nextAt).toBeUndefined();
  });

  it('refuses a second holding rollout of an endpoint and names the holder', async () => {
    const r1 = (await one.create(proposal('churn'))).rollout;
    const r2 = (await two.create(proposal('churn'))).rollout;
    const other = (await two.create(proposal('fraud'))).rollout;
    expect((await one.write(r1, { state: 'stepping', stepIndex: 0 })).won).toBe(true);
    const busy = await two.write(r2, { state: 'stepping', stepIndex: 0 });
    expect(busy).toMatchObject({ won: false, reason: 'endpoint_busy', holder: { id: r1.id } });
    expect((await two.write(other, { state: 'stepping', stepIndex: 0 })).won).toBe(true);
    expect((await one.holderOf('churn'))?.id).toBe(r1.id);
    expect((await two.holding()).map((r) => r.id).sort()).toEqual([r1.id, other.id].sort());
    // The loser is untouched and can go once the holder ended.
    expect((await one.get(r2.id))?.rev).toBe(1);
  });

  it('lets one owner drive a rollout while its lease runs, and another take it after a release', async () => {
    const { rollout } = await one.create(proposal());
    const claims = await Promise.all([
      one.claim(rollout.id, 'A', 60_000),
      two.claim(rollout.id, 'B', 60_000),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = claims[0] ? 'A' : 'B';
    const loser = winner === 'A' ? 'B' : 'A';
    expect(await one.claim(rollout.id, winner, 60_000)).toBe(true);
    expect(await two.claim(rollout.id, loser, 60_000)).toBe(false);
    expect((await one.get(rollout.id))?.owner).toBe(winner);
    await two.release(rollout.id, loser);
    expect((await one.get(rollout.id))?.owner).toBe(winner);
    await one.release(rollout.id, winner);
    expect(await two.claim(rollout.id, loser, 60_000)).toBe(true);
  });

  it.skipIf(backend.kind !== 'sqlite')(
    'lets another owner take a lease that ran out (SQLite: the injected clock)',
    async () => {
      const { rollout } = await one.create(proposal());
      expect(await one.claim(rollout.id, 'A', 60_000)).toBe(true);
      clock.advance(60_000);
      expect(await two.claim(rollout.id, 'B', 60_000)).toBe(false);
      clock.advance(1);
      expect(await two.claim(rollout.id, 'B', 60_000)).toBe(true);
      expect((await one.get(rollout.id))?.leaseUntil).toBe(T0 + 60_001 + 60_000);
    },
  );

  it.skipIf(backend.kind !== 'postgres')(
    'judges the lease by the database clock on Postgres: a process 10 minutes fast does not take a live one',
    async () => {
      const { rollout } = await one.create(proposal());
      // The simulated clock says 2026; the database says now: the lease runs until the database's now + 60 s.
      expect(await one.claim(rollout.id, 'A', 60_000)).toBe(true);
      const until = (await one.get(rollout.id))!.leaseUntil!;
      expect(Math.abs(until - (Date.now() + 60_000))).toBeLessThan(5_000);
      clock.advance(10 * 60_000);
      expect(await two.claim(rollout.id, 'B', 60_000)).toBe(false);
    },
  );
});
