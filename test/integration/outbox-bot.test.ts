/**
 * The whole bot with Slack faults (issue #12, "an outbox for Slack"): channel_not_found,
 * invalid_auth and 5xx on the first progress post, on the final update and on the approval
 * request. Either the outcome arrives in the channel once Slack recovers, or the requester is told
 * through their response_url, and the audit says so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  APPROVALS_CHANNEL_ID,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  type SlackFault,
} from '../../src/sandbox/slack/index.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { ACTION_APPLY } from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

let env: BotOnTwins;
afterEach(async () => env.stop());

/** The Apply button of the latest plan in #mlops. */
function latestPlan(): { ts: string; changeId: string } | undefined {
  for (const m of env.slack.messages(MLOPS_CHANNEL_ID).reverse()) {
    for (const block of (m.blocks ?? []) as Array<{
      elements?: Array<{ action_id?: string; value?: string }>;
    }>) {
      const apply = block.elements?.find((e) => e.action_id === ACTION_APPLY);
      if (apply?.value) return { ts: m.ts, changeId: apply.value };
    }
  }
  return undefined;
}

/** Plans a deploy of v3 and presses Apply as the requester; returns the change id. */
async function deployV3(): Promise<string> {
  await env.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
  const plan = await env.slack.waitFor(latestPlan);
  await env.click({ action_id: ACTION_APPLY, value: plan.changeId, message_ts: plan.ts });
  return plan.changeId;
}

/** The progress message of the change in #mlops, once it shows how the change ended. */
const finishedInChannel = () =>
  env.slack.waitFor(
    () =>
      env.slack
        .messages(MLOPS_CHANNEL_ID)
        .find((m) => !m.ephemeral_to && /Deploy to churn-endpoint: done/.test(shown(m))),
    10_000,
  );

/** What the requester was told through a response_url that mentions `pattern`. */
const toldRequester = (pattern: RegExp) =>
  env.slack.waitFor(
    () =>
      env.slack
        .calls('response_url')
        .find((c) => pattern.test(`${c.args.text ?? ''}${JSON.stringify(c.args.blocks ?? [])}`)),
    10_000,
  );

const undeliverableAudit = async (changeId?: string) =>
  await env.bot.store.recentAudit({ action: 'message_undeliverable', ...(changeId ? { changeId } : {}) });

/** Progress messages Slack took in #mlops (a refusal is HTTP 200 too, with ok: false). */
const progressPosts = () =>
  env.slack
    .calls('chat.postMessage')
    .filter((c) => c.args.channel === MLOPS_CHANNEL_ID && (c.response as { ok?: boolean }).ok === true);

describe('the first progress post', () => {
  it('arrives, once, when Slack recovers from 5xx, and shows how the change ended', async () => {
    env = await startBotOnTwins();
    env.slack.failNext('chat.postMessage', { status: 500 }, 3);
    const id = await deployV3();
    await finishedInChannel();
    await env.slack.waitFor(async () => (await env.bot.store.get(id))?.status === 'succeeded');
    expect(progressPosts()).toHaveLength(1);
    expect(await undeliverableAudit()).toEqual([]);
  });

  it.each<[string, SlackFault]>([
    ['channel_not_found', { error: 'channel_not_found' }],
    ['invalid_auth', { error: 'invalid_auth' }],
  ])(
    'refused with %s: the requester is told through the response_url how it ended, and it is audited',
    async (code, fault) => {
      env = await startBotOnTwins();
      // Every post to #mlops is refused (the bot was removed, or its token revoked).
      env.slack.failNext('chat.postMessage', fault, 50);
      const id = await deployV3();
      const told = await toldRequester(/Deploy to churn-endpoint: done/);
      expect(told.args.response_type).toBe('ephemeral');
      expect(String(told.args.text)).toContain(code);
      expect((await env.bot.store.get(id))?.status).toBe('succeeded');
      await env.bot.outbox.settled();
      const audit = await undeliverableAudit(id);
      expect(audit.length).toBeGreaterThanOrEqual(1);
      expect(audit[0]).toMatchObject({
        target: `endpoint:${DEMO.endpoint}`,
        outcome: `told ${REQUESTER_USER_ID} by response_url`,
      });
      expect(progressPosts()).toHaveLength(0);
      env.slack.clearFaults();
    },
  );
});

describe('the final update', () => {
  /** Waits until the change rolls out with its message posted, then breaks chat.update. */
  async function breakUpdatesDuringRollout(fault: SlackFault, times: number): Promise<string> {
    // Long enough for the paced "rolling out" update (a second after the plan) to land mid-rollout.
    env = await startBotOnTwins({ rolloutDelayMs: 2_500 });
    const id = await deployV3();
    await env.slack.waitFor(
      async () => (await env.bot.store.get(id))?.status === 'rolling_out' && progressPosts().length === 1,
    );
    env.slack.failNext('chat.update', fault, times);
    return id;
  }

  it('shows how the change ended once Slack recovers from 5xx', async () => {
    const id = await breakUpdatesDuringRollout({ status: 503 }, 4);
    await finishedInChannel();
    expect((await env.bot.store.get(id))?.status).toBe('succeeded');
    expect(progressPosts()).toHaveLength(1);
  });

  it.each<[string, SlackFault]>([
    ['channel_not_found', { error: 'channel_not_found' }],
    ['invalid_auth', { error: 'invalid_auth' }],
  ])('refused with %s: the requester is told how it ended', async (code, fault) => {
    const id = await breakUpdatesDuringRollout(fault, 1);
    const told = await toldRequester(/Deploy to churn-endpoint: done/);
    expect(String(told.args.text)).toContain(code);
    expect((await env.bot.store.get(id))?.status).toBe('succeeded');
    await env.bot.outbox.settled();
    expect((await undeliverableAudit(id)).length).toBeGreaterThanOrEqual(1);
  });
});

describe('the approval request', () => {
  it('is posted once Slack recovers from 5xx', async () => {
    env = await startBotOnTwins();
    env.slack.failNext('chat.postMessage', { status: 502 }, 2);
    await env.command('promote churn_model 3 Production');
    const card = await env.slack.waitFor(
      () => env.slack.messages(APPROVALS_CHANNEL_ID).find((m) => /Approval needed/.test(m.text ?? '')),
      10_000,
    );
    expect(card.text).toContain('Production → churn_model v3');
    expect(await env.bot.approvals.pending()).toHaveLength(1);
  });

  it.each<[string, SlackFault]>([
    ['channel_not_found', { error: 'channel_not_found' }],
    ['invalid_auth', { error: 'invalid_auth' }],
  ])('refused with %s: the requester is told, with the request, and it is audited', async (code, fault) => {
    env = await startBotOnTwins();
    env.slack.failNext('chat.postMessage', fault);
    await env.command('promote churn_model 3 Production');
    const told = await toldRequester(/Approval needed: Production → churn_model v3/);
    expect(String(told.args.text)).toContain(code);
    // The command's own answer does not claim the request was posted.
    await toldRequester(/it could not be posted; run `\/mlops approvals`/);
    expect(env.slack.messages(APPROVALS_CHANNEL_ID).filter((m) => !m.ephemeral_to)).toEqual([]);
    await env.bot.outbox.settled();
    expect((await undeliverableAudit())[0]?.detail).toContain(code);
  });
});
