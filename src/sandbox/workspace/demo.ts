import { startDeploymentRun } from './deployment-jobs-routes.js';
import { emptyState, type ModelVersion, type WorkspaceState } from './state.js';

/**
 * The names of the demo workspace, used everywhere (sandbox, tests, docs) so they never drift.
 *
 * @example DEMO.model // 'acme.mlops.churn_model'
 */
export const DEMO = {
  catalog: 'acme',
  schema: 'mlops',
  /** Short model name; `model` is the full three-part name. */
  modelName: 'churn_model',
  model: 'acme.mlops.churn_model',
  versions: [1, 2, 3],
  aliases: { champion: 'Champion', challenger: 'Challenger' },
  /** Where the aliases point in the seed. */
  championVersion: 2,
  challengerVersion: 3,
  endpoint: 'churn-endpoint',
  servedEntity: 'churn_model-2',
  inferenceTablePrefix: 'churn_endpoint',
  inferenceTable: 'acme.mlops.churn_endpoint_payload',
  jobId: 1001,
  jobName: 'churn-retrain',
  jobParameters: ['model_name', 'reason', 'all_violations_count'],
  scoringJobId: 1002,
  scoringJobName: 'churn-batch-score',
  /** The MLflow 3 deployment job of churn_model: evaluation → approval → deployment. */
  deploymentJobId: 2001,
  deploymentJobName: 'churn-deployment',
  deploymentTasks: ['evaluation', 'approval', 'deployment'],
  monitoredTable: 'acme.mlops.churn_inference',
  baselineTable: 'acme.mlops.churn_baseline',
  /** Columns of the monitored and baseline tables (sandbox/demo-tables.ts writes them). */
  inferenceColumns: [
    ['customer_id', 'STRING'],
    ['tenure', 'INT'],
    ['monthly_charges', 'DOUBLE'],
    ['contract', 'STRING'],
    ['senior_citizen', 'STRING'],
    ['prediction', 'STRING'],
    ['churn', 'STRING'],
    ['model_version', 'STRING'],
    ['inference_timestamp', 'TIMESTAMP'],
  ],
  profileTable: 'acme.mlops.churn_inference_profile_metrics',
  driftTable: 'acme.mlops.churn_inference_drift_metrics',
  modelIdColumn: 'model_version',
  predictionColumn: 'prediction',
  labelColumn: 'churn',
  timestampColumn: 'inference_timestamp',
  granularity: '1 day',
  tableIds: {
    monitored: '3f0c6a52-8d1e-4b7a-9c2f-5e6d7a8b9c01',
    profile: '3f0c6a52-8d1e-4b7a-9c2f-5e6d7a8b9c02',
    drift: '3f0c6a52-8d1e-4b7a-9c2f-5e6d7a8b9c03',
    payload: '3f0c6a52-8d1e-4b7a-9c2f-5e6d7a8b9c04',
    baseline: '3f0c6a52-8d1e-4b7a-9c2f-5e6d7a8b9c05',
  },
  schemaId: '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  endpointId: 'a3b1c2d4e5f60718293a4b5c6d7e8f90',
  users: {
    owner: 'mlops-admins',
    riley: 'riley@acme.test',
    sam: 'sam@acme.test',
    jordan: 'jordan@acme.test',
    botPrincipal: 'modelgate-bot',
  },
} as const;

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * A workspace with the demo model (versions 1–3, Champion → 2, Challenger → 3), the endpoint
 * serving version 2 with an AI-gateway inference table, the retraining job and the monitor on the
 * inference table. `now` anchors every timestamp (pass the simulated clock's time in tests).
 *
 * @example const twin = await startWorkspaceTwin({ state: seedDemoWorkspace({ now: clock.now() }) });
 */
export function seedDemoWorkspace({ now = Date.now() }: { now?: number } = {}): WorkspaceState {
  const state = emptyState();
  const { users } = DEMO;

  const version = (
    v: number,
    daysAgo: number,
    by: string,
    runId: string,
    bias: number,
    comment: string,
  ): ModelVersion => {
    // Logged from a notebook: an MLflow run without job tags.
    state.mlflow_runs.set(runId, {
      run_id: runId,
      experiment_id: '2741',
      status: 'FINISHED',
      start_time: now - daysAgo * DAY - HOUR,
      end_time: now - daysAgo * DAY,
      tags: { 'mlflow.source.type': 'NOTEBOOK', 'mlflow.user': by },
    });
    return {
      version: v,
      status: 'READY',
      source: `dbfs:/databricks/mlflow-tracking/2741/${runId}/artifacts/model`,
      run_id: runId,
      comment,
      created_at: now - daysAgo * DAY,
      created_by: by,
      updated_at: now - daysAgo * DAY,
      updated_by: by,
      behaviour: { bias },
      signature: [
        { name: 'tenure', type: 'long', example: 12 },
        { name: 'monthly_charges', type: 'double', example: 70.35 },
        { name: 'contract', type: 'string', example: 'Month-to-month' },
        { name: 'senior_citizen', type: 'long', example: 0 },
      ],
    };
  };

  state.models.set(DEMO.model, {
    catalog_name: DEMO.catalog,
    schema_name: DEMO.schema,
    name: DEMO.modelName,
    owner: users.owner,
    comment: 'Predicts the probability that a customer cancels within 30 days.',
    created_at: now - 60 * DAY,
    created_by: users.riley,
    updated_at: now - 2 * DAY,
    updated_by: users.sam,
    aliases: new Map([
      ['champion', { alias_name: DEMO.aliases.champion, version_num: DEMO.championVersion }],
      ['challenger', { alias_name: DEMO.aliases.challenger, version_num: DEMO.challengerVersion }],
    ]),
    versions: new Map([
      [
        1,
        version(
          1,
          45,
          users.riley,
          '8d2c1b0a9f8e4d7c6b5a49382716a5b4',
          0.08,
          'Baseline gradient-boosted trees',
        ),
      ],
      [
        2,
        version(
          2,
          21,
          users.sam,
          'c4b3a2918f7e4d6c5b4a39281706f5e4',
          0,
          'Adds tenure and support-ticket features',
        ),
      ],
      [
        3,
        version(3, 3, users.jordan, 'e6d5c4b3a2914f8e7d6c5b4a39281706', -0.04, 'Retrained on last quarter'),
      ],
    ]),
  });

  state.endpoints.set(DEMO.endpoint, {
    name: DEMO.endpoint,
    id: DEMO.endpointId,
    creator: users.riley,
    creation_timestamp: now - 20 * DAY,
    last_updated_timestamp: now - 20 * DAY,
    config: {
      served_entities: [
        {
          name: DEMO.servedEntity,
          entity_name: DEMO.model,
          entity_version: '2',
          workload_size: 'Small',
          scale_to_zero_enabled: true,
        },
      ],
      traffic_config: { routes: [{ served_model_name: DEMO.servedEntity, traffic_percentage: 100 }] },
      config_version: 1,
    },
    ai_gateway: {
      inference_table_config: {
        enabled: true,
        catalog_name: DEMO.catalog,
        schema_name: DEMO.schema,
        table_name_prefix: DEMO.inferenceTablePrefix,
      },
    },
    tags: [{ key: 'team', value: 'mlops' }],
  });

  state.jobs.set(DEMO.jobId, {
    job_id: DEMO.jobId,
    name: DEMO.jobName,
    creator_user_name: users.riley,
    created_time: now - 50 * DAY,
    parameters: [
      { name: 'model_name', default: DEMO.model },
      { name: 'reason', default: 'scheduled' },
      // The reference passes the check's count on (to its Check_Violations condition task).
      { name: 'all_violations_count', default: '0' },
    ],
    registers_model: DEMO.model,
    next_outcome: 'SUCCESS',
  });

  // A new version of churn_model starts a run of its deployment job (reference databricks-round2 §3.2).
  state.jobs.set(DEMO.deploymentJobId, {
    job_id: DEMO.deploymentJobId,
    name: DEMO.deploymentJobName,
    creator_user_name: users.riley,
    created_time: now - 50 * DAY,
    parameters: [
      { name: 'model_name', default: '' },
      { name: 'model_version', default: '' },
    ],
    next_outcome: 'SUCCESS',
    deployment: {
      tasks: [...DEMO.deploymentTasks],
      approval_task: 'approval',
      evaluation_task: 'evaluation',
      metrics: { 'f1_score.macro': 0.61, roc_auc: 0.83, expected_loss: 12.4 },
    },
  });
  state.models.get(DEMO.model)!.deployment_job_id = DEMO.deploymentJobId;

  state.tables.set(DEMO.monitoredTable, DEMO.tableIds.monitored);
  state.tables.set(DEMO.profileTable, DEMO.tableIds.profile);
  state.tables.set(DEMO.driftTable, DEMO.tableIds.drift);
  state.tables.set(DEMO.inferenceTable, DEMO.tableIds.payload);
  state.tables.set(DEMO.baselineTable, DEMO.tableIds.baseline);
  state.schemas.set(`${DEMO.catalog}.${DEMO.schema}`, DEMO.schemaId);
  const columns = DEMO.inferenceColumns.map(([name, type_name]) => ({ name, type_name }));
  for (const t of [DEMO.monitoredTable, DEMO.baselineTable]) {
    state.table_details.set(t, { columns, properties: { 'delta.enableChangeDataFeed': 'true' } });
  }

  // Batch scoring (`/mlops score`): the sandbox runs it against its DuckDB (sandbox/batch-scorer.ts).
  state.jobs.set(DEMO.scoringJobId, {
    job_id: DEMO.scoringJobId,
    name: DEMO.scoringJobName,
    creator_user_name: users.riley,
    created_time: now - 50 * DAY,
    parameters: [
      { name: 'model_uri', default: `models:/${DEMO.model}@Champion` },
      { name: 'input_table', default: '' },
      { name: 'output_table', default: '' },
      { name: 'request_id', default: '' },
    ],
    next_outcome: 'SUCCESS',
    scores_batch: true,
    task_key: 'score_batch',
  });

  state.monitors.set(DEMO.monitoredTable, {
    table_name: DEMO.monitoredTable,
    table_id: DEMO.tableIds.monitored,
    output_schema_name: `${DEMO.catalog}.${DEMO.schema}`,
    output_schema_id: DEMO.schemaId,
    profile_metrics_table_name: DEMO.profileTable,
    drift_metrics_table_name: DEMO.driftTable,
    model_id_col: DEMO.modelIdColumn,
    prediction_col: DEMO.predictionColumn,
    label_col: DEMO.labelColumn,
    timestamp_col: DEMO.timestampColumn,
    granularities: [DEMO.granularity],
    in_data_quality_api: true,
    problem_type: 'PROBLEM_TYPE_CLASSIFICATION',
    created_at: now - 20 * DAY,
    refreshes: [
      {
        refresh_id: 1,
        state: 'SUCCESS',
        trigger: 'SCHEDULE',
        start_time_ms: now - DAY,
        end_time_ms: now - DAY + 6 * 60_000,
      },
    ],
  });

  state.counters = { endpoint: 1, run: 7_400, refresh: 1 };
  return state;
}

/**
 * The sandbox's deployment-job story: churn_model v4 (approved, deployed) and v5, whose
 * deployment-job run waits at its approval task. Only the sandbox seeds it; tests build their own.
 *
 * @example seedDeploymentDemo(state, Date.now()); // run of job 2001 for v5 failed at `approval`
 */
export function seedDeploymentDemo(state: WorkspaceState, now: number): void {
  const model = state.models.get(DEMO.model)!;
  for (const [version, ago] of [
    [4, 3 * DAY],
    [5, 2 * HOUR],
  ] as const) {
    model.versions.set(version, {
      version,
      status: 'READY',
      source: `dbfs:/databricks/mlflow-tracking/${DEMO.jobId}/demo-v${version}/artifacts/model`,
      comment: `Retrained by job ${DEMO.jobName}`,
      created_at: now - ago,
      created_by: DEMO.users.riley,
      updated_at: now - ago,
      updated_by: DEMO.users.riley,
      ...(version === 4 ? { tags: { approval: 'Approved' } } : {}),
    });
  }
  // Each run ran its three tasks to their end already: v4's passed, v5's stopped at approval.
  const clock = { now: () => now };
  startDeploymentRun({ state, clock, jobRunMs: 60_000 }, DEMO.deploymentJobId, DEMO.model, 4, now - 3 * DAY);
  startDeploymentRun({ state, clock, jobRunMs: 60_000 }, DEMO.deploymentJobId, DEMO.model, 5, now - 2 * HOUR);
}
