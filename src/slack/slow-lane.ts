/**
 * Work that follows an ack runs through a lane with a few slots, so a burst of commands is
 * acknowledged at once and served a few at a time: acks never wait behind a crowd of slow work.
 * The queue behind the slots is bounded: past it, work is shed at once (the caller tells the
 * user to try again) instead of piling up in memory for minutes.
 */
import { DEFAULT_QUEUE_LIMIT } from '../config/env.js';
import type { AckGate } from './ack-gate.js';

export interface SlowLane {
  /**
   * Runs `work` once a slot is free, and returns what it returned. When the queue is full, runs
   * `shed` instead (at once, outside the slots) and returns undefined: the work never runs.
   */
  run<T>(work: () => Promise<T>, shed?: () => Promise<void>): Promise<T | undefined>;
  /** How much work is waiting for a slot now. */
  readonly waiting: number;
}

export interface SlowLaneOptions {
  /** Requests still waiting for their ack hold work back, up to `maxWaitMs` (default 25 ms). */
  gate?: Pick<AckGate, 'quiet'>;
  maxWaitMs?: number;
  /** How much work may wait beyond the busy slots before more is shed (default 200). */
  queueLimit?: number;
}

/**
 * @example
 * const lane = createSlowLane(4, { gate, queueLimit: 200 });
 * await ack();
 * await lane.run(() => handle(command), () => respond(buildBusyReply('command')));
 */
export function createSlowLane(slots: number, options: SlowLaneOptions = {}): SlowLane {
  let busy = 0;
  // Work admitted and not yet started: yielding, held by the gate, or waiting for a slot.
  let queued = 0;
  const waiting: Array<() => void> = [];
  const { gate, maxWaitMs = 25, queueLimit = DEFAULT_QUEUE_LIMIT } = options;
  return {
    get waiting() {
      return queued;
    },
    async run(work, shed) {
      // Counted against the slots too, so a free slot never sheds work even with a limit of 0.
      if (busy + queued >= slots + queueLimit) {
        await shed?.();
        return undefined;
      }
      queued++;
      try {
        // Always yield once, so the ack just written is flushed before any slow work starts; then
        // let the acks of requests already received go first.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (gate) await gate.quiet(maxWaitMs);
        if (busy >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
      } finally {
        queued--;
      }
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
