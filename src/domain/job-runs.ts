/** Rules about job runs, and the MLflow tags that tie a model version to the job run that registered it. */
import { type PollOptions, poll } from '../lib/poll.js';
import type { JobRun, Jobs } from './ports/jobs.js';

/** A run logged inside a Databricks job carries these MLflow tags (the job id, and the task run's id). */
export const JOB_ID_TAG = 'mlflow.databricks.jobID';
export const JOB_RUN_ID_TAG = 'mlflow.databricks.jobRunID';

/** True once a run has finished, whatever the outcome. */
export const isFinished = (run: JobRun): boolean => run.state === 'TERMINATED';

/** True when a run finished and did what it was asked to. */
export const succeeded = (run: JobRun): boolean =>
  run.state === 'TERMINATED' && run.result?.type === 'SUCCESS' && run.result.code === 'SUCCESS';

/** How following a run ended: it finished (whatever its outcome), or the wait ran out first. */
export type FollowedRun = { status: 'done'; run: JobRun } | { status: 'timed_out'; seen: JobRun };

/**
 * Reads a run until it has finished, through the one backoff helper (clock, abort signal). The
 * retraining execution and batch scoring both follow their runs with it.
 *
 * @example const followed = await followJobRun(jobs, runId, { clock, signal, timeoutMs: 6 * 3_600_000, initialDelayMs: 2_000, maxDelayMs: 30_000 });
 */
export async function followJobRun(
  jobs: Pick<Jobs, 'getRun'>,
  runId: number,
  options: PollOptions,
): Promise<FollowedRun> {
  const r = await poll<JobRun, JobRun>(async () => {
    const run = await jobs.getRun(runId);
    return isFinished(run) ? { done: true, value: run } : { done: false, seen: run };
  }, options);
  return r.status === 'done' ? { status: 'done', run: r.value } : { status: 'timed_out', seen: r.seen };
}
