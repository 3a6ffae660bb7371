/**
 * `/mlops monitor create|refresh|status` over loopback: the bot on the Slack twin and the workspace
 * twin, which imitates both monitor APIs (and a workspace with only the legacy one).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy, type Policy } from '../../src/config/policy.js';
import { APPROVER_USER_ID, MLOPS_CHANNEL_ID, REQUESTER_USER_ID } from '../../src/sandbox/slack/index.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { ACTION_MONITOR_CANCEL, ACTION_MONITOR_CREATE } from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

let workspace: WorkspaceTwin;
let env: BotOnTwins;

/** The demo workspace; `withoutMonitor` removes the churn monitor so that it can be created. */
async function start(options: { withoutMonitor?: boolean; policy?: Policy; timeoutMs?: number } = {}) {
  const state = seedDemoWorkspace();
  if (options.withoutMonitor) {
    state.monitors.delete(DEMO.monitoredTable);
    state.tables.delete(DEMO.profileTable);
    state.tables.delete(DEMO.driftTable);
  }
  workspace = await startWorkspaceTwin({ state, jobQueueMs: 30, jobRunMs: 80 });
  env = await startBotOnTwins({
    workspace,
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.timeoutMs ? { databricksHttp: { timeoutMs: options.timeoutMs } } : {}),
  });
}
afterEach(async () => {
  await env?.stop();
  await workspace?.stop();
});

async function mlops(text: string, user = REQUESTER_USER_ID) {
  const before = env.slack.calls('response_url').length;
  await env.command(text, { user_id: user });
  const call = await env.slack.waitFor(() => env.slack.calls('response_url').slice(before)[0]);
  return call.args as { text?: string; blocks?: unknown[]; response_type?: string };
}

/** The Create button of the latest monitor plan in #mlops. */
function latestPlan(): { ts: string; id: string } {
  for (const m of env.slack.messages(MLOPS_CHANNEL_ID).reverse()) {
    for (const block of (m.blocks ?? []) as Array<{
      elements?: Array<{ action_id?: string; value?: string }>;
    }>) {
      const create = block.elements?.find((e) => e.action_id === ACTION_MONITOR_CREATE);
      if (create?.value) return { ts: m.ts, id: create.value };
    }
  }
  throw new Error('no monitor plan in #mlops');
}

async function click(action: string, plan: { ts: string; id: string }, user = REQUESTER_USER_ID) {
  const before = env.slack.calls('response_url').length;
  await env.click({
    action_id: action,
    value: plan.id,
    message_ts: plan.ts,
    channel: MLOPS_CHANNEL_ID,
    user,
  });
  const call = await env.slack.waitFor(() => env.slack.calls('response_url').slice(before)[0]);
  return call.args as { text?: string; blocks?: unknown[]; response_type?: string };
}

const finalMessage = (pattern: RegExp) =>
  env.slack.waitFor(
    () =>
      env.slack
        .messages(MLOPS_CHANNEL_ID)
        .find((m) => /^Monitor churn/.test(m.text) && pattern.test(shown(m))),
    8_000,
  );

const creates = () =>
  workspace.requests.filter(
    (r) => r.method === 'POST' && (r.path === '/api/data-quality/v1/monitors' || /\/monitor$/.test(r.path)),
  );

describe('/mlops monitor create', () => {
  it('shows the plan, creates nothing until Create, then makes the reference monitor on the data-quality API', async () => {
    await start({ withoutMonitor: true });
    const reply = await mlops('monitor create churn');
    const plan = shown(reply);
    expect(plan).toContain('Plan: create monitor churn on acme.mlops.churn_inference');
    expect(plan).toContain('expected_loss (aggregate, double)');
    expect(plan).toContain("senior_citizen='Yes' | contract");
    expect(plan).toContain('baseline       acme.mlops.churn_baseline');
    expect(creates()).toHaveLength(0);

    const answer = await click(ACTION_MONITOR_CREATE, latestPlan());
    expect(shown(answer)).toContain('Creating monitor churn');
    const done = await finalMessage(/created/);
    expect(shown(done)).toContain('data-quality API');
    expect(shown(done)).toContain('acme.mlops.churn_inference_profile_metrics');
    expect(shown(done)).toContain('Dashboard');

    expect(creates().map((r) => r.path)).toEqual(['/api/data-quality/v1/monitors']);
    const m = workspace.state.monitors.get(DEMO.monitoredTable)!;
    expect(m).toMatchObject({
      prediction_col: 'prediction',
      label_col: 'churn',
      timestamp_col: 'inference_timestamp',
      model_id_col: 'model_version',
      granularities: ['1 day'],
      slicing_exprs: ["senior_citizen='Yes'", 'contract'],
      baseline_table_name: DEMO.baselineTable,
      output_schema_name: 'acme.mlops',
      problem_type: 'PROBLEM_TYPE_CLASSIFICATION',
      schedule: { quartz_cron_expression: '0 0 12 * * ?', timezone_id: 'America/Los_Angeles' },
    });
    expect(await env.bot.store.recentAudit({ action: 'monitor.create_succeeded' })).toEqual([
      expect.objectContaining({ actor: REQUESTER_USER_ID, target: `monitor:${DEMO.monitoredTable}` }),
    ]);
    expect(m.custom_metrics).toEqual([
      expect.objectContaining({
        name: 'expected_loss',
        type: 'CUSTOM_METRIC_TYPE_AGGREGATE',
        input_columns: [':table'],
      }),
    ]);
  });

  it('falls back to the legacy quality-monitors API where the workspace has only that', async () => {
    await start({ withoutMonitor: true });
    workspace.state.data_quality_api = 'not_implemented';
    await mlops('monitor create churn');
    await click(ACTION_MONITOR_CREATE, latestPlan());
    const done = await finalMessage(/created/);
    expect(shown(done)).toContain('legacy quality-monitors API');
    // The data-quality API answers 501 here; the legacy one takes the same monitor.
    expect(creates().map((r) => [r.path, r.status])).toEqual([
      ['/api/data-quality/v1/monitors', 501],
      [`/api/2.1/unity-catalog/tables/${DEMO.monitoredTable}/monitor`, 200],
    ]);
    expect(workspace.state.monitors.get(DEMO.monitoredTable)?.in_data_quality_api).toBe(false);
  });

  it('refuses a table that has a monitor already, pointing at its status', async () => {
    await start();
    const reply = await mlops('monitor create churn');
    expect(shown(reply)).toContain(
      'acme.mlops.churn_inference already has a monitor, so nothing was created.',
    );
    expect(shown(reply)).toContain('/mlops monitor status churn');
    expect(creates()).toHaveLength(0);
  });

  it('refuses a setup naming columns the table lacks, listing its columns', async () => {
    const policy = loadPolicy(EXAMPLE_POLICY_PATH);
    const churn = policy.monitors!.churn!;
    await start({
      withoutMonitor: true,
      policy: {
        ...policy,
        monitors: {
          churn: { ...churn, setup: { ...churn.setup!, labelColumn: 'churned', timestampColumn: 'ts' } },
        },
      },
    });
    const reply = await mlops('monitor create churn');
    expect(shown(reply)).toContain('has no columns churned, ts');
    expect(shown(reply)).toContain('monitors.churn.setup');
    expect(shown(reply)).toContain('inference_timestamp');
    expect(creates()).toHaveLength(0);
  });

  it('refuses a monitored table that does not exist', async () => {
    await start({ withoutMonitor: true });
    workspace.state.tables.delete(DEMO.monitoredTable);
    const reply = await mlops('monitor create churn');
    expect(shown(reply)).toContain(`There is no table called ${DEMO.monitoredTable}.`);
    expect(creates()).toHaveLength(0);
  });

  it('lets only the requester create or cancel, and a cancelled plan creates nothing', async () => {
    await start({ withoutMonitor: true });
    await mlops('monitor create churn');
    const plan = latestPlan();
    const other = await click(ACTION_MONITOR_CREATE, plan, APPROVER_USER_ID);
    expect(shown(other)).toContain(`Only <@${REQUESTER_USER_ID}>`);
    const cancelled = await click(ACTION_MONITOR_CANCEL, plan);
    expect(shown(cancelled)).toContain('Cancelled: monitor churn was not created.');
    const late = await click(ACTION_MONITOR_CREATE, plan);
    expect(shown(late)).toContain('already cancelled');
    expect(creates()).toHaveLength(0);
  });

  it('settles a create whose answer was lost by reading the monitor, not by assuming', async () => {
    await start({ withoutMonitor: true, timeoutMs: 400 });
    workspace.faults.next('POST /api/data-quality/v1/monitors', { kind: 'late', ms: 1_500 });
    await mlops('monitor create churn');
    await click(ACTION_MONITOR_CREATE, latestPlan());
    const done = await finalMessage(/created/);
    expect(shown(done)).toContain('found on Databricks after the answer was lost');
    expect(workspace.state.monitors.has(DEMO.monitoredTable)).toBe(true);
  });

  it('creates once however often Create is pressed', async () => {
    await start({ withoutMonitor: true });
    await mlops('monitor create churn');
    const plan = latestPlan();
    await Promise.all([click(ACTION_MONITOR_CREATE, plan), click(ACTION_MONITOR_CREATE, plan)]);
    await finalMessage(/created/);
    expect(creates()).toHaveLength(1);
  });
});

describe('/mlops monitor refresh and status', () => {
  it('shows the state, the last refresh, the metric tables and the dashboard link', async () => {
    await start();
    const reply = await mlops('monitor status');
    expect(reply.response_type).toBe('ephemeral');
    const text = shown(reply);
    expect(text).toContain('ACTIVE');
    expect(text).toContain('SUCCESS, started');
    expect(text).toContain(DEMO.profileTable);
    expect(text).toContain(DEMO.driftTable);
    expect(text).toMatch(/\/sql\/dashboardsv3\/01ef[0-9a-f]+\|open>/);
  });

  it('offers the command when the policy monitor does not exist', async () => {
    await start({ withoutMonitor: true });
    const reply = await mlops('monitor status churn');
    expect(shown(reply)).toContain('has no monitor');
    expect(shown(reply)).toContain('/mlops monitor create churn');
  });

  it('shows every policy monitor, one whose table is missing among them', async () => {
    const policy = loadPolicy(EXAMPLE_POLICY_PATH);
    const churn = policy.monitors!.churn!;
    await start({
      policy: {
        ...policy,
        monitors: { churn, gone: { ...churn, table: 'acme.mlops.not_there', setup: undefined } },
      },
    });
    const reply = await mlops('monitor status');
    expect(shown(reply)).toContain('churn: ACTIVE');
    expect(shown(reply)).toContain('there is no table acme.mlops.not_there');
  });

  it('refreshes and posts how it ended', async () => {
    await start();
    const reply = await mlops('monitor refresh churn');
    expect(shown(reply)).toContain('started');
    const done = await finalMessage(/refreshed/);
    expect(shown(done)).toContain('Monitor churn refreshed');
    expect(workspace.state.monitors.get(DEMO.monitoredTable)?.refreshes.at(-1)?.state).toBe('SUCCESS');
  });

  it('ends a cancelled refresh as cancelled, with the link', async () => {
    await start();
    workspace.settings.jobRunMs = 3_000;
    await mlops('monitor refresh churn');
    const refresh = workspace.state.monitors.get(DEMO.monitoredTable)!.refreshes.at(-1)!;
    await fetch(
      `${workspace.url}/api/2.1/unity-catalog/tables/${DEMO.monitoredTable}/monitor/refreshes/${refresh.refresh_id}/cancel`,
      { method: 'POST', headers: { authorization: `Bearer ${workspace.token}` } },
    );
    const cancelled = await finalMessage(/refresh was cancelled/);
    expect(shown(cancelled)).toContain('CANCELED');
    expect(shown(cancelled)).toContain('/explore/data/acme/mlops/churn_inference?activeTab=quality');
  });

  it('ends a failed refresh with Databricks’ reason and a link, never as success', async () => {
    await start();
    workspace.state.monitors.get(DEMO.monitoredTable)!.next_refresh_outcome = 'FAILED';
    await mlops('monitor refresh churn');
    const failed = await finalMessage(/refresh failed/);
    expect(shown(failed)).toContain('Refresh failed: the profiling query ran out of memory (twin).');
    expect(shown(failed)).toContain('/explore/data/acme/mlops/churn_inference?activeTab=quality');
    expect(shown(failed)).not.toContain('refreshed');
  });
});
