import { randomUUID } from 'node:crypto';
import type { TwinContext } from './context.js';
import { fail, type Router } from './router.js';
import type { Monitor, MonitorRefresh, WorkspaceState } from './state.js';

/**
 * Tables and data-profiling monitors, reference §5: the UC tables GET (for `table_id`), the
 * data-quality API (`/api/data-quality/v1/monitors/table/{table_id}`, only for monitors with
 * `in_data_quality_api`) and the legacy quality_monitors API (`/tables/{name}/monitor`), which
 * knows every monitor. A refresh is PENDING for the twin's `jobQueueMs`, RUNNING for `jobRunMs`,
 * then SUCCESS (or the monitor's `next_refresh_outcome`); states settle when read.
 */

const TABLES = '/api/2.1/unity-catalog/tables';
const SCHEMAS = '/api/2.1/unity-catalog/schemas';
const DQ = '/api/data-quality/v1/monitors';
/** The legacy API keeps the last 25 refreshes. */
const LEGACY_REFRESH_LIMIT = 25;

function findTableId(state: WorkspaceState, fullName: string): string {
  const id = state.tables.get(fullName.toLowerCase());
  if (!id) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Table '${fullName}' does not exist.`);
  return id;
}

function legacyMonitor(state: WorkspaceState, table: string): Monitor {
  findTableId(state, table);
  const m = state.monitors.get(table.toLowerCase());
  if (!m) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Monitor for table '${table}' does not exist.`);
  return m;
}

function dataQualityEnabled(state: WorkspaceState): void {
  const api = state.data_quality_api ?? 'enabled';
  if (api === 'not_implemented')
    fail(501, 'NOT_IMPLEMENTED', 'This API is not implemented in this workspace.');
  if (api === 'feature_disabled') {
    fail(501, 'FEATURE_DISABLED', 'Data quality monitoring is not enabled for this workspace.');
  }
}

function dataQualityMonitor(state: WorkspaceState, objectType: string, objectId: string): Monitor {
  dataQualityEnabled(state);
  if (objectType !== 'table') {
    fail(
      400,
      'INVALID_PARAMETER_VALUE',
      `object_type '${objectType}' is not supported; use 'table' or 'schema'.`,
    );
  }
  const m = [...state.monitors.values()].find((x) => x.table_id === objectId && x.in_data_quality_api);
  if (!m)
    fail(
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Monitor for object_type 'table' and object_id '${objectId}' does not exist.`,
    );
  return m;
}

interface LegacyCreateBody {
  output_schema_name?: string;
  inference_log?: {
    problem_type?: string;
    prediction_col?: string;
    label_col?: string;
    timestamp_col?: string;
    model_id_col?: string;
    granularities?: string[];
  };
  slicing_exprs?: string[];
  baseline_table_name?: string;
  custom_metrics?: Monitor['custom_metrics'];
  schedule?: Monitor['schedule'];
}

interface DqCreateBody {
  object_type?: string;
  object_id?: string;
  data_profiling_config?: {
    output_schema_id?: string;
    inference_log?: {
      problem_type?: string;
      prediction_column?: string;
      label_column?: string;
      timestamp_column?: string;
      model_id_column?: string;
      granularities?: string[];
    };
    slicing_exprs?: string[];
    baseline_table_name?: string;
    custom_metrics?: Array<{
      type: string;
      name: string;
      input_columns: string[];
      definition: string;
      output_data_type: string;
    }>;
    schedule?: Monitor['schedule'];
  };
}

/** What a create asks for, in the twin's (legacy) spelling. */
type MonitorAsked = Omit<
  Monitor,
  | 'table_name'
  | 'table_id'
  | 'output_schema_id'
  | 'profile_metrics_table_name'
  | 'drift_metrics_table_name'
  | 'in_data_quality_api'
  | 'refreshes'
> & { output_schema_id?: string };

function fromLegacy(b: LegacyCreateBody): MonitorAsked {
  const log = b.inference_log;
  if (!b.output_schema_name) fail(400, 'INVALID_PARAMETER_VALUE', 'output_schema_name is required.');
  if (!log?.prediction_col || !log.timestamp_col || !log.model_id_col || !log.granularities?.length) {
    fail(
      400,
      'INVALID_PARAMETER_VALUE',
      'inference_log needs prediction_col, timestamp_col, model_id_col and granularities.',
    );
  }
  return {
    output_schema_name: b.output_schema_name,
    prediction_col: log.prediction_col,
    ...(log.label_col ? { label_col: log.label_col } : {}),
    timestamp_col: log.timestamp_col,
    model_id_col: log.model_id_col,
    granularities: log.granularities,
    problem_type:
      log.problem_type === 'PROBLEM_TYPE_REGRESSION'
        ? 'PROBLEM_TYPE_REGRESSION'
        : 'PROBLEM_TYPE_CLASSIFICATION',
    ...(b.slicing_exprs ? { slicing_exprs: b.slicing_exprs } : {}),
    ...(b.baseline_table_name ? { baseline_table_name: b.baseline_table_name } : {}),
    ...(b.custom_metrics ? { custom_metrics: b.custom_metrics } : {}),
    ...(b.schedule ? { schedule: b.schedule } : {}),
  };
}

/** 'AGGREGATION_GRANULARITY_1_DAY' → '1 day'. */
const granularityWords = (g: string): string => {
  const m = /^AGGREGATION_GRANULARITY_(\d+)_([A-Z]+?)S?$/.exec(g);
  if (!m) fail(400, 'INVALID_PARAMETER_VALUE', `Unknown granularity '${g}'.`);
  const n = Number(m[1]);
  return `${n} ${m[2]!.toLowerCase()}${n === 1 ? '' : 's'}`;
};

function fromDataQuality(
  c: NonNullable<DqCreateBody['data_profiling_config']>,
  schema: string,
): MonitorAsked {
  const log = c.inference_log;
  if (
    !log?.prediction_column ||
    !log.timestamp_column ||
    !log.model_id_column ||
    !log.granularities?.length
  ) {
    fail(
      400,
      'INVALID_PARAMETER_VALUE',
      'inference_log needs problem_type, prediction_column, timestamp_column, model_id_column and granularities.',
    );
  }
  return {
    output_schema_name: schema,
    ...(c.output_schema_id ? { output_schema_id: c.output_schema_id } : {}),
    prediction_col: log.prediction_column,
    ...(log.label_column ? { label_col: log.label_column } : {}),
    timestamp_col: log.timestamp_column,
    model_id_col: log.model_id_column,
    granularities: log.granularities.map(granularityWords),
    problem_type:
      log.problem_type === 'INFERENCE_PROBLEM_TYPE_REGRESSION'
        ? 'PROBLEM_TYPE_REGRESSION'
        : 'PROBLEM_TYPE_CLASSIFICATION',
    ...(c.slicing_exprs ? { slicing_exprs: c.slicing_exprs } : {}),
    ...(c.baseline_table_name ? { baseline_table_name: c.baseline_table_name } : {}),
    ...(c.custom_metrics
      ? {
          custom_metrics: c.custom_metrics.map((m) => ({
            ...m,
            type: m.type.replace(/^DATA_PROFILING_/, ''),
          })),
        }
      : {}),
    ...(c.schedule ? { schedule: c.schedule } : {}),
  };
}

/**
 * A new monitor, as Databricks makes one: refused when the table has one or lacks a named column
 * (for tables whose columns the twin knows), its metric tables named after the table in the
 * output schema, and a first refresh queued.
 */
function createMonitor(
  ctx: TwinContext,
  table: string,
  tableId: string,
  asked: MonitorAsked,
  viaDataQuality: boolean,
): Monitor {
  if (ctx.state.monitors.has(table)) {
    fail(409, 'RESOURCE_ALREADY_EXISTS', `Monitor for table '${table}' already exists.`);
  }
  const columns = ctx.state.table_details.get(table)?.columns.map((c) => c.name.toLowerCase());
  if (columns) {
    for (const col of [asked.prediction_col, asked.label_col, asked.timestamp_col, asked.model_id_col]) {
      if (col && !columns.includes(col.toLowerCase())) {
        fail(400, 'INVALID_PARAMETER_VALUE', `Column '${col}' does not exist in table '${table}'.`);
      }
    }
  }
  if (asked.baseline_table_name && !ctx.state.tables.has(asked.baseline_table_name.toLowerCase())) {
    fail(404, 'RESOURCE_DOES_NOT_EXIST', `Baseline table '${asked.baseline_table_name}' does not exist.`);
  }
  const schema = asked.output_schema_name.toLowerCase();
  const schemaId = asked.output_schema_id ?? ctx.state.schemas.get(schema);
  if (!schemaId) fail(404, 'SCHEMA_DOES_NOT_EXIST', `Schema '${schema}' does not exist.`);
  const short = table.split('.')[2]!;
  const m: Monitor = {
    ...asked,
    table_name: table,
    table_id: tableId,
    output_schema_name: schema,
    output_schema_id: schemaId,
    profile_metrics_table_name: `${schema}.${short}_profile_metrics`,
    drift_metrics_table_name: `${schema}.${short}_drift_metrics`,
    // Both APIs see every monitor, unless the workspace lacks the data-quality API altogether.
    in_data_quality_api: viaDataQuality || (ctx.state.data_quality_api ?? 'enabled') === 'enabled',
    created_at: ctx.clock.now(),
    refreshes: [],
  };
  for (const t of [m.profile_metrics_table_name, m.drift_metrics_table_name]) {
    if (!ctx.state.tables.has(t)) ctx.state.tables.set(t, randomUUID());
  }
  ctx.state.monitors.set(table, m);
  startRefresh(ctx, m, 'SCHEDULE');
  return m;
}

/** '1 day' → 'AGGREGATION_GRANULARITY_1_DAY'. */
const granularityEnum = (g: string): string =>
  `AGGREGATION_GRANULARITY_${g.trim().replace(/\s+/g, '_').toUpperCase()}`;

function settleRefresh(r: MonitorRefresh, now: number): MonitorRefresh {
  if (r.state === 'PENDING' && r.runs_at !== undefined && now >= r.runs_at) r.state = 'RUNNING';
  if (r.state === 'RUNNING' && r.settles_at !== undefined && now >= r.settles_at) {
    r.state = r.outcome ?? 'SUCCESS';
    r.end_time_ms = r.settles_at;
    if (r.state === 'FAILED') r.message = 'Refresh failed: the profiling query ran out of memory (twin).';
  }
  return r;
}

function settleAll(m: Monitor, now: number): MonitorRefresh[] {
  for (const r of m.refreshes) settleRefresh(r, now);
  return [...m.refreshes].sort((a, b) => b.start_time_ms - a.start_time_ms || b.refresh_id - a.refresh_id);
}

function findRefresh(m: Monitor, raw: string, now: number): MonitorRefresh {
  const r = m.refreshes.find((x) => String(x.refresh_id) === raw);
  if (!r)
    fail(
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Refresh ${raw} does not exist for the monitor on '${m.table_name}'.`,
    );
  return settleRefresh(r, now);
}

function startRefresh(
  ctx: TwinContext,
  m: Monitor,
  trigger: MonitorRefresh['trigger'] = 'MANUAL',
): MonitorRefresh {
  const now = ctx.clock.now();
  const refresh: MonitorRefresh = {
    refresh_id: ++ctx.state.counters.refresh,
    state: 'PENDING',
    trigger,
    start_time_ms: now,
    runs_at: now + ctx.jobQueueMs,
    settles_at: now + ctx.jobQueueMs + ctx.jobRunMs,
    outcome: m.next_refresh_outcome ?? 'SUCCESS',
  };
  m.refreshes.push(refresh);
  return refresh;
}

const legacyRefreshJson = (r: MonitorRefresh) => ({
  refresh_id: r.refresh_id,
  state: r.state,
  trigger: r.trigger,
  start_time_ms: r.start_time_ms,
  ...(r.end_time_ms !== undefined ? { end_time_ms: r.end_time_ms } : {}),
  ...(r.message ? { message: r.message } : {}),
});

const dqRefreshJson = (m: Monitor, r: MonitorRefresh) => ({
  object_type: 'table',
  object_id: m.table_id,
  refresh_id: r.refresh_id,
  state: `MONITOR_REFRESH_STATE_${r.state}`,
  trigger: `MONITOR_REFRESH_TRIGGER_${r.trigger}`,
  start_time_ms: r.start_time_ms,
  ...(r.end_time_ms !== undefined ? { end_time_ms: r.end_time_ms } : {}),
  ...(r.message ? { message: r.message } : {}),
});

const assetsDir = (m: Monitor) => `/Workspace/Shared/databricks_lakehouse_monitoring/${m.table_name}`;
const dashboardId = (m: Monitor) => `01ef${m.table_id.replace(/-/g, '').slice(0, 28)}`;

function legacyMonitorJson(m: Monitor) {
  return {
    table_name: m.table_name,
    status: 'MONITOR_STATUS_ACTIVE',
    monitor_version: 1,
    output_schema_name: m.output_schema_name,
    profile_metrics_table_name: m.profile_metrics_table_name,
    drift_metrics_table_name: m.drift_metrics_table_name,
    assets_dir: assetsDir(m),
    dashboard_id: dashboardId(m),
    inference_log: {
      problem_type: m.problem_type ?? 'PROBLEM_TYPE_CLASSIFICATION',
      prediction_col: m.prediction_col,
      ...(m.label_col ? { label_col: m.label_col } : {}),
      model_id_col: m.model_id_col,
      timestamp_col: m.timestamp_col,
      granularities: m.granularities,
    },
    ...(m.slicing_exprs ? { slicing_exprs: m.slicing_exprs } : {}),
    ...(m.baseline_table_name ? { baseline_table_name: m.baseline_table_name } : {}),
    ...(m.custom_metrics ? { custom_metrics: m.custom_metrics } : {}),
    ...(m.schedule ? { schedule: m.schedule } : {}),
  };
}

function dqMonitorJson(m: Monitor) {
  return {
    object_type: 'table',
    object_id: m.table_id,
    data_profiling_config: {
      output_schema_id: m.output_schema_id,
      assets_dir: assetsDir(m),
      inference_log: {
        problem_type:
          m.problem_type === 'PROBLEM_TYPE_REGRESSION'
            ? 'INFERENCE_PROBLEM_TYPE_REGRESSION'
            : 'INFERENCE_PROBLEM_TYPE_CLASSIFICATION',
        prediction_column: m.prediction_col,
        ...(m.label_col ? { label_column: m.label_col } : {}),
        model_id_column: m.model_id_col,
        timestamp_column: m.timestamp_col,
        granularities: m.granularities.map(granularityEnum),
      },
      ...(m.slicing_exprs ? { slicing_exprs: m.slicing_exprs } : {}),
      ...(m.baseline_table_name ? { baseline_table_name: m.baseline_table_name } : {}),
      ...(m.custom_metrics
        ? { custom_metrics: m.custom_metrics.map((c) => ({ ...c, type: `DATA_PROFILING_${c.type}` })) }
        : {}),
      ...(m.schedule ? { schedule: m.schedule } : {}),
      status: 'DATA_PROFILING_STATUS_ACTIVE',
      monitor_version: 1,
      dashboard_id: dashboardId(m),
      profile_metrics_table_name: m.profile_metrics_table_name,
      drift_metrics_table_name: m.drift_metrics_table_name,
      monitored_table_name: m.table_name,
    },
  };
}

/** Registers the table and monitor routes (both monitor APIs) on the twin. */
export function registerMonitorRoutes(router: Router, ctx: TwinContext): void {
  const now = () => ctx.clock.now();

  router.add('GET', `${TABLES}/:full_name`, (req) => {
    const fullName = req.params.full_name!.toLowerCase();
    const details = ctx.state.table_details.get(fullName);
    const parts = fullName.split('.');
    if (parts.length !== 3) fail(400, 'INVALID_PARAMETER_VALUE', `Invalid table full name '${fullName}'.`);
    const [catalog, schema, name] = parts as [string, string, string];
    return {
      body: {
        name,
        catalog_name: catalog,
        schema_name: schema,
        full_name: fullName,
        table_id: findTableId(ctx.state, fullName),
        table_type: 'MANAGED',
        data_source_format: 'DELTA',
        owner: details?.owner ?? 'mlops-admins',
        ...(details?.comment ? { comment: details.comment } : {}),
        ...(details
          ? {
              columns: details.columns.map((c, i) => ({
                name: c.name,
                type_name: c.type_name,
                type_text: c.type_name.toLowerCase(),
                position: i,
                nullable: true,
              })),
              properties: details.properties,
            }
          : {}),
      },
    };
  });

  router.add('GET', `${SCHEMAS}/:full_name`, (req) => {
    const fullName = req.params.full_name!.toLowerCase();
    const id = ctx.state.schemas.get(fullName);
    if (!id) fail(404, 'SCHEMA_DOES_NOT_EXIST', `Schema '${fullName}' does not exist.`);
    const [catalog_name, name] = fullName.split('.');
    return { body: { name, catalog_name, full_name: fullName, schema_id: id, owner: 'mlops-admins' } };
  });

  // Creating a monitor: either API, refused when the table has one already (both see every monitor).
  router.add('POST', `${TABLES}/:table/monitor`, (req) => {
    const table = req.params.table!.toLowerCase();
    const tableId = findTableId(ctx.state, table);
    const body = (req.body ?? {}) as LegacyCreateBody;
    const m = createMonitor(ctx, table, tableId, fromLegacy(body), false);
    return { body: legacyMonitorJson(m) };
  });
  router.add('POST', DQ, (req) => {
    dataQualityEnabled(ctx.state);
    const body = (req.body ?? {}) as DqCreateBody;
    if (body.object_type !== 'table' || typeof body.object_id !== 'string') {
      fail(
        400,
        'INVALID_PARAMETER_VALUE',
        'object_type (table) and object_id (the table UUID) are required.',
      );
    }
    const table = [...ctx.state.tables.entries()].find(([, id]) => id === body.object_id)?.[0];
    if (!table) fail(404, 'RESOURCE_DOES_NOT_EXIST', `Table with id '${body.object_id}' does not exist.`);
    const c = body.data_profiling_config;
    if (!c?.output_schema_id)
      fail(400, 'INVALID_PARAMETER_VALUE', 'data_profiling_config.output_schema_id is required.');
    const schema = [...ctx.state.schemas.entries()].find(([, id]) => id === c.output_schema_id)?.[0];
    if (!schema) fail(404, 'SCHEMA_DOES_NOT_EXIST', `Schema with id '${c.output_schema_id}' does not exist.`);
    const m = createMonitor(ctx, table, body.object_id, fromDataQuality(c, schema), true);
    return { body: dqMonitorJson(m) };
  });

  // Legacy quality_monitors API.
  router.add('GET', `${TABLES}/:table/monitor`, (req) => ({
    body: legacyMonitorJson(legacyMonitor(ctx.state, req.params.table!)),
  }));
  router.add('POST', `${TABLES}/:table/monitor/refreshes`, (req) => {
    const m = legacyMonitor(ctx.state, req.params.table!);
    return { body: legacyRefreshJson(startRefresh(ctx, m)) };
  });
  router.add('GET', `${TABLES}/:table/monitor/refreshes`, (req) => {
    const m = legacyMonitor(ctx.state, req.params.table!);
    return { body: { refreshes: settleAll(m, now()).slice(0, LEGACY_REFRESH_LIMIT).map(legacyRefreshJson) } };
  });
  router.add('GET', `${TABLES}/:table/monitor/refreshes/:refresh_id`, (req) => {
    const m = legacyMonitor(ctx.state, req.params.table!);
    return { body: legacyRefreshJson(findRefresh(m, req.params.refresh_id!, now())) };
  });
  router.add('POST', `${TABLES}/:table/monitor/refreshes/:refresh_id/cancel`, (req) => {
    const m = legacyMonitor(ctx.state, req.params.table!);
    const r = findRefresh(m, req.params.refresh_id!, now());
    if (r.state === 'PENDING' || r.state === 'RUNNING') {
      r.state = 'CANCELED';
      r.end_time_ms = now();
    }
    return { body: {} };
  });

  // Data-quality API: objects by type and UUID.
  router.add('GET', `${DQ}/:object_type/:object_id`, (req) => ({
    body: dqMonitorJson(dataQualityMonitor(ctx.state, req.params.object_type!, req.params.object_id!)),
  }));
  router.add('POST', `${DQ}/:object_type/:object_id/refreshes`, (req) => {
    const m = dataQualityMonitor(ctx.state, req.params.object_type!, req.params.object_id!);
    return { body: dqRefreshJson(m, startRefresh(ctx, m)) };
  });
  router.add('GET', `${DQ}/:object_type/:object_id/refreshes`, (req) => {
    const m = dataQualityMonitor(ctx.state, req.params.object_type!, req.params.object_id!);
    return { body: { refreshes: settleAll(m, now()).map((r) => dqRefreshJson(m, r)) } };
  });
  router.add('GET', `${DQ}/:object_type/:object_id/refreshes/:refresh_id`, (req) => {
    const m = dataQualityMonitor(ctx.state, req.params.object_type!, req.params.object_id!);
    return { body: dqRefreshJson(m, findRefresh(m, req.params.refresh_id!, now())) };
  });
}
