import { describe, expect, it } from 'vitest';
import { simulatedClock, systemClock } from '../../src/lib/clock.js';
import { poll } from '../../src/lib/poll.js';

describe('poll', () => {
  it('reads again with growing waits until the read says done', async () => {
    const clock = simulatedClock(0);
    const seenAt: number[] = [];
    const r = await poll(
      async () => {
        seenAt.push(clock.now());
        return seenAt.length === 4 ? { done: true, value: 'ready' } : { done: false, seen: seenAt.length };
      },
      { clock, timeoutMs: 60_000, initialDelayMs: 1_000, maxDelayMs: 2_000, factor: 2 },
    );
    expect(r).toEqual({ status: 'done', value: 'ready' });
    expect(seenAt).toEqual([0, 1_000, 3_000, 5_000]);
  });

  it('times out with the last thing it saw, never sleeping past the deadline', async () => {
    const clock = simulatedClock(0);
    let reads = 0;
    const r = await poll(async () => ({ done: false, seen: ++reads }), {
      clock,
      timeoutMs: 10_000,
      initialDelayMs: 4_000,
      maxDelayMs: 4_000,
    });
    expect(r).toEqual({ status: 'timed_out', seen: 4 });
    expect(clock.now()).toBe(10_000);
  });

  it('stops a sleeping backoff at once when aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = poll(async () => ({ done: false, seen: null }), {
      clock: systemClock,
      signal: controller.signal,
      timeoutMs: 20 * 60_000,
      initialDelayMs: 60_000,
      maxDelayMs: 60_000,
    });
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await expect(waiting).rejects.toThrow('shutting down');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
