/**
 * What the alert buttons do, like command handlers: each takes the alert and the clicker, changes the
 * state, writes the audit log, redraws the alert and returns the Reply for the clicker. The Slack
 * listener (slack/listeners/drift.ts) only reads the click, authorises and sends the reply.
 */
import { UserError } from '../domain/errors.js';
import type { Actor, Origin, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import { redrawAlert } from './deliver.js';
import type { DriftAlert, DriftStateStore } from './state-store.js';
import type { DriftActionViews, DriftAudit, DriftPublisher, DriftRetrainer, DriftViews } from './types.js';

export const SNOOZE_MS = 24 * 60 * 60_000;

export interface DriftAlertActions {
  /** The open alert a button names; throws UserError when it is unknown or closed. */
  find(alertId: string): Promise<DriftAlert>;
  /** Snooze 24 h (the `drift` right): new windows are recorded without posting. */
  snooze(alertId: string, actor: Actor): Promise<Reply>;
  /** Acknowledge (the `drift` right): the alert shows who is on it. */
  acknowledge(alertId: string, actor: Actor): Promise<Reply>;
  /** Retrain (the `retrain` right): the gated retraining request, in the alert's thread. */
  retrain(alertId: string, actor: Actor, origin: Origin): Promise<Reply>;
}

export interface DriftAlertActionDeps {
  state: DriftStateStore;
  audit: DriftAudit;
  /** Creates the gated retraining request; without it, Retrain explains why it cannot. */
  retrain?: DriftRetrainer;
  publisher: DriftPublisher;
  views: Pick<DriftViews, 'alert'>;
  actionViews: DriftActionViews;
  clock: Clock;
}

const targetOf = (a: DriftAlert) => `drift:${a.monitor}/${a.rule}/${a.modelId}`;

/**
 * @example const actions = createDriftAlertActions({ state, audit: store, retrain: approvals, publisher, views, actionViews, clock });
 * await actions.snooze(alertId, actor); // { text: 'Snoozed churn · performance until …', visibility: 'ephemeral' }
 */
export function createDriftAlertActions(deps: DriftAlertActionDeps): DriftAlertActions {
  async function find(id: string): Promise<DriftAlert> {
    const alert = await deps.state.alert(id);
    if (!alert) {
      throw new UserError('unknown_alert', {});
    }
    if (alert.status === 'closed') {
      throw new UserError('alert_closed', { monitor: alert.monitor, rule: alert.rule });
    }
    return alert;
  }

  return {
    find,
    async snooze(alertId, actor) {
      const alert = await find(alertId);
      const now = deps.clock.now();
      const until = now + SNOOZE_MS;
      const updated = (await deps.state.snooze(alert.id, until, actor.userId)) ?? alert;
      await deps.audit.audit({
        actor: actor.userId,
        action: 'drift.snooze',
        target: targetOf(alert),
        before: { snoozedUntil: alert.snoozedUntil ?? null },
        after: { snoozedUntil: until },
        detail: `alert ${alert.id}`,
      });
      await redrawAlert(deps, updated, now);
      return deps.actionViews.snoozed(alert, until);
    },
    async acknowledge(alertId, actor) {
      const alert = await find(alertId);
      const now = deps.clock.now();
      const updated = (await deps.state.acknowledge(alert.id, actor.userId, now)) ?? alert;
      await deps.audit.audit({
        actor: actor.userId,
        action: 'drift.acknowledge',
        target: targetOf(alert),
        after: { acknowledgedBy: actor.userId },
        detail: `alert ${alert.id}`,
      });
      await redrawAlert(deps, updated, now);
      return deps.actionViews.acknowledged(alert);
    },
    async retrain(alertId, actor, origin) {
      const alert = await find(alertId);
      if (!deps.retrain) {
        throw new UserError('retrain_unavailable', {});
      }
      // The monitor's retrainJob, else the policy's retraining entry for its model (approvals' rule).
      const target = deps.retrain.retrainTarget(alert.monitor);
      const reply = await deps.retrain.requestRetrain({
        model: target.model,
        jobId: target.jobId,
        monitor: alert.monitor,
        reason: deps.actionViews.retrainReason(alert),
        actor,
        origin: { channelId: origin.channelId },
        ...(alert.ts ? { threadTs: alert.ts } : {}),
        ...(Object.keys(target.parameters ?? {}).length > 0 ? { parameters: target.parameters } : {}),
      });
      await deps.audit.audit({
        actor: actor.userId,
        action: 'drift.retrain_requested',
        target: targetOf(alert),
        after: { model: target.model, jobId: target.jobId },
        detail: `alert ${alert.id}`,
      });
      return reply;
    },
  };
}
