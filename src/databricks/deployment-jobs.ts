/**
 * The calls a deployment-job approval needs (reference databricks-round2 §3): Jobs 2.2 `jobs/get`
 * (task keys), `runs/list` with tasks, `runs/get` with the repair history, `runs/repair`,
 * `runs/get-output` (the evaluation task's metrics), and the UC model-version tag routes of the
 * MLflow registry (undocumented but public, §3.5).
 */
import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import { parseModelName } from '../domain/model-names.js';
import type {
  DeploymentJobs,
  DeploymentRun,
  DeploymentTaskRun,
  ModelVersionTags,
} from '../domain/ports/deployment-jobs.js';
import { DatabricksApiError, type DatabricksHttp } from './http.js';
import { jobParametersSchema, parametersOf } from './jobs.js';

const BASE = '/api/2.2/jobs';
const TAGS = '/api/2.0/mlflow/unity-catalog/model-versions';

const statusSchema = z.looseObject({
  state: z.string(),
  termination_details: z
    .looseObject({ type: z.string().nullish(), code: z.string(), message: z.string().nullish() })
    .nullish(),
});

const taskSchema = z.looseObject({
  task_key: z.string(),
  run_id: z.coerce.number().int(),
  status: statusSchema.nullish(),
  // Older workspaces send only the deprecated state object on tasks.
  state: z
    .looseObject({ life_cycle_state: z.string().nullish(), result_state: z.string().nullish() })
    .nullish(),
});

const runSchema = z.looseObject({
  run_id: z.coerce.number().int(),
  job_id: z.coerce.number().int(),
  run_name: z.string().nullish(),
  run_page_url: z.string().nullish(),
  start_time: z.coerce.number().nullish(),
  end_time: z.coerce.number().nullish(),
  job_parameters: jobParametersSchema,
  tasks: z.array(taskSchema).nullish(),
  status: statusSchema,
  repair_history: z
    .array(z.looseObject({ id: z.coerce.number().int(), type: z.string().nullish() }))
    .nullish(),
});

const listSchema = z.looseObject({ runs: z.array(runSchema).nullish() });

const jobSchema = z.looseObject({
  job_id: z.coerce.number().int(),
  settings: z.looseObject({
    name: z.string().nullish(),
    tasks: z.array(z.looseObject({ task_key: z.string() })).nullish(),
  }),
});

const outputSchema = z.looseObject({
  notebook_output: z.looseObject({ result: z.string().nullish() }).nullish(),
});

const versionSchema = z.looseObject({
  model_version: z.looseObject({
    tags: z.array(z.looseObject({ key: z.string(), value: z.string().nullish() })).nullish(),
  }),
});

type RunJson = z.infer<typeof runSchema>;

function toTask(t: z.infer<typeof taskSchema>): DeploymentTaskRun {
  const details = t.status?.termination_details;
  const state = t.status?.state ?? t.state?.life_cycle_state ?? 'UNKNOWN';
  const code = details?.code ?? t.state?.result_state ?? undefined;
  return {
    key: t.task_key,
    runId: t.run_id,
    state,
    ...(code ? { code } : {}),
    ...(details?.message ? { message: details.message } : {}),
  };
}

function toRun(r: RunJson): DeploymentRun {
  const details = r.status.termination_details;
  const parameters = parametersOf(r.job_parameters);
  return {
    runId: r.run_id,
    jobId: r.job_id,
    state: r.status.state,
    parameters,
    tasks: (r.tasks ?? []).map(toTask),
    repairs: (r.repair_history ?? []).map((h) => ({ id: h.id, type: h.type ?? 'REPAIR' })),
    ...(r.run_name ? { runName: r.run_name } : {}),
    ...(details
      ? {
          result: {
            type: details.type ?? 'CLIENT_ERROR',
            code: details.code,
            ...(details.message ? { message: details.message } : {}),
          },
        }
      : {}),
    ...(r.run_page_url ? { pageUrl: r.run_page_url } : {}),
    // Databricks sends 0 for times that have not happened yet.
    ...(r.start_time ? { startedAt: new Date(r.start_time) } : {}),
    ...(r.end_time ? { endedAt: new Date(r.end_time) } : {}),
  };
}

/** Unknown ids come back as 404, or as 400 INVALID_PARAMETER_VALUE "... does not exist". */
function isMissing(e: unknown): e is DatabricksApiError {
  if (!(e instanceof DatabricksApiError)) return false;
  if (e.status === 404) return true;
  return e.status === 400 && /does not exist/i.test(e.message);
}

/** A notebook's exit value, when it is a JSON object: its numeric entries. */
function metricsOf(result: string | null | undefined): Record<string, number> | undefined {
  if (!result?.trim().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(result) as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    return Object.keys(out).length > 0 ? out : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @example const runs = await createDeploymentJobsClient(http).listRuns(2001, 25);
 */
export function createDeploymentJobsClient(http: DatabricksHttp): DeploymentJobs {
  return {
    async getJob(jobId) {
      try {
        const job = await http.request({
          method: 'GET',
          path: `${BASE}/get`,
          query: { job_id: jobId },
          schema: jobSchema,
        });
        return {
          jobId: job.job_id,
          name: job.settings.name ?? `job ${job.job_id}`,
          tasks: (job.settings.tasks ?? []).map((t) => t.task_key),
        };
      } catch (e) {
        if (isMissing(e)) throw new UserError('job_not_found', { jobId });
        throw e;
      }
    },

    async listRuns(jobId, limit) {
      try {
        const res = await http.request({
          method: 'GET',
          path: `${BASE}/runs/list`,
          query: { job_id: jobId, expand_tasks: true, limit },
          schema: listSchema,
        });
        return (res.runs ?? []).map(toRun);
      } catch (e) {
        if (isMissing(e)) throw new UserError('job_not_found', { jobId });
        throw e;
      }
    },

    async getRun(runId) {
      try {
        const r = await http.request({
          method: 'GET',
          path: `${BASE}/runs/get`,
          query: { run_id: runId, include_history: true },
          schema: runSchema,
        });
        return toRun(r);
      } catch (e) {
        if (isMissing(e)) throw new UserError('run_not_found', { runId });
        throw e;
      }
    },

    async repairRun(runId, tasks, latestRepairId) {
      const res = await http.request({
        method: 'POST',
        path: `${BASE}/runs/repair`,
        body: {
          run_id: runId,
          rerun_tasks: tasks,
          rerun_dependent_tasks: true,
          ...(latestRepairId !== undefined ? { latest_repair_id: latestRepairId } : {}),
        },
        // Not idempotent: a repeat after a lost answer would start a second repair (or be refused
        // for a stale latest_repair_id); the caller reads the history instead.
        idempotent: false,
        schema: z.looseObject({ repair_id: z.coerce.number().int() }),
      });
      return res.repair_id;
    },

    async taskMetrics(taskRunId) {
      try {
        const res = await http.request({
          method: 'GET',
          path: `${BASE}/runs/get-output`,
          query: { run_id: taskRunId },
          schema: outputSchema,
        });
        return metricsOf(res.notebook_output?.result);
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    },
  };
}

/**
 * @example await createModelVersionTags(http).setTag('acme.mlops.churn_model', 5, 'approval', 'Approved');
 */
export function createModelVersionTags(http: DatabricksHttp): ModelVersionTags {
  return {
    async getTags(model, version) {
      const { fullName } = parseModelName(model);
      try {
        const res = await http.request({
          method: 'GET',
          path: `${TAGS}/get`,
          query: { name: fullName, version: String(version) },
          schema: versionSchema,
        });
        const tags: Record<string, string> = {};
        for (const t of res.model_version.tags ?? []) tags[t.key] = t.value ?? '';
        return tags;
      } catch (e) {
        if (isMissing(e))
          throw new UserError('version_not_found', { model: fullName, version, suggestListing: false });
        throw e;
      }
    },

    async setTag(model, version, key, value) {
      const { fullName } = parseModelName(model);
      await http.request({
        method: 'POST',
        path: `${TAGS}/tags`,
        body: { name: fullName, version: String(version), key, value },
        // Setting the same tag to the same value twice leaves it as it was.
        idempotent: true,
        schema: z.unknown(),
      });
    },
  };
}
