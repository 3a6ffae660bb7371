/**
 * Job: one drift check of one monitor at `now`. Reads the windows it needs (the new ones since the last
 * complete window it processed, plus the chart's history) with one query per metric table, evaluates
 * the rules per model id, and posts: a new alert per rule with new violating windows, a thread update
 * while that rule's alert is open, a recovery once the rule holds again. A check that cannot read is
 * reported once to the channel (reason and fix) until it works again. Never throws.
 *
 * Scheduling is wiring (drift/watch.ts); `/mlops drift` calls the same job with `report: true`, which
 * also posts the result of rules that had nothing new to say.
 */
import { buildDriftChart, chartAltText, type DriftChartInput } from '../charts/spec.js';
import { isUserError, UserError } from '../domain/errors.js';
import type { Monitors } from '../domain/ports/monitors.js';
import type { Serving } from '../domain/ports/serving.js';
import type { Warehouse } from '../domain/ports/warehouse.js';
import type { MessageRef } from '../domain/vocabulary.js';
import { type AlertView, buildAlertView, evaluateModel, type RuleEvaluation } from '../drift/alert-view.js';
import { buildMetricQuery, type MetricRow, toWindows } from '../drift/queries.js';
import { termsOf } from '../drift/rules.js';
import type { DriftAlert, DriftStateStore } from '../drift/state-store.js';
import type { CheckSummary, DriftPublisher, DriftViews, ReportRule, WatchedMonitor } from '../drift/types.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';

export interface DriftCheckDeps {
  warehouse: Warehouse;
  monitors: Pick<Monitors, 'findMetricTables' | 'refresh' | 'getRefresh'>;
  serving: Pick<Serving, 'get'>;
  state: DriftStateStore;
  publisher: DriftPublisher;
  views: DriftViews;
  clock: Clock;
  logger?: Logger;
  /** Start, ok and error reports (a log line, a monitoring check-in). */
  report?: (event: DriftCheckEvent) => void;
  /** Waiting for a monitor refresh (refreshFirst). */
  refreshWait?: { initialDelayMs?: number; maxDelayMs?: number; timeoutMs?: number };
}

export type DriftCheckEvent =
  | { kind: 'start'; monitor: string; at: number }
  | { kind: 'ok'; monitor: string; at: number; result: DriftCheckResult }
  | { kind: 'error'; monitor: string; at: number; error: unknown };

export interface DriftCheckOptions {
  /** Also post the result of rules with nothing new (healthy or not): `/mlops drift`. */
  report?: boolean;
  /** Where the report goes (default: the monitor's channel). */
  reportChannel?: string;
}

export interface DriftCheckResult extends CheckSummary {
  /** SQL statements issued (one per metric table in use). */
  queries: number;
  rowsFetched: number;
  /** First window start read. */
  since: Date;
  evaluations: RuleEvaluation[];
  /** Problems delivering to Slack (the check itself worked). */
  deliveryErrors: string[];
  refreshNote?: string;
}

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
    throw new UserError(
      'granularity_not_monitored',
      `The monitor on ${c.table} writes ${info.granularities.join(', ')} windows, not ${c.granularity}.`,
      `Set granularity to one of ${info.granularities.join(', ')} for monitor ${monitor.name} in the policy file.`,
    );
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
    throw new UserError(
      'nothing_served',
      `${ids.endpoint} serves no version of ${monitor.model}, so monitor ${monitor.name} has no model id to watch.`,
      `Deploy a version of ${monitor.model} there, or list the model ids (e.g. ["*"]) under modelIds.`,
    );
  }
  return [...new Set(versions)];
}

async function refreshFirst(monitor: WatchedMonitor, deps: DriftCheckDeps): Promise<string | undefined> {
  const table = monitor.config.table;
  if (!monitor.config.refreshFirst || !table) return undefined;
  const wait = {
    initialDelayMs: 5_000,
    maxDelayMs: 60_000,
    timeoutMs: 20 * MINUTE,
    ...deps.refreshWait,
  };
  let { refresh } = await deps.monitors.refresh(table);
  const deadline = deps.clock.now() + wait.timeoutMs;
  let delay = wait.initialDelayMs;
  while (refresh.state === 'PENDING' || refresh.state === 'RUNNING') {
    if (deps.clock.now() >= deadline) {
      return `the monitor refresh ${refresh.refreshId} was still ${refresh.state} after ${Math.round(wait.timeoutMs / MINUTE)} min; read the tables as they were`;
    }
    await deps.clock.sleep(delay);
    delay = Math.min(delay * 2, wait.maxDelayMs);
    refresh = await deps.monitors.getRefresh(table, refresh.refreshId);
  }
  return refresh.state === 'SUCCESS'
    ? undefined
    : `the monitor refresh ended ${refresh.state}${refresh.message ? ` (${refresh.message})` : ''}; read the tables as they were`;
}

/** What a failure says in Slack: a UserError's own words, or a generic line (details go to the log). */
function describeFailure(e: unknown): { code: string; message: string; hint?: string } {
  if (isUserError(e)) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  return {
    code: 'internal',
    message: 'The check stopped on an unexpected error.',
    hint: 'The bot log has the details; the check runs again on schedule.',
  };
}

/** The chart of one rule for one model id, over the history windows. */
function chartInput(monitor: WatchedMonitor, e: RuleEvaluation): DriftChartInput {
  const windows = e.history.map((v) => v.start);
  const first = e.history[0];
  const last = e.history[e.history.length - 1];
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return {
    title: `${monitor.name} · ${e.rule.name} · model id ${e.modelId}`,
    ...(first && last
      ? { subtitle: `${day(first.start)} to ${day(last.start)} (UTC), ${monitor.config.granularity} windows` }
      : {}),
    windows,
    granularity: monitor.config.granularity,
    series: e.rule.terms.map((t) => ({
      label: t.label,
      values: e.history.map((v) => v.values[t.key] ?? null),
      threshold: t.threshold,
      direction: t.direction,
      violating: e.history.map((v) => v.status === 'violation'),
    })),
  };
}

type Chart = {
  view: Pick<AlertView, 'chartUrl' | 'chartAlt' | 'chartProblem'>;
  png?: Buffer;
  alt: string;
  title: string;
};

async function drawChart(monitor: WatchedMonitor, e: RuleEvaluation, deps: DriftCheckDeps): Promise<Chart> {
  const input = chartInput(monitor, e);
  const alt = chartAltText(input);
  try {
    const rendered = await monitor.renderer.render(buildDriftChart(input));
    if (rendered.kind === 'url')
      return { view: { chartUrl: rendered.url, chartAlt: alt }, alt, title: input.title };
    return { view: {}, png: rendered.png, alt, title: input.title };
  } catch (err) {
    deps.logger?.warn(`drift chart for ${monitor.name}/${e.rule.name} failed:`, err);
    const problem = isUserError(err) ? err.message : 'the chart renderer failed (see the bot log).';
    return { view: { chartProblem: problem }, alt, title: input.title };
  }
}

async function uploadChart(
  deps: DriftCheckDeps,
  ref: MessageRef,
  monitor: WatchedMonitor,
  e: RuleEvaluation,
  chart: Chart,
): Promise<void> {
  if (!chart.png) return;
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_');
  await deps.publisher.upload(ref.channel, ref.ts, {
    png: chart.png,
    filename: `drift-${safe(monitor.name)}-${safe(e.rule.name)}-${safe(e.modelId === '*' ? 'all' : e.modelId)}.png`,
    title: chart.title,
    altText: chart.alt,
  });
}

const alertState = (a: DriftAlert, chartInThread: boolean) => ({
  id: a.id,
  status: a.status,
  ...(a.snoozedUntil !== undefined ? { snoozedUntil: a.snoozedUntil } : {}),
  ...(a.snoozedBy ? { snoozedBy: a.snoozedBy } : {}),
  ...(a.acknowledgedBy ? { acknowledgedBy: a.acknowledgedBy } : {}),
  ...(a.acknowledgedAt !== undefined ? { acknowledgedAt: a.acknowledgedAt } : {}),
  ...(a.closedAt !== undefined ? { closedAt: a.closedAt } : {}),
  chartInThread,
});

/** Redraws an alert's channel message from its stored view and state. */
async function redraw(
  deps: Pick<DriftCheckDeps, 'publisher'>,
  render: DriftViews['alert'],
  alert: DriftAlert,
  now: number,
): Promise<void> {
  if (!alert.ts) return;
  const chartInThread = !alert.view.chartUrl && !alert.view.chartProblem;
  await deps.publisher.update(
    { channel: alert.channel, ts: alert.ts },
    render(alert.view, alertState(alert, chartInThread), now),
  );
}

/** Redraws an alert message after a click (slack/drift-listeners.ts). */
export async function redrawAlert(
  deps: Pick<DriftCheckDeps, 'publisher' | 'state' | 'views'>,
  alert: DriftAlert,
  now: number,
): Promise<void> {
  await redraw(deps, deps.views.alert, alert, now);
}

/**
 * Runs one check of one monitor.
 *
 * @example const result = await runDriftCheck(deps, watched.churn, new Date()); // { outcome: 'ok', alertsPosted: 2, queries: 2, … }
 */
export async function runDriftCheck(
  deps: DriftCheckDeps,
  monitor: WatchedMonitor,
  now: Date,
  options: DriftCheckOptions = {},
): Promise<DriftCheckResult> {
  const nowMs = now.getTime();
  const channel = monitor.config.channel;
  const result: DriftCheckResult = {
    monitor: monitor.name,
    channel,
    outcome: 'ok',
    alertsPosted: 0,
    updatesPosted: 0,
    recoveries: 0,
    reportPosted: false,
    queries: 0,
    rowsFetched: 0,
    since: now,
    evaluations: [],
    deliveryErrors: [],
  };
  deps.report?.({ kind: 'start', monitor: monitor.name, at: nowMs });

  // Read: everything that can fail because of Databricks.
  let modelIds: string[];
  let profileRows: MetricRow[] = [];
  let driftRows: MetricRow[] = [];
  const gran = granularityMs(monitor.config.granularity);
  const history = monitor.config.history;
  try {
    const note = await refreshFirst(monitor, deps);
    if (note) result.refreshNote = note;
    const located = await locate(monitor, deps);
    modelIds = await modelIdsOf(monitor, deps);

    // The chart's history (one spare window for calendar granularities), or further back to catch up.
    const current = Math.floor(nowMs / gran) * gran;
    const historyFrom = current - history * gran;
    const progress = modelIds.map((id) => deps.state.progress(monitor.name, id));
    const catchUp = progress.some((p) => p === undefined)
      ? historyFrom
      : Math.min(...progress.map((p) => (p as number) + gran));
    const since = Math.max(Math.min(historyFrom, catchUp), current - MAX_CATCH_UP_WINDOWS * gran);
    result.since = new Date(since);

    const terms = termsOf(monitor.rules);
    const base = {
      modelIdColumn: located.modelIdColumn,
      modelIds,
      granularity: monitor.config.granularity,
      since: new Date(since),
    };
    const profileTerms = terms.filter((t) => t.table === 'profile');
    const driftTerms = terms.filter((t) => t.table === 'drift');
    const read = (kind: 'profile' | 'drift', table: string, tableTerms: typeof terms) => {
      if (tableTerms.length === 0) return Promise.resolve([]);
      const q = buildMetricQuery(kind, { ...base, table, terms: tableTerms });
      result.queries++;
      return deps.warehouse.query(q.sql, q.params, q.rowSchema);
    };
    [profileRows, driftRows] = await Promise.all([
      read('profile', located.profileTable, profileTerms),
      read('drift', located.driftTable, driftTerms),
    ]);
    result.rowsFetched = profileRows.length + driftRows.length;
  } catch (e) {
    const failure = describeFailure(e);
    result.outcome = 'failed';
    result.error = { message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}) };
    if (failure.code === 'internal') deps.logger?.error(`drift check ${monitor.name} failed:`, e);
    await reportFailure(deps, monitor, failure, nowMs, result);
    deps.report?.({ kind: 'error', monitor: monitor.name, at: nowMs, error: e });
    return result;
  }

  await reportRecovery(deps, monitor, nowMs, result);

  const windowsByModel = toWindows(profileRows, driftRows);
  for (const modelId of modelIds) {
    const all = windowsByModel.get(modelId) ?? [];
    const inHistory = all.slice(-history);
    const evaluations = evaluateModel({
      rules: monitor.rules,
      modelId,
      windows: all,
      historyFrom: inHistory[0]?.start ?? Number.POSITIVE_INFINITY,
      history,
      now: nowMs,
    });
    result.evaluations.push(...evaluations);
    const processed = deps.state.progress(monitor.name, modelId);
    const reportRules: ReportRule[] = [];
    const reportCharts: Array<{ e: RuleEvaluation; chart: Chart }> = [];

    for (const e of evaluations) {
      try {
        const outcome = await decide(deps, monitor, e, processed, nowMs, options.report === true);
        if (outcome.kind === 'alert') result.alertsPosted++;
        if (outcome.kind === 'update') result.updatesPosted++;
        if (outcome.kind === 'recovery') result.recoveries++;
        if (outcome.kind === 'quiet' && options.report) {
          const open = deps.state.openAlert(monitor.name, e.rule.name, modelId);
          const permalink =
            open?.ts && deps.publisher.permalink
              ? await deps.publisher.permalink({ channel: open.channel, ts: open.ts }).catch(() => undefined)
              : undefined;
          reportRules.push({
            view: { ...outcome.view, ...outcome.chart.view },
            ...(open ? { openAlert: { channel: open.channel, ...(permalink ? { permalink } : {}) } } : {}),
          });
          reportCharts.push({ e, chart: outcome.chart });
        }
      } catch (err) {
        deps.logger?.error(`drift check ${monitor.name}/${e.rule.name}: could not post:`, err);
        result.deliveryErrors.push(`${e.rule.name}: ${(err as Error).message}`);
      }
    }

    if (reportRules.length > 0) {
      try {
        const chartsInThread = reportCharts.some((r) => r.chart.png);
        const ref = await deps.publisher.post(
          options.reportChannel ?? channel,
          deps.views.report({
            monitor: monitor.name,
            model: monitor.model,
            modelId,
            rules: reportRules,
            chartsInThread,
          }),
        );
        for (const { e, chart } of reportCharts) await uploadChart(deps, ref, monitor, e, chart);
        result.reportPosted = true;
      } catch (err) {
        deps.logger?.error(`drift check ${monitor.name}: could not post the report:`, err);
        result.deliveryErrors.push(`report: ${(err as Error).message}`);
      }
    }

    // Complete windows are done; a window still in progress is read again next time.
    const complete = all.filter((w) => w.end <= nowMs).map((w) => w.start);
    if (complete.length > 0) deps.state.setProgress(monitor.name, modelId, Math.max(...complete), nowMs);
  }

  deps.report?.({ kind: 'ok', monitor: monitor.name, at: nowMs, result });
  return result;
}

type Decision =
  | { kind: 'alert' | 'update' | 'recovery' | 'silenced' }
  | { kind: 'quiet'; view: AlertView; chart: Chart };

/** What one rule of one model id does after a successful read. */
async function decide(
  deps: DriftCheckDeps,
  monitor: WatchedMonitor,
  e: RuleEvaluation,
  processed: number | undefined,
  now: number,
  wantReport: boolean,
): Promise<Decision> {
  const retrain = monitor.retrainable ?? monitor.config.retrainJob !== undefined;
  // The alert's view for these windows: one rule of one model id, as of now.
  const viewOf = (windows: number[]) =>
    buildAlertView({ monitor: monitor.name, model: monitor.model, evaluation: e, windows, retrain, now });
  /** Posts the alert's message, remembers where it is, and puts the chart in its thread. */
  const postAlert = async (alert: DriftAlert, view: AlertView, chart: Chart): Promise<Decision> => {
    const ref = await deps.publisher.post(
      alert.channel,
      deps.views.alert(view, alertState(alert, !!chart.png), now),
    );
    deps.state.setAlertMessage(alert.id, ref.ts);
    await uploadChart(deps, ref, monitor, e, chart);
    return { kind: 'alert' };
  };
  let open = deps.state.openAlert(monitor.name, e.rule.name, e.modelId);
  const alerted = new Set(open?.windows ?? []);
  const fresh = e.verdicts
    .filter((v) => v.status === 'violation' && (processed === undefined || v.start > processed))
    .filter((v) => !alerted.has(v.start))
    .map((v) => v.start);

  // An alert whose message never made it to Slack (Slack was down): post it now.
  if (open && !open.ts) {
    const chart = await drawChart(monitor, e, deps);
    const view = {
      ...viewOf([...alerted, ...fresh]),
      ...chart.view,
    };
    open = deps.state.recordWindows(open.id, fresh, view) ?? open;
    return postAlert(open, view, chart);
  }

  if (open) {
    if (fresh.length > 0) {
      const snoozed = open.snoozedUntil !== undefined && open.snoozedUntil > now;
      const allWindows = [...alerted, ...fresh];
      if (snoozed) {
        const view = {
          ...viewOf(allWindows),
          ...pickChart(open.view),
        };
        deps.state.recordWindows(open.id, fresh, view);
        return { kind: 'silenced' };
      }
      const chart = await drawChart(monitor, e, deps);
      const update = {
        ...viewOf(fresh),
        ...chart.view,
      };
      const ref = await deps.publisher.post(open.channel, deps.views.update(update), open.ts);
      await uploadChart(deps, { channel: ref.channel, ts: open.ts! }, monitor, e, chart);
      const view = {
        ...viewOf(allWindows),
        ...pickChart(open.view),
      };
      const updated = deps.state.recordWindows(open.id, fresh, view);
      if (updated) await redraw(deps, deps.views.alert, updated, now);
      return { kind: 'update' };
    }
    if (e.latest?.status === 'ok') {
      if (!deps.state.closeAlert(open.id, now)) return { kind: 'silenced' };
      const view = {
        ...viewOf(open.windows),
        ...pickChart(open.view),
      };
      deps.state.setView(open.id, view);
      await deps.publisher.post(open.channel, deps.views.recovery(view), open.ts);
      const closed = deps.state.alert(open.id);
      if (closed) await redraw(deps, deps.views.alert, closed, now);
      return { kind: 'recovery' };
    }
  } else if (fresh.length > 0) {
    const chart = await drawChart(monitor, e, deps);
    const view = {
      ...viewOf(fresh),
      ...chart.view,
    };
    const { alert, created } = deps.state.createAlert({
      monitor: monitor.name,
      rule: e.rule.name,
      modelId: e.modelId,
      channel: monitor.config.channel,
      windows: fresh,
      view,
      at: now,
    });
    if (!created) return { kind: 'silenced' };
    return postAlert(alert, view, chart);
  }

  if (!wantReport) return { kind: 'silenced' };
  const chart = await drawChart(monitor, e, deps);
  return {
    kind: 'quiet',
    view: viewOf([]),
    chart,
  };
}

const pickChart = (v: AlertView): Pick<AlertView, 'chartUrl' | 'chartAlt' | 'chartProblem'> => ({
  ...(v.chartUrl ? { chartUrl: v.chartUrl } : {}),
  ...(v.chartAlt ? { chartAlt: v.chartAlt } : {}),
  ...(v.chartProblem ? { chartProblem: v.chartProblem } : {}),
});

async function reportFailure(
  deps: DriftCheckDeps,
  monitor: WatchedMonitor,
  failure: { code: string; message: string; hint?: string },
  now: number,
  result: DriftCheckResult,
): Promise<void> {
  const { first, failure: stored } = deps.state.recordFailure(monitor.name, {
    code: failure.code,
    message: failure.message,
    channel: monitor.config.channel,
    at: now,
  });
  // Once per failing streak; again only if that first post never reached Slack.
  if (!first && stored.ts) return;
  try {
    const ref = await deps.publisher.post(
      stored.channel,
      deps.views.failure({
        monitor: monitor.name,
        model: monitor.model,
        message: failure.message,
        ...(failure.hint ? { hint: failure.hint } : {}),
        since: stored.since,
      }),
    );
    deps.state.setFailureMessage(monitor.name, ref.ts);
  } catch (err) {
    deps.logger?.error(`drift check ${monitor.name}: could not report the failure:`, err);
    result.deliveryErrors.push(`failure report: ${(err as Error).message}`);
  }
}

async function reportRecovery(
  deps: DriftCheckDeps,
  monitor: WatchedMonitor,
  now: number,
  result: DriftCheckResult,
): Promise<void> {
  const cleared = deps.state.clearFailure(monitor.name);
  if (!cleared?.ts) return;
  try {
    const message = deps.views.failureRecovered({
      monitor: monitor.name,
      since: cleared.since,
      attempts: cleared.attempts,
      at: now,
    });
    await deps.publisher.post(cleared.channel, message, cleared.ts);
    await deps.publisher.update({ channel: cleared.channel, ts: cleared.ts }, message);
  } catch (err) {
    deps.logger?.error(`drift check ${monitor.name}: could not report the recovery:`, err);
    result.deliveryErrors.push(`recovery report: ${(err as Error).message}`);
  }
}
