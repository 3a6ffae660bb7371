import { APPROVALS_CHANNEL_ID, APPROVER_USER_ID } from '../../src/sandbox/slack/index.js';
import { seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { ACTION_APPROVAL_APPROVE } from '../../src/slack/blocks/action-ids.js';
import { startBotOnTwins } from './bot.js';

export interface PromotionCalls {
  /** Every Databricks call that reached the workspace twin, as `METHOD path`. */
  calls: string[];
  /** The calls made while requesting, and while approving and executing. */
  request: string[];
  approveAndExecute: string[];
}

/**
 * One approved Production promotion of the demo model (request → approve → executed) against the
 * real bot, counting the Databricks calls that reach the workspace twin. The twin settles a
 * rollout at once (rolloutDelayMs 0), so the rollout is read once and the count does not depend
 * on timing.
 *
 * @example (await countPromotionCalls()).calls.length // 14
 */
export async function countPromotionCalls(): Promise<PromotionCalls> {
  const workspace = await startWorkspaceTwin({ state: seedDemoWorkspace(), rolloutDelayMs: 0 });
  const env = await startBotOnTwins({ workspace });
  try {
    const mark0 = workspace.requests.length;
    await env.command('promote churn_model 3 Production');
    const req = await env.slack.waitFor(async () => (await env.bot.approvals.pending())[0]);
    const msg = await env.slack.waitFor(async () => (await env.bot.approvals.pending())[0]?.message);
    const mark1 = workspace.requests.length;
    await env.click({
      action_id: ACTION_APPROVAL_APPROVE,
      value: req.id,
      message_ts: msg.ts,
      channel: APPROVALS_CHANNEL_ID,
      user: APPROVER_USER_ID,
    });
    await env.slack.waitFor(
      async () => (await env.bot.requests.get(req.id))?.status === 'executed' || undefined,
      10_000,
    );
    await env.bot.approvals.idle();
    await env.bot.pipeline.idle();
    const mark2 = workspace.requests.length;
    const show = (from: number, to: number) =>
      workspace.requests.slice(from, to).map((r) => `${r.method} ${r.path.replace(/\?.*$/, '')}`);
    return { calls: show(mark0, mark2), request: show(mark0, mark1), approveAndExecute: show(mark1, mark2) };
  } finally {
    await env.stop();
    await workspace.stop();
  }
}
