import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp } from '../../src/databricks/http.js';
import { createServingClient } from '../../src/databricks/serving.js';
import type { Serving } from '../../src/domain/ports/serving.js';
import { simulatedClock } from '../../src/lib/clock.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { ACTION_ROLLOUT_RESUME, ACTION_ROLLOUT_START } from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

const CHANNEL = 'C0MLOPS';
const MINUTE = 60_000;

let clock: ReturnType<typeof simulatedClock>;
let twins: DatabricksTwins;
let env: BotOnTwins;
let serving: Serving;

beforeEach(async () => {
  clock = simulatedClock(Date.parse('2026-11-20T12:00:00Z'));
  twins = await startDatabricksTwins(new Date(clock.now()), { clock, rolloutDelayMs: 200 });
  env = await startBotOnTwins({ workspace: twins.workspace, warehouse: twins.warehouse, clock });
  serving = createServingClient(
    createDatabricksHttp({ host: twins.workspace.url, tokens: staticTokenProvider(twins.workspace.token) }),
  );
  // Baseline traffic before the plan: the probe refuses an empty inference table.
  await traffic(20);
});

afterEach(async () => {
  await env.stop();
  await twins.stop();
});

/** `n` scoring requests, spread over the endpoint's split as Model Serving does. */
async function traffic(n: number) {
  for (let i = 0; i < n; i++) {
    await serving
      .query(DEMO.endpoint, {
        records: [{ tenure: 3 + i, monthly_charges: 80, contract: 'Month-to-month', senior_citizen: 0 }],
      })
      .catch(() => undefined);
  }
}

/** The next ephemeral answer through a response_url. */
async function answer(after: number) {
  const call = await env.slack.waitFor(() => env.slack.calls('response_url').slice(after)[0]);
  return call.args as {
    text?: string;
    blocks?: Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>;
  };
}

async function rollout(text: string) {
  const before = env.slack.calls('response_url').length;
  await env.command(`rollout ${text}`);
  return answer(before);
}

async function start(text: string) {
  const plan = await rollout(text);
  const id = plan.blocks
    ?.flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === ACTION_ROLLOUT_START)?.value;
  expect(id, shown(plan)).toBeDefined();
  const before = env.slack.calls('response_url').length;
  await env.click({ action_id: ACTION_ROLLOUT_START, value: id!, channel: CHANNEL });
  await answer(before);
  await env.bot.rollouts.driver.idle();
  await env.bot.outbox.settled();
  return id!;
}

/** One driver pass after `minutes` of simulated time, waited out. */
async function tick(minutes = 0) {
  clock.advance(minutes * MINUTE);
  await env.bot.rollouts.driver.tick();
  await env.bot.rollouts.driver.idle();
  // Updates of one message are paced (at most one a second, latest wins): wait for the last one.
  await env.bot.outbox.settled();
}

const rolloutMessage = () =>
  env.slack.state
    .history(CHANNEL)
    .filter((m) => /Canary: churn_model/.test(m.text ?? ''))
    .at(-1)!;
const served = () =>
  twins.workspace.state.endpoints
    .get(DEMO.endpoint)
    ?.config?.served_entities.map((e) => `${e.name}`)
    .sort();
const v3 = () => twins.workspace.state.models.get(DEMO.model)!.versions.get(3)!;

describe('a canary rollout over loopback', () => {
  it('steps the canary up, checks each step against the inference table, and promotes it', async () => {
    const plan = await rollout('churn-endpoint churn_model 3 steps=25,50 every=15m');
    expect(shown(plan)).toContain('canary at 25% → 50% → 100%');
    expect(shown(plan)).toContain('error rate ≤ 2.0%');
    expect(shown(plan)).toContain('2 failing checks in a row');
    const id = plan
      .blocks!.flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === ACTION_ROLLOUT_START)!.value!;
    const before = env.slack.calls('response_url').length;
    await env.click({ action_id: ACTION_ROLLOUT_START, value: id, channel: CHANNEL });
    expect((await answer(before)).text).toContain('Started the canary of churn_model-3 on churn-endpoint');
    await env.bot.rollouts.driver.idle();
    expect(served()).toEqual(['churn_model-2', 'churn_model-3']);
    expect(shown(rolloutMessage())).toContain('Step 1 of 3, canary at 25%');

    await traffic(80);
    await tick(15);
    expect(shown(rolloutMessage())).toContain('Step 2 of 3, canary at 50%');
    expect(shown(rolloutMessage())).toContain('pass');
    await traffic(40);
    await tick(15);
    expect(served()).toEqual(['churn_model-3']);
    expect(shown(rolloutMessage())).toContain('Done: churn-endpoint serves churn_model-3 at 100%');
  });

  it('rolls back when the canary answers errors, and puts the failing figures in the thread', async () => {
    v3().behaviour = { bias: 0, errorRate: 0.5 };
    await start('churn-endpoint churn_model 3 steps=25,50');
    await traffic(80);
    await tick(15);
    expect(shown(rolloutMessage())).toContain('fail');
    expect(served()).toEqual(['churn_model-2', 'churn_model-3']);
    await traffic(40);
    await tick(5);
    expect(served()).toEqual(['churn_model-2']);
    const msg = rolloutMessage();
    expect(shown(msg)).toContain('Rolled back: churn-endpoint serves churn_model-2 at 100%');
    const thread = env.slack.state.replies(CHANNEL, msg.ts).slice(1);
    expect(thread.map((m) => shown(m)).join('\n')).toMatch(/error rate \d+(\.\d)?%.*limit ≤ 2\.0%/);
  });

  it('rolls back when the canary is slower than the baseline allows', async () => {
    v3().behaviour = { bias: 0, latencyMs: 50 };
    await start('churn-endpoint churn_model 3 steps=25,50');
    await traffic(80);
    await tick(15);
    await traffic(40);
    await tick(5);
    expect(served()).toEqual(['churn_model-2']);
    expect(shown(rolloutMessage())).toMatch(/p99 latency \d+ ms/);
  });

  it('pauses when the endpoint is changed outside modelgate, and resumes the step on Resume', async () => {
    const id = await start('churn-endpoint churn_model 3 steps=25,50');
    await serving.updateConfig(DEMO.endpoint, {
      servedVersions: [
        { modelName: DEMO.model, modelVersion: 2, name: 'churn_model-2' },
        { modelName: DEMO.model, modelVersion: 3, name: 'churn_model-3' },
      ],
      traffic: [
        { servedName: 'churn_model-2', percent: 60 },
        { servedName: 'churn_model-3', percent: 40 },
      ],
    });
    await tick(1);
    expect(shown(rolloutMessage())).toContain('churn-endpoint changed outside modelgate; rollout paused');
    await tick(30);
    expect(shown(rolloutMessage())).toContain('rollout paused');

    const before = env.slack.calls('response_url').length;
    await env.click({ action_id: ACTION_ROLLOUT_RESUME, value: id, channel: CHANNEL });
    await answer(before);
    await env.bot.rollouts.driver.idle();
    clock.advance(1_000);
    await tick(0);
    const split = twins.workspace.state.endpoints.get(DEMO.endpoint)?.config?.traffic_config.routes;
    expect(split?.map((r) => `${r.served_model_name}=${r.traffic_percentage}`).sort()).toEqual([
      'churn_model-2=75',
      'churn_model-3=25',
    ]);
    expect(shown(rolloutMessage())).toContain('Step 1 of 3, canary at 25%');
  });

  it('picks the rollout up after a restart mid-step and finishes it', async () => {
    await start('churn-endpoint churn_model 3 steps=50');
    await env.restart();
    await traffic(60);
    await tick(15);
    expect(served()).toEqual(['churn_model-3']);
    expect(shown(rolloutMessage())).toContain('Done');
  });

  it('refuses a deploy, and a second rollout, on the endpoint a rollout holds, saying who holds it', async () => {
    await start('churn-endpoint churn_model 3 steps=50');
    const second = await rollout('churn-endpoint churn_model 1 steps=50');
    expect(shown(second)).toMatch(
      /A canary rollout \(ro_\w+\) holds churn-endpoint: <@U0REQUEST> asked for it/,
    );
    const deploy = await (async () => {
      const before = env.slack.calls('response_url').length;
      await env.command('deploy churn_model 1 to churn-endpoint');
      return answer(before);
    })();
    expect(shown(deploy)).toContain('holds churn-endpoint');
  });

  it('refuses to plan on an inference table that is not enabled, with the fix', async () => {
    twins.workspace.state.endpoints.get(DEMO.endpoint)!.ai_gateway = {};
    const plan = await rollout('churn-endpoint churn_model 3');
    expect(shown(plan)).toContain('has no AI Gateway inference table enabled');
    expect(served()).toEqual(['churn_model-2']);
  });
});
