/**
 * The drift alert's buttons. Each click finds the alert and checks the channel like a command, then
 * the button's own right: Retrain needs the `retrain` right (the request is then gated by the
 * approvals service); Snooze and Acknowledge need to be one of the monitor's responders
 * (`monitors.<name>.responders`, else the retrain gate's approvers), refused ephemerally with who may,
 * and nothing changed; Details needs the `drift` right (reading). The actions
 * (drift/alert-actions.ts) write the audit log and redraw the alert.
 */
import { checkResponder, respondersNeedGroups } from '../../config/access.js';
import type { Policy } from '../../config/policy.js';
import { UserError } from '../../domain/errors.js';
import type { Actor } from '../../domain/vocabulary.js';
import type { DriftAlertActions } from '../../drift/alert-actions.js';
import {
  ACTION_DRIFT_ACKNOWLEDGE,
  ACTION_DRIFT_DETAILS,
  ACTION_DRIFT_RETRAIN,
  ACTION_DRIFT_SNOOZE,
} from '../blocks/action-ids.js';
import type { Directory } from '../directory.js';
import type { Authorise } from '../listener-kit.js';
import type { ActionHandler, ActionTable, Click } from './actions.js';

export interface DriftActionDeps {
  actions: DriftAlertActions;
  authorise: Authorise;
  /** The monitors' responders and the retrain gate. */
  policy: Pick<Policy, 'monitors' | 'gates'>;
  directory: Pick<Directory, 'groupsOf'>;
}

/** @example const table = driftActions({ actions: drift.actions, authorise, policy, directory }); */
export function driftActions(deps: DriftActionDeps): ActionTable {
  const { actions, authorise, policy, directory } = deps;

  /** Throws UserError('not_a_responder') naming who may, before anything changes. */
  async function mustRespond(actor: Actor, monitor: string, action: 'snooze' | 'acknowledge') {
    const groups = respondersNeedGroups(policy, monitor)
      ? await directory.groupsOf(actor.userId)
      : new Set<string>();
    const decision = checkResponder(policy, monitor, actor, groups, action);
    if (!decision.ok) throw new UserError('not_a_responder', decision.refusal);
  }

  const onAlert = (
    right: 'drift' | 'retrain' | 'snooze' | 'acknowledge',
    act: (alertId: string, click: Click, channelId: string) => ReturnType<DriftAlertActions['snooze']>,
    options: { closedToo?: boolean } = {},
  ): ActionHandler => ({
    lane: 'default',
    async handle(click) {
      const alert = await actions.find(click.value, options);
      const channelId = click.channelId || alert.channel;
      if (right === 'snooze' || right === 'acknowledge') {
        await authorise(click.actor, channelId, 'drift');
        await mustRespond(click.actor, alert.monitor, right);
      } else {
        await authorise(click.actor, channelId, right);
      }
      return act(alert.id, click, channelId);
    },
  });
  return {
    [ACTION_DRIFT_SNOOZE]: onAlert('snooze', (id, c) => actions.snooze(id, c.actor)),
    [ACTION_DRIFT_ACKNOWLEDGE]: onAlert('acknowledge', (id, c) => actions.acknowledge(id, c.actor)),
    // Retraining is its own right (the request is then gated by approvals).
    [ACTION_DRIFT_RETRAIN]: onAlert('retrain', (id, c, channelId) =>
      actions.retrain(id, c.actor, { channelId }),
    ),
    [ACTION_DRIFT_DETAILS]: onAlert('drift', (id) => actions.details(id), { closedToo: true }),
  };
}
