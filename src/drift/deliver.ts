/**
 * The deliver step of a drift check: carries out the actions decide.ts returned, through the
 * publisher and the state store, in order. Charts are drawn here (the renderer is I/O). The store's
 * compare-and-set writes have the last word: an alert another check opened or closed meanwhile is
 * left alone. Never throws: a post that fails is logged and listed in `deliveryErrors`.
 */
import { buildDriftChart, chartAltText, type DriftChartInput } from '../charts/spec.js';
import type { MessageRef } from '../domain/vocabulary.js';
import type { AlertView, RuleEvaluation } from './alert-view.js';
import { type CheckFailure, type DriftAction, failureOf, type ReportItem } from './decide.js';
import { activeClaim, retrainShownOn } from './retrain-episode.js';
import type { DriftRetrainStore } from './retrain-store.js';
import type { DriftAlert } from './state-store.js';
import type {
  AlertState,
  DriftCheckDeps,
  DriftPublisher,
  DriftViews,
  ReportRule,
  RetrainRequestView,
  WatchedMonitor,
} from './types.js';

export interface DeliverySummary {
  alertsPosted: number;
  updatesPosted: number;
  recoveries: number;
  reportPosted: boolean;
  /** Problems delivering to Slack (the check itself worked). */
  deliveryErrors: string[];
}

type DeliverDeps = Pick<DriftCheckDeps, 'state' | 'publisher' | 'views' | 'logger' | 'retrains'>;

/** The chart of one rule for one model id, over the history windows. */
function chartInput(monitor: WatchedMonitor, e: RuleEvaluation, now: number): DriftChartInput {
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
    inProgress: e.history.map((v) => v.end > now),
  };
}

type Chart = {
  view: Pick<AlertView, 'chartUrl' | 'chartAlt' | 'chartProblem'>;
  png?: Buffer;
  alt: string;
  title: string;
};

async function drawChart(
  monitor: WatchedMonitor,
  e: RuleEvaluation,
  deps: DeliverDeps,
  now: number,
): Promise<Chart> {
  const input = chartInput(monitor, e, now);
  const alt = chartAltText(input);
  try {
    const rendered = await monitor.renderer.render(buildDriftChart(input));
    if (rendered.kind === 'url')
      return { view: { chartUrl: rendered.url, chartAlt: alt }, alt, title: input.title };
    return { view: {}, png: rendered.png, alt, title: input.title };
  } catch (err) {
    deps.logger?.warn(`drift chart for ${monitor.name}/${e.rule.name} failed:`, err);
    return { view: { chartProblem: failureOf(err) }, alt, title: input.title };
  }
}

async function uploadChart(
  deps: DeliverDeps,
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

const alertState = (
  a: DriftAlert,
  chartInThread: boolean,
  retrainRequest: RetrainRequestView | undefined,
): AlertState => ({
  id: a.id,
  status: a.status,
  ...(a.snoozedUntil !== undefined ? { snoozedUntil: a.snoozedUntil } : {}),
  ...(a.snoozedBy ? { snoozedBy: a.snoozedBy } : {}),
  ...(a.acknowledgedBy ? { acknowledgedBy: a.acknowledgedBy } : {}),
  ...(a.acknowledgedAt !== undefined ? { acknowledgedAt: a.acknowledgedAt } : {}),
  ...(a.closedAt !== undefined ? { closedAt: a.closedAt } : {}),
  chartInThread,
  ...(retrainRequest ? { retrainRequest } : {}),
});

/**
 * Redraws an alert's channel message from its stored view and state (after a check or a click).
 *
 * @example await redrawAlert({ publisher, views }, state.alert(id)!, clock.now());
 */
export async function redrawAlert(
  deps: {
    publisher: DriftPublisher;
    views: Pick<DriftViews, 'alert'>;
    retrains?: Pick<DriftRetrainStore, 'forAlert'> | undefined;
  },
  alert: DriftAlert,
  now: number,
): Promise<void> {
  if (!alert.ts) return;
  const chartInThread = !alert.view.chartUrl && !alert.view.chartProblem;
  const retrain = await retrainShownOn(deps.retrains, alert.id, now);
  await deps.publisher.update(
    { channel: alert.channel, ts: alert.ts },
    deps.views.alert(alert.view, alertState(alert, chartInThread, retrain), now),
  );
}

/**
 * Carries out the actions of one check of `monitor` at `now`.
 *
 * @example const summary = await deliver(deps, monitor, decide(input), now); // { alertsPosted: 2, … }
 */
export async function deliver(
  deps: DeliverDeps,
  monitor: WatchedMonitor,
  actions: readonly DriftAction[],
  now: number,
): Promise<DeliverySummary> {
  const summary: DeliverySummary = {
    alertsPosted: 0,
    updatesPosted: 0,
    recoveries: 0,
    reportPosted: false,
    deliveryErrors: [],
  };
  const failed = (what: string, log: string, err: unknown) => {
    deps.logger?.error(`drift check ${monitor.name}${log}:`, err);
    summary.deliveryErrors.push(`${what}: ${(err as Error).message}`);
  };

  /** Posts the alert's message, remembers where it is, and puts the chart in its thread. */
  const postAlert = async (alert: DriftAlert, view: AlertView, e: RuleEvaluation, chart: Chart) => {
    // Opened while the model's retraining is asked for: it joins that episode, and shows the request.
    if (deps.retrains) {
      const claim = await activeClaim(
        { retrains: deps.retrains, state: deps.state },
        alert.monitor,
        alert.modelId,
        now,
      );
      if (claim) await deps.retrains.cover(alert.id, claim);
    }
    const retrain = await retrainShownOn(deps.retrains, alert.id, now);
    const ref = await deps.publisher.post(
      alert.channel,
      deps.views.alert(view, alertState(alert, !!chart.png, retrain), now),
    );
    await deps.state.setAlertMessage(alert.id, ref.ts);
    await uploadChart(deps, ref, monitor, e, chart);
    summary.alertsPosted++;
  };

  for (const action of actions) {
    switch (action.kind) {
      case 'record-failure':
        if (action.failure.code === 'internal')
          deps.logger?.error(`drift check ${monitor.name} failed:`, action.cause);
        await reportFailure(deps, monitor, action.failure, now, failed);
        break;
      case 'clear-failure':
        await reportFailureRecovered(deps, monitor, now, failed);
        break;
      case 'record-progress':
        await deps.state.setProgress(monitor.name, action.modelId, action.lastWindowStart, now);
        break;
      case 'stay-silent':
        break;
      case 'post-report':
        try {
          summary.reportPosted =
            (await postReport(deps, monitor, action.channel, action.modelId, action.items, now)) ||
            summary.reportPosted;
        } catch (err) {
          failed('report', ': could not post the report', err);
        }
        break;
      default:
        try {
          await deliverRule(action);
        } catch (err) {
          failed(action.evaluation.rule.name, `/${action.evaluation.rule.name}: could not post`, err);
        }
    }
  }
  return summary;

  async function deliverRule(
    action: Exclude<
      DriftAction,
      { kind: 'record-failure' | 'clear-failure' | 'record-progress' | 'stay-silent' | 'post-report' }
    >,
  ) {
    const e = action.evaluation;
    switch (action.kind) {
      case 'post-alert': {
        const chart = await drawChart(monitor, e, deps, now);
        const view = { ...action.alert.view, ...chart.view };
        const { alert, created } = await deps.state.createAlert({ ...action.alert, view });
        if (created) await postAlert(alert, view, e, chart);
        return;
      }
      case 'repost-alert': {
        const chart = await drawChart(monitor, e, deps, now);
        const view = { ...action.view, ...chart.view };
        const alert = (await deps.state.recordWindows(action.alert.id, action.windows, view)) ?? action.alert;
        await postAlert(alert, view, e, chart);
        return;
      }
      case 'record-windows':
        await deps.state.recordWindows(action.alert.id, action.windows, action.view);
        return;
      case 'post-update': {
        const open = action.alert;
        const chart = await drawChart(monitor, e, deps, now);
        const ref = await deps.publisher.post(
          open.channel,
          deps.views.update({ ...action.update, ...chart.view }),
          open.ts,
        );
        await uploadChart(deps, { channel: ref.channel, ts: open.ts! }, monitor, e, chart);
        const updated = await deps.state.recordWindows(open.id, action.windows, action.view);
        if (updated) await redrawAlert(deps, updated, now);
        summary.updatesPosted++;
        return;
      }
      case 'post-recovery': {
        const open = action.alert;
        if (!(await deps.state.closeAlert(open.id, now))) return;
        await deps.state.setView(open.id, action.view);
        await deps.publisher.post(open.channel, deps.views.recovery(action.view), open.ts);
        const closed = await deps.state.alert(open.id);
        if (closed) await redrawAlert(deps, closed, now);
        summary.recoveries++;
        return;
      }
    }
  }
}

/** The drift command's report of one model id: the silent rules, their charts in its thread. */
async function postReport(
  deps: DeliverDeps,
  monitor: WatchedMonitor,
  channel: string,
  modelId: string,
  items: readonly ReportItem[],
  now: number,
): Promise<boolean> {
  const rules: ReportRule[] = [];
  const charts: Array<{ e: RuleEvaluation; chart: Chart }> = [];
  for (const { evaluation: e, view, openAlert: open } of items) {
    const chart = await drawChart(monitor, e, deps, now);
    const permalink =
      open?.ts && deps.publisher.permalink
        ? await deps.publisher.permalink({ channel: open.channel, ts: open.ts }).catch(() => undefined)
        : undefined;
    rules.push({
      view: { ...view, ...chart.view },
      ...(open ? { openAlert: { channel: open.channel, ...(permalink ? { permalink } : {}) } } : {}),
    });
    charts.push({ e, chart });
  }
  const ref = await deps.publisher.post(
    channel,
    deps.views.report({
      monitor: monitor.name,
      model: monitor.model,
      modelId,
      rules,
      chartsInThread: charts.some((c) => c.chart.png),
    }),
  );
  for (const { e, chart } of charts) await uploadChart(deps, ref, monitor, e, chart);
  return true;
}

type Failed = (what: string, log: string, err: unknown) => void;

async function reportFailure(
  deps: DeliverDeps,
  monitor: WatchedMonitor,
  failure: CheckFailure,
  now: number,
  failed: Failed,
): Promise<void> {
  const { first, failure: stored } = await deps.state.recordFailure(monitor.name, {
    code: failure.code,
    // For the log and doctor: the words are the Slack edge's, from the code and details.
    message: JSON.stringify('details' in failure ? failure.details : {}),
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
        failure,
        since: stored.since,
      }),
    );
    await deps.state.setFailureMessage(monitor.name, ref.ts);
  } catch (err) {
    failed('failure report', ': could not report the failure', err);
  }
}

async function reportFailureRecovered(
  deps: DeliverDeps,
  monitor: WatchedMonitor,
  now: number,
  failed: Failed,
): Promise<void> {
  const cleared = await deps.state.clearFailure(monitor.name);
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
    failed('recovery report', ': could not report the recovery', err);
  }
}
