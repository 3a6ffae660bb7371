/**
 * The background work of a long-lived service (the change pipeline, the approvals service): work
 * started after Slack has its answer, errors reported with a correlation id and never thrown, one
 * signal that tells every follower the process is stopping, and a way to wait until all is done.
 */
import { setMaxListeners } from 'node:events';
import { newCorrelationId } from './correlation-id.js';

export interface BackgroundOptions {
  onError?: (err: unknown, correlationId: string) => void;
  correlationId?: () => string;
  /** Says what stops, in the abort reason followers see. */
  name: string;
}

export interface Background {
  /** Aborted by stop(): followers sleep on it and give up waiting. */
  readonly signal: AbortSignal;
  /** Logs an error through onError and returns its correlation id; a broken logger is ignored. */
  report(err: unknown): string;
  /** Runs work in the background; what it throws is reported (unless the service is stopping). */
  track(work: () => Promise<void>): void;
  /** Resolves when no tracked work is left, including work started meanwhile. */
  idle(): Promise<void>;
  stop(): void;
}

/** @example const bg = createBackground({ name: 'the change pipeline', onError }); bg.track(() => follow(id)); */
export function createBackground(options: BackgroundOptions): Background {
  const nextId = options.correlationId ?? newCorrelationId;
  const tasks = new Set<Promise<void>>();
  const shutdown = new AbortController();
  // Every followed rollout or run waits on this one signal at once; many at a time is normal, not a leak.
  setMaxListeners(0, shutdown.signal);

  function report(err: unknown): string {
    const id = nextId();
    try {
      options.onError?.(err, id);
    } catch {
      // A broken logger must not take the service down with it.
    }
    return id;
  }

  return {
    signal: shutdown.signal,
    report,
    track(work) {
      const task = work().catch((e) => {
        if (!shutdown.signal.aborted) report(e);
      });
      tasks.add(task);
      void task.finally(() => tasks.delete(task));
    },
    async idle() {
      while (tasks.size > 0) await Promise.allSettled([...tasks]);
    },
    stop() {
      shutdown.abort(new Error(`${options.name} is stopping`));
    },
  };
}
