/**
 * The Approve / Reject buttons of approval requests. Each listener acknowledges at once, re-checks
 * the clicker's rights on every click (the approvals service does: the requester never approves,
 * a non-approver is told why), and answers ephemerally through response_url; the request message
 * itself is updated by the service. Reject opens an ephemeral prompt with an optional reason
 * (an input block and a confirming button) rather than a modal, so it works the same in Slack and
 * in the sandbox console.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { ApprovalService } from '../../approvals/service.js';
import type { Policy } from '../../config/policy.js';
import { UserError } from '../../domain/errors.js';
import { newCorrelationId } from '../../lib/correlation-id.js';
import type { Logger } from '../../lib/logger.js';
import {
  ACTION_APPROVAL_APPROVE,
  ACTION_APPROVAL_REJECT,
  ACTION_APPROVAL_REJECT_CONFIRM,
  ACTION_APPROVAL_REJECT_DISMISS,
  ACTION_APPROVAL_REJECT_REASON,
} from '../blocks/action-ids.js';
import { REJECT_REASON_BLOCK } from '../blocks/approval.js';
import { afterAcks, clickerOf, createGuard, sendReply } from '../listener-kit.js';
import { createSlowLane } from '../slow-lane.js';

export interface ApprovalListenerDeps {
  approvals: Pick<ApprovalService, 'approve' | 'promptReject' | 'reject'>;
  policy: Pick<Policy, 'channels' | 'approvalChannel'>;
  logger: Logger;
  correlationId?: () => string;
  /**
   * How many approval clicks are served at once after their ack (default 2). Few on purpose: a
   * burst of clicks on one request is acknowledged first and decided after, one or two at a
   * time, and /mlops commands keep their own lane.
   */
  slots?: number;
}

/** Approval buttons live in the policy's channels and in its approval channel. */
function checkClickChannel(policy: ApprovalListenerDeps['policy'], channelId: string): void {
  const listed = policy.channels === undefined || policy.channels.includes(channelId);
  if (channelId === '' || channelId === policy.approvalChannel || listed) return;
  throw new UserError('channel_not_allowed', {
    variant: 'approvals',
    ...(policy.approvalChannel ? { approvalChannel: policy.approvalChannel } : {}),
  });
}

interface ReasonState {
  values?: Record<string, Record<string, { value?: string | null }>>;
}

/**
 * @example registerApprovalListeners(app, { approvals, policy, logger });
 */
export function registerApprovalListeners(app: App, deps: ApprovalListenerDeps): void {
  const { approvals, policy, logger } = deps;
  const lane = createSlowLane(deps.slots ?? 2);
  const guarded = createGuard(logger, deps.correlationId ?? newCorrelationId);

  const handlers = {
    [ACTION_APPROVAL_APPROVE]: (id: string, body: BlockAction<ButtonAction>) =>
      approvals.approve(id, clickerOf(body)),
    [ACTION_APPROVAL_REJECT]: (id: string, body: BlockAction<ButtonAction>) =>
      approvals.promptReject(id, clickerOf(body)),
    [ACTION_APPROVAL_REJECT_CONFIRM]: (id: string, body: BlockAction<ButtonAction>) => {
      const state = (body as { state?: ReasonState }).state;
      const reason =
        state?.values?.[REJECT_REASON_BLOCK]?.[ACTION_APPROVAL_REJECT_REASON]?.value ?? undefined;
      return approvals.reject(id, clickerOf(body), reason ?? undefined);
    },
  } as const;

  for (const [actionId, handle] of Object.entries(handlers)) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      const serve = async () => {
        const channelId = body.channel?.id ?? body.container?.channel_id ?? '';
        const reply = await guarded(`${actionId} button`, async () => {
          checkClickChannel(policy, channelId);
          return handle(action.value ?? '', body);
        });
        await sendReply(respond, reply, `${actionId} button`, logger);
      };
      await lane.run(serve);
    });
  }

  app.action<BlockAction<ButtonAction>>(ACTION_APPROVAL_REJECT_DISMISS, async ({ ack, respond }) => {
    await ack();
    await afterAcks();
    try {
      await respond({ delete_original: true });
    } catch (e) {
      logger.warn('could not remove the reject prompt:', (e as Error).message);
    }
  });
}
