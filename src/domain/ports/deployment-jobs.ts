/**
 * The deployment-jobs port: what the bot reads and does to approve a run of an MLflow 3
 * deployment job (Jobs 2.2 runs with their tasks and repairs, and UC model-version tags). The
 * adapter is databricks/deployment-jobs.ts; the facts are in reference databricks-round2 §3.
 */
import type { JobRun } from './jobs.js';

/** A job's task keys, in the order the job lists them. */
export interface DeploymentJobInfo {
  jobId: number;
  name: string;
  tasks: string[];
}

/** One task of a run, as its latest attempt left it. */
export interface DeploymentTaskRun {
  key: string;
  /** The task run's own id (its output is read by this id). */
  runId: number;
  /** TERMINATED, RUNNING, BLOCKED, … */
  state: string;
  /** How it ended (SUCCESS, RUN_EXECUTION_ERROR, UPSTREAM_FAILED, …), once it has. */
  code?: string;
  message?: string;
}

/** One entry of a run's repair history. */
export interface RepairEntry {
  id: number;
  type: 'ORIGINAL' | 'REPAIR' | (string & {});
}

/** A deployment-job run: a job run with its tasks and, when read with history, its repairs. */
export interface DeploymentRun extends Omit<JobRun, 'taskRunIds'> {
  tasks: DeploymentTaskRun[];
  /** The repair history, oldest first; empty when not asked for (runs/list) or none. */
  repairs: RepairEntry[];
}

/** Jobs 2.2 calls a deployment-job approval needs. */
export interface DeploymentJobs {
  /** `jobs/get`: the job's name and task keys. */
  getJob(jobId: number): Promise<DeploymentJobInfo>;
  /** `runs/list` with tasks, newest first (one page). */
  listRuns(jobId: number, limit: number): Promise<DeploymentRun[]>;
  /** `runs/get` with the repair history. */
  getRun(runId: number): Promise<DeploymentRun>;
  /**
   * `runs/repair` of the given tasks and those downstream; `latestRepairId` is required from the
   * second repair on. Resolves with the new repair's id.
   */
  repairRun(runId: number, tasks: string[], latestRepairId?: number): Promise<number>;
  /** The metrics a task's notebook exited with (a JSON object of numbers), or none. */
  taskMetrics(taskRunId: number): Promise<Record<string, number> | undefined>;
}

/** UC model-version tags (`/api/2.0/mlflow/unity-catalog/model-versions/…`, reference §3.5). */
export interface ModelVersionTags {
  getTags(model: string, version: number): Promise<Record<string, string>>;
  setTag(model: string, version: number, key: string, value: string): Promise<void>;
}
