/**
 * The evaluate step of a drift check, pure: the windows read, per model id, judged by the monitor's
 * rules over the chart's history, and the latest window that had ended (the progress to record).
 */
import { evaluateModel } from './alert-view.js';
import type { ModelEvaluation } from './decide.js';
import type { MetricWindow } from './rules.js';
import type { WatchedMonitor } from './types.js';

/**
 * Evaluates every model id of a read.
 *
 * @example evaluateMonitor(monitor, { modelIds: ['*'], windows }, now)[0].evaluations.length // one per rule
 */
export function evaluateMonitor(
  monitor: Pick<WatchedMonitor, 'rules' | 'config'>,
  read: { modelIds: readonly string[]; windows: ReadonlyMap<string, MetricWindow[]> },
  now: number,
): ModelEvaluation[] {
  const history = monitor.config.history;
  return read.modelIds.map((modelId) => {
    const all = read.windows.get(modelId) ?? [];
    const inHistory = all.slice(-history);
    const evaluations = evaluateModel({
      rules: monitor.rules,
      modelId,
      windows: all,
      historyFrom: inHistory[0]?.start ?? Number.POSITIVE_INFINITY,
      history,
      now,
    });
    const complete = all.filter((w) => w.end <= now).map((w) => w.start);
    return { modelId, evaluations, ...(complete.length > 0 ? { lastComplete: Math.max(...complete) } : {}) };
  });
}
