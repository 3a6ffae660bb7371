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

export interface Monitors {
  findMetricTables(monitoredTable: string): Promise<MetricTables>;
  /**
   * Starts a refresh unless one is already PENDING or RUNNING, in which case that one is returned
   * with `started: false`.
   */
  refresh(monitoredTable: string): Promise<{ refresh: MonitorRefresh; started: boolean }>;
  getRefresh(monitoredTable: string, refreshId: string): Promise<MonitorRefresh>;
}
