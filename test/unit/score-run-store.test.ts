import { beforeEach, expect, it } from 'vitest';
import { simulatedClock } from '../../src/lib/clock.js';
import { createScoreRunStore, type NewScoreRun, type ScoreRunStore } from '../../src/scoring/store.js';
import { describeEachBackend } from '../support/backends.js';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const input = (over: Partial<NewScoreRun> = {}): NewScoreRun => ({
  requester: 'U0REQUEST',
  channel: 'C0MLOPS',
  model: 'acme.mlops.churn_model',
  version: 7,
  alias: 'Production',
  modelUri: 'models:/acme.mlops.churn_model/7',
  inputTable: 'acme.mlops.customers',
  outputTable: 'acme.mlops.churn_scores',
  jobId: 9_007_199_254_740,
  ...over,
});

let clock: ReturnType<typeof simulatedClock>;
let one: ScoreRunStore;
let two: ScoreRunStore;

describeEachBackend('the score-run store', (backend) => {
  beforeEach(async () => {
    clock = simulatedClock(T0);
    // Two connections to one store: two processes (replicas on Postgres).
    one = createScoreRunStore(await backend.open({ shared: true }), clock);
    two = createScoreRunStore(await backend.connect(), clock);
  });

  it('starts one run per trigger id, even from two processes at once', async () => {
    const creates = [
      () => one.create(input({ triggerId: 't1' })),
      () => two.create(input({ triggerId: 't1' })),
    ];
    const raced =
      backend.kind === 'postgres'
        ? await Promise.all(creates.map((c) => c()))
        : [await creates[0]!(), await creates[1]!()];
    expect(raced.map((r) => r.duplicate).sort()).toEqual([false, true]);
    expect(raced[0]!.run.id).toBe(raced[1]!.run.id);
    // No trigger id: never a duplicate.
    const a = await one.create(input());
    const b = await one.create(input());
    expect([a.duplicate, b.duplicate]).toEqual([false, false]);
    expect(a.run.id).not.toBe(b.run.id);
  });

  it('reads a run back as written', async () => {
    const { run } = await one.create(input({ triggerId: 't2' }));
    expect(run).toEqual({
      id: run.id,
      createdAt: T0,
      updatedAt: T0,
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      model: 'acme.mlops.churn_model',
      version: 7,
      alias: 'Production',
      modelUri: 'models:/acme.mlops.churn_model/7',
      inputTable: 'acme.mlops.customers',
      outputTable: 'acme.mlops.churn_scores',
      jobId: 9_007_199_254_740,
      status: 'starting',
    });
    clock.advance(1_000);
    await two.setMessage(run.id, { channel: 'C0MLOPS', ts: '1733220000.000100' });
    expect(await one.get(run.id)).toMatchObject({
      message: { channel: 'C0MLOPS', ts: '1733220000.000100' },
      updatedAt: T0 + 1_000,
    });
    expect(await one.get('nope')).toBeUndefined();
  });

  it('lets one caller record the Databricks run and one caller end it', async () => {
    const { run } = await one.create(input());
    expect(await one.recordRun(run.id, 123_456_789_012)).toBe(true);
    expect(await two.recordRun(run.id, 5)).toBe(false);
    expect(await one.get(run.id)).toMatchObject({ status: 'running', runId: 123_456_789_012 });

    const ok = { kind: 'succeeded', url: 'https://x/run/1', rows: 10, tookMs: 60_000 } as const;
    const finishes = [
      () => one.finish(run.id, 'succeeded', ok),
      () => two.finish(run.id, 'failed', { kind: 'failed', reason: 'lost' }),
    ];
    const raced =
      backend.kind === 'postgres'
        ? await Promise.all(finishes.map((f) => f()))
        : [await finishes[0]!(), await finishes[1]!()];
    expect(raced.filter(Boolean)).toHaveLength(1);
    const ended = await two.get(run.id);
    // The winner's end, and only it, is recorded.
    expect([ended?.status, ended?.result]).toEqual(
      raced[0] ? ['succeeded', ok] : ['failed', { kind: 'failed', reason: 'lost' }],
    );
    // An ended run takes no run id and no second end.
    expect(await one.recordRun(run.id, 6)).toBe(false);
    expect(
      await one.finish(run.id, 'unfollowed', { kind: 'unfollowed', url: 'u', afterMs: 1, state: 'RUNNING' }),
    ).toBe(false);
  });

  it('lists the runs not ended yet, oldest first', async () => {
    const a = (await one.create(input())).run;
    clock.advance(1);
    const b = (await one.create(input())).run;
    clock.advance(1);
    const c = (await one.create(input())).run;
    await one.recordRun(b.id, 1);
    await one.finish(a.id, 'failed', { kind: 'failed', reason: 'x' });
    expect((await two.inFlight()).map((r) => [r.id, r.status])).toEqual([
      [b.id, 'running'],
      [c.id, 'starting'],
    ]);
  });
});
