/**
 * Lets whoever waits on a piece of work hear that a call inside it is being retried, without
 * threading a callback through every layer in between. The Slack edge wraps a command in
 * `observeCalls`; an HTTP client deep below calls `reportRetry` before each back-off wait.
 *
 * Why AsyncLocalStorage: the call that retries sits several ports below the command (command →
 * plan reads → adapter → HTTP layer); passing an observer explicitly would add a parameter to every
 * port method on the way, for a notice that only the outermost caller shows. The store carries one
 * observer and nothing else, and an observer stops listening once its work is done, so background
 * work started inside a command (a rollout follower) cannot report into a finished command.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** One retry about to happen: after failed attempt `attempt`, the next starts in `waitMs`. */
export interface RetryEvent {
  attempt: number;
  waitMs: number;
  /** What failed (the client's own error type); the observer decides how to show it. */
  cause: unknown;
}

export interface CallObserver {
  retrying(event: RetryEvent): void;
}

const current = new AsyncLocalStorage<{ observer: CallObserver; open: boolean }>();

/**
 * Runs `work` with `observer` hearing every retry reported inside it, until `work` settles.
 *
 * @example const reply = await observeCalls({ retrying: (e) => notice(e.cause) }, () => handle(command));
 */
export async function observeCalls<T>(observer: CallObserver, work: () => Promise<T>): Promise<T> {
  const scope = { observer, open: true };
  try {
    return await current.run(scope, work);
  } finally {
    scope.open = false;
  }
}

/**
 * Tells the observer of the surrounding work, if any, that a call is about to be retried. Never
 * throws: an observer's trouble must not change the call's outcome.
 *
 * @example reportRetry({ attempt: 1, waitMs: 500, cause: err });
 */
export function reportRetry(event: RetryEvent): void {
  const scope = current.getStore();
  if (!scope?.open) return;
  try {
    scope.observer.retrying(event);
  } catch {
    // The notice is a courtesy; the retry goes ahead regardless.
  }
}
