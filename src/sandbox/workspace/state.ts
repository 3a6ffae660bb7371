/**
 * The workspace twin's state. Shapes follow the REST JSON (snake_case) so route handlers can
 * answer with them directly. Time-driven transitions (rollouts, job runs) are stored as
 * timestamps and settled lazily against the twin's clock, so a simulated clock works.
 */

export type WorkloadSize = 'Small' | 'Medium' | 'Large';

export interface ServedEntity {
  name: string;
  entity_name: string;
  entity_version: string;
  workload_size: WorkloadSize;
  scale_to_zero_enabled: boolean;
}

export interface Route {
  served_model_name: string;
  traffic_percentage: number;
}

export interface EndpointConfig {
  served_entities: ServedEntity[];
  traffic_config: { routes: Route[] };
  config_version: number;
}

export interface PendingUpdate {
  config: EndpointConfig;
  started_at: number;
  /** When the rollout settles (clock ms). */
  settles_at: number;
  /** When set, the rollout ends in failure with this Databricks-style reason. */
  failure?: string;
}

export interface InferenceTableConfig {
  enabled: boolean;
  catalog_name?: string;
  schema_name?: string;
  table_name_prefix?: string;
}

export interface Endpoint {
  name: string;
  id: string;
  creator: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  /** Undefined until the first rollout of a new endpoint has succeeded. */
  config?: EndpointConfig;
  pending?: PendingUpdate;
  /** The reason of the last rollout that failed, shown in state like Databricks does. */
  last_failure?: string;
  ai_gateway?: { inference_table_config?: InferenceTableConfig };
  tags: Array<{ key: string; value?: string }>;
}

export type VersionStatus = 'PENDING_REGISTRATION' | 'READY' | 'FAILED_REGISTRATION';

export interface ModelVersion {
  version: number;
  status: VersionStatus;
  source: string;
  run_id?: string;
  comment?: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
  /**
   * Demo model behaviour: a version's threshold on the churn score (see invocations), and fault
   * knobs: the share of requests it answers 500 (`errorRate`, 0..1) and extra model time (`latencyMs`).
   */
  behaviour?: { bias: number; errorRate?: number; latencyMs?: number };
  /** The MLflow input signature (column name, type, an example value); serving shows it as OpenAPI. */
  signature?: Array<{
    name: string;
    type: 'double' | 'long' | 'integer' | 'string' | 'boolean';
    example?: unknown;
  }>;
  /** UC model-version tags (`/api/2.0/mlflow/unity-catalog/model-versions/tags`). */
  tags?: Record<string, string>;
}

export interface RegisteredModel {
  catalog_name: string;
  schema_name: string;
  name: string;
  owner: string;
  comment?: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
  /** alias name (lower-case key) → { display name, version } */
  aliases: Map<string, { alias_name: string; version_num: number }>;
  versions: Map<number, ModelVersion>;
  /** The MLflow 3 deployment job a new version triggers (reference databricks-round2 §3.1). */
  deployment_job_id?: number;
}

export interface Job {
  job_id: number;
  name: string;
  creator_user_name: string;
  created_time: number;
  /** Job-level parameters and their defaults. */
  parameters: Array<{ name: string; default: string }>;
  /** A run of this job registers a new version of this model when it succeeds. */
  registers_model?: string;
  /** Outcome of the next runs: tests set 'FAILED' to see a failure. */
  next_outcome: 'SUCCESS' | 'FAILED';
  /** A batch-scoring job: a run scores `input_table` into `output_table` (the sandbox's DuckDB). */
  scores_batch?: boolean;
  /** Its one task's key, shown in run JSON (default `train_model`). */
  task_key?: string;
  /** A deployment job: its tasks in order (see deployment-jobs-routes.ts). */
  deployment?: DeploymentJobSpec;
}

/** How a twin deployment job runs: its tasks in order, which one is the approval, what the evaluation reports. */
export interface DeploymentJobSpec {
  /** Task keys in order, e.g. ['evaluation', 'approval', 'deployment']. */
  tasks: string[];
  /** The task that fails until the version carries the tag named after it = Approved. */
  approval_task: string;
  /** The task whose notebook exits with `metrics` (runs/get-output). */
  evaluation_task: string;
  metrics: Record<string, number>;
  /** How long each task runs (default: the twin's jobRunMs). */
  task_ms?: number;
}

/** One task run of a deployment-job run; `result` is fixed when it is first read after its end. */
export interface DeploymentTaskRunState {
  task_key: string;
  run_id: number;
  /** Index into the run's attempts (0: the original run). */
  attempt: number;
  start: number;
  end: number;
  result?: 'SUCCESS' | 'FAILED' | 'UPSTREAM_FAILED';
  message?: string;
}

/** A run of a deployment job, with its repair history. */
export interface DeploymentRunState {
  run_id: number;
  job_id: number;
  number_in_job: number;
  created_at: number;
  model_name: string;
  model_version: string;
  attempts: Array<{ id: number; type: 'ORIGINAL' | 'REPAIR'; start_time: number }>;
  task_runs: DeploymentTaskRunState[];
}

export interface JobRun {
  run_id: number;
  job_id: number;
  number_in_job: number;
  run_name: string;
  created_at: number;
  queued_ms: number;
  run_ms: number;
  outcome: 'SUCCESS' | 'FAILED';
  job_parameters: Record<string, string>;
  idempotency_token?: string;
  canceled_at?: number;
  /** The run of its one task (`train_model`); task runs have ids of their own, as in Databricks. */
  task_run_id: number;
  /** Set once the run has registered its model version (done once, when it settles). */
  registered_version?: number;
  /** Batch scoring: done once the output table is written (or the write failed). */
  scored?: boolean;
  /** Why the run failed, when the twin knows better than its default message. */
  failure_message?: string;
}

/**
 * An MLflow tracking run (`/api/2.0/mlflow/runs/get`). A model version's `run_id` names one; a run
 * logged from a Databricks job carries the job's ids in its `mlflow.databricks.jobID` and
 * `mlflow.databricks.jobRunID` tags (the latter is the task run's id).
 */
export interface MlflowRun {
  run_id: string;
  experiment_id: string;
  status: 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
  start_time: number;
  end_time?: number;
  tags: Record<string, string>;
}

export interface MonitorRefresh {
  refresh_id: number;
  state: 'PENDING' | 'RUNNING' | 'SUCCESS' | 'FAILED' | 'CANCELED';
  trigger: 'MANUAL' | 'SCHEDULE';
  start_time_ms: number;
  end_time_ms?: number;
  /** Twin-only: when a PENDING refresh starts RUNNING and when it settles (clock ms). */
  runs_at?: number;
  settles_at?: number;
  /** Twin-only: how it ends once settled. */
  outcome?: 'SUCCESS' | 'FAILED';
  message?: string;
}

export interface Monitor {
  table_name: string;
  table_id: string;
  output_schema_name: string;
  output_schema_id: string;
  profile_metrics_table_name: string;
  drift_metrics_table_name: string;
  model_id_col: string;
  prediction_col: string;
  label_col?: string;
  timestamp_col: string;
  granularities: string[];
  /** Whether the data-quality API knows this monitor (else only the legacy API does). */
  in_data_quality_api: boolean;
  refreshes: MonitorRefresh[];
  /** Twin-only: outcome of the next refreshes (tests set 'FAILED'); defaults to SUCCESS. */
  next_refresh_outcome?: 'SUCCESS' | 'FAILED';
  problem_type?: 'PROBLEM_TYPE_CLASSIFICATION' | 'PROBLEM_TYPE_REGRESSION';
  created_at?: number;
  slicing_exprs?: string[];
  baseline_table_name?: string;
  /** As the legacy API spells them (type CUSTOM_METRIC_TYPE_…). */
  custom_metrics?: Array<{
    type: string;
    name: string;
    input_columns: string[];
    definition: string;
    output_data_type: string;
  }>;
  schedule?: { quartz_cron_expression: string; timezone_id: string };
}

/** What Unity Catalog says of a table beyond its id: columns, properties, owner. */
export interface TableDetails {
  columns: Array<{ name: string; type_name: string }>;
  properties: Record<string, string>;
  owner?: string;
  comment?: string;
}

export interface WorkspaceState {
  endpoints: Map<string, Endpoint>;
  /** Keyed by full name catalog.schema.model (lower-case). */
  models: Map<string, RegisteredModel>;
  jobs: Map<number, Job>;
  runs: Map<number, JobRun>;
  /** Runs of deployment jobs (their ids share the run counter). */
  deployment_runs: Map<number, DeploymentRunState>;
  /** MLflow runs by their (hex) id. */
  mlflow_runs: Map<string, MlflowRun>;
  /** Keyed by monitored table full name (lower-case). */
  monitors: Map<string, Monitor>;
  /** Table full name (lower-case) → table UUID, for the data-quality API's object ids. */
  tables: Map<string, string>;
  /** Columns and properties of the tables that have them (lower-case full name). */
  table_details: Map<string, TableDetails>;
  /** Schema full name `catalog.schema` (lower-case) → schema UUID. */
  schemas: Map<string, string>;
  counters: { endpoint: number; run: number; refresh: number };
  /**
   * Twin-only: how the data-quality API (/api/data-quality/v1) answers. Defaults to 'enabled';
   * the others make it answer 501 NOT_IMPLEMENTED or FEATURE_DISABLED, as in workspaces without
   * the preview.
   */
  data_quality_api?: 'enabled' | 'not_implemented' | 'feature_disabled';
  /** Lakebase Provisioned instances whose credentials the twin mints, by name. */
  database_instances?: Set<string>;
  /** Lakebase Autoscaling endpoints (projects/…/branches/…/endpoints/…) whose credentials it mints. */
  postgres_endpoints?: Set<string>;
}

export function emptyState(): WorkspaceState {
  return {
    endpoints: new Map(),
    models: new Map(),
    jobs: new Map(),
    runs: new Map(),
    deployment_runs: new Map(),
    mlflow_runs: new Map(),
    monitors: new Map(),
    tables: new Map(),
    table_details: new Map(),
    schemas: new Map(),
    counters: { endpoint: 0, run: 0, refresh: 0 },
  };
}

export const fullModelName = (m: RegisteredModel): string => `${m.catalog_name}.${m.schema_name}.${m.name}`;

/**
 * A registered model with the given versions (READY unless they say otherwise), for tests and
 * benches that want a small workspace of their own.
 *
 * @example state.models.set('main.ml.churn', registeredModel('main.ml.churn', [{ version: 1 }]));
 */
export function registeredModel(
  fullName: string,
  versions: Array<Partial<ModelVersion> & { version: number }>,
  { by = 'ml-team@example.com', at = Date.parse('2026-02-01T00:00:00Z') } = {},
): RegisteredModel {
  const [catalog_name = '', schema_name = '', name = ''] = fullName.split('.');
  return {
    catalog_name,
    schema_name,
    name,
    owner: by,
    created_at: at,
    created_by: by,
    updated_at: at,
    updated_by: by,
    aliases: new Map(),
    versions: new Map(
      versions.map((v) => [
        v.version,
        {
          status: 'READY',
          source: `runs:/r${v.version}/model`,
          created_at: at,
          created_by: by,
          updated_at: at,
          updated_by: by,
          ...v,
        },
      ]),
    ),
  };
}
