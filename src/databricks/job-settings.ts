/**
 * Reads a job's settings (Jobs API 2.2 `jobs/get`) for retraining requests: its name and
 * parameters, and a digest of the settings so a request made before the job changed goes stale.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import type { JobSettingsReader } from '../domain/ports/jobs.js';
import { DatabricksApiError, type DatabricksHttp } from './http.js';

export type { JobSettingsReader } from '../domain/ports/jobs.js';

const jobSchema = z.looseObject({
  job_id: z.coerce.number().int(),
  settings: z.looseObject({
    name: z.string().nullish(),
    parameters: z.array(z.looseObject({ name: z.string(), default: z.string().nullish() })).nullish(),
  }),
});

/** A stable digest of any JSON value: keys sorted, so field order does not matter. */
function digest(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex')
    .slice(0, 16);
}

/**
 * @example const job = await createJobSettingsReader(http).getJob(1001); job.name // 'churn-retrain'
 */
export function createJobSettingsReader(http: DatabricksHttp): JobSettingsReader {
  return {
    async getJob(jobId) {
      try {
        const job = await http.request({
          method: 'GET',
          path: '/api/2.2/jobs/get',
          query: { job_id: jobId },
          schema: jobSchema,
        });
        return {
          jobId: job.job_id,
          name: job.settings.name ?? `job ${job.job_id}`,
          parameters: (job.settings.parameters ?? []).map((p) => ({
            name: p.name,
            default: p.default ?? '',
          })),
          fingerprint: digest(job.settings),
        };
      } catch (e) {
        const missing =
          e instanceof DatabricksApiError &&
          (e.status === 404 || (e.status === 400 && /does not exist/i.test(e.message)));
        if (missing) {
          throw new UserError('job_not_found', { jobId, source: 'retraining' });
        }
        throw e;
      }
    },
  };
}
