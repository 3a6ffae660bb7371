/**
 * `/mlops score` over loopback: the bot on the Slack twin, the workspace twin whose scoring job
 * writes into the sandbox DuckDB, and the SQL warehouse twin the bot counts the rows through.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import { SCORED_BY_PROPERTY } from '../../src/domain/ports/tables.js';
import { MLOPS_CHANNEL_ID, REQUESTER_USER_ID, VIEWER_USER_ID } from '../../src/sandbox/slack/index.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

let twins: DatabricksTwins;
let env: BotOnTwins;
const OUTPUT = 'acme.mlops.churn_baseline_scored';

beforeEach(async () => {
  twins = await startDatabricksTwins(new Date());
  twins.workspace.settings.jobQueueMs = 30;
  twins.workspace.settings.jobRunMs = 120;
  env = await startBotOnTwins({
    policy: loadPolicy(EXAMPLE_POLICY_PATH),
    workspace: twins.workspace,
    warehouse: twins.warehouse,
  });
});
afterEach(async () => {
  await env.stop();
  await twins.stop();
});

const state = () => twins.workspace.state;
const scoringRuns = () => [...state().runs.values()].filter((r) => r.job_id === DEMO.scoringJobId);

async function mlops(text: string, user = REQUESTER_USER_ID) {
  const before = env.slack.calls('response_url').length;
  await env.command(text, { user_id: user });
  const call = await env.slack.waitFor(() => env.slack.calls('response_url').slice(before)[0]);
  return call.args as { text?: string; blocks?: unknown[]; response_type?: string };
}

/** The bot's scoring message in #mlops once it shows `pattern`. */
function scoringMessage(pattern: RegExp) {
  return env.slack.waitFor(
    () =>
      env.slack
        .messages(MLOPS_CHANNEL_ID)
        .find((m) => /Batch scoring/.test(m.text) && pattern.test(shown(m))),
    10_000,
  );
}

describe('/mlops score', () => {
  it('runs the scoring job once with the model URI and tables, and reports the rows written with a link', async () => {
    const reply = await mlops('score churn_model@Champion churn_baseline');
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toContain(`into ${OUTPUT}: started`);

    const done = await scoringMessage(/rows written/);
    const [run] = scoringRuns();
    expect(scoringRuns()).toHaveLength(1);
    expect(run!.job_parameters).toMatchObject({
      model_uri: `models:/${DEMO.model}@Champion`,
      input_table: DEMO.baselineTable,
      output_table: OUTPUT,
    });
    // The store's id is both the idempotency token and the request_id the job writes.
    expect(run!.idempotency_token).toBe(run!.job_parameters.request_id);

    const [{ n }] = (await twins.db.all(`SELECT count(*) AS n FROM ${DEMO.baselineTable}`)) as [
      { n: bigint },
    ];
    expect(shown(done)).toContain(`${Number(n).toLocaleString('en-US')} rows written`);
    expect(shown(done)).toContain(`/jobs/${DEMO.scoringJobId}/runs/${run!.run_id}|run ${run!.run_id}>`);

    // The output carries the reference's inference-tracking columns, and the bot's mark.
    const rows = await twins.db.all(
      `SELECT DISTINCT model_name, model_version, model_alias, request_id FROM ${OUTPUT}`,
    );
    expect(rows).toEqual([
      {
        model_name: DEMO.model,
        model_version: '2',
        model_alias: 'Champion',
        request_id: run!.job_parameters.request_id,
      },
    ]);
    const [ts] = await twins.db.all(`SELECT count(*) AS n FROM ${OUTPUT} WHERE inference_timestamp IS NULL`);
    expect(Number(ts!.n)).toBe(0);
    expect(state().table_details.get(OUTPUT)?.properties[SCORED_BY_PROPERTY]).toBe('modelgate');
    // Recorded in the append-only audit log: who started it, and how it ended.
    expect(await env.bot.store.recentAudit({ action: 'score.started' })).toEqual([
      expect.objectContaining({ actor: REQUESTER_USER_ID, target: `table:${OUTPUT}` }),
    ]);
    expect(await env.bot.store.recentAudit({ action: 'score.succeeded' })).toHaveLength(1);
  });

  it('scores again into a table it wrote itself, by version number', async () => {
    await mlops('score churn_model@Champion churn_baseline');
    await scoringMessage(/rows written/);
    await mlops('score churn_model@3 churn_baseline');
    await env.slack.waitFor(
      () => env.slack.messages(MLOPS_CHANNEL_ID).filter((m) => /rows written/.test(shown(m))).length === 2,
      10_000,
    );
    expect(scoringRuns().map((r) => r.job_parameters.model_uri)).toEqual([
      `models:/${DEMO.model}@Champion`,
      `models:/${DEMO.model}/3`,
    ]);
    const versions = await twins.db.all(`SELECT DISTINCT model_version FROM ${OUTPUT}`);
    expect(versions).toEqual([{ model_version: '3' }]);
  });

  it('refuses an input table that does not exist, before anything is sent', async () => {
    const reply = await mlops('score churn_model@Champion acme.mlops.no_such_table');
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toContain(
      'There is no table called acme.mlops.no_such_table, so nothing was scored.',
    );
    expect(scoringRuns()).toHaveLength(0);
    expect(env.slack.messages(MLOPS_CHANNEL_ID).filter((m) => /Batch scoring/.test(m.text))).toHaveLength(0);
  });

  it('refuses an output table that exists and is not the bot’s, and says how to pick another', async () => {
    const reply = await mlops(`score churn_model@Champion churn_baseline into ${DEMO.monitoredTable}`);
    expect(shown(reply)).toContain(`${DEMO.monitoredTable} already exists and was not written by the bot`);
    expect(shown(reply)).toContain('into &lt;table&gt;');
    expect(scoringRuns()).toHaveLength(0);
  });

  it('refuses a model reference without a version, with the usage', async () => {
    const reply = await mlops('score churn_model churn_baseline');
    expect(shown(reply)).toContain('does not say which version');
    expect(shown(reply)).toContain('Usage: /mlops score &lt;model&gt;@&lt;alias|version&gt;');
    expect(shown(reply)).not.toContain('Say which version (e.g. 3)');
  });

  it('ends a failed run with Databricks’ reason and the link, never as success', async () => {
    state().jobs.get(DEMO.scoringJobId)!.next_outcome = 'FAILED';
    await mlops('score churn_model@Champion churn_baseline');
    const failed = await scoringMessage(/failed/);
    const [run] = scoringRuns();
    expect(shown(failed)).toContain('RUN_EXECUTION_ERROR');
    expect(shown(failed)).toContain('Task score_batch failed');
    expect(shown(failed)).toContain(`run ${run!.run_id}>`);
    expect(shown(failed)).not.toContain('rows written');
  });

  it('ends a run whose job could not score the input with the job’s own words', async () => {
    // The payload table lacks the model's features: the job fails the way MLflow does.
    await mlops(`score churn_model@Champion ${DEMO.inferenceTable}`);
    const failed = await scoringMessage(/failed/);
    expect(shown(failed)).toContain('Model is missing inputs');
  });

  it('ends a cancelled run as cancelled, with the link', async () => {
    twins.workspace.settings.jobRunMs = 5_000;
    await mlops('score churn_model@Champion churn_baseline');
    const run = await env.slack.waitFor(() => scoringRuns()[0]);
    await fetch(`${twins.workspace.url}/api/2.2/jobs/runs/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${twins.workspace.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: run.run_id }),
    });
    const cancelled = await scoringMessage(/was cancelled/);
    expect(shown(cancelled)).toContain('USER_CANCELED');
    expect(shown(cancelled)).toContain(`run ${run.run_id}>`);
  });

  it('follows a run again after a restart and finishes its one message', async () => {
    twins.workspace.settings.jobRunMs = 1_500;
    await mlops('score churn_model@Champion churn_baseline');
    await env.slack.waitFor(() => scoringRuns()[0]);
    await env.restart();
    const done = await scoringMessage(/rows written/);
    expect(scoringRuns()).toHaveLength(1);
    // The same message, updated in place: one scoring message in the channel.
    expect(env.slack.messages(MLOPS_CHANNEL_ID).filter((m) => /Batch scoring/.test(m.text))).toHaveLength(1);
    expect(shown(done)).toContain(`run ${scoringRuns()[0]!.run_id}>`);
  });

  it('is refused to someone the policy’s access.score does not name', async () => {
    const reply = await mlops('score churn_model@Champion churn_baseline', VIEWER_USER_ID);
    expect(reply.response_type).toBe('ephemeral');
    expect(shown(reply)).toMatch(/score/);
    expect(scoringRuns()).toHaveLength(0);
  });
});
