import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import type {
  MetricTables,
  MonitorApi,
  MonitorInfo,
  MonitorRefresh,
  MonitorSpec,
  Monitors,
} from '../domain/ports/monitors.js';
import { DatabricksApiError, type DatabricksHttp, seg } from './http.js';

const tableSchema = z.looseObject({ table_id: z.string(), full_name: z.string().nullish() });

const granularitiesSchema = z.array(z.string()).nullish();

const dqMonitorSchema = z.looseObject({
  data_profiling_config: z
    .looseObject({
      profile_metrics_table_name: z.string().nullish(),
      drift_metrics_table_name: z.string().nullish(),
      status: z.string().nullish(),
      dashboard_id: z.string().nullish(),
      latest_monitor_failure_message: z.string().nullish(),
      inference_log: z
        .looseObject({
          model_id_column: z.string().nullish(),
          prediction_column: z.string().nullish(),
          label_column: z.string().nullish(),
          timestamp_column: z.string().nullish(),
          granularities: granularitiesSchema,
        })
        .nullish(),
      time_series: z
        .looseObject({ timestamp_column: z.string().nullish(), granularities: granularitiesSchema })
        .nullish(),
    })
    .nullish(),
});

const legacyMonitorSchema = z.looseObject({
  profile_metrics_table_name: z.string().nullish(),
  drift_metrics_table_name: z.string().nullish(),
  status: z.string().nullish(),
  dashboard_id: z.string().nullish(),
  latest_monitor_failure_msg: z.string().nullish(),
  inference_log: z
    .looseObject({
      model_id_col: z.string().nullish(),
      prediction_col: z.string().nullish(),
      label_col: z.string().nullish(),
      timestamp_col: z.string().nullish(),
      granularities: granularitiesSchema,
    })
    .nullish(),
  time_series: z
    .looseObject({ timestamp_col: z.string().nullish(), granularities: granularitiesSchema })
    .nullish(),
});

const refreshSchema = z.looseObject({
  refresh_id: z.union([z.number(), z.string()]).transform(String),
  state: z.string(),
  trigger: z.string().nullish(),
  start_time_ms: z.coerce.number().nullish(),
  end_time_ms: z.coerce.number().nullish(),
  message: z.string().nullish(),
});

const refreshListSchema = z.looseObject({
  refreshes: z.array(refreshSchema).nullish(),
  next_page_token: z.string().nullish(),
});

const schemaInfoSchema = z.looseObject({ schema_id: z.string() });

const UC_TABLES = '/api/2.1/unity-catalog/tables';
const UC_SCHEMAS = '/api/2.1/unity-catalog/schemas';
const DQ_CREATE = '/api/data-quality/v1/monitors';
const DQ_MONITORS = '/api/data-quality/v1/monitors/table';
const ACTIVE = new Set(['PENDING', 'RUNNING']);
const MAX_PAGES = 20;

type Located =
  | { api: 'data-quality'; tableId: string; tables: MetricTables }
  | { api: 'legacy'; tables: MetricTables };

/**
 * Turns a data-quality granularity enum into the metric tables' spelling.
 *
 * @example granularityText('AGGREGATION_GRANULARITY_1_DAY') // '1 day'
 */
export function granularityText(g: string): string {
  const m = /^(?:AGGREGATION_GRANULARITY_)?(\d+)_([A-Z]+?)S?$/.exec(g);
  if (!m) return g;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function checkTableName(table: string): string {
  const name = table.trim();
  const parts = name.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw new UserError('invalid_table_name', { table: name });
  }
  return name;
}

/** The data-quality API is in Public Preview: a workspace without it answers one of these. */
function dataQualityUnavailable(e: unknown): boolean {
  if (!(e instanceof DatabricksApiError)) return false;
  return (
    e.status === 404 ||
    e.status === 501 ||
    e.errorCode === 'NOT_IMPLEMENTED' ||
    e.errorCode === 'FEATURE_DISABLED' ||
    e.errorCode === 'ENDPOINT_NOT_FOUND'
  );
}

const isNotFound = (e: unknown): boolean => e instanceof DatabricksApiError && e.status === 404;

/** `{ key: value }` when the value is there, else `{}`. */
const opt = <K extends string>(key: K, value: string | null | undefined): { [P in K]?: string } =>
  (value ? { [key]: value } : {}) as { [P in K]?: string };

/** Refresh paths need only the API and the table id; the metric tables do not matter there. */
const placeholderTables = (api: MonitorApi): MetricTables => ({ profileTable: '', driftTable: '', api });

function toRefresh(r: z.infer<typeof refreshSchema>): MonitorRefresh {
  return {
    refreshId: r.refresh_id,
    state: r.state.replace(/^MONITOR_REFRESH_STATE_/, ''),
    ...(r.trigger ? { trigger: r.trigger.replace(/^MONITOR_REFRESH_TRIGGER_/, '') } : {}),
    ...(r.start_time_ms ? { startedAt: new Date(r.start_time_ms) } : {}),
    ...(r.end_time_ms ? { endedAt: new Date(r.end_time_ms) } : {}),
    ...(r.message ? { message: r.message } : {}),
  };
}

function metricTables(
  table: string,
  api: MonitorApi,
  found: {
    profile?: string | null | undefined;
    drift?: string | null | undefined;
    status?: string | null | undefined;
    modelId?: string | null | undefined;
    prediction?: string | null | undefined;
    label?: string | null | undefined;
    timestamp?: string | null | undefined;
    granularities?: string[] | null | undefined;
  },
): MetricTables {
  if (!found.profile || !found.drift) {
    throw new UserError('monitor_not_ready', {
      table,
      ...(found.status != null ? { status: found.status } : {}),
    });
  }
  return {
    profileTable: found.profile,
    driftTable: found.drift,
    api,
    ...(found.modelId ? { modelIdColumn: found.modelId } : {}),
    ...(found.prediction ? { predictionColumn: found.prediction } : {}),
    ...(found.label ? { labelColumn: found.label } : {}),
    ...(found.timestamp ? { timestampColumn: found.timestamp } : {}),
    ...(found.granularities?.length ? { granularities: found.granularities.map(granularityText) } : {}),
  };
}

/**
 * '1 day' → 'AGGREGATION_GRANULARITY_1_DAY', the data-quality API's enum.
 *
 * @example granularityEnum('30 minutes') // 'AGGREGATION_GRANULARITY_30_MINUTES'
 */
export function granularityEnum(g: string): string {
  return `AGGREGATION_GRANULARITY_${g.trim().replace(/\s+/g, '_').toUpperCase()}`;
}

/** Spark StructField JSON, as a string: how both APIs take a custom metric's output type. */
const structField = (name: string, type: string): string =>
  JSON.stringify({ name, type, nullable: true, metadata: {} });

const CUSTOM_TYPE = { aggregate: 'AGGREGATE', derived: 'DERIVED', drift: 'DRIFT' } as const;

/** The data-quality API's create body (reference round 2 §2.1): the bare Monitor, ids not names. */
export function dataQualityMonitorBody(spec: MonitorSpec, ids: { tableId: string; schemaId: string }) {
  return {
    object_type: 'table',
    object_id: ids.tableId,
    data_profiling_config: {
      output_schema_id: ids.schemaId,
      inference_log: {
        problem_type:
          spec.problemType === 'regression'
            ? 'INFERENCE_PROBLEM_TYPE_REGRESSION'
            : 'INFERENCE_PROBLEM_TYPE_CLASSIFICATION',
        prediction_column: spec.predictionColumn,
        ...(spec.labelColumn ? { label_column: spec.labelColumn } : {}),
        timestamp_column: spec.timestampColumn,
        model_id_column: spec.modelIdColumn,
        granularities: spec.granularities.map(granularityEnum),
      },
      ...(spec.slicingExprs.length > 0 ? { slicing_exprs: spec.slicingExprs } : {}),
      ...(spec.baselineTable ? { baseline_table_name: spec.baselineTable } : {}),
      ...(spec.customMetrics.length > 0
        ? {
            custom_metrics: spec.customMetrics.map((m) => ({
              type: `DATA_PROFILING_CUSTOM_METRIC_TYPE_${CUSTOM_TYPE[m.type]}`,
              name: m.name,
              input_columns: m.inputColumns,
              definition: m.definition,
              output_data_type: structField(m.name, m.outputType),
            })),
          }
        : {}),
      ...(spec.refreshSchedule
        ? {
            schedule: {
              quartz_cron_expression: spec.refreshSchedule.quartz,
              timezone_id: spec.refreshSchedule.timezone,
            },
          }
        : {}),
    },
  };
}

/** The legacy quality_monitors create body (`POST /tables/{name}/monitor`), as the reference sends it. */
export function legacyMonitorBody(spec: MonitorSpec) {
  const [catalog = '', schema = '', name = ''] = spec.table.split('.');
  return {
    assets_dir: `/Shared/modelgate/monitors/${catalog}.${schema}.${name}`,
    output_schema_name: spec.outputSchema,
    inference_log: {
      problem_type:
        spec.problemType === 'regression' ? 'PROBLEM_TYPE_REGRESSION' : 'PROBLEM_TYPE_CLASSIFICATION',
      prediction_col: spec.predictionColumn,
      ...(spec.labelColumn ? { label_col: spec.labelColumn } : {}),
      timestamp_col: spec.timestampColumn,
      model_id_col: spec.modelIdColumn,
      granularities: spec.granularities,
    },
    ...(spec.slicingExprs.length > 0 ? { slicing_exprs: spec.slicingExprs } : {}),
    ...(spec.baselineTable ? { baseline_table_name: spec.baselineTable } : {}),
    ...(spec.customMetrics.length > 0
      ? {
          custom_metrics: spec.customMetrics.map((m) => ({
            type: `CUSTOM_METRIC_TYPE_${CUSTOM_TYPE[m.type]}`,
            name: m.name,
            input_columns: m.inputColumns,
            definition: m.definition,
            output_data_type: structField('output', m.outputType),
          })),
        }
      : {}),
    ...(spec.refreshSchedule
      ? {
          schedule: {
            quartz_cron_expression: spec.refreshSchedule.quartz,
            timezone_id: spec.refreshSchedule.timezone,
          },
        }
      : {}),
  };
}

/** Either API's status, prefix dropped: MONITOR_STATUS_ACTIVE / DATA_PROFILING_STATUS_ACTIVE → ACTIVE. */
const statusText = (s: string | null | undefined): string | undefined =>
  s ? s.replace(/^(MONITOR_STATUS_|DATA_PROFILING_STATUS_)/, '') : undefined;

/**
 * Data-profiling monitors: asks the data-quality API first (it needs the table's UUID) and falls
 * back to the legacy quality_monitors API when the workspace lacks it or it does not know the
 * monitor. Refresh POSTs are never retried (each call queues another refresh).
 *
 * @example
 * const monitors = createMonitorsClient(http);
 * const { profileTable, driftTable } = await monitors.findMetricTables('acme.mlops.churn_inference');
 */
export function createMonitorsClient(http: DatabricksHttp): Monitors {
  async function locate(input: string): Promise<Located> {
    const table = checkTableName(input);
    let tableId: string;
    try {
      tableId = (
        await http.request({ method: 'GET', path: `${UC_TABLES}/${seg(table)}`, schema: tableSchema })
      ).table_id;
    } catch (e) {
      if (isNotFound(e)) {
        throw new UserError('table_not_found', { table });
      }
      throw e;
    }

    try {
      const m = await http.request({
        method: 'GET',
        path: `${DQ_MONITORS}/${seg(tableId)}`,
        schema: dqMonitorSchema,
      });
      const c = m.data_profiling_config;
      if (c) {
        const log = c.inference_log;
        const ts = c.time_series;
        return {
          api: 'data-quality',
          tableId,
          tables: metricTables(table, 'data-quality', {
            profile: c.profile_metrics_table_name,
            drift: c.drift_metrics_table_name,
            status: c.status,
            modelId: log?.model_id_column,
            prediction: log?.prediction_column,
            label: log?.label_column,
            timestamp: log?.timestamp_column ?? ts?.timestamp_column,
            granularities: log?.granularities ?? ts?.granularities,
          }),
        };
      }
    } catch (e) {
      if (!dataQualityUnavailable(e)) throw e;
    }

    try {
      const m = await http.request({
        method: 'GET',
        path: `${UC_TABLES}/${seg(table)}/monitor`,
        schema: legacyMonitorSchema,
      });
      const log = m.inference_log;
      const ts = m.time_series;
      return {
        api: 'legacy',
        tables: metricTables(table, 'legacy', {
          profile: m.profile_metrics_table_name,
          drift: m.drift_metrics_table_name,
          status: m.status,
          modelId: log?.model_id_col,
          prediction: log?.prediction_col,
          label: log?.label_col,
          timestamp: log?.timestamp_col ?? ts?.timestamp_col,
          granularities: log?.granularities ?? ts?.granularities,
        }),
      };
    } catch (e) {
      if (isNotFound(e)) {
        throw new UserError('monitor_not_found', { table });
      }
      throw e;
    }
  }

  const refreshesPath = (table: string, at: Located) =>
    at.api === 'data-quality'
      ? `${DQ_MONITORS}/${seg(at.tableId)}/refreshes`
      : `${UC_TABLES}/${seg(table)}/monitor/refreshes`;

  async function listRefreshes(table: string, at: Located): Promise<MonitorRefresh[]> {
    const out: MonitorRefresh[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await http.request({
        method: 'GET',
        path: refreshesPath(table, at),
        query: { page_token: pageToken },
        schema: refreshListSchema,
      });
      out.push(...(res.refreshes ?? []).map(toRefresh));
      if (!res.next_page_token) break;
      pageToken = res.next_page_token;
    }
    return out;
  }

  async function tableIdOf(table: string): Promise<string> {
    try {
      return (await http.request({ method: 'GET', path: `${UC_TABLES}/${seg(table)}`, schema: tableSchema }))
        .table_id;
    } catch (e) {
      if (isNotFound(e)) throw new UserError('table_not_found', { table });
      throw e;
    }
  }

  /** The monitor by either API, without its refreshes; undefined when there is none. */
  async function read(table: string): Promise<{ info: MonitorInfo; at: Located } | undefined> {
    const tableId = await tableIdOf(table);
    try {
      const m = await http.request({
        method: 'GET',
        path: `${DQ_MONITORS}/${seg(tableId)}`,
        schema: dqMonitorSchema,
      });
      const c = m.data_profiling_config;
      if (c) {
        const info: MonitorInfo = {
          table,
          api: 'data-quality',
          ...opt('status', statusText(c.status)),
          ...opt('profileTable', c.profile_metrics_table_name),
          ...opt('driftTable', c.drift_metrics_table_name),
          ...opt('dashboardId', c.dashboard_id),
          ...opt('failureMessage', c.latest_monitor_failure_message),
        };
        return { info, at: { api: 'data-quality', tableId, tables: placeholderTables('data-quality') } };
      }
    } catch (e) {
      if (!dataQualityUnavailable(e)) throw e;
    }
    try {
      const m = await http.request({
        method: 'GET',
        path: `${UC_TABLES}/${seg(table)}/monitor`,
        schema: legacyMonitorSchema,
      });
      const info: MonitorInfo = {
        table,
        api: 'legacy',
        ...opt('status', statusText(m.status)),
        ...opt('profileTable', m.profile_metrics_table_name),
        ...opt('driftTable', m.drift_metrics_table_name),
        ...opt('dashboardId', m.dashboard_id),
        ...opt('failureMessage', m.latest_monitor_failure_msg),
      };
      return { info, at: { api: 'legacy', tables: placeholderTables('legacy') } };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async function createDataQuality(spec: MonitorSpec, tableId: string): Promise<void> {
    let schemaId: string;
    try {
      schemaId = (
        await http.request({
          method: 'GET',
          path: `${UC_SCHEMAS}/${seg(spec.outputSchema)}`,
          schema: schemaInfoSchema,
        })
      ).schema_id;
    } catch (e) {
      if (isNotFound(e)) throw new UserError('table_not_found', { table: spec.outputSchema });
      throw e;
    }
    await http.request({
      method: 'POST',
      path: DQ_CREATE,
      body: dataQualityMonitorBody(spec, { tableId, schemaId }),
      idempotent: false,
      schema: z.unknown(),
    });
  }

  return {
    async describeMonitor(monitoredTable) {
      const table = checkTableName(monitoredTable);
      const found = await read(table);
      if (!found) return undefined;
      const refreshes = await listRefreshes(table, found.at);
      const newest = [...refreshes].sort(
        (a, b) =>
          (b.startedAt?.getTime() ?? 0) - (a.startedAt?.getTime() ?? 0) ||
          Number(b.refreshId) - Number(a.refreshId),
      )[0];
      return { ...found.info, ...(newest ? { lastRefresh: newest } : {}) };
    },

    async createMonitor(spec) {
      const table = checkTableName(spec.table);
      const tableId = await tableIdOf(table);
      let api: MonitorApi = 'data-quality';
      try {
        await createDataQuality(spec, tableId);
      } catch (e) {
        if (!dataQualityUnavailable(e)) throw e;
        api = 'legacy';
        await http.request({
          method: 'POST',
          path: `${UC_TABLES}/${seg(table)}/monitor`,
          body: legacyMonitorBody(spec),
          idempotent: false,
          schema: z.unknown(),
        });
      }
      const found = await read(table);
      return found?.info ?? { table, api };
    },

    async findMetricTables(monitoredTable) {
      return (await locate(monitoredTable)).tables;
    },

    async refresh(monitoredTable) {
      const table = checkTableName(monitoredTable);
      const at = await locate(table);
      const running = (await listRefreshes(table, at)).find((r) => ACTIVE.has(r.state));
      if (running) return { refresh: running, started: false };
      const created = await http.request({
        method: 'POST',
        path: refreshesPath(table, at),
        body: at.api === 'data-quality' ? { object_type: 'table', object_id: at.tableId } : {},
        idempotent: false,
        schema: refreshSchema,
      });
      return { refresh: toRefresh(created), started: true };
    },

    async getRefresh(monitoredTable, refreshId) {
      const table = checkTableName(monitoredTable);
      const at = await locate(table);
      try {
        const r = await http.request({
          method: 'GET',
          path: `${refreshesPath(table, at)}/${seg(refreshId)}`,
          schema: refreshSchema,
        });
        return toRefresh(r);
      } catch (e) {
        if (isNotFound(e)) {
          throw new UserError('refresh_not_found', { table, refreshId });
        }
        throw e;
      }
    },
  };
}
