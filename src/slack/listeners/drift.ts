/**
 * The drift alert's buttons. Each click finds the alert, checks channel and rights like a command
 * (Retrain: the `retrain` right, and the request is then gated by the approvals service; Snooze and
 * Acknowledge: the `drift` right), and calls the watch's action; the actions (drift/alert-actions.ts)
 * write the audit log and redraw the alert.
 */
import type { DriftAlertActions } from '../../drift/alert-actions.js';
import { ACTION_DRIFT_ACKNOWLEDGE, ACTION_DRIFT_RETRAIN, ACTION_DRIFT_SNOOZE } from '../blocks/action-ids.js';
import type { Authorise } from '../listener-kit.js';
import type { ActionHandler, ActionTable, Click } from './actions.js';

export interface DriftActionDeps {
  actions: DriftAlertActions;
  authorise: Authorise;
}

/** @example const table = driftActions({ actions: drift.actions, authorise }); */
export function driftActions(deps: DriftActionDeps): ActionTable {
  const { actions, authorise } = deps;
  const onAlert = (
    right: 'drift' | 'retrain',
    act: (alertId: string, click: Click, channelId: string) => ReturnType<DriftAlertActions['snooze']>,
  ): ActionHandler => ({
    lane: 'default',
    async handle(click) {
      const alert = await actions.find(click.value);
      const channelId = click.channelId || alert.channel;
      await authorise(click.actor, channelId, right);
      return act(alert.id, click, channelId);
    },
  });
  return {
    [ACTION_DRIFT_SNOOZE]: onAlert('drift', (id, c) => actions.snooze(id, c.actor)),
    [ACTION_DRIFT_ACKNOWLEDGE]: onAlert('drift', (id, c) => actions.acknowledge(id, c.actor)),
    // Retraining is its own right (the request is then gated by approvals).
    [ACTION_DRIFT_RETRAIN]: onAlert('retrain', (id, c, channelId) =>
      actions.retrain(id, c.actor, { channelId }),
    ),
  };
}
