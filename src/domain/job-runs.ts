/** Rules about job runs, and the MLflow tags that tie a model version to the job run that registered it. */
import type { JobRun } from './ports/jobs.js';

/** A run logged inside a Databricks job carries these MLflow tags (the job id, and the task run's id). */
export const JOB_ID_TAG = 'mlflow.databricks.jobID';
export const JOB_RUN_ID_TAG = 'mlflow.databricks.jobRunID';

/** True once a run has finished, whatever the outcome. */
export const isFinished = (run: JobRun): boolean => run.state === 'TERMINATED';

/** True when a run finished and did what it was asked to. */
export const succeeded = (run: JobRun): boolean =>
  run.state === 'TERMINATED' && run.result?.type === 'SUCCESS' && run.result.code === 'SUCCESS';
