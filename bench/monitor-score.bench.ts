/**
 * Batch scoring and monitor set-up, counted at the workspace twin: the Databricks calls one
 * `/mlops score` makes before its run-now (reads only: everything is refused before anything is
 * sent), and how long its final message takes past the twin's own run time; and the calls one
 * `/mlops monitor create` + Create makes.
 */
import { EXAMPLE_POLICY_PATH } from '../src/config/env.js';
import { loadPolicy } from '../src/config/policy.js';
import { MLOPS_CHANNEL_ID } from '../src/sandbox/slack/index.js';
import { startDatabricksTwins } from '../src/sandbox/start.js';
import { DEMO } from '../src/sandbox/workspace/demo.js';
import { ACTION_MONITOR_CREATE } from '../src/slack/blocks/action-ids.js';
import { startBotOnTwins } from '../test/support/bot.js';
import type { BenchRow } from './run.js';

const RUN_MS = 300;

export default async function monitorScore(): Promise<BenchRow[]> {
  const twins = await startDatabricksTwins(new Date());
  twins.workspace.settings.jobQueueMs = 0;
  twins.workspace.settings.jobRunMs = RUN_MS;
  const env = await startBotOnTwins({
    policy: loadPolicy(EXAMPLE_POLICY_PATH),
    workspace: twins.workspace,
    warehouse: twins.warehouse,
  });
  try {
    const requests = twins.workspace.requests;
    const from = requests.length;
    const started = Date.now();
    await env.command('score churn_model@Champion churn_baseline');
    await env.slack.waitFor(
      () => env.slack.messages(MLOPS_CHANNEL_ID).some((m) => /rows written/.test(m.text)),
      20_000,
    );
    const tookMs = Date.now() - started;
    const calls = requests.slice(from);
    const runNow = calls.findIndex((r) => r.path.includes('/run-now'));
    const before = calls.slice(0, runNow);
    const polls = calls.filter((r) => r.path.includes('/runs/get')).length;

    // Monitor create: the demo monitor is removed so that the plan can be made and confirmed.
    twins.workspace.state.monitors.delete(DEMO.monitoredTable);
    const fromCreate = requests.length;
    await env.command('monitor create churn');
    const plan = await env.slack.waitFor(() =>
      env.slack
        .messages(MLOPS_CHANNEL_ID)
        .find((m) => JSON.stringify(m.blocks ?? []).includes(ACTION_MONITOR_CREATE)),
    );
    const value = /"value":"([0-9a-f-]{36})"/.exec(JSON.stringify(plan.blocks))![1]!;
    await env.click({
      action_id: ACTION_MONITOR_CREATE,
      value,
      message_ts: plan.ts,
      channel: MLOPS_CHANNEL_ID,
    });
    await env.slack.waitFor(
      () => env.slack.messages(MLOPS_CHANNEL_ID).some((m) => /created on/.test(m.text)),
      10_000,
    );
    const createCalls = requests.slice(fromCreate);
    const writes = createCalls.filter((r) => r.method === 'POST').length;

    return [
      {
        name: 'score: Databricks calls before run-now (all reads)',
        value: `${before.length} (${before.filter((r) => r.method !== 'GET').length} writes)`,
        target: '0 writes',
      },
      { name: 'score: runs/get polls for a 300 ms run', value: String(polls) },
      {
        name: 'score: command → final message, past the run itself',
        value: `${tookMs - RUN_MS} ms`,
        target: '< 2000 ms',
      },
      {
        name: 'monitor create + Create: Databricks calls',
        value: `${createCalls.length} (${writes} POST)`,
        target: '1 POST',
      },
    ];
  } finally {
    await env.stop();
    await twins.stop();
  }
}
