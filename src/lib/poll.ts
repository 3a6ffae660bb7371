/**
 * The one backoff helper: every poll (rollouts, job runs, monitor refreshes) reads, waits and reads
 * again through it, so that each takes the injected clock (simulated time in tests and benches) and
 * the abort signal (shutdown never waits out a sleeping backoff). Written here rather than taken
 * from a retry library because those sleep on real timers and cannot be driven by a simulated clock.
 */
import type { Clock } from './clock.js';

export interface PollOptions {
  clock: Clock;
  /** Aborting ends the wait at once: the sleep rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Give up (status `timed_out`) once this long has passed since the first read. */
  timeoutMs: number;
  /** First wait between reads; each next wait is `factor` times longer, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  factor?: number;
}

/** What one read says: finished with a value, or not yet (with what was seen, for the caller). */
export type Polled<T, P> = { done: true; value: T } | { done: false; seen: P };

export type PollResult<T, P> = { status: 'done'; value: T } | { status: 'timed_out'; seen: P };

/**
 * Calls `read` until it reports done or the time is up, sleeping with exponential backoff between
 * reads. Errors from `read` propagate (retrying transient HTTP errors is the HTTP layer's job).
 *
 * @example
 * const r = await poll(async () => { const run = await jobs.getRun(id); return isFinished(run) ? { done: true, value: run } : { done: false, seen: run }; },
 *   { clock, signal, timeoutMs: 3_600_000, initialDelayMs: 5_000, maxDelayMs: 60_000 });
 */
export async function poll<T, P>(
  read: () => Promise<Polled<T, P>>,
  options: PollOptions,
): Promise<PollResult<T, P>> {
  const { clock, signal, timeoutMs, initialDelayMs, maxDelayMs, factor = 1.5 } = options;
  const deadline = clock.now() + timeoutMs;
  let delay = initialDelayMs;
  for (;;) {
    signal?.throwIfAborted();
    const r = await read();
    if (r.done) return { status: 'done', value: r.value };
    const left = deadline - clock.now();
    if (left <= 0) return { status: 'timed_out', seen: r.seen };
    await clock.sleep(Math.min(delay, left), signal);
    delay = Math.min(maxDelayMs, delay * factor);
  }
}
