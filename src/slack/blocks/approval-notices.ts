/**
 * The short answers about an approval request, worded for Slack: what a click is told (ephemeral),
 * and the lines posted in threads. The approvals service says what happened; these say it.
 */

import { describeApprovers } from '../../approvals/gate.js';
import { approvalTitle } from '../../approvals/request-plan.js';
import type { ApprovalNotices, ExecutionProgress } from '../../approvals/service.js';
import type { ApprovalRequest } from '../../approvals/store.js';
import type { Reply } from '../../domain/vocabulary.js';
import { buildApprovalNotice } from './approval.js';
import { describeExecution, executionText } from './approval-outcome.js';
import type { SlackBlock } from './block-kit.js';
import { escapeMrkdwn, slackTime } from './format.js';

const ref = (r: ApprovalRequest) => `Request \`${r.id}\` (${escapeMrkdwn(approvalTitle(r.plan))})`;
const ASK_AGAIN = 'Ask again to make a new request.';
const ASK_AGAIN_LIVE = 'Ask again to make a new request from what is live now.';
const needs = (r: ApprovalRequest) =>
  `${r.required - r.votes.length} more from ${describeApprovers(r.approvers)}`;

/** A line for a thread: the same text in a section. */
const line = (text: string): Pick<Reply, 'text' | 'blocks'> => {
  const blocks: SlackBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text } }];
  return { text, blocks };
};

/**
 * @example buildApprovalStatusNotice(undefined, 'apr-x') // 'There is no approval request `apr-x`.'
 */
export function buildApprovalStatusNotice(r: ApprovalRequest | undefined, id: string): Reply {
  if (!r) {
    return buildApprovalNotice(
      `There is no approval request \`${escapeMrkdwn(id)}\`.`,
      'Run `/mlops approvals` to see what is pending.',
    );
  }
  // Who decided and when: a click on an out-of-date copy (a DM, an old card) says what happened.
  const by = `${r.decidedBy ? ` by <@${r.decidedBy}>` : ''}${r.decidedAt !== undefined ? ` ${slackTime(r.decidedAt)}` : ''}`;
  switch (r.status) {
    case 'pending':
      return buildApprovalNotice(
        `${ref(r)} is waiting for ${r.required - r.votes.length} more approval(s) from ${describeApprovers(r.approvers)}.`,
      );
    case 'approved':
    case 'executing':
      return buildApprovalNotice(`${ref(r)} was already approved${by}; it is being executed.`);
    case 'executed':
      return buildApprovalNotice(`${ref(r)} was already approved${by} and is done.`);
    case 'failed':
      return buildApprovalNotice(
        `${ref(r)} was approved${by}, but it failed: ${executionText(r) ?? 'see the request message'}`,
      );
    case 'rejected':
      return buildApprovalNotice(
        `${ref(r)} was ${r.decidedBy === r.requester ? 'withdrawn' : 'rejected'}${by}; nothing was changed.`,
        ASK_AGAIN,
      );
    case 'expired':
      return buildApprovalNotice(
        `${ref(r)} expired without enough approvals (${slackTime(r.expiresAt)}); nothing was changed.`,
        ASK_AGAIN,
      );
    case 'superseded':
      return buildApprovalNotice(
        `${ref(r)} is out of date: ${escapeMrkdwn(r.reason ?? 'its target changed')}. Nothing was changed.`,
        ASK_AGAIN_LIVE,
      );
  }
}

export const approvalNotices: ApprovalNotices = {
  status: buildApprovalStatusNotice,

  samePending: (same) =>
    buildApprovalNotice(
      `${ref(same)} asks for the same and is still pending (${same.votes.length} of ${same.required} approvals, asked by <@${same.requester}>).`,
      same.message
        ? `It is in <#${same.message.channel}>; run \`/mlops approvals\` to see what is pending.`
        : 'Run `/mlops approvals` to see what is pending.',
    ),

  superseded: (r, what) =>
    buildApprovalNotice(
      `${ref(r)} can no longer be approved: ${escapeMrkdwn(what)}. It is now superseded; nothing was changed.`,
      ASK_AGAIN_LIVE,
    ),

  alreadyVoted: (r) =>
    buildApprovalNotice(
      r.status === 'pending'
        ? `You already approved ${ref(r)}; it needs ${needs(r)}.`
        : `You already approved ${ref(r)}.`,
    ),

  voted: (r, votes, remaining) =>
    buildApprovalNotice(
      `Your approval of ${ref(r)} is recorded: ${votes} of ${r.required}. It needs ${remaining} more from ${describeApprovers(r.approvers)}.`,
    ),

  approved: (r) =>
    buildApprovalNotice(
      `You approved ${ref(r)}. ${r.plan.kind === 'retrain' ? 'The job is starting' : r.plan.kind === 'deployment' ? 'The approval tag is being set and the run repaired' : 'The change is being applied'}; the request message follows it.`,
    ),

  rejected: (r, withdrawn) => ({
    ...buildApprovalNotice(`You ${withdrawn ? 'withdrew' : 'rejected'} ${ref(r)}. Nothing was changed.`),
    replaceOriginal: true,
  }),

  askedElsewhere: (r, channel) =>
    line(
      `:ballot_box_with_ballot: <@${r.requester}> asked for *${escapeMrkdwn(approvalTitle(r.plan))}*; the request \`${r.id}\` waits for approval in <#${channel}>.`,
    ),

  restarting: () => buildApprovalNotice('The bot is restarting; press Approve again in a minute.'),

  finished: (r, result) =>
    line(
      `${result.ok ? ':white_check_mark:' : ':x:'} *${escapeMrkdwn(approvalTitle(r.plan))}* ${result.ok ? 'is done.' : 'failed:'} ${describeExecution(result)}`,
    ),
};

/**
 * The line about an execution under way, shown in the request message.
 *
 * @example buildExecutionProgress({ kind: 'run', runId: 42 }) // 'Job run 42 started; following it…'
 */
export function buildExecutionProgress(p: ExecutionProgress): string {
  switch (p.kind) {
    case 'starting_job':
      return 'Starting the job…';
    case 'applying':
      return 'Applying the change…';
    case 'restarted':
      return 'Executing after a restart…';
    case 'resumed':
      return 'Picked up again after a restart…';
    case 'step':
      return `Step ${p.step} of ${p.of}: ${p.title}…`;
    case 'run':
      return `Job run ${p.runId} started; following it…`;
    case 'approving_run':
      return `Setting the approval tag and repairing run ${p.runId}…`;
    case 'repair':
      return `Approval tag set; run ${p.runId} repaired (repair ${p.repairId}); following it…`;
  }
}
