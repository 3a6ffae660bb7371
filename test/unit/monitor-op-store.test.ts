import { beforeEach, expect, it } from 'vitest';
import type { MonitorSpec } from '../../src/domain/ports/monitors.js';
import { simulatedClock } from '../../src/lib/clock.js';
import { createMonitorOpStore, type MonitorOpStore } from '../../src/monitoring/store.js';
import { describeEachBackend } from '../support/backends.js';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const spec: MonitorSpec = {
  table: 'acme.mlops.churn_inference',
  problemType: 'classification',
  predictionColumn: 'prediction',
  labelColumn: 'label',
  timestampColumn: 'ts',
  modelIdColumn: 'model_id',
  granularities: ['1 day'],
  slicingExprs: [],
  outputSchema: 'acme.mlops',
  customMetrics: [],
};
const proposal = (triggerId?: string) => ({
  requester: 'U0REQUEST',
  channel: 'C0MLOPS',
  monitor: 'churn',
  spec,
  ...(triggerId ? { triggerId } : {}),
});

let clock: ReturnType<typeof simulatedClock>;
let one: MonitorOpStore;
let two: MonitorOpStore;

const race = async <T>(kind: string, calls: Array<() => Promise<T>>): Promise<T[]> => {
  if (kind === 'postgres') return Promise.all(calls.map((c) => c()));
  const out: T[] = [];
  for (const c of calls) out.push(await c());
  return out;
};

describeEachBackend('the monitor-op store', (backend) => {
  beforeEach(async () => {
    clock = simulatedClock(T0);
    one = createMonitorOpStore(await backend.open({ shared: true }), clock);
    two = createMonitorOpStore(await backend.connect(), clock);
  });

  it('keeps one proposal per trigger id, and reads it back as written', async () => {
    const raced = await race(backend.kind, [
      () => one.propose(proposal('t1')),
      () => two.propose(proposal('t1')),
    ]);
    expect(raced.map((r) => r.duplicate).sort()).toEqual([false, true]);
    expect(raced[0]!.op).toEqual(raced[1]!.op);
    expect(raced[0]!.op).toEqual({
      id: raced[0]!.op.id,
      kind: 'create',
      createdAt: T0,
      updatedAt: T0,
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      monitor: 'churn',
      table: 'acme.mlops.churn_inference',
      spec,
      status: 'proposed',
    });
  });

  it('lets one click decide a proposal', async () => {
    const { op } = await one.propose(proposal());
    const raced = await race(backend.kind, [
      () => one.decide(op.id, 'working', 'U0REQUEST'),
      () => two.decide(op.id, 'cancelled', 'U0OTHER'),
    ]);
    expect(raced.filter(Boolean)).toHaveLength(1);
    const decided = await one.get(op.id);
    expect(decided?.decidedBy).toBe(decided?.status === 'working' ? 'U0REQUEST' : 'U0OTHER');
    expect(await one.decide(op.id, 'cancelled', 'U0REQUEST')).toBe(false);
  });

  it('follows a refresh to one end, and lists what is still working', async () => {
    const { op, duplicate } = await one.startRefresh({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      monitor: 'churn',
      table: 'acme.mlops.churn_inference',
      refreshId: 'r-1',
      triggerId: 't9',
    });
    expect(duplicate).toBe(false);
    expect(op).toMatchObject({ kind: 'refresh', status: 'working', refreshId: 'r-1' });
    clock.advance(5);
    await two.setMessage(op.id, { channel: 'C0MLOPS', ts: '1.2' });
    expect((await two.working()).map((o) => [o.id, o.message])).toEqual([
      [op.id, { channel: 'C0MLOPS', ts: '1.2' }],
    ]);

    const raced = await race(backend.kind, [
      () => one.finish(op.id, 'succeeded', { kind: 'refreshed', refreshId: 'r-1', tookMs: 9 }),
      () => two.finish(op.id, 'failed', { kind: 'failed', state: 'CANCELED' }),
    ]);
    expect(raced.filter(Boolean)).toHaveLength(1);
    expect(await one.working()).toEqual([]);
    expect((await one.get(op.id))?.updatedAt).toBe(T0 + 5);
    // A proposal is not working until decided, and cannot be finished before.
    const { op: p } = await one.propose(proposal());
    expect(await one.finish(p.id, 'failed', { kind: 'cancelled' })).toBe(false);
  });
});
