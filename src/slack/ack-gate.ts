/**
 * Acks first: Slack requests the HTTP server has received but not yet answered hold back the work
 * that follows earlier acks, so a burst of commands and clicks is acknowledged before any of it is
 * served. The wait is capped, so under sustained load work still starts; in Socket Mode (no HTTP
 * server to watch) nothing is ever pending and the gate never waits.
 */
import type { Server } from 'node:http';

export interface AckGate {
  /** Counts the requests of this server from arrival until their answer is written. */
  watch(server: Server): void;
  /** Resolves once no request is waiting for its answer, or after `maxWaitMs`. */
  quiet(maxWaitMs: number): Promise<void>;
  readonly pending: number;
}

/** @example const gate = createAckGate(); gate.watch(server); await gate.quiet(25); */
export function createAckGate(): AckGate {
  let pending = 0;
  const waiters = new Set<() => void>();
  const release = () => {
    for (const wake of waiters) wake();
    waiters.clear();
  };
  return {
    get pending() {
      return pending;
    },
    watch(server) {
      server.on('request', (_req, res) => {
        pending++;
        let done = false;
        const answered = () => {
          if (done) return;
          done = true;
          pending--;
          if (pending === 0) release();
        };
        res.once('finish', answered);
        res.once('close', answered);
      });
    },
    quiet(maxWaitMs) {
      if (pending === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, maxWaitMs);
        waiters.add(wake);
      });
    },
  };
}
