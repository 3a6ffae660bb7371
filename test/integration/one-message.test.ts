/**
 * One message per change (issue #14): the plan, Apply, the rollout and its end are one message in
 * the channel, within 4 Web API calls whatever the rollout's length; a gated Production request is
 * one card plus one pointer; the end of a change offers its obvious next step. Counted at the
 * Slack twin, over signed requests to the real bot.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import {
  APPROVALS_CHANNEL_ID,
  APPROVER_USER_ID,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  VIEWER_USER_ID,
} from '../../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { failNextRollout } from '../../src/sandbox/workspace/serving-routes.js';
import {
  ACTION_APPLY,
  ACTION_APPROVAL_APPROVE,
  ACTION_CHANGE_NEXT_STEP,
} from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

let env: BotOnTwins;
let workspace: WorkspaceTwin | undefined;
afterEach(async () => {
  await env.stop();
  await workspace?.stop();
  workspace = undefined;
});

/** A bot whose rollouts take `rolloutDelayMs` and make new versions ready one by one. */
async function start(rolloutDelayMs: number) {
  workspace = await startWorkspaceTwin({ state: seedDemoWorkspace(), rolloutDelayMs, rolloutStagger: true });
  env = await startBotOnTwins({ workspace, policy: loadPolicy(EXAMPLE_POLICY_PATH) });
}

type TwinMessage = ReturnType<BotOnTwins['slack']['messages']>[number];

/** Messages people see in a channel's history (not ephemerals, not thread replies). */
const topLevel = (channel: string): TwinMessage[] =>
  env.slack.messages(channel).filter((m) => !m.ephemeral_to && (!m.thread_ts || m.thread_ts === m.ts));

/**
 * The chat.* Web API calls the twin received after `mark`: what a change's messages cost. (The
 * rights check's user-group lookups are cached per process, not per change; response_url posts
 * are not Web API calls.)
 */
const messageCalls = (mark: number) =>
  env.slack
    .calls()
    .slice(mark)
    .filter((c) => c.method.startsWith('chat.'));

/** The latest button with this action id in a channel's messages (skipping `old` ones), and its message. */
function buttonIn(
  channel: string,
  actionId: string,
  old: Set<string> = new Set(),
): { ts: string; value: string; text: string } | undefined {
  for (const m of env.slack.messages(channel).reverse()) {
    if (old.has(m.ts)) continue;
    for (const block of (m.blocks ?? []) as Array<{
      elements?: Array<{ action_id?: string; value?: string; text?: { text?: string } }>;
    }>) {
      const el = block.elements?.find((e) => e.action_id === actionId);
      if (el?.value) return { ts: m.ts, value: el.value, text: el.text?.text ?? '' };
    }
  }
  return undefined;
}

/** Types a mutating command and presses Apply on its plan as the requester; returns the change id. */
async function planAndApply(command: string): Promise<{ id: string; ts: string }> {
  // A message that was a plan a moment ago may still show its buttons (its update is paced).
  const old = new Set(env.slack.messages(MLOPS_CHANNEL_ID).map((m) => m.ts));
  await env.command(command);
  const plan = await env.slack.waitFor(() => buttonIn(MLOPS_CHANNEL_ID, ACTION_APPLY, old));
  await env.click({ action_id: ACTION_APPLY, value: plan.value, message_ts: plan.ts });
  return { id: plan.value, ts: plan.ts };
}

/** Waits until the change has ended and its message shows the end (the store is polled: it emits no events). */
const ended = (id: string, timeout = 10_000) =>
  vi.waitFor(
    async () => {
      const change = await env.bot.store.get(id);
      expect(['succeeded', 'failed', 'timed_out']).toContain(change?.status);
      expect(change?.messageFinished).toBe(true);
    },
    { timeout, interval: 50 },
  );

describe('one message per change', () => {
  it('follows a long rollout in the plan message itself: one message, at most 4 Web API calls, the table always shown', async () => {
    await start(3_000);
    const mark = env.slack.calls().length;
    // Two new versions that become ready one after the other: progress to show on the way.
    const { id, ts } = await planAndApply(`split ${DEMO.endpoint} 1=40 3=60`);
    await ended(id, 15_000);
    await env.bot.outbox.settled();

    expect(topLevel(MLOPS_CHANNEL_ID).map((m) => m.ts)).toEqual([ts]);
    const calls = messageCalls(mark);
    expect(calls.length).toBeLessThanOrEqual(4);
    expect(calls.map((c) => c.method)).toEqual([
      'chat.postMessage',
      ...calls.slice(1).map(() => 'chat.update'),
    ]);
    // Every state the message went through kept the plan's before/after table.
    for (const c of calls) expect(JSON.stringify(c.args.blocks)).toMatch(/what +now +after/);
    expect(calls.some((c) => /rolling out/.test(String(c.args.text)))).toBe(true);
    expect(String(calls.at(-1)?.args.text)).toMatch(/Traffic split on churn-endpoint: done/);
    // The click itself got no second answer.
    expect(env.slack.calls('response_url').slice(mark)).toEqual([]);
  });

  it('finishes the same message after a restart in the middle of the rollout', async () => {
    await start(2_500);
    const { id, ts } = await planAndApply(`deploy churn_model 3 to ${DEMO.endpoint}`);
    await env.slack.waitFor(async () => (await env.bot.store.get(id))?.status === 'rolling_out', 10_000);
    await env.restart();
    await ended(id, 15_000);
    const message = await env.slack.waitFor(() => {
      const m = env.slack.state.findMessage(MLOPS_CHANNEL_ID, ts);
      return m && /Deploy to churn-endpoint: done/.test(m.text ?? '') ? m : undefined;
    });
    expect(JSON.stringify(message.blocks)).toMatch(/what +now +after/);
    expect(topLevel(MLOPS_CHANNEL_ID)).toHaveLength(1);
  });
});

describe('a gated Production request', () => {
  it('is one card, updated to its end, with one thread line for the outcome and one pointer where it was asked', async () => {
    await start(300);
    const mark = env.slack.calls().length;
    await env.command('promote churn_model 3 Production');
    const card = await env.slack.waitFor(() => buttonIn(APPROVALS_CHANNEL_ID, ACTION_APPROVAL_APPROVE));
    await env.click({
      action_id: ACTION_APPROVAL_APPROVE,
      value: card.value,
      message_ts: card.ts,
      channel: APPROVALS_CHANNEL_ID,
      user: APPROVER_USER_ID,
    });
    await env.slack.waitFor(
      async () => (await env.bot.requests.get(card.value))?.status === 'executed' || undefined,
      10_000,
    );
    await env.bot.approvals.idle();
    await env.bot.pipeline.idle();
    await env.bot.outbox.settled();

    expect(topLevel(APPROVALS_CHANNEL_ID).map((m) => m.ts)).toEqual([card.ts]);
    expect(shown(env.slack.state.findMessage(APPROVALS_CHANNEL_ID, card.ts)!)).toMatch(
      /Done: Production → churn_model v3/,
    );
    const thread = env.slack
      .messages(APPROVALS_CHANNEL_ID)
      .filter((m) => m.thread_ts === card.ts && m.ts !== card.ts);
    expect(thread.map((m) => m.text)).toEqual([expect.stringMatching(/is done/)]);
    const pointer = topLevel(MLOPS_CHANNEL_ID);
    expect(pointer).toHaveLength(1);
    expect(pointer[0]?.text).toContain(`<#${APPROVALS_CHANNEL_ID}>`);
    // No progress message of the steps anywhere: the card followed them.
    const posts = messageCalls(mark).filter((c) => c.method === 'chat.postMessage');
    const isDm = (c: (typeof posts)[number]) => String(c.args.channel).startsWith('D');
    expect(posts.filter((c) => !isDm(c))).toHaveLength(3); // card, pointer, outcome line
    // The approver DMs and requester notices (notifications, #14) are their own messages, never a step.
    const dms = posts.filter(isDm).map((c) => String(c.args.text));
    expect(dms).toHaveLength(3);
    for (const text of dms) expect(text).toMatch(/asks for your approval|was approved|is done/);
  });
});

describe('next-step buttons', () => {
  it('offers "Promote v3 to Production" after a move to Champion, and the click asks for the approval', async () => {
    await start(300);
    const { id, ts } = await planAndApply('promote churn_model 3 Champion');
    await ended(id, 10_000);
    const next = await env.slack.waitFor(() => buttonIn(MLOPS_CHANNEL_ID, ACTION_CHANGE_NEXT_STEP));
    expect(next).toMatchObject({ ts, value: id, text: 'Promote v3 to Production' });

    // Rights are checked on the click: a viewer may not promote.
    const answers = env.slack.calls('response_url').length;
    await env.click({ action_id: ACTION_CHANGE_NEXT_STEP, value: id, message_ts: ts, user: VIEWER_USER_ID });
    const refusal = await env.slack.waitFor(() => env.slack.calls('response_url').slice(answers)[0]);
    expect(shown(refusal.args)).toMatch(/Only .*may promote/);
    expect(await env.bot.approvals.pending()).toEqual([]);

    await env.click({
      action_id: ACTION_CHANGE_NEXT_STEP,
      value: id,
      message_ts: ts,
      user: REQUESTER_USER_ID,
    });
    const card = await env.slack.waitFor(() =>
      topLevel(APPROVALS_CHANNEL_ID).find((m) =>
        /Approval needed: Production → churn_model v3/.test(m.text ?? ''),
      ),
    );
    expect(card).toBeDefined();
    expect((await env.bot.approvals.pending()).map((r) => r.requester)).toEqual([REQUESTER_USER_ID]);
  });

  it('offers "Roll back" after a failed rollout, and the click makes the rollback plan', async () => {
    await start(200);
    const first = await planAndApply(`deploy churn_model 3 to ${DEMO.endpoint}`);
    await ended(first.id, 10_000);
    expect(buttonIn(MLOPS_CHANNEL_ID, ACTION_CHANGE_NEXT_STEP)).toBeUndefined();

    failNextRollout(workspace!.state, DEMO.endpoint, 'Container build failed: No module named sklearn');
    const failed = await planAndApply(`deploy churn_model 1 to ${DEMO.endpoint}`);
    await ended(failed.id, 10_000);
    expect((await env.bot.store.get(failed.id))?.status).toBe('failed');
    const next = await env.slack.waitFor(() => buttonIn(MLOPS_CHANNEL_ID, ACTION_CHANGE_NEXT_STEP));
    expect(next).toMatchObject({ ts: failed.ts, text: 'Roll back' });

    await env.click({ action_id: ACTION_CHANGE_NEXT_STEP, value: failed.id, message_ts: failed.ts });
    const plan = await env.slack.waitFor(() =>
      topLevel(MLOPS_CHANNEL_ID).find((m) => /^Plan: Roll/.test(m.text ?? '')),
    );
    expect(shown(plan)).toContain('churn_model v2');
    expect(shown(plan)).toContain(ACTION_APPLY);
    // A second click finds the same plan instead of making another.
    await env.click({ action_id: ACTION_CHANGE_NEXT_STEP, value: failed.id, message_ts: failed.ts });
    await env.bot.pipeline.idle();
    await env.bot.outbox.settled();
    expect(topLevel(MLOPS_CHANNEL_ID).filter((m) => /^Plan: Roll/.test(m.text ?? ''))).toHaveLength(1);
  });
});
