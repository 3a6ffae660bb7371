/**
 * The data-quality monitors port: where a monitor writes its metric tables, and its refreshes.
 * The adapter is databricks/monitors.ts.
 */
export type MonitorApi = 'data-quality' | 'legacy';

/** Where a monitor writes its metrics, and the columns the bot's queries need. */
export interface MetricTables {
  profileTable: string;
  driftTable: string;
  /** InferenceLog monitors only; the metric tables have a column of this name. */
  modelIdColumn?: string;
  predictionColumn?: string;
  labelColumn?: string;
  timestampColumn?: string;
  /** In the metric tables' spelling, e.g. '1 day'. */
  granularities?: string[];
  /** Which API answered; refreshes go through the same one. */
  api: MonitorApi;
}

export type RefreshState =
  | 'PENDING'
  | 'RUNNING'
  | 'SUCCESS'
  | 'FAILED'
  | 'CANCELED'
  | 'UNKNOWN'
  | (string & {});

export interface MonitorRefresh {
  /** An int64 on the wire; kept as text so no precision is lost. */
  refreshId: string;
  /** Same spelling for both APIs (the data-quality prefix MONITOR_REFRESH_STATE_ is dropped). */
  state: RefreshState;
  trigger?: string;
  startedAt?: Date;
  endedAt?: Date;
  message?: string;
}

/**
 * An inference-log monitor to create, in the policy's API-neutral spelling (granularities as the
 * metric tables write them, '1 day'); the adapter turns it into either API's body.
 */
export interface MonitorSpec {
  table: string;
  problemType: 'classification' | 'regression';
  predictionColumn: string;
  labelColumn?: string;
  timestampColumn: string;
  modelIdColumn: string;
  granularities: string[];
  slicingExprs: string[];
  baselineTable?: string;
  /** `catalog.schema` the metric tables go to. */
  outputSchema: string;
  customMetrics: Array<{
    name: string;
    type: 'aggregate' | 'derived' | 'drift';
    inputColumns: string[];
    definition: string;
    /** Spark type name of the value, e.g. 'double'. */
    outputType: string;
  }>;
  refreshSchedule?: { quartz: string; timezone: string };
}

/** A monitor as `/mlops monitor status` shows it. */
export interface MonitorInfo {
  table: string;
  api: MonitorApi;
  /** e.g. ACTIVE, PENDING, ERROR, FAILED (either API's prefix dropped). */
  status?: string;
  profileTable?: string;
  driftTable?: string;
  dashboardId?: string;
  failureMessage?: string;
  /** The newest refresh, when there is one. */
  lastRefresh?: MonitorRefresh;
}

export interface Monitors {
  /** The monitor on a table, or undefined when it has none. Throws table_not_found for no table. */
  describeMonitor(monitoredTable: string): Promise<MonitorInfo | undefined>;
  /**
   * Creates the monitor: the data-quality API, or the legacy one where the workspace lacks it.
   * Never retried (a repeat would be refused as existing); the caller settles a lost answer by
   * reading `describeMonitor`.
   */
  createMonitor(spec: MonitorSpec): Promise<MonitorInfo>;
  findMetricTables(monitoredTable: string): Promise<MetricTables>;
  /**
   * Starts a refresh unless one is already PENDING or RUNNING, in which case that one is returned
   * with `started: false`.
   */
  refresh(monitoredTable: string): Promise<{ refresh: MonitorRefresh; started: boolean }>;
  getRefresh(monitoredTable: string, refreshId: string): Promise<MonitorRefresh>;
}
