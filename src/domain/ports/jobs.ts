/** The jobs port (Databricks Jobs 2.2), for the retraining trigger. The adapter is databricks/jobs.ts. */
export type JobRunState =
  | 'QUEUED'
  | 'PENDING'
  | 'RUNNING'
  | 'BLOCKED'
  | 'WAITING'
  | 'TERMINATING'
  | 'TERMINATED'
  | (string & {});

export type TerminationType = 'SUCCESS' | 'CLIENT_ERROR' | 'INTERNAL_ERROR' | 'CLOUD_FAILURE' | (string & {});

export interface JobRun {
  runId: number;
  jobId: number;
  runName?: string;
  state: JobRunState;
  /** How the run ended; present once it is TERMINATED. `code` is e.g. SUCCESS, USER_CANCELED, RUN_EXECUTION_ERROR. */
  result?: { type: TerminationType; code: string; message?: string };
  /** Why a QUEUED run waits, e.g. MAX_CONCURRENT_RUNS_REACHED. */
  queue?: { code: string; message?: string };
  pageUrl?: string;
  startedAt?: Date;
  endedAt?: Date;
  /** Job-level parameters the run used (value, or the job's default). */
  parameters: Record<string, string>;
  /** Ids of its task runs: work done inside the run (an MLflow run, say) is tagged with these. */
  taskRunIds: number[];
}

export interface RunNowOptions {
  /** Same token ⇒ same run; makes the call safe to retry. At most 64 characters. */
  idempotencyToken?: string;
  /** Job-level parameters; values are strings. */
  parameters?: Record<string, string>;
}

/** Jobs API 2.2, for the retraining trigger. */
export interface Jobs {
  runNow(jobId: number, options?: RunNowOptions): Promise<{ runId: number; numberInJob?: number }>;
  getRun(runId: number): Promise<JobRun>;
  cancelRun(runId: number): Promise<void>;
}

/** A job's settings as a retraining request records them. */
export interface JobSettings {
  jobId: number;
  name: string;
  /** Job-level parameters and their defaults. */
  parameters: Array<{ name: string; default: string }>;
  /** Digest of the settings: a change to them makes a request stale. */
  fingerprint: string;
}

/** Reads a job's settings (Jobs API `jobs/get`); the adapter is databricks/job-settings.ts. */
export interface JobSettingsReader {
  getJob(jobId: number): Promise<JobSettings>;
}
