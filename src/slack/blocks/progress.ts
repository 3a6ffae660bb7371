/**
 * The one message of a change after Apply: the plan message (plan.ts) updated in place, keeping its
 * before/after table: starting → rolling out (with what is pending) → ready, failed (Databricks'
 * reason and what still serves, and a Roll back button) or timed out (what to check). Pure: data
 * in, text and blocks out.
 */

import { changeTitle, formatElapsed } from '../../changes/describe.js';
import type { NextStep } from '../../changes/next-step.js';
import type { ProgressPhase, ProgressView } from '../../changes/pipeline.js';
import { describeTraffic, diffPlan } from '../../changes/plan/index.js';
import type { AliasPlan, ChangeAdvice, EndpointPlan, Plan } from '../../domain/change.js';
import type { Endpoint } from '../../domain/ports/serving.js';
import { endpointUrl, modelVersionUrl } from '../../domain/workspace-links.js';
import { ACTION_CHANGE_NEXT_STEP } from './action-ids.js';
import type { SlackBlock } from './block-kit.js';
import { codeBlocks, escapeMrkdwn, plain, shortModel, truncate } from './format.js';
import { BLOCK_LIMITS } from './limits.js';
import { diffTable } from './plan.js';

export type { ProgressPhase, ProgressView };

const ICONS: Record<ProgressPhase, string> = {
  starting: ':hourglass_flowing_sand:',
  rolling_out: ':hourglass_flowing_sand:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  timed_out: ':warning:',
};

const PHASE_WORDS: Record<ProgressPhase, string> = {
  starting: 'sending to Databricks',
  rolling_out: 'rolling out',
  succeeded: 'done',
  failed: 'failed',
  timed_out: 'stopped following',
};

const MAX_REASON = 1500;

export { changeTitle, formatElapsed };

function deploymentWord(state: string | undefined): string {
  switch (state) {
    case 'DEPLOYMENT_READY':
      return 'ready';
    case 'DEPLOYMENT_CREATING':
      return 'creating';
    case 'DEPLOYMENT_FAILED':
      return 'failed';
    case undefined:
      return 'waiting';
    default:
      return state
        .toLowerCase()
        .replace(/^deployment_/, '')
        .replace(/_/g, ' ');
  }
}

function changeLines(plan: Plan): string[] {
  if (plan.kind === 'alias') return aliasLines(plan);
  return endpointLines(plan);
}

function endpointLines(plan: EndpointPlan): string[] {
  return [
    `*Before:* ${plan.before ? describeTraffic(plan.before) : 'no endpoint'}`,
    `*After:* ${describeTraffic(plan.after)}`,
  ];
}

function aliasLines(plan: AliasPlan): string[] {
  const from = plan.fromVersion !== undefined ? `v${plan.fromVersion}` : 'not set';
  return [`*${plan.alias}* (${escapeMrkdwn(plan.model)}): ${from} → v${plan.toVersion}`];
}

/** The pending served versions that are not live yet, with their deployment state. */
function pendingLines(endpoint: Endpoint | undefined): string[] {
  const pending = endpoint?.pending;
  if (!pending) return [];
  const live = new Set((endpoint.current?.servedVersions ?? []).map((v) => `${v.name}|${v.modelVersion}`));
  return pending.servedVersions
    .filter((v) => !live.has(`${v.name}|${v.modelVersion}`))
    .map(
      (v) => `• ${shortModel(v.modelName)} v${v.modelVersion} (\`${v.name}\`): ${deploymentWord(v.state)}`,
    );
}

function outcomeLines(view: ProgressView): string[] {
  const lines: string[] = [];
  const serving = (ep: Endpoint | undefined) =>
    ep
      ? [
          `*Still serving:* ${ep.current ? describeTraffic(ep.current) : 'nothing (the endpoint has never been ready)'}`,
        ]
      : [];
  switch (view.phase) {
    case 'starting':
      lines.push('Sending the change to Databricks…');
      break;
    case 'rolling_out': {
      const pending = pendingLines(view.endpoint);
      lines.push(pending.length > 0 ? '*Pending:*' : 'Databricks is rolling out the new config…', ...pending);
      break;
    }
    case 'succeeded':
      lines.push(escapeMrkdwn(view.summary ?? 'The change is live.'));
      break;
    case 'failed':
      lines.push(`*Reason:* ${escapeMrkdwn(truncate(view.reason ?? 'unknown', MAX_REASON))}`);
      if (view.plan.kind === 'endpoint') lines.push(...serving(view.endpoint));
      break;
    case 'timed_out':
      lines.push(escapeMrkdwn(truncate(view.reason ?? 'The bot stopped following the rollout.', MAX_REASON)));
      if (view.plan.kind === 'endpoint') lines.push(...serving(view.endpoint));
      break;
  }
  const hint = view.hint ?? (view.advice ? adviceText(view.advice) : undefined);
  if (hint && (view.phase === 'failed' || view.phase === 'timed_out')) {
    lines.push(`_${escapeMrkdwn(truncate(hint, 500))}_`);
  }
  if (view.correlationId) lines.push(`Reference: \`${escapeMrkdwn(view.correlationId)}\``);
  return lines;
}

const FINAL = new Set<ProgressPhase>(['succeeded', 'failed', 'timed_out']);

/**
 * While a change runs the start time is a Slack date token, not a running count, so an update is
 * sent only when something people care about changed; the end says how long it took.
 */
function whenText(view: ProgressView): string {
  if (FINAL.has(view.phase)) return `took ${formatElapsed(view.now - view.startedAt)}`;
  const seconds = Math.floor(view.startedAt / 1000);
  return `started <!date^${seconds}^{time}|${new Date(view.startedAt).toISOString().slice(11, 16)} UTC>`;
}

function contextText(view: ProgressView): string {
  const parts = [`Requested by <@${view.requester}>`];
  if (view.appliedBy && view.appliedBy !== view.requester) parts.push(`applied by <@${view.appliedBy}>`);
  parts.push(whenText(view), `change \`${view.changeId}\``);
  const plan = view.plan;
  if (plan.kind === 'endpoint') {
    parts.push(`<${endpointUrl(view.workspaceHost, plan.endpoint)}|endpoint page>`);
  } else {
    parts.push(`<${modelVersionUrl(view.workspaceHost, plan.model, plan.toVersion)}|model version>`);
  }
  return parts.join(' · ');
}

/**
 * The progress message of one change, for chat.postMessage and chat.update.
 *
 * @example
 * messenger.update(ref, buildProgressMessage({ changeId, plan, phase: 'succeeded', requester: 'U1',
 *   startedAt, now: clock.now(), workspaceHost, summary: 'churn-endpoint serves churn_model v3 100%.' }));
 */
export function buildProgressMessage(view: ProgressView): { text: string; blocks: SlackBlock[] } {
  const title = changeTitle(view.plan);
  const words = PHASE_WORDS[view.phase];
  const detail =
    view.phase === 'succeeded'
      ? (view.summary ?? '')
      : view.phase === 'failed' || view.phase === 'timed_out'
        ? truncate(view.reason ?? '', 300)
        : '';
  const text = truncate(`${title}: ${words}${detail ? ` — ${detail}` : ''}`, 3000);
  const body = [...changeLines(view.plan), ...outcomeLines(view)].join('\n');
  const blocks: SlackBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `${ICONS[view.phase]} *${escapeMrkdwn(title)}* — ${words}` },
    },
    // The plan's table, as the plan message showed it: what was asked stays in view to the end.
    ...codeBlocks(diffTable(diffPlan(view.plan))),
    { type: 'section', text: { type: 'mrkdwn', text: truncate(body, 3000) } },
    ...(view.next && FINAL.has(view.phase) ? [nextStepBlock(view.changeId, view.next)] : []),
    { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(contextText(view), 3000) }] },
  ];
  return { text, blocks };
}

/** The words on a next-step button. */
export function nextStepLabel(step: NextStep): string {
  return step.kind === 'promote' ? `Promote v${step.version} to ${step.alias}` : 'Roll back';
}

/** The button of the obvious next step; it carries only the change id (the step is read from the store). */
function nextStepBlock(changeId: string, step: NextStep): SlackBlock {
  return {
    type: 'actions',
    block_id: truncate(`change-next-${changeId}`, BLOCK_LIMITS.blockId),
    elements: [
      {
        type: 'button',
        action_id: ACTION_CHANGE_NEXT_STEP,
        text: plain(nextStepLabel(step)),
        value: changeId,
        ...(step.kind === 'promote' ? { style: 'primary' } : {}),
      },
    ],
  };
}

/**
 * What to do after a change that did not end well, in words with the command to run.
 *
 * @example adviceText({ kind: 'rollout_may_finish', endpoint: 'churn-endpoint' }) // 'It may still finish; check `/mlops status churn-endpoint` or the endpoint page.'
 */
export function adviceText(advice: ChangeAdvice): string {
  switch (advice.kind) {
    case 'check_live':
      return `Check what is live with \`/mlops status${advice.endpoint ? ` ${advice.endpoint}` : ''}\` before trying again.`;
    case 'check_if_applied':
      return 'It may or may not have been applied; check `/mlops status` before trying again.';
    case 'rollout_may_continue':
      return `The rollout may still be going on; check \`/mlops status ${advice.endpoint}\`.`;
    case 'rollout_may_finish':
      return `It may still finish; check \`/mlops status ${advice.endpoint}\` or the endpoint page.`;
  }
}
