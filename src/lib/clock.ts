/**
 * Time as a dependency: production uses the system clock, tests and benches pass a simulated one
 * so that a 10-minute rollout can be waited out in milliseconds.
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * A clock that only moves when someone sleeps on it: each sleep advances time at once.
 * Good for deterministic waits against a twin that reads the same clock.
 *
 * @example const clock = simulatedClock(Date.parse('2026-01-01')); await clock.sleep(60_000); clock.now();
 */
export function simulatedClock(start = 0): Clock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      t += ms;
      // Yield so that other work scheduled "meanwhile" can run.
      await new Promise<void>((r) => setImmediate(r));
    },
  };
}
