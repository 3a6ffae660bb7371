/**
 * The Approve / Reject buttons of approval requests. The approvals service re-checks the clicker's
 * rights on every click (the requester never approves, a non-approver is told why); the listener
 * checks the channel and reads the reject reason. Reject opens an ephemeral prompt with an optional
 * reason (an input block and a confirming button) rather than a modal, so it works the same in
 * Slack and in the sandbox console.
 */
import type { ApprovalService } from '../../approvals/service.js';
import type { Policy } from '../../config/policy.js';
import {
  ACTION_APPROVAL_APPROVE,
  ACTION_APPROVAL_REJECT,
  ACTION_APPROVAL_REJECT_CONFIRM,
  ACTION_APPROVAL_REJECT_DISMISS,
  ACTION_APPROVAL_REJECT_REASON,
} from '../blocks/action-ids.js';
import { REJECT_REASON_BLOCK } from '../blocks/approval.js';
import { checkApprovalClickChannel } from '../listener-kit.js';
import type { ActionTable, Click } from './actions.js';

export interface ApprovalActionDeps {
  approvals: Pick<ApprovalService, 'approve' | 'promptReject' | 'reject'> &
    Partial<Pick<ApprovalService, 'dmChannelsOf'>>;
  policy: Pick<Policy, 'channels' | 'approvalChannel'>;
}

interface ReasonState {
  values?: Record<string, Record<string, { value?: string | null }>>;
}

/** @example const table = approvalActions({ approvals, policy }); */
export function approvalActions(deps: ApprovalActionDeps): ActionTable {
  const { approvals, policy } = deps;
  const inChannel =
    (run: (click: Click) => ReturnType<ApprovalService['approve']>) => async (click: Click) => {
      // The request's own DM to an approver carries the same buttons; any other DM does not count.
      const inItsDm =
        click.channelId.startsWith('D') &&
        ((await approvals.dmChannelsOf?.(click.value)) ?? []).includes(click.channelId);
      if (!inItsDm) checkApprovalClickChannel(policy, click.channelId);
      return run(click);
    };
  return {
    [ACTION_APPROVAL_APPROVE]: {
      lane: 'approvals',
      handle: inChannel((c) => approvals.approve(c.value, c.actor)),
    },
    [ACTION_APPROVAL_REJECT]: {
      lane: 'approvals',
      handle: inChannel((c) => approvals.promptReject(c.value, c.actor)),
    },
    [ACTION_APPROVAL_REJECT_CONFIRM]: {
      lane: 'approvals',
      handle: inChannel((c) => {
        const state = (c.body as { state?: ReasonState }).state;
        const reason = state?.values?.[REJECT_REASON_BLOCK]?.[ACTION_APPROVAL_REJECT_REASON]?.value;
        return approvals.reject(c.value, c.actor, reason ?? undefined);
      }),
    },
    [ACTION_APPROVAL_REJECT_DISMISS]: {
      lane: 'approvals',
      handle: async () => ({ text: '', visibility: 'ephemeral', deleteOriginal: true }),
    },
  };
}
