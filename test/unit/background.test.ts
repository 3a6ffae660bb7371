import { describe, expect, it } from 'vitest';
import { createBackground } from '../../src/lib/background.js';

describe('background work of a service', () => {
  it('reports what a task throws with a correlation id, and shrugs off a broken logger', async () => {
    const seen: Array<[string, string]> = [];
    const bg = createBackground({
      name: 'the test service',
      correlationId: () => 'c0ffee42',
      onError: (e, id) => seen.push([(e as Error).message, id]),
    });
    bg.track(async () => {
      throw new Error('boom');
    });
    await bg.idle();
    expect(seen).toEqual([['boom', 'c0ffee42']]);
    const broken = createBackground({
      name: 'x',
      onError: () => {
        throw new Error('logger down');
      },
    });
    expect(broken.report(new Error('boom'))).toMatch(/^[0-9a-f]{8}$/);
  });

  it('waits for work started while it waits, and says nothing of failures once stopping', async () => {
    const seen: string[] = [];
    const bg = createBackground({
      name: 'the test service',
      onError: (e) => seen.push((e as Error).message),
    });
    const done: string[] = [];
    bg.track(async () => {
      await new Promise((r) => setTimeout(r, 10));
      bg.track(async () => {
        await new Promise((r) => setTimeout(r, 10));
        done.push('second');
      });
      done.push('first');
    });
    await bg.idle();
    expect(done).toEqual(['first', 'second']);

    bg.track(async () => {
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('aborted follower');
    });
    bg.stop();
    await bg.idle();
    expect(bg.signal.aborted).toBe(true);
    expect((bg.signal.reason as Error).message).toBe('the test service is stopping');
    expect(seen).toEqual([]);
  });
});
