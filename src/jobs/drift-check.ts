/**
 * Job: one drift check of one monitor at `now`, in three steps. Read (drift/read.ts: the windows new
 * since the last complete one processed, plus the chart's history and the windows judged again for
 * late labels, one query per metric table),
 * decide (drift/decide.ts, pure: new alert, thread update, recovery, silence, or the failure to
 * report once per streak), deliver (drift/deliver.ts: posts and store writes). Never throws.
 *
 * The drift watch (drift/watch.ts) runs it on each monitor's schedule and for the drift command,
 * which passes `report: true` to also post the result of rules that had nothing new to say.
 */
import { decide, decideMonitorOf, failureOf } from '../drift/decide.js';
import { deliver } from '../drift/deliver.js';
import { evaluateMonitor } from '../drift/evaluate.js';
import { type MonitorRead, readMonitor } from '../drift/read.js';
import type { DriftCheckDeps, DriftCheckOptions, DriftCheckResult, WatchedMonitor } from '../drift/types.js';

export { granularityMs } from '../drift/read.js';
export type { DriftCheckDeps, DriftCheckEvent, DriftCheckOptions, DriftCheckResult } from '../drift/types.js';

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
  const at = now.getTime();
  const base = { monitor: monitor.name, channel: monitor.config.channel, evaluations: [], since: now };
  deps.report?.({ kind: 'start', monitor: monitor.name, at });
  let read: MonitorRead;
  try {
    read = await readMonitor(deps, monitor, at);
  } catch (error) {
    // Shutting down: a wait cut short is not a failure to report.
    const actions = deps.signal?.aborted
      ? []
      : decide({ monitor: decideMonitorOf(monitor), read: { ok: false, error }, now: at });
    const delivered = await deliver(deps, monitor, actions, at);
    const result: DriftCheckResult = {
      ...base,
      outcome: 'failed',
      ...delivered,
      queries: 0,
      rowsFetched: 0,
      error: failureOf(error),
    };
    deps.report?.({ kind: 'error', monitor: monitor.name, at, error });
    return result;
  }

  const models = evaluateMonitor(monitor, read, at);
  const reportChannel = options.reportChannel ?? monitor.config.channel;
  const actions = decide({
    monitor: decideMonitorOf(monitor),
    read: {
      ok: true,
      models,
      openAlerts: read.openAlerts,
      progress: read.progress,
      recheckFrom: read.recheckFrom,
      reported: read.reported,
    },
    now: at,
    ...(options.report ? { report: { channel: reportChannel } } : {}),
  });
  const result: DriftCheckResult = {
    ...base,
    outcome: 'ok',
    ...(await deliver(deps, monitor, actions, at)),
    queries: read.queries,
    rowsFetched: read.rowsFetched,
    since: read.since,
    evaluations: models.flatMap((m) => m.evaluations),
    ...(read.refreshNote ? { refreshNote: read.refreshNote } : {}),
  };
  deps.report?.({ kind: 'ok', monitor: monitor.name, at, result });
  return result;
}
