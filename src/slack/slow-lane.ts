/**
 * Work that follows an ack runs through a lane with a few slots, so a burst of commands is
 * acknowledged at once and served a few at a time: acks never wait behind a crowd of slow work.
 */
import type { AckGate } from './ack-gate.js';

export interface SlowLane {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export interface SlowLaneOptions {
  /** Requests still waiting for their ack hold work back, up to `maxWaitMs` (default 25 ms). */
  gate?: Pick<AckGate, 'quiet'>;
  maxWaitMs?: number;
}

/** @example const lane = createSlowLane(4, { gate }); await ack(); await lane.run(() => handle(command)); */
export function createSlowLane(slots: number, options: SlowLaneOptions = {}): SlowLane {
  let busy = 0;
  const waiting: Array<() => void> = [];
  const { gate, maxWaitMs = 25 } = options;
  return {
    async run(work) {
      // Always yield once, so the ack just written is flushed before any slow work starts; then
      // let the acks of requests already received go first.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (gate) await gate.quiet(maxWaitMs);
      if (busy >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
      busy++;
      try {
        return await work();
      } finally {
        busy--;
        waiting.shift()?.();
      }
    },
  };
}
