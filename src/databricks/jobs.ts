import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import type { JobRun, Jobs } from '../domain/ports/jobs.js';
import { DatabricksApiError, type DatabricksHttp } from './http.js';

const runNowSchema = z.looseObject({
  run_id: z.coerce.number().int(),
  number_in_job: z.coerce.number().int().nullish(),
});

/** A run's `job_parameters`, as runs/get and runs/list return them (deployment jobs too). */
export const jobParametersSchema = z
  .array(z.looseObject({ name: z.string(), default: z.string().nullish(), value: z.string().nullish() }))
  .nullish();

/** Each parameter's value for this run, its default where the run set none. */
export function parametersOf(list: z.infer<typeof jobParametersSchema>): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const p of list ?? []) {
    const value = p.value ?? p.default;
    if (value !== null && value !== undefined) parameters[p.name] = value;
  }
  return parameters;
}

const runSchema = z.looseObject({
  run_id: z.coerce.number().int(),
  job_id: z.coerce.number().int(),
  run_name: z.string().nullish(),
  run_page_url: z.string().nullish(),
  start_time: z.coerce.number().nullish(),
  end_time: z.coerce.number().nullish(),
  job_parameters: jobParametersSchema,
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

function toRun(r: RunJson): JobRun {
  const details = r.status.termination_details;
  const queue = r.status.queue_details;
  const parameters = parametersOf(r.job_parameters);
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

const runNotFound = (runId: number) => new UserError('run_not_found', { runId });

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
          throw new UserError('job_not_found', { jobId });
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
