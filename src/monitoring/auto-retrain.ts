/**
 * Automatic retrain requests (a monitor's `autoRetrain`): after each drift check, read, decide,
 * deliver. The decision is pure: while the monitor has an open alert and the check counted
 * violations (the reference's all_violations_count > 0), an episode is open, and its opening asks
 * for the gated retraining once, with the count as a job parameter; approvers still decide. When
 * no alert is open any more, the episode closes, and the next alert opens a new one.
 */
import type { DriftStateStore } from '../drift/state-store.js';
import type { DriftCheckResult, DriftRetrainer, WatchedMonitor } from '../drift/types.js';
import type { Logger } from '../lib/logger.js';
import type { AutoRetrainStore } from './auto-retrain-store.js';

/** What the decision sees of one check. */
export interface AutoRetrainFacts {
  enabled: boolean;
  /** all_violations_count of this check (per model id, summed). */
  violations: number;
  /** Whether the monitor has an open drift alert after the check was delivered. */
  alertOpen: boolean;
  /** The monitor's open episode, if any. */
  episode?: { requested: boolean };
}

export type AutoRetrainAction = 'open-and-request' | 'request' | 'close' | 'nothing';

/**
 * @example decideAutoRetrain({ enabled: true, violations: 3, alertOpen: true }) // 'open-and-request'
 */
export function decideAutoRetrain(f: AutoRetrainFacts): AutoRetrainAction {
  if (!f.enabled) return 'nothing';
  if (!f.alertOpen) return f.episode ? 'close' : 'nothing';
  if (!f.episode) return f.violations > 0 ? 'open-and-request' : 'nothing';
  // An episode opened whose request was never made (a crash in between) asks now.
  return f.episode.requested ? 'nothing' : 'request';
}

/**
 * The reference's all_violations_count: violating windows over the history, every rule, each model
 * id once.
 *
 * @example allViolationsCount(result.evaluations) // 14
 */
export function allViolationsCount(evaluations: DriftCheckResult['evaluations']): number {
  const byModel = new Map<string, number>();
  for (const e of evaluations) byModel.set(e.modelId, e.counts.total);
  return [...byModel.values()].reduce((a, b) => a + b, 0);
}

export interface AutoRetrainDeps {
  store: AutoRetrainStore;
  /** Sync today; awaited so the async port of the drift state needs no change here. */
  state: Pick<DriftStateStore, 'openAlert'>;
  retrain: DriftRetrainer;
  /** The bot's own Slack user id: the requester of automatic requests. */
  botUserId: () => Promise<string>;
  logger?: Logger;
}

/**
 * @example const afterCheck = createAutoRetrain({ store, state, retrain: approvals, botUserId }); await afterCheck(monitor, result);
 */
export function createAutoRetrain(deps: AutoRetrainDeps) {
  return async function afterCheck(monitor: WatchedMonitor, result: DriftCheckResult): Promise<void> {
    const enabled = monitor.config.autoRetrain === true;
    if (!enabled) return;
    let alert: Awaited<ReturnType<DriftStateStore['openAlert']>>;
    for (const e of result.evaluations) {
      alert ??= await deps.state.openAlert(monitor.name, e.rule.name, e.modelId);
    }
    const violations = allViolationsCount(result.evaluations);
    let episode = await deps.store.openEpisode(monitor.name);
    const action = decideAutoRetrain({
      enabled,
      violations,
      alertOpen: alert !== undefined,
      ...(episode ? { episode } : {}),
    });
    if (action === 'nothing') return;
    if (action === 'close') {
      await deps.store.close(monitor.name);
      return;
    }
    if (action === 'open-and-request') {
      episode = await deps.store.open(monitor.name, violations);
      if (!episode) return; // another check opened it
    }
    if (!episode || !(await deps.store.markRequested(monitor.name, episode.openedAt))) return;
    const target = deps.retrain.retrainTarget(monitor.name);
    const botUserId = await deps.botUserId();
    await deps.retrain.requestRetrain({
      model: target.model,
      jobId: target.jobId,
      monitor: monitor.name,
      reason: `Automatic: the drift check of ${monitor.name} found ${episode.violations} violation(s) (all_violations_count)`,
      actor: { userId: botUserId, userName: 'modelgate' },
      origin: { channelId: monitor.config.channel },
      ...(alert?.ts ? { threadTs: alert.ts } : {}),
      ...(Object.keys(target.parameters ?? {}).length > 0 ? { parameters: target.parameters } : {}),
      violations: episode.violations,
    });
    deps.logger?.info(
      `drift check ${monitor.name}: asked for retraining automatically (${episode.violations} violations)`,
    );
  };
}
