import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPROVER_USER_ID,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  VIEWER_USER_ID,
} from '../../src/sandbox/slack/index.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { ACTION_APPLY, ACTION_CANCEL } from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';

let env: BotOnTwins;
beforeEach(async () => {
  env = await startBotOnTwins();
});
afterEach(async () => env.stop());

/** Text of everything a message shows: fallback text plus every text field in its blocks. */
function shown(m: { text?: string; blocks?: unknown }): string {
  return `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}`;
}

/** The reply the bot sent to a command's response_url, as the twin recorded it. */
async function replyTo(after: number) {
  const call = await env.slack.waitFor(async () => env.slack.calls('response_url').slice(after)[0]);
  return call.args as {
    text?: string;
    blocks?: unknown[];
    response_type?: string;
    replace_original?: boolean;
  };
}

/** The Apply button of the latest plan in #mlops: its message ts and the change id it carries. */
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

/** Waits for the progress message in #mlops to reach an end state, and returns its text. */
async function finalProgress(): Promise<string> {
  const call = await env.slack.waitFor(async () =>
    env.slack
      .calls('chat.update')
      .find(
        (c) =>
          c.args.channel === MLOPS_CHANNEL_ID &&
          /: (done|failed|stopped following)/.test(String(c.args.text)),
      ),
  );
  return String(call.args.text);
}

describe('/mlops over signed HTTP requests', () => {
  it('acknowledges a command at once and answers status through the response URL', async () => {
    const before = env.slack.calls('response_url').length;
    const res = await env.command(`status ${DEMO.endpoint}`);
    expect(res.status).toBe(200);
    const reply = await replyTo(before);
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toContain(DEMO.endpoint);
    expect(shown(reply)).toMatch(/churn_model v2/);
  });

  it('refuses a request with a bad signature before anything runs', async () => {
    const res = await env.command('status', {}, { signature: 'bad' });
    expect(res.status).toBe(401);
    const stale = await env.command('status', {}, { signature: 'stale' });
    expect(stale.status).toBe(401);
    expect(env.slack.calls('response_url')).toHaveLength(0);
  });

  it('tells a user who may not deploy why, ephemerally, and changes nothing', async () => {
    const before = env.slack.calls('response_url').length;
    await env.command('deploy churn_model 3', { user_id: VIEWER_USER_ID });
    const reply = await replyTo(before);
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toMatch(/Only .*may deploy/);
    expect(env.workspace.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);
  });

  it('answers only in the channels the policy lists', async () => {
    const before = env.slack.calls('response_url').length;
    await env.command('status', { channel_id: 'C0APPROVALS', channel_name: 'mlops-approvals' });
    const reply = await replyTo(before);
    expect(shown(reply)).toContain('C0MLOPS');
  });

  it('explains a mistake with the right usage', async () => {
    const before = env.slack.calls('response_url').length;
    await env.command('split churn-endpoint 2=90 3=20');
    const reply = await replyTo(before);
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toMatch(/100/);
    expect(shown(reply)).toContain('/mlops split');
  });

  it("plans a deploy, applies it on the requester's click, and follows the rollout in one channel message", async () => {
    await env.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const plan = await env.slack.waitFor(latestPlan);
    expect(plan.changeId).not.toBe('');

    const answers = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_APPLY,
      value: plan.changeId,
      message_ts: plan.ts,
      user: APPROVER_USER_ID,
    });
    const refusal = await env.slack.waitFor(async () => env.slack.calls('response_url').slice(answers)[0]);
    expect(refusal.args.response_type).toBe('ephemeral');
    expect(shown(refusal.args)).toContain('<@U0REQUEST>');
    expect(env.workspace.requests.filter((r) => r.method === 'PUT')).toHaveLength(0);

    const res = await env.click({
      action_id: ACTION_APPLY,
      value: plan.changeId,
      message_ts: plan.ts,
      user: REQUESTER_USER_ID,
    });
    expect(res.status).toBe(200);
    expect(await finalProgress()).toMatch(/: done/);
    const progress = env.slack.calls('chat.postMessage').filter((c) => c.args.channel === MLOPS_CHANNEL_ID);
    expect(progress).toHaveLength(1);
    const updates = env.slack.calls('chat.update');
    expect(updates.length).toBeGreaterThan(0);
    expect(
      env.workspace.state.endpoints.get(DEMO.endpoint)?.config?.served_entities.map((e) => e.entity_version),
    ).toEqual(['3']);
  });

  it('applies a change once when Slack retries the click and an approver double-clicks', async () => {
    await env.command(`deploy churn_model 1 to ${DEMO.endpoint}`);
    const plan = await env.slack.waitFor(latestPlan);
    await Promise.all([
      env.click({ action_id: ACTION_APPLY, value: plan.changeId, message_ts: plan.ts }),
      env.click(
        { action_id: ACTION_APPLY, value: plan.changeId, message_ts: plan.ts },
        { retryNum: 1, retryReason: 'http_timeout' },
      ),
      env.click({ action_id: ACTION_APPLY, value: plan.changeId, message_ts: plan.ts }),
    ]);
    await env.bot.pipeline.idle();
    expect(
      env.workspace.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/config')),
    ).toHaveLength(1);
  });

  it("cancels a plan on the requester's click", async () => {
    await env.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const plan = await env.slack.waitFor(latestPlan);
    await env.click({ action_id: ACTION_CANCEL, value: plan.changeId, message_ts: plan.ts });
    // The plan message itself says so; the click gets no second answer.
    await env.slack.waitFor(async () =>
      /Cancelled change/.test(shown(env.slack.state.findMessage(MLOPS_CHANNEL_ID, plan.ts)!)),
    );
    expect((await env.bot.store.get(plan.changeId))?.status).toBe('cancelled');
  });

  it('refuses a click by someone without the right, even on a plan they can see', async () => {
    await env.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const plan = await env.slack.waitFor(latestPlan);
    const answers = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_APPLY,
      value: plan.changeId,
      message_ts: plan.ts,
      user: VIEWER_USER_ID,
    });
    const refusal = await env.slack.waitFor(async () => env.slack.calls('response_url').slice(answers)[0]);
    expect(shown(refusal.args)).toMatch(/Only .*may deploy/);
    expect((await env.bot.store.get(plan.changeId))?.status).toBe('proposed');
  });

  it('shows a plan and stops on --dry-run, storing nothing', async () => {
    const before = env.slack.calls('response_url').length;
    await env.command(`split ${DEMO.endpoint} 2=90 3=10 --dry-run`);
    const reply = await replyTo(before);
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toMatch(/90%/);
    expect(shown(reply)).not.toContain(ACTION_APPLY);
  });

  it('reports a Databricks failure as a short apology with a reference, never the internals', async () => {
    env.workspace.faults.next('GET /api/2.0/serving-endpoints/:name', { kind: 'status', status: 500 });
    const before = env.slack.calls('response_url').length;
    await env.command(`status ${DEMO.endpoint}`);
    const reply = await replyTo(before);
    expect(shown(reply)).toMatch(/Sorry, something went wrong.*reference/is);
    expect(shown(reply)).not.toMatch(/Injected fault|HTTP 500|at .*\.ts/);
  });

  it('finishes the rollout message after a restart in the middle of a rollout', async () => {
    await env.stop();
    env = await startBotOnTwins({ rolloutDelayMs: 1_500 });
    await env.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const plan = await env.slack.waitFor(latestPlan);
    await env.click({ action_id: ACTION_APPLY, value: plan.changeId, message_ts: plan.ts });
    await env.slack.waitFor(async () => (await env.bot.store.get(plan.changeId))?.status === 'rolling_out');
    await env.restart();
    expect(await finalProgress()).toMatch(/: done/);
    expect(
      env.slack.calls('chat.postMessage').filter((c) => c.args.channel === MLOPS_CHANNEL_ID),
    ).toHaveLength(1);
    expect((await env.bot.store.get(plan.changeId))?.status).toBe('succeeded');
  });

  it('says a rollout is already in progress when Databricks answers 409, and records the failure', async () => {
    await env.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const plan = await env.slack.waitFor(latestPlan);
    env.workspace.faults.next('PUT /api/2.0/serving-endpoints/:name/config', {
      kind: 'status',
      status: 409,
      message: 'Endpoint churn-endpoint is currently being updated.',
    });
    await env.click({ action_id: ACTION_APPLY, value: plan.changeId, message_ts: plan.ts });
    const text = await finalProgress();
    expect(text).toMatch(/: failed — A rollout is already in progress on churn-endpoint/);
    expect((await env.bot.store.get(plan.changeId))?.status).toBe('failed');
  });
});
