/**
 * The short answers of the change pipeline when a click cannot be acted on as asked (unknown
 * change, not the requester, already applied, target busy, …), and the texts that replace a plan
 * once it is cancelled or can no longer be applied. Pure: data in, text and blocks out.
 */

import { changeTitle } from '../../changes/describe.js';
import { diffPlan } from '../../changes/plan/index.js';
import type { Change } from '../../changes/store.js';
import type { ChangeHolder, Plan } from '../../domain/change.js';
import type { Reply } from '../../domain/vocabulary.js';
import type { SlackBlock } from './block-kit.js';
import { codeBlocks, escapeMrkdwn, slackTime } from './format.js';
import { diffTable } from './plan.js';

/** An ephemeral answer that leaves the message the button was on as it is. */
const notice = (text: string): Reply => {
  const blocks: SlackBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text } }];
  return { text, blocks, visibility: 'ephemeral' };
};

/** What a target is called in a sentence: the endpoint, or "Champion of acme.mlops.churn_model". */
function targetName(plan: Plan): string {
  return plan.kind === 'endpoint' ? plan.endpoint : `${plan.alias} of ${plan.model}`;
}

/** " by <@U…> <time>": who applied a change and when, for a click on its out-of-date plan. */
const appliedBy = (change: Change): string =>
  `${change.appliedBy ? ` by <@${change.appliedBy}>` : ''}${change.appliedAt !== undefined ? ` ${slackTime(change.appliedAt)}` : ''}`;

/** Why a change cannot be acted on as asked. */
export function buildChangeStatusNotice(change: Change | undefined, id: string): Reply {
  if (!change)
    return notice(`There is no change \`${escapeMrkdwn(id)}\`. Run the command again to make a new plan.`);
  const ref = `Change \`${change.id}\` (${escapeMrkdwn(changeTitle(change.plan))})`;
  switch (change.status) {
    case 'proposed':
      return notice(`${ref} has not been applied yet.`);
    case 'applying':
    case 'rolling_out':
      return notice(
        `${ref} is already being applied by <@${change.appliedBy ?? change.requester}>; progress is in <#${change.channel}>.`,
      );
    case 'succeeded':
      return notice(
        `${ref} was already applied${appliedBy(change)}. ${escapeMrkdwn(change.outcome ?? '')}`.trim(),
      );
    case 'failed':
      return notice(
        `${ref} was already applied${appliedBy(change)} and failed: ${escapeMrkdwn(change.error ?? 'see the channel message')}`,
      );
    case 'timed_out':
      return notice(
        `${ref} was already applied${appliedBy(change)}; the bot stopped following its rollout. Check \`/mlops status\`.`,
      );
    case 'cancelled':
      return notice(`${ref} was cancelled; nothing was changed. Run the command again to make a new plan.`);
    case 'stale':
      return notice(
        change.replacedBy
          ? `${ref} is out of date: the target changed after it was planned. Use the newer plan \`${change.replacedBy}\`.`
          : `${ref} is out of date: ${escapeMrkdwn(change.error ?? 'the target changed after it was planned')}. Run the command again.`,
      );
  }
}

/** Who holds the target, in mrkdwn. */
/** Who holds a target and since when, in mrkdwn. */
export function busyText(holder: ChangeHolder | undefined, plan: Plan): string {
  if (!holder) return `Another change is in progress on ${targetName(plan)}.`;
  const since =
    holder.appliedAt !== undefined
      ? `, started <!date^${Math.floor(holder.appliedAt / 1000)}^{time}|earlier>`
      : '';
  return `Change \`${holder.id}\` (${escapeMrkdwn(changeTitle(holder.plan))}) by <@${holder.appliedBy ?? holder.requester}> is in progress on ${escapeMrkdwn(targetName(plan))}${since}.`;
}

/** Apply refused: another change holds the target. */
export function buildChangeBusyNotice(holder: ChangeHolder | undefined, plan: Plan): Reply {
  return notice(`${busyText(holder, plan)} Press Apply again when it has finished.`);
}

/** The note above a new plan whose target is busy. */
export function buildChangeBusyNote(holder: Change | undefined, plan: Plan): string {
  return `${busyText(holder, plan)} Apply will be refused until it has finished.`;
}

/** Someone other than the requester pressed Apply or Cancel. */
export function buildOnlyRequesterNotice(change: Change, action: 'apply' | 'cancel'): Reply {
  return notice(`Only <@${change.requester}> can ${action} this change.`);
}

/** Apply pressed while the bot is stopping. */
export function buildRestartingNotice(): Reply {
  return notice('The bot is restarting; press Apply again in a minute.');
}

/** A plan message that ended without running: what happened, above the plan's table kept in view. */
function closedPlan(text: string, plan: Plan | undefined): Reply {
  const blocks: SlackBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text } },
    ...(plan ? codeBlocks(diffTable(diffPlan(plan))) : []),
  ];
  return { text, blocks, visibility: 'in_channel', replaceOriginal: true };
}

/**
 * The request no longer makes sense; the plan message says so, keeping the plan's table.
 *
 * @example buildNoLongerApplicableReply('Version 9 does not exist.', undefined, plan).text // 'This plan can no longer be applied: …'
 */
export function buildNoLongerApplicableReply(reason: string, hint?: string, plan?: Plan): Reply {
  const extra = hint ? `\n${escapeMrkdwn(hint)}` : '';
  const text = `This plan can no longer be applied: ${escapeMrkdwn(reason)} Nothing was changed.${extra}`;
  return closedPlan(text, plan);
}

/** Cancel won; the plan message says so, keeping the plan's table. */
export function buildCancelledReply(change: Change): Reply {
  const text = `Cancelled change \`${change.id}\` (${escapeMrkdwn(changeTitle(change.plan))}). Nothing was changed.`;
  return closedPlan(text, change.plan);
}

/** A next-step button whose change is gone or no longer ends that way. */
export function buildNoNextStepNotice(id: string): Reply {
  return notice(
    `Change \`${escapeMrkdwn(id)}\` offers no next step any more. Run the command you want with \`/mlops\`.`,
  );
}
