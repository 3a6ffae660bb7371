/**
 * MLflow tracking runs (`GET /api/2.0/mlflow/runs/get`), read for one thing: the tags of the run a
 * model version came from. A run logged inside a Databricks job carries `mlflow.databricks.jobID`
 * and `mlflow.databricks.jobRunID` (the task run's id), which ties a version to the job run that
 * registered it.
 */
import { z } from 'zod';
import type { MlflowRuns } from '../domain/ports/mlflow.js';
import { DatabricksApiError, type DatabricksHttp } from './http.js';

const runSchema = z.looseObject({
  run: z.looseObject({
    data: z
      .looseObject({
        tags: z.array(z.looseObject({ key: z.string(), value: z.string().nullish() })).nullish(),
      })
      .nullish(),
  }),
});

/** MLflow run ids are hex UUIDs without dashes; anything else is refused before it reaches a URL. */
const RUN_ID = /^[0-9a-zA-Z_-]{1,64}$/;

/**
 * @example const tags = await createMlflowRuns(http).getRunTags('c4b3a2918f7e4d6c5b4a39281706f5e4');
 */
export function createMlflowRuns(http: DatabricksHttp): MlflowRuns {
  return {
    async getRunTags(runId) {
      if (!RUN_ID.test(runId)) return undefined;
      try {
        const res = await http.request({
          method: 'GET',
          path: '/api/2.0/mlflow/runs/get',
          query: { run_id: runId },
          schema: runSchema,
        });
        const tags: Record<string, string> = {};
        for (const t of res.run.data?.tags ?? []) tags[t.key] = t.value ?? '';
        return tags;
      } catch (e) {
        if (e instanceof DatabricksApiError && (e.status === 404 || e.status === 403)) return undefined;
        throw e;
      }
    },
  };
}
