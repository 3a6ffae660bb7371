/**
 * The read step of a drift check: everything that can fail because of Databricks. Refreshes the
 * monitor first when asked (waiting through the shared `poll`, so shutdown ends the wait), finds the
 * metric tables and the model ids, and reads the windows needed with one query per metric table:
 * the new ones since the last complete window processed, plus the chart's history.
 */

import { UserError } from '../domain/errors.js';
import type { MonitorRefresh } from '../domain/ports/monitors.js';
import { poll } from '../lib/poll.js';
import { buildMetricQuery, type MetricRow, toWindows } from './queries.js';
import { type MetricWindow, termsOf } from './rules.js';
import type { DriftAlert } from './state-store.js';
import type { DriftCheckDeps, WatchedMonitor } from './types.js';

const MINUTE = 60_000;
const GRANULARITY_MS: Record<string, number> = {
  '5 minutes': 5 * MINUTE,
  '30 minutes': 30 * MINUTE,
  '1 hour': 60 * MINUTE,
  '1 day': 1440 * MINUTE,
  '1 week': 7 * 1440 * MINUTE,
  '2 weeks': 14 * 1440 * MINUTE,
  '3 weeks': 21 * 1440 * MINUTE,
  '4 weeks': 28 * 1440 * MINUTE,
  '1 month': 31 * 1440 * MINUTE,
  '1 year': 366 * 1440 * MINUTE,
};
/** Catch-up never reads further back than this many windows. */
const MAX_CATCH_UP_WINDOWS = 366;

/**
 * The window length of a granularity (months and years rounded up: only used to bound reads).
 *
 * @example granularityMs('1 day') // 86400000
 */
export function granularityMs(granularity: string): number {
  return GRANULARITY_MS[granularity] ?? 1440 * MINUTE;
}

/**
 * The first window start judged again at a check (late labels, a monitor refresh): `recheck`
 * windows before the one in progress.
 *
 * @example recheckFrom({ now: Date.parse('2026-11-20T13:00Z'), granularity: '1 day', recheck: 7 }) // 2026-11-13
 */
export function recheckFrom(input: { now: number; granularity: string; recheck: number }): number {
  const gran = granularityMs(input.granularity);
  return Math.floor(input.now / gran) * gran - input.recheck * gran;
}

/**
 * The first window start to read: the chart's history (one spare window for calendar
 * granularities) and the windows judged again, or further back to catch up after downtime, never
 * more than 366 windows back.
 *
 * @example readSince({ now, granularity: '1 day', history: 30, progress: [undefined] }) // 30 windows back
 */
export function readSince(input: {
  now: number;
  granularity: string;
  history: number;
  /** Finished windows judged again (recheckWindows); 0 by default. */
  recheck?: number;
  progress: readonly (number | undefined)[];
}): number {
  const gran = granularityMs(input.granularity);
  const current = Math.floor(input.now / gran) * gran;
  const historyFrom = current - Math.max(input.history, input.recheck ?? 0) * gran;
  const catchUp = input.progress.some((p) => p === undefined)
    ? historyFrom
    : Math.min(...input.progress.map((p) => (p as number) + gran));
  return Math.max(Math.min(historyFrom, catchUp), current - MAX_CATCH_UP_WINDOWS * gran);
}

/** What a successful read gives the decision. */
export interface MonitorRead {
  modelIds: string[];
  /** Windows per model id, oldest first. */
  windows: Map<string, MetricWindow[]>;
  /** Last complete window processed, per model id (absent: never). */
  progress: Map<string, number>;
  /** The open alerts of this monitor's rules and model ids. */
  openAlerts: DriftAlert[];
  /** Finished windows from this start on are judged again (late labels, a monitor refresh). */
  recheckFrom: number;
  /** Per model id and rule, the windows read that an alert has reported (never again). */
  reported: Map<string, Map<string, Set<number>>>;
  queries: number;
  rowsFetched: number;
  since: Date;
  refreshNote?: string;
}

interface Located {
  profileTable: string;
  driftTable: string;
  modelIdColumn: string;
}

async function locate(monitor: WatchedMonitor, deps: DriftCheckDeps): Promise<Located> {
  const c = monitor.config;
  if (c.profileTable && c.driftTable) {
    return {
      profileTable: c.profileTable,
      driftTable: c.driftTable,
      modelIdColumn: c.modelIdColumn ?? 'model_version',
    };
  }
  const info = await deps.monitors.findMetricTables(c.table!);
  if (info.granularities && !info.granularities.includes(c.granularity)) {
    throw new UserError('granularity_not_monitored', {
      table: c.table!,
      granularity: c.granularity,
      granularities: info.granularities,
      monitor: monitor.name,
    });
  }
  return {
    profileTable: info.profileTable,
    driftTable: info.driftTable,
    modelIdColumn: c.modelIdColumn ?? info.modelIdColumn ?? 'model_version',
  };
}

async function modelIdsOf(monitor: WatchedMonitor, deps: DriftCheckDeps): Promise<string[]> {
  const ids = monitor.config.modelIds;
  if (Array.isArray(ids)) return [...new Set(ids)];
  const endpoint = await deps.serving.get(ids.endpoint);
  const versions = (endpoint.current?.servedVersions ?? [])
    .filter((v) => v.modelName.toLowerCase() === monitor.model.toLowerCase())
    .map((v) => v.modelVersion);
  if (versions.length === 0) {
    throw new UserError('nothing_served', {
      endpoint: ids.endpoint,
      model: monitor.model,
      monitor: monitor.name,
    });
  }
  return [...new Set(versions)];
}

/** Refreshes the monitor and waits for it; a note when the tables are read as they were. */
async function refreshFirst(monitor: WatchedMonitor, deps: DriftCheckDeps): Promise<string | undefined> {
  const table = monitor.config.table;
  if (!monitor.config.refreshFirst || !table) return undefined;
  const wait = { initialDelayMs: 5_000, maxDelayMs: 60_000, timeoutMs: 20 * MINUTE, ...deps.refreshWait };
  let started: MonitorRefresh | undefined;
  const r = await poll(
    async () => {
      const refresh = started
        ? await deps.monitors.getRefresh(table, started.refreshId)
        : (await deps.monitors.refresh(table)).refresh;
      started ??= refresh;
      const busy = refresh.state === 'PENDING' || refresh.state === 'RUNNING';
      return busy ? { done: false, seen: refresh } : { done: true, value: refresh };
    },
    { clock: deps.clock, signal: deps.signal, factor: 2, ...wait },
  );
  if (r.status === 'timed_out') {
    return `the monitor refresh ${r.seen.refreshId} was still ${r.seen.state} after ${Math.round(wait.timeoutMs / MINUTE)} min; read the tables as they were`;
  }
  const refresh = r.value;
  return refresh.state === 'SUCCESS'
    ? undefined
    : `the monitor refresh ended ${refresh.state}${refresh.message ? ` (${refresh.message})` : ''}; read the tables as they were`;
}

/**
 * Reads what one check of `monitor` at `now` needs; throws what Databricks (or the policy) says.
 *
 * @example const read = await readMonitor(deps, watched.churn, Date.now()); // { modelIds: ['*'], queries: 2, … }
 */
export async function readMonitor(
  deps: DriftCheckDeps,
  monitor: WatchedMonitor,
  now: number,
): Promise<MonitorRead> {
  const refreshNote = await refreshFirst(monitor, deps);
  const located = await locate(monitor, deps);
  const modelIds = await modelIdsOf(monitor, deps);

  const progress = new Map<string, number>();
  for (const id of modelIds) {
    const p = await deps.state.progress(monitor.name, id);
    if (p !== undefined) progress.set(id, p);
  }
  const since = readSince({
    now,
    granularity: monitor.config.granularity,
    history: monitor.config.history,
    recheck: monitor.config.recheckWindows,
    progress: modelIds.map((id) => progress.get(id)),
  });
  const recheck = recheckFrom({
    now,
    granularity: monitor.config.granularity,
    recheck: monitor.config.recheckWindows,
  });

  const terms = termsOf(monitor.rules);
  const base = {
    modelIdColumn: located.modelIdColumn,
    modelIds,
    granularity: monitor.config.granularity,
    since: new Date(since),
  };
  let queries = 0;
  const read = (kind: 'profile' | 'drift', table: string): Promise<MetricRow[]> => {
    const tableTerms = terms.filter((t) => t.table === kind);
    if (tableTerms.length === 0) return Promise.resolve([]);
    const q = buildMetricQuery(kind, { ...base, table, terms: tableTerms });
    queries++;
    return deps.warehouse.query(q.sql, q.params, q.rowSchema);
  };
  const [profileRows, driftRows] = await Promise.all([
    read('profile', located.profileTable),
    read('drift', located.driftTable),
  ]);

  const openAlerts = [];
  for (const id of modelIds) {
    for (const rule of monitor.rules) {
      const open = await deps.state.openAlert(monitor.name, rule.name, id);
      if (open) openAlerts.push(open);
    }
  }
  const reported = new Map<string, Map<string, Set<number>>>();
  for (const id of modelIds) reported.set(id, await deps.state.reportedWindows(monitor.name, id, since));
  return {
    modelIds,
    windows: toWindows(profileRows, driftRows),
    progress,
    openAlerts,
    recheckFrom: recheck,
    reported,
    queries,
    rowsFetched: profileRows.length + driftRows.length,
    since: new Date(since),
    ...(refreshNote ? { refreshNote } : {}),
  };
}
