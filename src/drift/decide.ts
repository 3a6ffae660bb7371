/**
 * The decision of a drift check, pure: from the rule evaluations, the open alerts, the progress and
 * `now`, the list of things to do. Per rule and model id exactly one of: a new alert, re-posting an
 * alert whose message never reached Slack, a thread update, recording new windows silently (snoozed),
 * a recovery, or staying silent. Then, on request, a report of the silent rules, and the progress.
 * A check that could not read records a failure instead. deliver.ts carries the actions out.
 */
import { codedOf, isUserError } from '../domain/errors.js';
import { type AlertView, buildAlertView, type CheckFailure, type RuleEvaluation } from './alert-view.js';
import type { DriftAlert, NewAlert } from './state-store.js';
import type { WatchedMonitor } from './types.js';

/** A monitor as the decision sees it. */
export interface DecideMonitor {
  name: string;
  model: string;
  channel: string;
  /** Whether its alerts offer Retrain. */
  retrain: boolean;
}

/**
 * A watched monitor as the decision sees it (Retrain: a job known for it, else its retrainJob).
 *
 * @example decideMonitorOf(watched.churn) // { name: 'churn', model: 'acme.mlops.churn_model', channel: 'C0MLOPS', retrain: true }
 */
export function decideMonitorOf(
  m: Pick<WatchedMonitor, 'name' | 'model' | 'config' | 'retrainable'>,
): DecideMonitor {
  return {
    name: m.name,
    model: m.model,
    channel: m.config.channel,
    retrain: m.retrainable ?? m.config.retrainJob !== undefined,
  };
}

/** The evaluations of one model id, and the latest window that had ended by `now`. */
export interface ModelEvaluation {
  modelId: string;
  evaluations: RuleEvaluation[];
  lastComplete?: number;
}

export type { CheckFailure };

export type DecideRead =
  | {
      ok: true;
      models: readonly ModelEvaluation[];
      /** Open alerts of the monitor (any rule, any model id). */
      openAlerts: readonly DriftAlert[];
      /** Last complete window processed per model id. */
      progress: ReadonlyMap<string, number>;
      /**
       * Finished windows from this start on are judged again, processed or not (late labels, a
       * monitor refresh); absent: each finished window is judged once.
       */
      recheckFrom?: number;
      /** Per model id and rule, the windows an alert has reported already (open or closed). */
      reported?: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<number>>>;
    }
  | { ok: false; error: unknown };

export interface DecideInput {
  monitor: DecideMonitor;
  read: DecideRead;
  now: number;
  /** Also report the rules with nothing new (the drift command), in this channel. */
  report?: { channel: string };
}

/** A rule of a model id with nothing new, as the report shows it. */
export interface ReportItem {
  evaluation: RuleEvaluation;
  view: AlertView;
  openAlert?: DriftAlert;
}

export type DriftAction =
  | { kind: 'record-failure'; failure: CheckFailure; cause: unknown }
  | { kind: 'clear-failure' }
  /** A new alert: post it (its chart drawn then) and remember where it is. */
  | { kind: 'post-alert'; evaluation: RuleEvaluation; alert: NewAlert }
  /** An open alert whose message never reached Slack: record the new windows, post it now. */
  | {
      kind: 'repost-alert';
      evaluation: RuleEvaluation;
      alert: DriftAlert;
      windows: number[];
      view: AlertView;
    }
  /** New windows of an open alert: `update` into its thread, then the alert redrawn with `view`. */
  | {
      kind: 'post-update';
      evaluation: RuleEvaluation;
      alert: DriftAlert;
      windows: number[];
      update: AlertView;
      view: AlertView;
    }
  /** New windows of a snoozed alert: recorded, nothing posted. */
  | {
      kind: 'record-windows';
      evaluation: RuleEvaluation;
      alert: DriftAlert;
      windows: number[];
      view: AlertView;
    }
  /** The rule holds again: close the alert, post the recovery in its thread, redraw it. */
  | { kind: 'post-recovery'; evaluation: RuleEvaluation; alert: DriftAlert; view: AlertView }
  | { kind: 'stay-silent'; evaluation: RuleEvaluation }
  | { kind: 'post-report'; modelId: string; channel: string; items: ReportItem[] }
  /** Complete windows are done; a window still in progress is read again next time. */
  | { kind: 'record-progress'; modelId: string; lastWindowStart: number };

/**
 * Why a check failed, as data: a UserError's code and details, or `internal` (details go to the log).
 *
 * @example failureOf(new Error('boom')) // { code: 'internal' }
 */
export function failureOf(e: unknown): CheckFailure {
  return isUserError(e) ? codedOf(e) : { code: 'internal' };
}

/** The chart part of a stored view, kept when an alert is redrawn. */
export const pickChart = (v: AlertView): Pick<AlertView, 'chartUrl' | 'chartAlt' | 'chartProblem'> => ({
  ...(v.chartUrl ? { chartUrl: v.chartUrl } : {}),
  ...(v.chartAlt ? { chartAlt: v.chartAlt } : {}),
  ...(v.chartProblem ? { chartProblem: v.chartProblem } : {}),
});

/**
 * Decides what one check does.
 *
 * @example decide({ monitor, read: { ok: true, models, openAlerts: [], progress: new Map() }, now })
 * // [{ kind: 'clear-failure' }, { kind: 'post-alert', … }, { kind: 'record-progress', modelId: '*', … }]
 */
export function decide(input: DecideInput): DriftAction[] {
  const { monitor, read, now } = input;
  if (!read.ok) return [{ kind: 'record-failure', failure: failureOf(read.error), cause: read.error }];
  const actions: DriftAction[] = [{ kind: 'clear-failure' }];
  for (const model of read.models) {
    const items: ReportItem[] = [];
    for (const e of model.evaluations) {
      const open = read.openAlerts.find(
        (a) =>
          a.status === 'open' &&
          a.monitor === monitor.name &&
          a.rule === e.rule.name &&
          a.modelId === e.modelId,
      );
      const action = decideRule(monitor, e, open, now, {
        processed: read.progress.get(model.modelId),
        recheckFrom: read.recheckFrom,
        reported: read.reported?.get(model.modelId)?.get(e.rule.name),
      });
      actions.push(action);
      if (action.kind === 'stay-silent' && input.report) {
        items.push({
          evaluation: e,
          view: viewOf(monitor, e, [], now),
          ...(open ? { openAlert: open } : {}),
        });
      }
    }
    if (input.report && items.length > 0) {
      actions.push({ kind: 'post-report', modelId: model.modelId, channel: input.report.channel, items });
    }
    if (model.lastComplete !== undefined) {
      actions.push({ kind: 'record-progress', modelId: model.modelId, lastWindowStart: model.lastComplete });
    }
  }
  return actions;
}

/** The alert's view for these windows: one rule of one model id, as of now. */
function viewOf(
  monitor: DecideMonitor,
  e: RuleEvaluation,
  windows: readonly number[],
  now: number,
  late: readonly number[] = [],
): AlertView {
  return buildAlertView({
    monitor: monitor.name,
    model: monitor.model,
    evaluation: e,
    windows,
    late,
    retrain: monitor.retrain,
    now,
  });
}

/** What a rule's decision knows of the past: progress, the windows judged again, those alerted. */
interface RulePast {
  processed: number | undefined;
  recheckFrom: number | undefined;
  reported: ReadonlySet<number> | undefined;
}

/**
 * The violating windows no alert has reported: those after the progress, and those judged again
 * (from `recheckFrom` on) that violate only now; `late` are the latter.
 */
function freshWindows(
  e: RuleEvaluation,
  open: DriftAlert | undefined,
  past: RulePast,
): { fresh: number[]; late: number[] } {
  const { processed, recheckFrom, reported } = past;
  const alerted = new Set([...(open?.windows ?? []), ...(reported ?? [])]);
  const isNew = (start: number) => processed === undefined || start > processed;
  const fresh = e.verdicts
    .filter((v) => v.status === 'violation' && !alerted.has(v.start))
    .filter((v) => isNew(v.start) || (recheckFrom !== undefined && v.start >= recheckFrom))
    .map((v) => v.start);
  return { fresh, late: fresh.filter((s) => !isNew(s)) };
}

/** What one rule of one model id does after a successful read. */
function decideRule(
  monitor: DecideMonitor,
  e: RuleEvaluation,
  open: DriftAlert | undefined,
  now: number,
  past: RulePast,
): DriftAction {
  const alerted = open?.windows ?? [];
  // Never alert twice on a window: only violations that no alert (open or closed) reported yet.
  const { fresh, late } = freshWindows(e, open, past);
  // A redraw keeps the late marks of the windows reported before.
  const lateAll = [...(open?.view.windows.filter((w) => w.late).map((w) => w.start) ?? []), ...late];

  if (open && !open.ts) {
    return {
      kind: 'repost-alert',
      evaluation: e,
      alert: open,
      windows: fresh,
      view: viewOf(monitor, e, [...alerted, ...fresh], now, lateAll),
    };
  }
  if (open) {
    if (fresh.length > 0) {
      const view = {
        ...viewOf(monitor, e, [...alerted, ...fresh], now, lateAll),
        ...pickChart(open.view),
      };
      const snoozed = open.snoozedUntil !== undefined && open.snoozedUntil > now;
      if (snoozed) return { kind: 'record-windows', evaluation: e, alert: open, windows: fresh, view };
      return {
        kind: 'post-update',
        evaluation: e,
        alert: open,
        windows: fresh,
        update: viewOf(monitor, e, fresh, now, late),
        view,
      };
    }
    if (e.latest?.status === 'ok') {
      return {
        kind: 'post-recovery',
        evaluation: e,
        alert: open,
        view: { ...viewOf(monitor, e, open.windows, now, lateAll), ...pickChart(open.view) },
      };
    }
  } else if (fresh.length > 0) {
    return {
      kind: 'post-alert',
      evaluation: e,
      alert: {
        monitor: monitor.name,
        rule: e.rule.name,
        modelId: e.modelId,
        channel: monitor.channel,
        windows: fresh,
        view: viewOf(monitor, e, fresh, now, late),
        at: now,
      },
    };
  }
  return { kind: 'stay-silent', evaluation: e };
}
