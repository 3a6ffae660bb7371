import { beforeEach, expect, it } from 'vitest';
import { simulatedClock } from '../../src/lib/clock.js';
import { type AutoRetrainStore, createAutoRetrainStore } from '../../src/monitoring/auto-retrain-store.js';
import { describeEachBackend } from '../support/backends.js';

const T0 = Date.parse('2026-12-03T10:00:00Z');

let clock: ReturnType<typeof simulatedClock>;
let one: AutoRetrainStore;
let two: AutoRetrainStore;

const race = async <T>(kind: string, calls: Array<() => Promise<T>>): Promise<T[]> => {
  if (kind === 'postgres') return Promise.all(calls.map((c) => c()));
  const out: T[] = [];
  for (const c of calls) out.push(await c());
  return out;
};

describeEachBackend('the auto-retrain episode store', (backend) => {
  beforeEach(async () => {
    clock = simulatedClock(T0);
    one = createAutoRetrainStore(await backend.open({ shared: true }), clock);
    two = createAutoRetrainStore(await backend.connect(), clock);
  });

  it('opens one episode per monitor, even from two processes at once', async () => {
    const opens = await race(backend.kind, [() => one.open('churn', 3), () => two.open('churn', 4)]);
    expect(opens.filter((e) => e !== undefined)).toHaveLength(1);
    clock.advance(1_000);
    // Later, still open: refused.
    expect(await two.open('churn', 5)).toBeUndefined();
    const opened = opens.find((e) => e !== undefined)!;
    expect(await two.openEpisode('churn')).toEqual({ ...opened, openedAt: T0, requested: false });
    // Another monitor has its own.
    expect(await one.open('fraud', 1)).toEqual({
      monitor: 'fraud',
      openedAt: T0 + 1_000,
      violations: 1,
      requested: false,
    });
  });

  it('lets one caller ask for the retraining of an episode', async () => {
    const e = (await one.open('churn', 3))!;
    const marks = await race(backend.kind, [
      () => one.markRequested('churn', e.openedAt),
      () => two.markRequested('churn', e.openedAt),
    ]);
    expect(marks.filter(Boolean)).toHaveLength(1);
    expect((await one.openEpisode('churn'))?.requested).toBe(true);
    expect(await one.markRequested('churn', e.openedAt + 1)).toBe(false);
  });

  it('closes the open episode once, then opens a new one', async () => {
    await one.open('churn', 3);
    clock.advance(60_000);
    const closes = await race(backend.kind, [() => one.close('churn'), () => two.close('churn')]);
    expect(closes.filter(Boolean)).toHaveLength(1);
    expect(await one.openEpisode('churn')).toBeUndefined();
    clock.advance(60_000);
    const next = await two.open('churn', 2);
    expect(next).toEqual({ monitor: 'churn', openedAt: T0 + 120_000, violations: 2, requested: false });
    expect(await one.markRequested('churn', next!.openedAt)).toBe(true);
  });
});
