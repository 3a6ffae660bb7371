import { APPROVALS_CHANNEL_ID, APPROVER_USER_ID, MLOPS_CHANNEL_ID } from '../../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { ACTION_APPLY, ACTION_APPROVAL_APPROVE } from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from './bot.js';

/** What one change or one request cost in Slack, counted at the twin. */
export interface MessageCost {
  /** chat.* Web API calls (postMessage, update). */
  webApiCalls: number;
  /** Posts to response_urls (answers to the command and the clicks; not Web API calls). */
  responseUrlPosts: number;
  /** Messages the change or request left in channel histories (thread replies not counted). */
  topLevel: number;
  /** Replies in threads. */
  threadLines: number;
}

/** Polls until `done()` holds (the bot's store emits no events), or throws after `timeoutMs`. */
async function until(done: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function costSince(env: BotOnTwins, mark: number, channels: string[], before: Set<string>): MessageCost {
  const calls = env.slack.calls().slice(mark);
  const messages = channels
    .flatMap((c) => env.slack.messages(c))
    .filter((m) => !m.ephemeral_to && !before.has(m.ts));
  const isTop = (m: (typeof messages)[number]) => !m.thread_ts || m.thread_ts === m.ts;
  return {
    webApiCalls: calls.filter((c) => c.method.startsWith('chat.')).length,
    responseUrlPosts: calls.filter((c) => c.method === 'response_url').length,
    topLevel: messages.filter(isTop).length,
    threadLines: messages.filter((m) => !isTop(m)).length,
  };
}

const seen = (env: BotOnTwins, channels: string[]) =>
  new Set(channels.flatMap((c) => env.slack.messages(c)).map((m) => m.ts));

/**
 * N changes in a row on the demo endpoint, each a split whose new served versions become ready
 * one by one over a rollout of `rolloutDelayMs` (so there is progress to show), each planned and
 * applied by the requester and followed to its end. The cost of each, counted at the Slack twin.
 *
 * @example (await countChangeMessages(3, 3_000)).every((c) => c.webApiCalls <= 4)
 */
export async function countChangeMessages(n: number, rolloutDelayMs: number): Promise<MessageCost[]> {
  const workspace = await startWorkspaceTwin({
    state: seedDemoWorkspace(),
    rolloutDelayMs,
    rolloutStagger: true,
  });
  const env = await startBotOnTwins({ workspace });
  const splits = ['1=40 3=60', '2=30 3=70', '1=50 2=50'];
  try {
    // A dry run first: the rights check's user-group lookups are cached per process, not per change.
    await env.command(`deploy churn_model 3 to ${DEMO.endpoint} --dry-run`);
    await env.bot.outbox.settled();
    const costs: MessageCost[] = [];
    for (let i = 0; i < n; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const before = seen(env, [MLOPS_CHANNEL_ID]);
      const mark = env.slack.calls().length;
      await env.command(`split ${DEMO.endpoint} ${splits[i % splits.length]}`);
      let plan: { ts: string; id: string } | undefined;
      await until(
        () => {
          for (const m of env.slack.messages(MLOPS_CHANNEL_ID)) {
            if (before.has(m.ts) || m.ephemeral_to) continue;
            const el = (
              (m.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>
            )
              .flatMap((b) => b.elements ?? [])
              .find((e) => e.action_id === ACTION_APPLY);
            if (el?.value) plan = { ts: m.ts, id: el.value };
          }
          return plan !== undefined;
        },
        10_000,
        'the plan',
      );
      // A person reads the plan before pressing Apply.
      await new Promise((r) => setTimeout(r, 1_000));
      await env.click({ action_id: ACTION_APPLY, value: plan!.id, message_ts: plan!.ts });
      const id = plan!.id;
      await until(
        async () =>
          ['succeeded', 'failed', 'timed_out'].includes((await env.bot.store.get(id))?.status ?? '') &&
          (await env.bot.store.get(id))?.messageFinished === true,
        rolloutDelayMs + 20_000,
        `change ${id} to end`,
      );
      await env.bot.outbox.settled();
      await new Promise((r) => setTimeout(r, 1_200));
      await env.bot.outbox.settled();
      costs.push(costSince(env, mark, [MLOPS_CHANNEL_ID], before));
    }
    return costs;
  } finally {
    await env.stop();
    await workspace.stop();
  }
}

/** One gated Production promotion (request, one approval, executed), counted at the Slack twin. */
export async function countApprovalMessages(): Promise<MessageCost> {
  const workspace = await startWorkspaceTwin({ state: seedDemoWorkspace(), rolloutDelayMs: 1_500 });
  const env = await startBotOnTwins({ workspace });
  const channels = [MLOPS_CHANNEL_ID, APPROVALS_CHANNEL_ID];
  try {
    await env.command('promote churn_model 3 Champion --dry-run');
    await env.bot.outbox.settled();
    const before = seen(env, channels);
    const mark = env.slack.calls().length;
    await env.command('promote churn_model 3 Production');
    await until(
      async () => (await env.bot.approvals.pending())[0]?.message !== undefined,
      10_000,
      'the request card',
    );
    const req = (await env.bot.approvals.pending())[0]!;
    await env.click({
      action_id: ACTION_APPROVAL_APPROVE,
      value: req.id,
      message_ts: req.message!.ts,
      channel: APPROVALS_CHANNEL_ID,
      user: APPROVER_USER_ID,
    });
    await until(
      async () => (await env.bot.requests.get(req.id))?.status === 'executed',
      20_000,
      'the execution',
    );
    await env.bot.approvals.idle();
    await env.bot.pipeline.idle();
    await new Promise((r) => setTimeout(r, 1_200));
    await env.bot.outbox.settled();
    return costSince(env, mark, channels, before);
  } finally {
    await env.stop();
    await workspace.stop();
  }
}
