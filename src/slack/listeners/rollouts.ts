/**
 * The canary rollout buttons. Rights are checked on every click: the channel and the policy's
 * `rollout` rule for the endpoint (with a protected endpoint's `allow`) here, then what each button
 * asks on top in the rollout service (requester, approvers).
 */
import type { RolloutAction, RolloutService } from '../../rollouts/service.js';
import {
  ACTION_ROLLOUT_ABORT,
  ACTION_ROLLOUT_APPROVE,
  ACTION_ROLLOUT_CANCEL,
  ACTION_ROLLOUT_PAUSE,
  ACTION_ROLLOUT_PROMOTE,
  ACTION_ROLLOUT_RESUME,
  ACTION_ROLLOUT_START,
} from '../blocks/action-ids.js';
import type { Authorise } from '../listener-kit.js';
import type { ActionTable, Click } from './actions.js';

export interface RolloutActionDeps {
  rollouts: Pick<RolloutService, 'click' | 'endpointOf'>;
  authorise: Authorise;
}

const ACTIONS: Record<string, RolloutAction> = {
  [ACTION_ROLLOUT_START]: 'start',
  [ACTION_ROLLOUT_CANCEL]: 'cancel',
  [ACTION_ROLLOUT_APPROVE]: 'approve',
  [ACTION_ROLLOUT_PAUSE]: 'pause',
  [ACTION_ROLLOUT_RESUME]: 'resume',
  [ACTION_ROLLOUT_PROMOTE]: 'promote_now',
  [ACTION_ROLLOUT_ABORT]: 'abort',
};

/** @example const table = rolloutActions({ rollouts, authorise }); */
export function rolloutActions(deps: RolloutActionDeps): ActionTable {
  const handler = (action: RolloutAction) => ({
    lane: 'default' as const,
    async handle({ actor, channelId, value }: Click) {
      const endpoint = await deps.rollouts.endpointOf(value);
      if (endpoint) await deps.authorise(actor, channelId, 'rollout', endpoint);
      return deps.rollouts.click(action, value, actor);
    },
  });
  return Object.fromEntries(Object.entries(ACTIONS).map(([id, action]) => [id, handler(action)]));
}
