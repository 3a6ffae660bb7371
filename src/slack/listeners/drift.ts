/**
 * The drift alert's buttons on Bolt. Every click acknowledges at once, finds the alert, checks channel
 * and rights like a command (Retrain: the `retrain` right, and the request is then gated by the
 * approvals service; Snooze and Acknowledge: the `drift` right), calls the watch's action and sends
 * its reply to the clicker. The actions (drift/alert-actions.ts) write the audit log and redraw.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Policy } from '../../config/policy.js';
import type { Actor, Origin, Reply } from '../../domain/vocabulary.js';
import type { DriftAlertActions } from '../../drift/alert-actions.js';
import { newCorrelationId } from '../../lib/correlation-id.js';
import type { Logger } from '../../lib/logger.js';
import { ACTION_DRIFT_ACKNOWLEDGE, ACTION_DRIFT_RETRAIN, ACTION_DRIFT_SNOOZE } from '../blocks/action-ids.js';
import type { Directory } from '../directory.js';
import { afterAcks, clickerOf, createAuthorise, createGuard, sendReply } from '../listener-kit.js';

export interface DriftListenerDeps {
  policy: Policy;
  actions: DriftAlertActions;
  directory: Directory;
  logger: Logger;
  correlationId?: () => string;
}

/**
 * Registers the Retrain, Snooze 24 h and Acknowledge buttons of drift alerts.
 *
 * @example registerDriftListeners(app, { policy, actions: drift.actions, directory, logger });
 */
export function registerDriftListeners(app: App, deps: DriftListenerDeps): void {
  const { actions } = deps;
  const authorise = createAuthorise(deps.policy, deps.directory);
  const handlers: Record<string, (alertId: string, actor: Actor, origin: Origin) => Promise<Reply>> = {
    [ACTION_DRIFT_SNOOZE]: (id, actor) => actions.snooze(id, actor),
    [ACTION_DRIFT_ACKNOWLEDGE]: (id, actor) => actions.acknowledge(id, actor),
    [ACTION_DRIFT_RETRAIN]: (id, actor, origin) => actions.retrain(id, actor, origin),
  };

  const guarded = createGuard(deps.logger, deps.correlationId ?? newCorrelationId);
  for (const [actionId, handle] of Object.entries(handlers)) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      await afterAcks();
      const actor = clickerOf(body);
      const reply = await guarded(actionId, async () => {
        const alert = actions.find(action.value ?? '');
        const channelId = body.channel?.id ?? body.container?.channel_id ?? alert.channel;
        // Retraining is its own right (the request is then gated by approvals); the rest is the drift right.
        await authorise(actor, channelId, actionId === ACTION_DRIFT_RETRAIN ? 'retrain' : 'drift');
        return handle(alert.id, actor, { channelId });
      });
      await sendReply(respond, reply, actionId, deps.logger);
    });
  }
}
