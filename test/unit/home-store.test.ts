import { beforeEach, expect, it } from 'vitest';
import { createHomeStore, type HomeStore } from '../../src/home/store.js';
import { describeEachBackend } from '../support/backends.js';

const T0 = Date.parse('2026-12-04T09:00:00Z');

describeEachBackend('the App Home store', (backend) => {
  let one: HomeStore;
  let two: HomeStore;
  beforeEach(async () => {
    // Two connections to one store: two processes (replicas on Postgres).
    one = createHomeStore(await backend.open({ shared: true }));
    two = createHomeStore(await backend.connect());
  });

  it('counts every opening, keeping the first one', async () => {
    expect(await one.get('U1')).toBeUndefined();
    expect(await one.recordOpen('U1', T0)).toEqual({
      userId: 'U1',
      firstOpenedAt: T0,
      lastOpenedAt: T0,
      opens: 1,
    });
    await Promise.all([one.recordOpen('U1', T0 + 1_000), two.recordOpen('U1', T0 + 1_000)]);
    expect(await two.recordOpen('U1', T0 + 2_000)).toEqual({
      userId: 'U1',
      firstOpenedAt: T0,
      lastOpenedAt: T0 + 2_000,
      opens: 4,
    });
    await two.recordOpen('U0', T0);
    expect(await one.visitors()).toEqual(['U0', 'U1']);
  });

  it('welcomes a visitor once, however many processes try', async () => {
    await one.recordOpen('U1', T0);
    const tries = await Promise.all([one.markWelcomed('U1', 1), two.markWelcomed('U1', 1)]);
    expect(tries.filter(Boolean)).toHaveLength(1);
    expect(await two.markWelcomed('U1', 2)).toBe(false);
    expect((await one.get('U1'))?.welcomedOpen).toBe(1);
    expect(await one.markWelcomed('nobody', 1)).toBe(false);
  });
});
