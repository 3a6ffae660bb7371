import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import { runApprovalExpiry } from '../../src/jobs/approval-expiry.js';
import {
  APPROVALS_CHANNEL_ID,
  APPROVER_USER_ID,
  checkBlocks,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
  VIEWER_USER_ID,
} from '../../src/sandbox/slack/index.js';
import { newTriggerId } from '../../src/sandbox/slack/payloads.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import {
  ACTION_APPROVAL_APPROVE,
  ACTION_APPROVAL_REJECT,
  ACTION_APPROVAL_REJECT_CONFIRM,
  ACTION_APPROVAL_REJECT_REASON,
} from '../../src/slack/blocks/action-ids.js';
import { REJECT_REASON_BLOCK } from '../../src/slack/blocks/approval.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

let workspace: WorkspaceTwin;
let env: BotOnTwins;

async function start(policy = loadPolicy(EXAMPLE_POLICY_PATH)) {
  workspace = await startWorkspaceTwin({
    state: seedDemoWorkspace(),
    rolloutDelayMs: 150,
    jobQueueMs: 30,
    jobRunMs: 60,
  });
  env = await startBotOnTwins({ workspace, policy });
}
beforeEach(async () => start());
afterEach(async () => {
  await env.stop();
  await workspace.stop();
});

/** Text of everything a message shows: fallback text plus every text field in its blocks. */

/** The latest approval request message in a channel: its ts and request id. */
function latestRequest(channel = APPROVALS_CHANNEL_ID): { ts: string; id: string } | undefined {
  for (const m of env.slack.messages(channel).reverse()) {
    for (const block of (m.blocks ?? []) as Array<{
      elements?: Array<{ action_id?: string; value?: string }>;
    }>) {
      const approve = block.elements?.find((e) => e.action_id === ACTION_APPROVAL_APPROVE);
      if (approve?.value && !m.ephemeral_to) return { ts: m.ts, id: approve.value };
    }
  }
  return undefined;
}

const message = (ts: string, channel = APPROVALS_CHANNEL_ID) => env.slack.state.findMessage(channel, ts)!;

/** The next answer the bot sends through a response_url after `after` answers. */
async function answer(after: number) {
  const call = await env.slack.waitFor(async () => env.slack.calls('response_url').slice(after)[0]);
  return call.args as {
    text?: string;
    blocks?: unknown[];
    response_type?: string;
    replace_original?: boolean;
  };
}

async function clickAs(user: string, actionId: string, req: { ts: string; id: string }, extra = {}) {
  const before = env.slack.calls('response_url').length;
  const res = await env.click({
    action_id: actionId,
    value: req.id,
    message_ts: req.ts,
    channel: APPROVALS_CHANNEL_ID,
    user,
    ...extra,
  });
  expect(res.status).toBe(200);
  return answer(before);
}

async function requestProduction(version = 3) {
  const before = env.slack.calls('response_url').length;
  await env.command(`promote churn_model ${version} Production`);
  const reply = await answer(before);
  const req = await env.slack.waitFor(async () => latestRequest());
  return { reply, req };
}

/** Waits until the request message shows `pattern`. */
const messageShows = (req: { ts: string }, pattern: RegExp) =>
  env.slack.waitFor(async () => pattern.test(shown(message(req.ts))) && message(req.ts), 8_000);

const aliasOf = (name: string) =>
  workspace.state.models.get(DEMO.model)?.aliases.get(name.toLowerCase())?.version_num;
const servedVersions = () =>
  workspace.state.endpoints.get(DEMO.endpoint)?.config?.served_entities.map((e) => e.entity_version);
const calls = (method: string, path: RegExp) =>
  workspace.requests.filter((r) => r.method === method && path.test(r.path)).length;

describe('promotion to Production goes through an approval', () => {
  it('posts a request with the plan, the evidence and Approve / Reject in the approval channel', async () => {
    const { reply, req } = await requestProduction();
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toContain(`<#${APPROVALS_CHANNEL_ID}>`);
    const m = message(req.ts);
    expect(checkBlocks(m.blocks)).toEqual([]);
    const text = shown(m);
    expect(m.text).toContain('Approval needed: Production → churn_model v3');
    expect(text).toContain('nothing → v3');
    expect(text).toContain('will serve churn_model v3 100%');
    expect(text).toContain('now churn_model v2 100%');
    expect(text).toContain('jordan@acme.test'); // creator of v3
    expect(text).toContain('Challenger'); // its current aliases
    expect(text).toContain('/explore/data/models/acme/mlops/churn_model/version/3');
    expect(text).toContain('members of @ml-approvers');
    const actions = (
      m.blocks as Array<{ type: string; elements?: Array<{ action_id: string; confirm?: unknown }> }>
    ).find((b) => b.type === 'actions');
    expect(actions?.elements?.map((e) => e.action_id)).toEqual([
      ACTION_APPROVAL_APPROVE,
      ACTION_APPROVAL_REJECT,
    ]);
    expect(actions?.elements?.[0]?.confirm).toBeDefined();
    expect(aliasOf('Production')).toBeUndefined();
  });

  it('refuses self-approval and a non-approver, ephemerally, and changes nothing', async () => {
    const { req } = await requestProduction();
    const self = await clickAs(REQUESTER_USER_ID, ACTION_APPROVAL_APPROVE, req);
    expect(self.response_type).toBe('ephemeral');
    expect(shown(self)).toContain('You asked for this, so you cannot approve it');
    const viewer = await clickAs(VIEWER_USER_ID, ACTION_APPROVAL_APPROVE, req);
    expect(shown(viewer)).toContain('Only members of @ml-approvers may approve or reject this request');
    const rejectByViewer = await clickAs(VIEWER_USER_ID, ACTION_APPROVAL_REJECT, req);
    expect(shown(rejectByViewer)).toContain('may reject this request');
    expect((await env.bot.approvals.pending()).map((r) => r.id)).toEqual([req.id]);
    expect(aliasOf('Production')).toBeUndefined();
    expect(calls('PUT', /serving-endpoints/)).toBe(0);
  });

  it('lets an approver found through a user group approve: the endpoint rolls out, then Production moves', async () => {
    const { req } = await requestProduction();
    const ok = await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req);
    expect(shown(ok)).toContain('You approved');
    const done = await messageShows(req, /Done: Production → churn_model v3/);
    expect(shown(done)).toContain(`Approved by <@${APPROVER_USER_ID}> and done`);
    expect(shown(done)).toContain('churn-endpoint serves churn_model v3 100%');
    expect(shown(done)).not.toContain(ACTION_APPROVAL_APPROVE);
    expect(servedVersions()).toEqual(['3']);
    expect(aliasOf('Production')).toBe(3);
    // The outcome is told in the request's thread too.
    await env.slack.waitFor(async () =>
      env.slack
        .messages(APPROVALS_CHANNEL_ID)
        .find((m) => m.thread_ts === req.ts && m.ts !== req.ts && /is done/.test(m.text ?? '')),
    );
    await env.bot.pipeline.idle();
    // The card followed the rollout: it is the one top-level message (no progress message of the
    // steps), and the requester's channel has one pointer to it.
    const topLevel = (channel: string) =>
      env.slack.messages(channel).filter((m) => !m.ephemeral_to && (!m.thread_ts || m.thread_ts === m.ts));
    expect(topLevel(APPROVALS_CHANNEL_ID).map((m) => m.ts)).toEqual([req.ts]);
    expect(topLevel(MLOPS_CHANNEL_ID).map((m) => m.text)).toEqual([
      expect.stringContaining('waits for approval in'),
    ]);
    // And the bot's history knows the endpoint change, so rollback works afterwards.
    expect(
      (await env.bot.store.previousConfig(DEMO.endpoint))?.servedVersions.map((v) => v.modelVersion),
    ).toEqual(['2']);
    const actions = (await env.bot.store.recentAudit({ changeId: req.id })).map((a) => a.action).reverse();
    expect(actions).toEqual(['approval_requested', 'approval_vote', 'approved', 'executing', 'executed']);
  });

  it('takes a rejection with its reason from the prompt when no modal can open, and removes the buttons', async () => {
    const { req } = await requestProduction();
    // A trigger_id Slack no longer takes (expired): the reason is asked in an ephemeral prompt.
    const prompt = await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_REJECT, req, {
      trigger_id: newTriggerId(),
    });
    expect(prompt.response_type).toBe('ephemeral');
    expect(JSON.stringify(prompt.blocks)).toContain(ACTION_APPROVAL_REJECT_CONFIRM);
    expect(checkBlocks(prompt.blocks)).toEqual([]);
    const promptTs = env.slack
      .messages(APPROVALS_CHANNEL_ID)
      .find((m) => m.ephemeral_to === APPROVER_USER_ID)!.ts;
    const before = env.slack.calls('response_url').length;
    await env.click({
      action_id: ACTION_APPROVAL_REJECT_CONFIRM,
      value: req.id,
      message_ts: promptTs,
      channel: APPROVALS_CHANNEL_ID,
      user: APPROVER_USER_ID,
      payload: {
        state: {
          values: {
            [REJECT_REASON_BLOCK]: {
              [ACTION_APPROVAL_REJECT_REASON]: { type: 'plain_text_input', value: 'wait for the Q3 eval' },
            },
          },
        },
      },
    });
    const done = await answer(before);
    expect(done.replace_original).toBe(true);
    expect(shown(done)).toContain('You rejected');
    const m = await messageShows(req, /Rejected by <@U0APPROVE>: wait for the Q3 eval/);
    expect(JSON.stringify(m.blocks)).not.toContain(ACTION_APPROVAL_APPROVE);
    const late = await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req);
    expect(shown(late)).toContain('was rejected by <@U0APPROVE>');
    expect(aliasOf('Production')).toBeUndefined();
  });

  it('expires a request when its time is up: the message says so and loses its buttons', async () => {
    const { req } = await requestProduction();
    const request = (await env.bot.approvals.pending())[0]!;
    expect(await runApprovalExpiry({ approvals: env.bot.approvals }, request.expiresAt - 1)).toBe(0);
    expect(await runApprovalExpiry({ approvals: env.bot.approvals }, request.expiresAt + 60_000)).toBe(1);
    const m = await messageShows(req, /Expired: Production → churn_model v3/);
    expect(shown(m)).toContain('with 0 of 1 approvals. Nothing was changed.');
    expect(JSON.stringify(m.blocks)).not.toContain('"actions"');
    const late = await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req);
    expect(shown(late)).toContain('expired without enough approvals');
    expect(aliasOf('Production')).toBeUndefined();
    expect(await env.bot.store.recentAudit({ changeId: req.id, action: 'expired' })).toHaveLength(1);
  });

  it('supersedes a request whose plan went stale, saying what changed, and changes nothing', async () => {
    const { req } = await requestProduction();
    // Someone moves Production by hand before the approver gets to it.
    workspace.state.models
      .get(DEMO.model)!
      .aliases.set('production', { alias_name: 'Production', version_num: 2 });
    const res = await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req);
    expect(shown(res)).toContain('can no longer be approved');
    const m = await messageShows(req, /Superseded: Production → churn_model v3/);
    expect(shown(m)).toContain('Production now points at v2 (the plan was made when it pointed at nowhere)');
    expect(JSON.stringify(m.blocks)).not.toContain(ACTION_APPROVAL_APPROVE);
    expect(aliasOf('Production')).toBe(2);
    expect(servedVersions()).toEqual(['2']);
  });

  it('shows a dry run of a gated change without making a request', async () => {
    const before = env.slack.calls('response_url').length;
    await env.command('promote churn_model 3 Production --dry-run');
    const reply = await answer(before);
    expect(shown(reply)).toContain('Dry run: Production → churn_model v3');
    expect(shown(reply)).toContain('1 approval from members of @ml-approvers');
    expect(await env.bot.approvals.pending()).toHaveLength(0);
  });

  it('lists what is pending, with age and who may approve, and the audit trail afterwards', async () => {
    const { req } = await requestProduction();
    let before = env.slack.calls('response_url').length;
    await env.command('approvals');
    const list = await answer(before);
    expect(shown(list)).toContain(req.id);
    expect(shown(list)).toMatch(
      /asked by <@U0REQUEST> \d+s ago · 0 of 1 approvals · approvers: members of @ml-approvers/,
    );

    await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req);
    await messageShows(req, /Done:/);
    before = env.slack.calls('response_url').length;
    await env.command('audit churn_model');
    const audit = await answer(before);
    expect(shown(audit)).toContain('Production → churn_model v3');
    expect(shown(audit)).toMatch(/\*executed\* · asked by <@U0REQUEST>, approved by <@U0APPROVE>/);

    before = env.slack.calls('response_url').length;
    await env.command('audit churn-endpoint');
    expect(shown(await answer(before))).toContain(req.id);
  });
});

describe('N of M approvals', () => {
  beforeEach(async () => {
    await env.stop();
    await workspace.stop();
    const policy = loadPolicy(EXAMPLE_POLICY_PATH);
    policy.gates!.production = {
      ...policy.gates!.production!,
      approvals: 2,
      approvers: { users: [APPROVER_USER_ID, VIEWER_USER_ID], groups: [] },
    };
    await start(policy);
  });

  it('waits for two distinct approvers and refuses a second vote by the same one', async () => {
    const { req } = await requestProduction();
    const first = await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req);
    expect(shown(first)).toContain('is recorded: 1 of 2. It needs 1 more');
    await messageShows(req, /1 of 2 approvals/);
    const again = await clickAs(APPROVER_USER_ID, ACTION_APPROVAL_APPROVE, req);
    expect(shown(again)).toContain('You already approved');
    expect(aliasOf('Production')).toBeUndefined();
    await clickAs(VIEWER_USER_ID, ACTION_APPROVAL_APPROVE, req);
    const done = await messageShows(req, /Done:/);
    expect(shown(done)).toContain(`Approved by <@${APPROVER_USER_ID}>, <@${VIEWER_USER_ID}> and done`);
    expect(aliasOf('Production')).toBe(3);
  });
});

describe('a plain promotion stays a plan', () => {
  it('does not ask for approval to move Champion', async () => {
    await env.command('promote churn_model 3 Champion');
    await env.slack.waitFor(async () =>
      env.slack.messages(MLOPS_CHANNEL_ID).find((m) => /Plan: /.test(m.text ?? '')),
    );
    expect(await env.bot.approvals.pending()).toHaveLength(0);
  });
});

describe('a policy without a production gate', () => {
  beforeEach(async () => {
    await env.stop();
    await workspace.stop();
    const { gates: _gates, ...policy } = loadPolicy(EXAMPLE_POLICY_PATH);
    await start(policy);
  });

  it('refuses to promote to Production, saying which gate the policy lacks', async () => {
    const before = env.slack.calls('response_url').length;
    await env.command('promote churn_model 3 Production');
    const reply = await answer(before);
    expect(shown(reply)).toContain('needs an approval, but the policy has no `gates.production`');
    expect(await env.bot.approvals.pending()).toHaveLength(0);
    expect(aliasOf('Production')).toBeUndefined();
  });
});

describe('withdrawing', () => {
  it('lets the requester withdraw their own request', async () => {
    const { req } = await requestProduction();
    const prompt = await clickAs(REQUESTER_USER_ID, ACTION_APPROVAL_REJECT, req, {
      trigger_id: newTriggerId(),
    });
    expect(JSON.stringify(prompt.blocks)).toContain(ACTION_APPROVAL_REJECT_CONFIRM);
    const promptTs = env.slack
      .messages(APPROVALS_CHANNEL_ID)
      .find((m) => m.ephemeral_to === REQUESTER_USER_ID)!.ts;
    const done = await clickAs(REQUESTER_USER_ID, ACTION_APPROVAL_REJECT_CONFIRM, {
      id: req.id,
      ts: promptTs,
    });
    expect(shown(done)).toContain('You withdrew');
    await messageShows(req, /Withdrawn by <@U0REQUEST>\./);
    expect(await env.bot.store.recentAudit({ changeId: req.id, action: 'withdrawn' })).toHaveLength(1);
  });
});
