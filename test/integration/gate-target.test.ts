import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy, type Policy, parsePolicy } from '../../src/config/policy.js';
import { type Clock, systemClock } from '../../src/lib/clock.js';
import {
  APPROVALS_CHANNEL_ID,
  APPROVER_USER_ID,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
} from '../../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { ACTION_APPLY, ACTION_APPROVAL_APPROVE } from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

/**
 * The example policy as a team would run it: its one binding (Production of churn_model to
 * churn-endpoint) without the demo's opt-out line.
 */
const gatedPolicy = (): Policy =>
  parsePolicy(
    readFileSync(EXAMPLE_POLICY_PATH, 'utf8').replace(/^\s*ungatedBecause:.*$/m, ''),
    'the gated example',
  );

let workspace: WorkspaceTwin;
let env: BotOnTwins;
/** Added to the system clock: how far the bot thinks time has moved on. */
let skewMs = 0;
const skewedClock: Clock = { now: () => Date.now() + skewMs, sleep: systemClock.sleep };

async function start(policy: Policy) {
  skewMs = 0;
  workspace = await startWorkspaceTwin({ state: seedDemoWorkspace(), rolloutDelayMs: 100 });
  env = await startBotOnTwins({ workspace, policy, clock: skewedClock });
}
afterEach(async () => {
  await env.stop();
  await workspace.stop();
});

/** The message in `channel` carrying a button `actionId`, newest first: its ts and the value. */
function buttonIn(channel: string, actionId: string): { ts: string; id: string } | undefined {
  for (const m of env.slack.messages(channel).reverse()) {
    if (m.ephemeral_to) continue;
    for (const block of (m.blocks ?? []) as Array<{
      elements?: Array<{ action_id?: string; value?: string }>;
    }>) {
      const button = block.elements?.find((e) => e.action_id === actionId);
      if (button?.value) return { ts: m.ts, id: button.value };
    }
  }
  return undefined;
}

/** Types a command as riley and returns the bot's answer through the response_url. */
async function ask(text: string) {
  const before = env.slack.calls('response_url').length;
  await env.command(text);
  const call = await env.slack.waitFor(async () => env.slack.calls('response_url').slice(before)[0]);
  return call.args as { text?: string; blocks?: unknown[]; response_type?: string };
}

/** Clicks a button as `user` and returns the bot's answer through the response_url. */
async function click(user: string, actionId: string, target: { ts: string; id: string }, channel: string) {
  const before = env.slack.calls('response_url').length;
  const res = await env.click({
    action_id: actionId,
    value: target.id,
    message_ts: target.ts,
    channel,
    user,
  });
  expect(res.status).toBe(200);
  const call = await env.slack.waitFor(async () => env.slack.calls('response_url').slice(before)[0]);
  return call.args as { text?: string; blocks?: unknown[]; replace_original?: boolean };
}

/** Presses Apply as riley: the plan message itself answers (no response_url reply). */
async function apply(target: { ts: string; id: string }) {
  const res = await env.click({
    action_id: ACTION_APPLY,
    value: target.id,
    message_ts: target.ts,
    channel: MLOPS_CHANNEL_ID,
  });
  expect(res.status).toBe(200);
}

const configPuts = () =>
  workspace.requests.filter((r) => r.method === 'PUT' && /serving-endpoints\/[^/]+\/config$/.test(r.path))
    .length;
const served = () =>
  workspace.state.endpoints
    .get(DEMO.endpoint)
    ?.config?.served_entities.map((e) => `${e.entity_version}`)
    .sort();
const traffic = () =>
  workspace.state.endpoints
    .get(DEMO.endpoint)
    ?.config?.traffic_config?.routes.map((r) => r.traffic_percentage)
    .sort((a, b) => a - b);

/**
 * Asks for a change of churn-endpoint and has it approved: the change becomes a request (no
 * Apply anywhere, nothing sent), riley cannot approve it, avery can, and it runs once.
 */
async function throughTheGate(command: string, done: RegExp) {
  const putsBefore = configPuts();
  const requestsBefore = (await env.bot.approvals.pending()).length;
  const reply = await ask(command);
  expect(reply.response_type).toBe('ephemeral');
  expect(shown(reply)).toContain(`<#${APPROVALS_CHANNEL_ID}>`);
  expect(buttonIn(MLOPS_CHANNEL_ID, ACTION_APPLY)).toBeUndefined();
  const pending = await env.bot.approvals.pending();
  expect(pending).toHaveLength(requestsBefore + 1);
  expect(pending.at(-1)?.gate).toBe('production');
  const req = await env.slack.waitFor(async () => buttonIn(APPROVALS_CHANNEL_ID, ACTION_APPROVAL_APPROVE));

  const self = await click(REQUESTER_USER_ID, ACTION_APPROVAL_APPROVE, req, APPROVALS_CHANNEL_ID);
  expect(shown(self)).toContain('You asked for this, so you cannot approve it');
  expect(configPuts()).toBe(putsBefore);

  const ok = await click(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req, APPROVALS_CHANNEL_ID);
  expect(shown(ok)).toContain('You approved');
  await env.slack.waitFor(async () => {
    const m = env.slack.state.findMessage(APPROVALS_CHANNEL_ID, req.ts);
    return m && done.test(shown(m)) ? m : undefined;
  }, 8_000);
  // A second click after the fact runs nothing again.
  await click(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req, APPROVALS_CHANNEL_ID);
  await env.bot.approvals.idle();
  expect(configPuts()).toBe(putsBefore + 1);
  return req;
}

describe('an endpoint bound to Production goes through the production gate', () => {
  it('turns a deploy, then its rollback, into approval requests that a second person approves, each run once', async () => {
    await start(gatedPolicy());
    await throughTheGate(`deploy churn_model 3 to ${DEMO.endpoint}`, /Done: Deploy to churn-endpoint/);
    expect(served()).toEqual(['3']);
    await throughTheGate(`rollback ${DEMO.endpoint}`, /Done: Rollback of churn-endpoint/);
    expect(served()).toEqual(['2']);
    const audit = (await env.bot.store.recentAudit({})).map((a) => a.action);
    expect(audit.filter((a) => a === 'executed')).toHaveLength(2);
  });

  it('turns a traffic split into an approval request that a second person approves, run once', async () => {
    await start(gatedPolicy());
    await throughTheGate(`split ${DEMO.endpoint} 2=90 3=10`, /Done: Traffic split on churn-endpoint/);
    expect(served()).toEqual(['2', '3']);
    expect(traffic()).toEqual([10, 90]);
  });

  it('lets an endpoint the policy opts out explicitly change through Apply, with no request', async () => {
    await start(loadPolicy(EXAMPLE_POLICY_PATH));
    await env.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const plan = await env.slack.waitFor(() => buttonIn(MLOPS_CHANNEL_ID, ACTION_APPLY));
    expect(await env.bot.approvals.pending()).toHaveLength(0);
    await apply(plan);
    await env.slack.waitFor(() =>
      /: done/.test(env.slack.state.findMessage(MLOPS_CHANNEL_ID, plan.ts)?.text ?? '') ? true : undefined,
    );
    expect(served()).toEqual(['3']);
    expect(buttonIn(APPROVALS_CHANNEL_ID, ACTION_APPROVAL_APPROVE)).toBeUndefined();
  });
});

describe('plans expire', () => {
  it('refuses Apply on a plan older than the policy allows, changes nothing, and says to run the command again', async () => {
    await start(loadPolicy(EXAMPLE_POLICY_PATH));
    await env.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const plan = await env.slack.waitFor(async () => buttonIn(MLOPS_CHANNEL_ID, ACTION_APPLY));
    skewMs = 61 * 60_000;
    await apply(plan);
    // The plan message itself says so, and loses its buttons.
    const refusal = await env.slack.waitFor(() => {
      const m = env.slack.state.findMessage(MLOPS_CHANNEL_ID, plan.ts);
      return m && /This plan expired/.test(shown(m)) ? m : undefined;
    });
    expect(shown(refusal)).toContain(
      'This plan expired: it was made 1 h 1 min ago, and a plan is good for 1 h',
    );
    expect(shown(refusal)).toContain('Run `/mlops deploy` again');
    expect(JSON.stringify(refusal.blocks ?? [])).not.toContain(ACTION_APPLY);
    expect(configPuts()).toBe(0);
    expect((await env.bot.store.get(plan.id))?.status).toBe('stale');
    expect(await env.bot.store.recentAudit({ changeId: plan.id, action: 'expired' })).toHaveLength(1);
    // A second click is told where the plan stands; still nothing is sent.
    const again = await click(REQUESTER_USER_ID, ACTION_APPLY, plan, MLOPS_CHANNEL_ID);
    expect(shown(again)).toContain('This plan expired');
    expect(configPuts()).toBe(0);
  });

  it('keeps the time the policy sets: a plan within planExpiresAfter still applies', async () => {
    await start({ ...loadPolicy(EXAMPLE_POLICY_PATH), planExpiresAfter: 3 * 3_600_000 });
    await env.command(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const plan = await env.slack.waitFor(async () => buttonIn(MLOPS_CHANNEL_ID, ACTION_APPLY));
    skewMs = 2 * 3_600_000;
    await apply(plan);
    await env.slack.waitFor(() =>
      /: done/.test(env.slack.state.findMessage(MLOPS_CHANNEL_ID, plan.ts)?.text ?? '') ? true : undefined,
    );
    expect(served()).toEqual(['3']);
  });

  it("approves a request whose plan is older than a plan's expiry while the request itself is open: the deciding vote re-reads the plan", async () => {
    await start(gatedPolicy());
    await ask(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const req = await env.slack.waitFor(async () => buttonIn(APPROVALS_CHANNEL_ID, ACTION_APPROVAL_APPROVE));
    skewMs = 3 * 3_600_000; // past the 1 h plan expiry, well inside the gate's 24 h
    await click(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req, APPROVALS_CHANNEL_ID);
    await env.bot.approvals.idle();
    expect(served()).toEqual(['3']);
  });

  it('refuses an approval once the request has expired, and changes nothing', async () => {
    await start(gatedPolicy());
    await ask(`deploy churn_model 3 to ${DEMO.endpoint}`);
    const req = await env.slack.waitFor(async () => buttonIn(APPROVALS_CHANNEL_ID, ACTION_APPROVAL_APPROVE));
    skewMs = 25 * 3_600_000;
    const late = await click(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req, APPROVALS_CHANNEL_ID);
    expect(shown(late)).toContain('expired without enough approvals');
    await env.bot.approvals.idle();
    expect(configPuts()).toBe(0);
    expect(served()).toEqual(['2']);
  });
});
