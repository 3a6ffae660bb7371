import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPROVALS_CHANNEL_ID, APPROVER_USER_ID } from '../../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { ACTION_APPROVAL_APPROVE } from '../../src/slack/blocks/action-ids.js';
import { openDatabase } from '../../src/storage/database.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';
import { openStores } from '../support/stores.js';

let workspace: WorkspaceTwin;
let env: BotOnTwins;

beforeEach(async () => {
  workspace = await startWorkspaceTwin({
    state: seedDemoWorkspace(),
    rolloutDelayMs: 150,
    jobQueueMs: 30,
    jobRunMs: 60,
  });
  env = await startBotOnTwins({ workspace });
});
afterEach(async () => {
  await env.stop();
  await workspace.stop();
});

async function request(text: string): Promise<{ ts: string; id: string }> {
  const before = env.slack.messages(APPROVALS_CHANNEL_ID).length;
  const answers = env.slack.calls('response_url').length;
  await env.command(text);
  // The requester's answer comes once the request message is posted and recorded.
  await env.slack.waitFor(async () => env.slack.calls('response_url').length > answers);
  const m = await env.slack.waitFor(async () =>
    env.slack
      .messages(APPROVALS_CHANNEL_ID)
      .slice(before)
      .find((x) => !x.ephemeral_to),
  );
  const id = /apr-[a-z0-9]{10}/.exec(JSON.stringify(m.blocks))![0];
  return { ts: m.ts, id };
}

const approveAs = (user: string, req: { ts: string; id: string }, signing = {}) =>
  env.click(
    {
      action_id: ACTION_APPROVAL_APPROVE,
      value: req.id,
      message_ts: req.ts,
      channel: APPROVALS_CHANNEL_ID,
      user,
    },
    signing,
  );

const current = (req: { ts: string }) => env.slack.state.findMessage(APPROVALS_CHANNEL_ID, req.ts)!;
const messageShows = (req: { ts: string }, pattern: RegExp) =>
  env.slack.waitFor(async () => pattern.test(shown(current(req))) && current(req), 8_000);
const runNowCalls = () =>
  workspace.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs/run-now'));
const runsOf = (token: string) =>
  [...workspace.state.runs.values()].filter((r) => r.idempotency_token === token);

describe('exactly once', () => {
  it('runs a retraining once for 50 concurrent Approve clicks, Slack retries among them', async () => {
    const req = await request('retrain churn_model');
    const clicks = Array.from({ length: 50 }, (_, i) =>
      approveAs(APPROVER_USER_ID, req, i % 5 === 4 ? { retryNum: 1, retryReason: 'http_timeout' } : {}),
    );
    const answers = await Promise.all(clicks);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await messageShows(req, /Done: Retrain churn_model/);
    await env.bot.approvals.idle();
    expect(runNowCalls()).toHaveLength(1);
    expect(runsOf(req.id)).toHaveLength(1);
    const audit = await env.bot.store.recentAudit({ changeId: req.id });
    expect(audit.filter((a) => a.action === 'approved')).toHaveLength(1);
    expect(audit.filter((a) => a.action === 'executing')).toHaveLength(1);
    expect(audit.filter((a) => a.action === 'executed')).toHaveLength(1);
  });

  it('moves Production once for 20 concurrent Approve clicks', async () => {
    const req = await request('promote churn_model 3 Production');
    await Promise.all(Array.from({ length: 20 }, () => approveAs(APPROVER_USER_ID, req)));
    await messageShows(req, /Done: Production/);
    await env.bot.approvals.idle();
    await env.bot.pipeline.idle();
    const puts = workspace.requests.filter((r) => r.method === 'PUT');
    expect(puts.filter((r) => r.path.includes('/aliases/'))).toHaveLength(1);
    expect(puts.filter((r) => r.path.includes('serving-endpoints'))).toHaveLength(1);
  });
});

describe('a restart between approval and the end of the execution', () => {
  it('executes, once, a request approved just before the process died', async () => {
    const req = await request('retrain churn_model');
    // The vote lands in the store, but the process dies before it starts the execution.
    const otherDb = openDatabase(env.dbPath);
    const voted = await openStores(otherDb).approvals.vote(req.id, APPROVER_USER_ID, true, Date.now());
    await otherDb.close();
    expect(voted.request?.status).toBe('approved');
    await env.restart();
    await messageShows(req, /Done: Retrain churn_model/);
    await env.bot.approvals.idle();
    expect(runNowCalls()).toHaveLength(1);
    expect(runsOf(req.id)).toHaveLength(1);
  });

  it('follows the same job run after a restart instead of starting another', async () => {
    workspace.settings.jobRunMs = 60_000;
    const req = await request('retrain churn_model');
    await approveAs(APPROVER_USER_ID, req);
    await messageShows(req, /Job run \d+ started; following it/);
    await env.restart();
    // The run finishes while the new process follows it.
    for (const run of runsOf(req.id)) run.run_ms = 0;
    const done = await messageShows(req, /Done: Retrain churn_model/);
    expect(shown(done)).toContain('It registered churn_model v4');
    await env.bot.approvals.idle();
    expect(runsOf(req.id)).toHaveLength(1);
    const audit = await env.bot.store.recentAudit({ changeId: req.id });
    expect(audit.filter((a) => a.action === 'execution_resumed')).toHaveLength(1);
    expect(audit.filter((a) => a.action === 'executed')).toHaveLength(1);
  });

  it('finishes a Production move whose rollout was under way when the process stopped', async () => {
    workspace.settings.rolloutDelayMs = 1_500;
    const req = await request('promote churn_model 3 Production');
    await approveAs(APPROVER_USER_ID, req);
    await env.slack.waitFor(
      async () => workspace.state.endpoints.get(DEMO.endpoint)?.pending !== undefined,
      5_000,
    );
    await env.restart();
    const done = await messageShows(req, /Done: Production → churn_model v3/);
    expect(shown(done)).toContain('Production now points at churn_model v3');
    await env.bot.approvals.idle();
    await env.bot.pipeline.idle();
    const puts = workspace.requests.filter((r) => r.method === 'PUT');
    expect(puts.filter((r) => r.path.includes('serving-endpoints'))).toHaveLength(1);
    expect(puts.filter((r) => r.path.includes('/aliases/'))).toHaveLength(1);
    expect(workspace.state.models.get(DEMO.model)?.aliases.get('production')?.version_num).toBe(3);
  });

  it('marks the request failed, in its message and thread, when the step cannot be finished', async () => {
    workspace.settings.rolloutDelayMs = 1_500;
    const req = await request('promote churn_model 3 Production');
    await approveAs(APPROVER_USER_ID, req);
    await env.slack.waitFor(
      async () => workspace.state.endpoints.get(DEMO.endpoint)?.pending !== undefined,
      5_000,
    );
    // The rollout will fail; the process restarts before it does.
    workspace.state.endpoints.get(DEMO.endpoint)!.pending!.failure =
      'Served entity churn_model-3 failed to load.';
    await env.restart();
    const failed = await messageShows(req, /Failed: Production → churn_model v3/);
    expect(shown(failed)).toContain('Deploy to churn-endpoint failed: ');
    expect(shown(failed)).toContain('failed to load');
    await env.slack.waitFor(async () =>
      env.slack
        .messages(APPROVALS_CHANNEL_ID)
        .find((m) => m.thread_ts === req.ts && m.ts !== req.ts && /failed/.test(m.text ?? '')),
    );
    expect(workspace.state.models.get(DEMO.model)?.aliases.get('production')).toBeUndefined();
  });
});
