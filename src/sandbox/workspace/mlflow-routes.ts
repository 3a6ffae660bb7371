import type { TwinContext } from './context.js';
import { fail, type Router } from './router.js';

/**
 * MLflow tracking runs (`GET /api/2.0/mlflow/runs/get`): what a model version's `run_id` points
 * at. The bot reads a run's tags to tell which job run registered a version.
 */
export function registerMlflowRoutes(router: Router, ctx: TwinContext): void {
  router.add('GET', '/api/2.0/mlflow/runs/get', (req) => {
    const id = req.query.get('run_id') ?? req.query.get('run_uuid');
    if (!id) fail(400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'run_id'.");
    const run = ctx.state.mlflow_runs.get(id);
    if (!run) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Run '${id}' not found.`);
    return {
      body: {
        run: {
          info: {
            run_id: run.run_id,
            run_uuid: run.run_id,
            experiment_id: run.experiment_id,
            status: run.status,
            start_time: run.start_time,
            ...(run.end_time !== undefined ? { end_time: run.end_time } : {}),
            lifecycle_stage: 'active',
            artifact_uri: `dbfs:/databricks/mlflow-tracking/${run.experiment_id}/${run.run_id}/artifacts`,
          },
          data: {
            metrics: [],
            params: [],
            tags: Object.entries(run.tags).map(([key, value]) => ({ key, value })),
          },
          inputs: {},
        },
      },
    };
  });
}
