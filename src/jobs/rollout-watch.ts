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

export interface WorkTakeoverDeps {
  pipeline: { takeOver(): Promise<ResumeSummary> };
  approvals: { takeOver(approvedBefore: number): Promise<{ started: number; resumed: number }> };
  /** An owner silent for this long has died; approved requests this old were never started. */
  leaseMs: number;
  report?: (event: WorkTakeoverEvent) => void;
}

export type WorkTakeoverEvent =
  | { kind: 'ok'; at: number; changes: ResumeSummary; executions: { started: number; resumed: number } }
  | { kind: 'error'; at: number; error: unknown };

/**
 * Job: take over the work whose owner let go or died (its lease ran out) and settle it by reading
 * Databricks: changes in flight (what the endpoint serves or has pending, where the alias points)
 * and approved executions (the job run's state). Work with a live owner is left alone. Never
 * throws. Returns how much it took over.
 *
 * @example await runWorkTakeover({ pipeline, approvals, leaseMs: 30_000 }, Date.now());
 */
export async function runWorkTakeover(deps: WorkTakeoverDeps, now: number): Promise<number> {
  try {
    const changes = await deps.pipeline.takeOver();
    const executions = await deps.approvals.takeOver(now - deps.leaseMs);
    deps.report?.({ kind: 'ok', at: now, changes, executions });
    return changes.followed + changes.ended + executions.started + executions.resumed;
  } catch (error) {
    deps.report?.({ kind: 'error', at: now, error });
    return 0;
  }
}
