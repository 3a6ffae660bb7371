/**
 * What approvers and requesters are told directly: an approver's DM (the request card, with its
 * buttons while it is pending, and where the request is), the requester's notice of each event of
 * their request, and the thread line for an approver no DM could reach. Pure: data in, text and
 * blocks out.
 */
import type { ApprovalMessageOptions, NotifyViews } from '../../approvals/contracts.js';
import type { RequesterEvent } from '../../approvals/notify-store.js';
import { approvalTitle } from '../../approvals/request-plan.js';
import type { ApprovalRequest } from '../../approvals/store.js';
import type { Reply } from '../../domain/vocabulary.js';
import { buildApprovalMessage, MAX_REJECT_REASON } from './approval.js';
import { executionText } from './approval-outcome.js';
import type { SlackBlock } from './block-kit.js';
import {
  contextBlock,
  escapeKeepingLinks,
  escapeMrkdwn,
  sectionBlock,
  slackTime,
  truncate,
} from './format.js';

type Said = Pick<Reply, 'text' | 'blocks'>;

const where = (r: ApprovalRequest) => (r.message ? ` in <#${r.message.channel}>` : '');

/**
 * An approver's DM: the card as the channel shows it (the same buttons while pending, none once
 * decided), under a line saying why they got it.
 *
 * @example buildApproverDm(request, { now, workspaceHost }).blocks[0] // 'You are asked to approve this request …'
 */
export function buildApproverDm(r: ApprovalRequest, options: ApprovalMessageOptions): Said {
  const card = buildApprovalMessage(r, options);
  const why =
    r.status === 'pending'
      ? `:wave: <@${r.requester}> asks for your approval${where(r)}. You can approve or reject here.`
      : `You were asked to approve this request${where(r)}; it is decided, so there is nothing left to do.`;
  return {
    text: truncate(
      `${r.status === 'pending' ? `<@${r.requester}> asks for your approval: ` : ''}${card.text}`,
      3000,
    ),
    blocks: [contextBlock([why]), ...card.blocks],
  };
}

function eventLine(r: ApprovalRequest, event: RequesterEvent): string {
  const title = `*${escapeMrkdwn(approvalTitle(r.plan))}* (request \`${r.id}\`)`;
  const by = r.decidedBy ? ` by <@${r.decidedBy}>` : '';
  const at = r.decidedAt !== undefined ? ` ${slackTime(r.decidedAt)}` : '';
  switch (event) {
    case 'approved':
      return `:white_check_mark: Your request ${title} was approved${by}${at}. ${r.plan.kind === 'retrain' ? 'The job is starting' : 'It is being applied now'}; you will hear how it ends.`;
    case 'rejected':
      return `:no_entry: Your request ${title} was rejected${by}${at}${r.reason ? `: ${escapeMrkdwn(truncate(r.reason, MAX_REJECT_REASON))}` : ' (no reason given)'}. Nothing was changed.`;
    case 'expired':
      return `:alarm_clock: Your request ${title} expired ${slackTime(r.expiresAt)} with ${r.votes.length} of ${r.required} approvals. Nothing was changed; ask again if it is still needed.`;
    case 'superseded':
      return `:warning: Your request ${title} is out of date: ${escapeMrkdwn(r.reason ?? 'its target changed')}. Nothing was changed; ask again to make a new request from what is live now.`;
    case 'executed':
      return `:tada: Your request ${title} is done. ${escapeKeepingLinks(executionText(r) ?? '')}`.trim();
    case 'failed':
      return `:x: Your request ${title} was approved but failed: ${escapeKeepingLinks(truncate(executionText(r) ?? r.reason ?? 'see the request message', 1500))}`;
  }
}

/**
 * The requester told of an event of their request: a DM, or a thread reply that mentions them.
 *
 * @example buildRequesterNotice(request, 'rejected', 'dm').text // 'Your request … was rejected by <@U0APPROVE> …: too risky. Nothing was changed.'
 */
export function buildRequesterNotice(r: ApprovalRequest, event: RequesterEvent, at: 'dm' | 'thread'): Said {
  const line = eventLine(r, event);
  const text = at === 'thread' ? `<@${r.requester}> ${line}` : line;
  const blocks: SlackBlock[] = [sectionBlock(text)];
  if (at === 'dm' && r.message) blocks.push(contextBlock([`The request is in <#${r.message.channel}>.`]));
  return { text, blocks };
}

/** Why a DM could not be had, in a few words, by Slack's code. */
const UNREACHABLE: Record<string, string> = {
  user_disabled: 'the account is deactivated',
  account_inactive: 'the account is deactivated',
  user_not_found: 'Slack does not know the account',
  cannot_dm_bot: 'it is a bot account',
  messages_tab_disabled: 'DMs from apps are turned off',
  not_allowed_token_type: 'the bot may not open DMs',
  missing_scope: 'the bot lacks the im:write scope',
  slack_unavailable: 'Slack did not answer',
};

/**
 * In the request's thread: an approver no DM could reach, mentioned so they still hear of it.
 *
 * @example buildDmUnreachable(request, 'U0GONE', 'user_disabled').text // '<@U0GONE>: this request waits for your approval (no DM could reach you: the account is deactivated).'
 */
export function buildDmUnreachable(r: ApprovalRequest, userId: string, error: string): Said {
  const why = UNREACHABLE[error] ?? `Slack answered ${escapeMrkdwn(error)}`;
  const text = `<@${userId}>: request \`${r.id}\` (${escapeMrkdwn(approvalTitle(r.plan))}) waits for your approval here; no DM could reach you (${why}).`;
  return { text, blocks: [sectionBlock(text)] };
}

export const notifyViews: NotifyViews = {
  approverDm: buildApproverDm,
  requesterNotice: buildRequesterNotice,
  dmUnreachable: buildDmUnreachable,
};
