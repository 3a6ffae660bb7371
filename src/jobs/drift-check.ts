/**
 * Job: one drift check of one monitor at `now`, in three steps. Read (drift/read.ts: the windows new
 * since the last complete one processed, plus the chart's history, one query per metric table),
 * decide (drift/decide.ts, pure: new alert, thread update, recovery, silence, or the failure to
 * report once per streak), deliver (drift/deliver.ts: posts and store writes). Never throws.
 *
 * The drift watch (drift/watch.ts) runs it on each monitor's schedule and for the drift command,
 * which passes `report: true` to also post the result of rules that had nothing new to say.
 */
import { decide } from '../drift/decide.js';
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
  const report = (e: Parameters<NonNullable<DriftCheckDeps['report']>>[0]) => deps.report?.(e);
  report({ kind: 'start', monitor: monitor.name, at });

  const read: MonitorRead | { error: unknown } = await readMonitor(deps, monitor, at).catch(
    (error: unknown) => ({ error }),
  );
  const models = 'error' in read ? [] : evaluateMonitor(monitor, read, at);
  const actions =
    'error' in read && deps.signal?.aborted
      ? [] // Shutting down: a wait cut short is not a failure to report.
      : decide({
          monitor: {
            name: monitor.name,
            model: monitor.model,
            channel: monitor.config.channel,
            retrain: monitor.retrainable ?? monitor.config.retrainJob !== undefined,
          },
          read: 'error' in read ? { ok: false, error: read.error } : { ok: true, models, ...read },
          now: at,
          ...(options.report ? { report: { channel: options.reportChannel ?? monitor.config.channel } } : {}),
        });
  const delivered = await deliver(deps, monitor, actions, at);

  const failure = actions.find((a) => a.kind === 'record-failure')?.failure;
  const result: DriftCheckResult = {
    monitor: monitor.name,
    channel: monitor.config.channel,
    outcome: 'error' in read ? 'failed' : 'ok',
    ...delivered,
    queries: 'error' in read ? 0 : read.queries,
    rowsFetched: 'error' in read ? 0 : read.rowsFetched,
    since: 'error' in read ? now : read.since,
    evaluations: models.flatMap((m) => m.evaluations),
    ...('error' in read || !read.refreshNote ? {} : { refreshNote: read.refreshNote }),
    ...(failure
      ? { error: { message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}) } }
      : {}),
  };
  report(
    'error' in read
      ? { kind: 'error', monitor: monitor.name, at, error: read.error }
      : { kind: 'ok', monitor: monitor.name, at, result },
  );
  return result;
}
