/**
 * Work that follows an ack runs through a lane with a few slots, so a burst of commands is
 * acknowledged at once and served a few at a time: acks never wait behind a crowd of slow work.
 */
export interface SlowLane {
  run<T>(work: () => Promise<T>): Promise<T>;
}

/** @example const lane = createSlowLane(4); await ack(); await lane.run(() => handle(command)); */
export function createSlowLane(slots: number): SlowLane {
  let busy = 0;
  const waiting: Array<() => void> = [];
  return {
    async run(work) {
      // Always yield once, so the ack just written is flushed before any slow work starts.
      await new Promise<void>((resolve) => setImmediate(resolve));
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
