/**
 * Job: pick up the rollouts a previous process was following. Runs once at start-up, before the
 * bot takes new commands, so that no progress message is left saying "in progress" after a restart.
 */
import type { ResumeSummary } from '../changes/pipeline.js';

export interface RolloutWatchDeps {
  pipeline: { resume(): Promise<ResumeSummary> };
  /** Start, ok and error reports (a log line, a monitoring check-in). */
  report?: (event: RolloutWatchEvent) => void;
}

export type RolloutWatchEvent =
  | { kind: 'start'; at: number }
  | { kind: 'ok'; at: number; summary: ResumeSummary }
  | { kind: 'error'; at: number; error: unknown };

/**
 * Resumes the change pipeline's unfinished work: rollouts are followed again in the background
 * (`pipeline.idle()` waits for them), changes that never reached Databricks are ended, and progress
 * messages left open are finished. Never throws: a failure is reported and start-up goes on.
 *
 * @example const summary = await runRolloutWatch({ pipeline }, Date.now()); // { followed: 1, ended: 0, messagesFinished: 0 }
 */
export async function runRolloutWatch(
  deps: RolloutWatchDeps,
  now: number,
): Promise<ResumeSummary | undefined> {
  deps.report?.({ kind: 'start', at: now });
  try {
    const summary = await deps.pipeline.resume();
    deps.report?.({ kind: 'ok', at: now, summary });
    return summary;
  } catch (error) {
    deps.report?.({ kind: 'error', at: now, error });
    return undefined;
  }
}
