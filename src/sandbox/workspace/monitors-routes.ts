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

function dataQualityMonitor(state: WorkspaceState, objectType: string, objectId: string): Monitor {
  const api = state.data_quality_api ?? 'enabled';
  if (api === 'not_implemented')
    fail(501, 'NOT_IMPLEMENTED', 'This API is not implemented in this workspace.');
  if (api === 'feature_disabled') {
    fail(501, 'FEATURE_DISABLED', 'Data quality monitoring is not enabled for this workspace.');
  }
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

function startRefresh(ctx: TwinContext, m: Monitor): MonitorRefresh {
  const now = ctx.clock.now();
  const refresh: MonitorRefresh = {
    refresh_id: ++ctx.state.counters.refresh,
    state: 'PENDING',
    trigger: 'MANUAL',
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
        owner: 'mlops-admins',
      },
    };
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
