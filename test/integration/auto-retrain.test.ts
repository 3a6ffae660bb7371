/**
 * Automatic retrain requests over loopback: the demo monitor's tables (violations in the latest
 * windows) read through the SQL warehouse twin, the approvals on the Slack twin, the job on the
 * workspace twin.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import {
  APPROVALS_CHANNEL_ID,
  APPROVER_USER_ID,
  BOT_USER_ID,
  MLOPS_CHANNEL_ID,
} from '../../src/sandbox/slack/index.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { ACTION_APPROVAL_APPROVE } from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

let twins: DatabricksTwins;
let env: BotOnTwins;

beforeEach(async () => {
  twins = await startDatabricksTwins(new Date());
  twins.workspace.settings.jobQueueMs = 30;
  twins.workspace.settings.jobRunMs = 80;
  const policy = loadPolicy(EXAMPLE_POLICY_PATH);
  env = await startBotOnTwins({
    policy: {
      ...policy,
      charts: { renderer: 'local' },
      monitors: { churn: { ...policy.monitors!.churn!, autoRetrain: true } },
    },
    workspace: twins.workspace,
    warehouse: twins.warehouse,
  });
});
afterEach(async () => {
  await env.stop();
  await twins.stop();
});

/** Top-level approval requests in #mlops-approvals. */
const requests = () =>
  env.slack
    .messages(APPROVALS_CHANNEL_ID)
    .filter((m) => !m.ephemeral_to && (m.thread_ts === undefined || m.thread_ts === m.ts))
    .filter((m) => /Retrain churn_model/.test(shown(m)));

describe('automatic retrain requests (monitors.<name>.autoRetrain)', () => {
  it('asks for the gated retraining once per alert episode, and the approved run gets all_violations_count', async () => {
    await env.bot.drift!.check('churn', new Date());
    const [request] = await env.slack.waitFor(() => (requests().length > 0 ? requests() : undefined), 8_000);
    const card = shown(request!);
    expect(card).toContain(`Requested by <@${BOT_USER_ID}>`);
    expect(card).toMatch(/Automatic: the drift check of churn found \d+ violation/);
    const count = Number(/all_violations_count=(\d+)/.exec(card)?.[1]);
    expect(count).toBeGreaterThan(0);
    // Nothing runs before approval.
    expect([...twins.workspace.state.runs.values()].filter((r) => r.job_id === DEMO.jobId)).toHaveLength(0);

    // The alerts stay open: the next check is the same episode, so no second request.
    await env.bot.drift!.check('churn', new Date());
    await env.bot.approvals.idle();
    expect(requests()).toHaveLength(1);

    const id = /apr-[a-z0-9]{10}/.exec(JSON.stringify(request!.blocks))![0];
    await env.click({
      action_id: ACTION_APPROVAL_APPROVE,
      value: id,
      message_ts: request!.ts,
      channel: APPROVALS_CHANNEL_ID,
      user: APPROVER_USER_ID,
    });
    const run = await env.slack.waitFor(
      () => [...twins.workspace.state.runs.values()].find((r) => r.job_id === DEMO.jobId),
      8_000,
    );
    expect(run.job_parameters.all_violations_count).toBe(String(count));
    expect(run.idempotency_token).toBe(id);
  });

  it('does nothing for a monitor without autoRetrain', async () => {
    await env.stop();
    const policy = loadPolicy(EXAMPLE_POLICY_PATH);
    env = await startBotOnTwins({
      policy: { ...policy, charts: { renderer: 'local' } },
      workspace: twins.workspace,
      warehouse: twins.warehouse,
    });
    await env.bot.drift!.check('churn', new Date());
    await env.slack.waitFor(async () =>
      env.slack.messages(MLOPS_CHANNEL_ID).some((m) => /Drift alert/.test(m.text)),
    );
    await env.bot.approvals.idle();
    expect(requests()).toHaveLength(0);
  });
});
