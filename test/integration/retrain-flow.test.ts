import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPROVALS_CHANNEL_ID,
  APPROVER_USER_ID,
  MLOPS_CHANNEL_ID,
  REQUESTER_USER_ID,
} from '../../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { ACTION_APPROVAL_APPROVE } from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

let workspace: WorkspaceTwin;
let env: BotOnTwins;

beforeEach(async () => {
  workspace = await startWorkspaceTwin({
    state: seedDemoWorkspace(),
    rolloutDelayMs: 150,
    jobQueueMs: 30,
    jobRunMs: 80,
  });
  env = await startBotOnTwins({ workspace });
});
afterEach(async () => {
  await env.stop();
  await workspace.stop();
});

async function answerTo(text: string) {
  const before = env.slack.calls('response_url').length;
  await env.command(text);
  const call = await env.slack.waitFor(() => env.slack.calls('response_url').slice(before)[0]);
  return call.args as { text?: string; blocks?: unknown[] };
}

function latestRequest(): { ts: string; id: string } {
  const m = env.slack
    .messages(APPROVALS_CHANNEL_ID)
    .filter((x) => !x.ephemeral_to && (x.thread_ts === undefined || x.thread_ts === x.ts))
    .at(-1)!;
  return { ts: m.ts, id: /apr-[a-z0-9]{10}/.exec(JSON.stringify(m.blocks))![0] };
}

const approve = (req: { ts: string; id: string }) =>
  env.click({
    action_id: ACTION_APPROVAL_APPROVE,
    value: req.id,
    message_ts: req.ts,
    channel: APPROVALS_CHANNEL_ID,
    user: APPROVER_USER_ID,
  });

const current = (req: { ts: string }) => env.slack.state.findMessage(APPROVALS_CHANNEL_ID, req.ts)!;
const messageShows = (req: { ts: string }, pattern: RegExp) =>
  env.slack.waitFor(() => pattern.test(shown(current(req))) && current(req), 8_000);

describe('/mlops retrain', () => {
  it('runs the job once approved, follows it, and names the version it registered with its aliases', async () => {
    const reply = await answerTo('retrain churn_model F1 fell below 0.5 for a week');
    expect(shown(reply)).toContain('Approval requested: Retrain churn_model');
    const req = latestRequest();
    const pending = shown(current(req));
    expect(pending).toContain('churn-retrain');
    expect(pending).toContain('reason=F1 fell below 0.5 for a week');
    expect(pending).toContain('model_name=acme.mlops.churn_model');
    expect(workspace.state.runs.size).toBe(0);

    await approve(req);
    const done = await messageShows(req, /Done: Retrain churn_model/);
    const run = [...workspace.state.runs.values()][0]!;
    expect(run.idempotency_token).toBe(req.id);
    expect(run.job_parameters).toEqual({ model_name: DEMO.model, reason: 'F1 fell below 0.5 for a week' });
    expect(shown(done)).toContain(`/jobs/${DEMO.jobId}/runs/${run.run_id}|run ${run.run_id}>`);
    expect(shown(done)).toContain('It registered churn_model v4 (aliases: none yet)');
    // v4 is the version whose MLflow run is tagged with this job run's task.
    const version = workspace.state.models.get(DEMO.model)?.versions.get(4);
    const tags = workspace.state.mlflow_runs.get(version?.run_id ?? '')?.tags;
    expect(tags?.['mlflow.databricks.jobRunID']).toBe(String(run.task_run_id));
    // The outcome is posted in the request's thread, with its link.
    const thread = await env.slack.waitFor(() =>
      env.slack.messages(APPROVALS_CHANNEL_ID).find((m) => m.thread_ts === req.ts && m.ts !== req.ts),
    );
    expect(thread.text).toContain(`run ${run.run_id}`);
  });

  it('says so, with the run link and Databricks’ reason, when the run fails', async () => {
    workspace.state.jobs.get(DEMO.jobId)!.next_outcome = 'FAILED';
    await answerTo('retrain churn_model');
    const req = latestRequest();
    await approve(req);
    const failed = await messageShows(req, /Failed: Retrain churn_model/);
    const run = [...workspace.state.runs.values()][0]!;
    expect(shown(failed)).toContain(`run ${run.run_id}>`);
    expect(shown(failed)).toContain('RUN_EXECUTION_ERROR');
    expect(shown(failed)).toContain('Task train_model failed');
    expect(workspace.state.models.get(DEMO.model)?.versions.has(4)).toBe(false);
    expect(await env.bot.store.recentAudit({ changeId: req.id, action: 'failed' })).toHaveLength(1);
  });

  it('supersedes the request when the job changed after it was made', async () => {
    await answerTo('retrain churn_model');
    const req = latestRequest();
    workspace.state.jobs.get(DEMO.jobId)!.name = 'churn-retrain-v2';
    await approve(req);
    const m = await messageShows(req, /Superseded: Retrain churn_model/);
    expect(shown(m)).toContain('its name is now churn-retrain-v2 (was churn-retrain)');
    expect(workspace.state.runs.size).toBe(0);
  });

  it('refuses a model the policy names no job for, saying what can be retrained', async () => {
    const reply = await answerTo('retrain fraud_model');
    expect(shown(reply)).toContain('The policy names no retraining job for');
    expect(shown(reply)).toContain('churn_model');
  });

  it('takes a request from a drift alert’s thread and tells that thread how it went', async () => {
    const alert = await env.bot.app.client.chat.postMessage({
      channel: MLOPS_CHANNEL_ID,
      text: 'Drift on churn',
    });
    const reply = await env.bot.approvals.requestRetrain({
      model: DEMO.model,
      jobId: DEMO.jobId,
      monitor: 'churn',
      reason: 'js_distance above 0.19 for 7 windows',
      actor: { userId: REQUESTER_USER_ID },
      origin: { channelId: MLOPS_CHANNEL_ID },
      threadTs: alert.ts!,
    });
    expect(reply.text).toContain('Approval requested');
    const pointer = await env.slack.waitFor(() =>
      env.slack.messages(MLOPS_CHANNEL_ID).find((m) => m.thread_ts === alert.ts && m.ts !== alert.ts),
    );
    expect(pointer.text).toContain(`<#${APPROVALS_CHANNEL_ID}>`);
    const req = latestRequest();
    expect(shown(current(req))).toContain('monitor *churn*');
    await approve(req);
    await messageShows(req, /Done: Retrain churn_model/);
    await env.slack.waitFor(() =>
      env.slack
        .messages(MLOPS_CHANNEL_ID)
        .find((m) => m.thread_ts === alert.ts && /is done/.test(m.text ?? '')),
    );
  });
});
