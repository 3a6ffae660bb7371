/**
 * Slack calls the notifications add to one approved Production promotion (request → approve →
 * executed) with the example policy (`notify: { approvers: dm, requester: dm }`, one approver in
 * @ml-approvers), counted at the Slack twin, and again for a second request (DM channels are
 * remembered, so conversations.open is not repeated).
 */
import { APPROVALS_CHANNEL_ID, APPROVER_USER_ID } from '../src/sandbox/slack/index.js';
import { seedDemoWorkspace } from '../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin } from '../src/sandbox/workspace/server.js';
import { ACTION_APPROVAL_APPROVE } from '../src/slack/blocks/action-ids.js';
import { startBotOnTwins } from '../test/support/bot.js';
import type { BenchRow } from './run.js';

const NOTIFY_METHODS = ['conversations.open', 'usergroups.list', 'usergroups.users.list'];

export default async function notifyCalls(): Promise<BenchRow[]> {
  const workspace = await startWorkspaceTwin({ state: seedDemoWorkspace(), rolloutDelayMs: 0 });
  const env = await startBotOnTwins({ workspace });
  const rounds: Array<Record<string, number>> = [];
  try {
    for (const version of [3, 1]) {
      const mark = env.slack.calls().length;
      await env.command(`promote churn_model ${version} Production`);
      const req = await env.slack.waitFor(async () => (await env.bot.approvals.pending())[0]);
      const msg = await env.slack.waitFor(async () => (await env.bot.approvals.pending())[0]?.message);
      await env.bot.approvals.idle();
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
      const counts: Record<string, number> = {};
      for (const c of env.slack.calls().slice(mark)) {
        const dm = typeof c.args.channel === 'string' && c.args.channel.startsWith('D');
        const key = dm ? `${c.method} (DM)` : c.method;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      rounds.push(counts);
    }
  } finally {
    await env.stop();
    await workspace.stop();
  }
  const show = (c: Record<string, number>) =>
    Object.entries(c)
      .filter(([k]) => NOTIFY_METHODS.includes(k) || k.endsWith('(DM)'))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const dmCalls = (c: Record<string, number>) =>
    Object.entries(c)
      .filter(([k]) => k === 'conversations.open' || k.endsWith('(DM)'))
      .reduce((n, [, v]) => n + v, 0);
  const [first = {}, second = {}] = rounds;
  console.log('first request:', first);
  console.log('second request:', second);
  return [
    {
      name: 'notification calls, first approval (1 approver DM + 2 requester DMs)',
      value: `${dmCalls(first)} (${show(first)})`,
      target: '<= 2 opens + 1 DM post + 1 DM update per card change + 2 requester DMs',
    },
    {
      name: 'notification calls, second approval (DM channels remembered)',
      value: `${dmCalls(second)} (${show(second)})`,
      target: 'no conversations.open',
    },
  ];
}
