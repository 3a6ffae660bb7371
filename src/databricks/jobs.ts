import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import { DatabricksApiError, type DatabricksHttp } from './http.js';

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

const runNowSchema = z.looseObject({
  run_id: z.coerce.number().int(),
  number_in_job: z.coerce.number().int().nullish(),
});

const runSchema = z.looseObject({
  run_id: z.coerce.number().int(),
  job_id: z.coerce.number().int(),
  run_name: z.string().nullish(),
  run_page_url: z.string().nullish(),
  start_time: z.coerce.number().nullish(),
  end_time: z.coerce.number().nullish(),
  job_parameters: z
    .array(z.looseObject({ name: z.string(), default: z.string().nullish(), value: z.string().nullish() }))
    .nullish(),
  tasks: z.array(z.looseObject({ run_id: z.coerce.number().int() })).nullish(),
  // The deprecated `state` object is ignored on purpose: `status` replaces it (reference §4.2).
  status: z.looseObject({
    state: z.string(),
    termination_details: z
      .looseObject({ type: z.string(), code: z.string(), message: z.string().nullish() })
      .nullish(),
    queue_details: z.looseObject({ code: z.string(), message: z.string().nullish() }).nullish(),
  }),
});

type RunJson = z.infer<typeof runSchema>;

const BASE = '/api/2.2/jobs';
const MAX_TOKEN = 64;

/** True once a run has finished, whatever the outcome. */
export const isFinished = (run: JobRun): boolean => run.state === 'TERMINATED';

/** True when a run finished and did what it was asked to. */
export const succeeded = (run: JobRun): boolean =>
  run.state === 'TERMINATED' && run.result?.type === 'SUCCESS' && run.result.code === 'SUCCESS';

function toRun(r: RunJson): JobRun {
  const details = r.status.termination_details;
  const queue = r.status.queue_details;
  const parameters: Record<string, string> = {};
  for (const p of r.job_parameters ?? []) {
    const value = p.value ?? p.default;
    if (value !== null && value !== undefined) parameters[p.name] = value;
  }
  return {
    runId: r.run_id,
    jobId: r.job_id,
    state: r.status.state,
    parameters,
    taskRunIds: (r.tasks ?? []).map((t) => t.run_id),
    ...(r.run_name ? { runName: r.run_name } : {}),
    ...(details
      ? {
          result: {
            type: details.type,
            code: details.code,
            ...(details.message ? { message: details.message } : {}),
          },
        }
      : {}),
    ...(queue ? { queue: { code: queue.code, ...(queue.message ? { message: queue.message } : {}) } } : {}),
    ...(r.run_page_url ? { pageUrl: r.run_page_url } : {}),
    // Databricks sends 0 for times that have not happened yet.
    ...(r.start_time ? { startedAt: new Date(r.start_time) } : {}),
    ...(r.end_time ? { endedAt: new Date(r.end_time) } : {}),
  };
}

/** Unknown ids come back as 404, or (historically) as 400 INVALID_PARAMETER_VALUE "... does not exist". */
function isMissing(e: unknown): e is DatabricksApiError {
  if (!(e instanceof DatabricksApiError)) return false;
  if (e.status === 404) return true;
  return e.status === 400 && e.errorCode === 'INVALID_PARAMETER_VALUE' && /does not exist/i.test(e.message);
}

function runNotFound(runId: number): UserError {
  return new UserError(
    'run_not_found',
    `There is no job run ${runId}.`,
    'Check the run id; runs older than 60 days are removed by Databricks.',
  );
}

/**
 * The Jobs 2.2 client. `runNow` is retried after a lost answer only when it carries an idempotency
 * token: without one a repeat could start a second training run.
 *
 * @example
 * const jobs = createJobsClient(http);
 * const { runId } = await jobs.runNow(1001, { idempotencyToken: requestId, parameters: { reason: 'drift' } });
 */
export function createJobsClient(http: DatabricksHttp): Jobs {
  return {
    async runNow(jobId, options = {}) {
      const { idempotencyToken, parameters } = options;
      if (
        idempotencyToken !== undefined &&
        (idempotencyToken === '' || idempotencyToken.length > MAX_TOKEN)
      ) {
        throw new RangeError(`an idempotency token has 1 to ${MAX_TOKEN} characters`);
      }
      try {
        const res = await http.request({
          method: 'POST',
          path: `${BASE}/run-now`,
          body: {
            job_id: jobId,
            ...(parameters ? { job_parameters: parameters } : {}),
            ...(idempotencyToken ? { idempotency_token: idempotencyToken } : {}),
          },
          idempotent: idempotencyToken !== undefined,
          schema: runNowSchema,
        });
        return { runId: res.run_id, ...(res.number_in_job ? { numberInJob: res.number_in_job } : {}) };
      } catch (e) {
        if (isMissing(e)) {
          throw new UserError(
            'job_not_found',
            `There is no job ${jobId} in this workspace.`,
            'Check the job id in the policy file, and that the bot principal has CAN MANAGE RUN on the job.',
          );
        }
        throw e;
      }
    },

    async getRun(runId) {
      try {
        const r = await http.request({
          method: 'GET',
          path: `${BASE}/runs/get`,
          query: { run_id: runId },
          schema: runSchema,
        });
        return toRun(r);
      } catch (e) {
        if (isMissing(e)) throw runNotFound(runId);
        throw e;
      }
    },

    async cancelRun(runId) {
      try {
        // Cancelling twice is harmless, so the POST may be retried.
        await http.request({
          method: 'POST',
          path: `${BASE}/runs/cancel`,
          body: { run_id: runId },
          idempotent: true,
          schema: z.unknown(),
        });
      } catch (e) {
        if (isMissing(e)) throw runNotFound(runId);
        throw e;
      }
    },
  };
}
