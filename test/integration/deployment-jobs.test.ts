/**
 * Deployment-job approvals from Slack (issue #16), over loopback: the workspace twin runs the
 * demo's deployment job (evaluation → approval → deployment), the bot's check finds runs waiting
 * at approval and asks in Slack, and approving tags the version and repairs the run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import { createDeploymentJobsClient, createModelVersionTags } from '../../src/databricks/deployment-jobs.js';
import { createDeploymentCheck, linkedJobs } from '../../src/deployment-jobs/check.js';
import { createDeploymentApprovalStore } from '../../src/deployment-jobs/store.js';
import { deploymentJobChecks } from '../../src/doctor/checks/deployment-jobs.js';
import { isUserError } from '../../src/domain/errors.js';
import { systemClock } from '../../src/lib/clock.js';
import { APPROVALS_CHANNEL_ID, APPROVER_USER_ID } from '../../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startDeploymentRun } from '../../src/sandbox/workspace/deployment-jobs-routes.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { ACTION_APPROVAL_APPROVE } from '../../src/slack/blocks/action-ids.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { openDatabase } from '../../src/storage/database.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';
import { startTwinWithClient } from '../support/workspace.js';

const TASK_MS = 20;
let workspace: WorkspaceTwin;
let env: BotOnTwins;

/** churn_model v4, registered, and a deployment-job run for it that has stopped at approval. */
async function waitingRun(twin: WorkspaceTwin, version = 4): Promise<number> {
  const model = twin.state.models.get(DEMO.model)!;
  const at = Date.now();
  model.versions.set(version, {
    version,
    status: 'READY',
    source: `runs:/r${version}/model`,
    created_at: at,
    created_by: DEMO.users.riley,
    updated_at: at,
    updated_by: DEMO.users.riley,
  });
  const runId = startDeploymentRun(
    { state: twin.state, clock: systemClock, jobRunMs: TASK_MS },
    DEMO.deploymentJobId,
    DEMO.model,
    version,
  );
  await settled(twin, runId);
  return runId;
}

/** Waits until the run's current attempt has ended (its tasks are due). */
async function settled(twin: WorkspaceTwin, runId: number) {
  const run = twin.state.deployment_runs.get(runId)!;
  const end = Math.max(...run.task_runs.map((t) => t.end));
  await new Promise((r) => setTimeout(r, Math.max(0, end - Date.now()) + 5));
}

const tagWrites = (twin: WorkspaceTwin) =>
  twin.requests.filter(
    (r) => r.method === 'POST' && r.path.startsWith('/api/2.0/mlflow/unity-catalog/model-versions/tags'),
  );
const repairs = (twin: WorkspaceTwin) =>
  twin.requests.filter((r) => r.path.startsWith('/api/2.2/jobs/runs/repair'));

function requestCards() {
  return env.slack
    .messages(APPROVALS_CHANNEL_ID)
    .filter((m) => !m.ephemeral_to && (m.thread_ts === undefined || m.thread_ts === m.ts))
    .filter((m) => /deployment job/.test(shown(m)));
}

async function card() {
  const m = await env.slack.waitFor(() => requestCards()[0]);
  return { ts: m.ts, id: /apr-[a-z0-9]{10}/.exec(JSON.stringify(m.blocks))![0] };
}

const current = (req: { ts: string }) => env.slack.state.findMessage(APPROVALS_CHANNEL_ID, req.ts)!;
const cardShows = (req: { ts: string }, pattern: RegExp) =>
  env.slack.waitFor(() => pattern.test(shown(current(req))) && current(req), 8_000);

const approve = (req: { ts: string; id: string }) =>
  env.click({
    action_id: ACTION_APPROVAL_APPROVE,
    value: req.id,
    message_ts: req.ts,
    channel: APPROVALS_CHANNEL_ID,
    user: APPROVER_USER_ID,
  });

describe('deployment-job approvals over the bot', () => {
  beforeEach(async () => {
    const state = seedDemoWorkspace();
    state.jobs.get(DEMO.deploymentJobId)!.deployment!.task_ms = TASK_MS;
    workspace = await startWorkspaceTwin({ state, rolloutDelayMs: 100, jobQueueMs: 10, jobRunMs: 30 });
    env = await startBotOnTwins({ workspace });
  });
  afterEach(async () => {
    await env.stop();
    await workspace.stop();
  });

  it('finds a run waiting at approval and posts one request with the evaluation metrics and the evidence', async () => {
    const runId = await waitingRun(workspace);
    const first = await env.bot.deploymentJobs!.tick(Date.now());
    expect(first.opened).toBe(1);
    const req = await card();
    const text = shown(current(req));
    expect(text).toContain('Approval needed: Deploy churn_model v4 (deployment job)');
    expect(text).toContain(`run ${runId}`);
    expect(text).toContain('approval=Approved');
    expect(text).toMatch(/f1_score\.macro\s+0\.61/);
    expect(text).toMatch(/roc_auc\s+0\.83/);
    expect(text).toContain('churn_model v4');
    // Evidence: the incoming version beside the Champion it follows.
    expect(text).toContain('churn_model v2');
    // A second tick asks nothing more for the same run.
    expect((await env.bot.deploymentJobs!.tick(Date.now())).opened).toBe(0);
    await env.bot.approvals.idle();
    expect(requestCards()).toHaveLength(1);
    expect(tagWrites(workspace)).toHaveLength(0);
  });

  it('on approval tags the version once, repairs the run from its approval task, and reports the run’s success with its link', async () => {
    const runId = await waitingRun(workspace);
    await env.bot.deploymentJobs!.tick(Date.now());
    const req = await card();
    await approve(req);
    const done = await cardShows(req, /Done: Deploy churn_model v4/);
    expect(shown(done)).toContain(`/jobs/${DEMO.deploymentJobId}/runs/${runId}|run ${runId}>`);
    expect(shown(done)).toMatch(/Tagged churn_model v4 approval=Approved and repaired .*; the run succeeded/);
    expect(workspace.state.models.get(DEMO.model)!.versions.get(4)!.tags).toEqual({ approval: 'Approved' });
    expect(tagWrites(workspace)).toHaveLength(1);
    expect(repairs(workspace)).toHaveLength(1);
    const run = workspace.state.deployment_runs.get(runId)!;
    expect(run.attempts.map((a) => a.type)).toEqual(['ORIGINAL', 'REPAIR']);
    // The approval task and the deployment after it ran again, and passed.
    expect(run.task_runs.filter((t) => t.attempt === 1).map((t) => [t.task_key, t.result])).toEqual([
      ['approval', 'SUCCESS'],
      ['deployment', 'SUCCESS'],
    ]);
    const thread = await env.slack.waitFor(() =>
      env.slack.messages(APPROVALS_CHANNEL_ID).find((m) => m.thread_ts === req.ts && m.ts !== req.ts),
    );
    expect(thread.text).toContain(`run ${runId}`);
  });

  it('repairs with latest_repair_id when the run was repaired before the request', async () => {
    const runId = await waitingRun(workspace);
    // Someone reran the approval task without tagging: it failed again (repair 1).
    const run = workspace.state.deployment_runs.get(runId)!;
    const res = await fetch(`${workspace.url}/api/2.2/jobs/runs/repair`, {
      method: 'POST',
      headers: { authorization: `Bearer ${workspace.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: runId, rerun_tasks: ['approval'], rerun_dependent_tasks: true }),
    });
    expect(res.status).toBe(200);
    await settled(workspace, runId);
    await env.bot.deploymentJobs!.tick(Date.now());
    const req = await card();
    await approve(req);
    await cardShows(req, /Done: Deploy churn_model v4/);
    expect(run.attempts.map((a) => a.type)).toEqual(['ORIGINAL', 'REPAIR', 'REPAIR']);
    expect(tagWrites(workspace)).toHaveLength(1);
  });

  it('on rejection sets nothing, repairs nothing, and records who rejected it and why', async () => {
    const runId = await waitingRun(workspace);
    await env.bot.deploymentJobs!.tick(Date.now());
    const req = await card();
    await env.bot.approvals.reject(req.id, { userId: APPROVER_USER_ID }, 'roc_auc too low for prod');
    await cardShows(req, /Rejected by <@U0APPROVE>: roc_auc too low for prod/);
    expect(workspace.state.models.get(DEMO.model)!.versions.get(4)!.tags).toBeUndefined();
    expect(repairs(workspace)).toHaveLength(0);
    expect(workspace.state.deployment_runs.get(runId)!.attempts).toHaveLength(1);
    const audit = await env.bot.store.recentAudit({ changeId: req.id, action: 'rejected' });
    expect(audit).toHaveLength(1);
    expect(audit[0]?.detail).toBe('roc_auc too low for prod');
    // The run still waits, but it is never asked about again.
    expect((await env.bot.deploymentJobs!.tick(Date.now())).opened).toBe(0);
  });

  it('supersedes the request when the run was approved and repaired outside the bot, sending nothing', async () => {
    const runId = await waitingRun(workspace);
    await env.bot.deploymentJobs!.tick(Date.now());
    const req = await card();
    // In the Databricks UI: the tag, then a repair.
    workspace.state.models.get(DEMO.model)!.versions.get(4)!.tags = { approval: 'approved' };
    const res = await fetch(`${workspace.url}/api/2.2/jobs/runs/repair`, {
      method: 'POST',
      headers: { authorization: `Bearer ${workspace.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: runId, rerun_tasks: ['approval'], rerun_dependent_tasks: true }),
    });
    expect(res.status).toBe(200);
    const summary = await env.bot.deploymentJobs!.tick(Date.now());
    expect(summary.superseded).toBe(1);
    const m = await cardShows(req, /Superseded: Deploy churn_model v4/);
    expect(shown(m)).toContain(`run ${runId} was repaired outside modelgate`);
    expect(JSON.stringify(m.blocks)).not.toContain(ACTION_APPROVAL_APPROVE);
    const late = await approve(req);
    expect(late.status).toBe(200);
    await env.bot.approvals.idle();
    expect(tagWrites(workspace)).toHaveLength(0);
    // The one repair is the one made outside.
    expect(repairs(workspace)).toHaveLength(1);
  });

  it('supersedes at the approving click when the version was tagged outside the bot meanwhile', async () => {
    await waitingRun(workspace);
    await env.bot.deploymentJobs!.tick(Date.now());
    const req = await card();
    workspace.state.models.get(DEMO.model)!.versions.get(4)!.tags = { approval: 'Approved' };
    await approve(req);
    const m = await cardShows(req, /Superseded: Deploy churn_model v4/);
    expect(shown(m)).toContain('churn_model v4 was approved outside modelgate');
    await env.bot.approvals.idle();
    expect(tagWrites(workspace)).toHaveLength(0);
    expect(repairs(workspace)).toHaveLength(0);
  });

  it('sets the tag and repairs exactly once under a burst of duplicate clicks', async () => {
    const runId = await waitingRun(workspace);
    await env.bot.deploymentJobs!.tick(Date.now());
    const req = await card();
    await Promise.all(Array.from({ length: 6 }, () => approve(req)));
    await cardShows(req, /Done: Deploy churn_model v4/);
    await env.bot.approvals.idle();
    expect(tagWrites(workspace)).toHaveLength(1);
    expect(repairs(workspace)).toHaveLength(1);
    expect(workspace.state.deployment_runs.get(runId)!.attempts).toHaveLength(2);
    expect(await env.bot.store.recentAudit({ changeId: req.id, action: 'executed' })).toHaveLength(1);
  });

  it('opens a request for the run a retraining’s new version triggers', async () => {
    const job = workspace.state.jobs.get(DEMO.jobId)!;
    expect(job.registers_model).toBe(DEMO.model);
    await env.bot.approvals.requestRetrain({
      model: DEMO.model,
      jobId: DEMO.jobId,
      reason: 'drift',
      actor: { userId: 'U0REQUEST' },
      origin: { channelId: APPROVALS_CHANNEL_ID },
    });
    const retrain = (await env.bot.approvals.pending())[0]!;
    await env.bot.approvals.approve(retrain.id, { userId: APPROVER_USER_ID });
    await env.bot.approvals.idle();
    const run = await env.slack.waitFor(() => [...workspace.state.deployment_runs.values()][0]);
    expect(run.model_version).toBe('4');
    await settled(workspace, run.run_id);
    expect((await env.bot.deploymentJobs!.tick(Date.now())).opened).toBe(1);
  });
});

describe('a deployment job whose approval task is missing or named differently', () => {
  it('is refused before anything is sent, with the fix; doctor says the same', async () => {
    const state = seedDemoWorkspace();
    const spec = state.jobs.get(DEMO.deploymentJobId)!.deployment!;
    spec.tasks = ['evaluation', 'approve', 'deployment'];
    spec.approval_task = 'approve';
    spec.task_ms = TASK_MS;
    const { twin, http } = await startTwinWithClient({ state, jobRunMs: TASK_MS });
    try {
      await waitingRun(twin);
      const db = openDatabase(':memory:');
      const errors: unknown[] = [];
      const requested: unknown[] = [];
      const policy = loadPolicy(EXAMPLE_POLICY_PATH);
      const check = createDeploymentCheck({
        linked: linkedJobs(policy),
        jobs: createDeploymentJobsClient(http),
        tags: createModelVersionTags(http),
        store: createDeploymentApprovalStore(db, Date.now),
        approvals: {
          pending: async () => [],
          supersede: async () => false,
          requestDeployment: async (input) => {
            requested.push(input);
            return undefined;
          },
        },
        workspaceHost: twin.url,
        report: (_model, e) => errors.push(e),
      });
      const summary = await check.tick(Date.now());
      expect(summary.failed).toBe(1);
      expect(requested).toEqual([]);
      const e = errors[0];
      expect(isUserError(e) && e.code).toBe('deployment_task_missing');
      const words = isUserError(e) ? describeError(e) : undefined;
      expect(words?.text).toContain('has no task called approval');
      expect(words?.hint).toContain('Its tasks are evaluation, approve, deployment');
      expect(words?.hint).toContain('deploymentJobs.<model>.approvalTask');
      expect(twin.requests.filter((r) => r.method !== 'GET')).toEqual([]);
      // The failing job is left alone for the next tick (backoff), then looked at again.
      expect((await check.tick(Date.now())).skipped).toBe(1);

      const doctor = await deploymentJobChecks(
        policy,
        { deploymentJobs: createDeploymentJobsClient(http) },
        true,
      );
      expect(doctor).toEqual([
        expect.objectContaining({ status: 'fail', name: 'Deployment job churn_model' }),
      ]);
      expect(JSON.stringify(doctor)).toContain('approvalTask');
      await db.close();
    } finally {
      await twin.stop();
    }
  });
});
