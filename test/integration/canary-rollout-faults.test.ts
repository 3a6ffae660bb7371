import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildPlanFor } from '../../src/changes/plan/index.js';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { type Policy, parsePolicy } from '../../src/config/policy.js';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp } from '../../src/databricks/http.js';
import { createRegistryClient } from '../../src/databricks/registry.js';
import { createServingClient } from '../../src/databricks/serving.js';
import type { Serving } from '../../src/domain/ports/serving.js';
import { simulatedClock } from '../../src/lib/clock.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import { DEMO } from '../../src/sandbox/workspace/demo.js';
import { failNextRollout } from '../../src/sandbox/workspace/serving-routes.js';
import {
  ACTION_APPLY,
  ACTION_ROLLOUT_APPROVE,
  ACTION_ROLLOUT_START,
} from '../../src/slack/blocks/action-ids.js';
import { type BotOnTwins, startBotOnTwins } from '../support/bot.js';
import { shown } from '../support/shown.js';

const CHANNEL = 'C0MLOPS';
const MINUTE = 60_000;
const PUT_CONFIG = 'PUT /api/2.0/serving-endpoints/:name/config';
const PUT_GATEWAY = 'PUT /api/2.0/serving-endpoints/:name/ai-gateway';
const PAYLOAD = 'acme.mlops.churn_endpoint_payload';

const exampleText = () => readFileSync(EXAMPLE_POLICY_PATH, 'utf8');
/** The example policy with churn-endpoint gated by the production gate (its binding's opt-out removed). */
const gatedPolicy = (): Policy => parsePolicy(exampleText().replace(/^\s*ungatedBecause:.*$/m, ''));
/** The example policy plus an analysis with a quality guardrail read from the demo monitor. */
const qualityPolicy = (min: number): Policy =>
  parsePolicy(`${exampleText()}
  quality:
    minRequests: 20
    failuresToRollback: 1
    guardrails:
      - { metric: error_rate, max: 0.02 }
      - metric: quality
        column: f1_score.macro
        min: ${min}
        profileTable: acme.mlops.churn_inference_profile_metrics
        modelIdColumn: model_version
`);

let clock: ReturnType<typeof simulatedClock>;
let twins: DatabricksTwins;
let env: BotOnTwins;
let serving: Serving;

async function setup(
  options: { policy?: Policy; databricksHttp?: { timeoutMs?: number }; baseline?: boolean } = {},
) {
  clock = simulatedClock(Date.parse('2026-11-20T12:00:00Z'));
  twins = await startDatabricksTwins(new Date(clock.now()), { clock, rolloutDelayMs: 200 });
  env = await startBotOnTwins({
    workspace: twins.workspace,
    warehouse: twins.warehouse,
    clock,
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.databricksHttp ? { databricksHttp: options.databricksHttp } : {}),
  });
  serving = createServingClient(
    createDatabricksHttp({ host: twins.workspace.url, tokens: staticTokenProvider(twins.workspace.token) }),
  );
  // Baseline traffic before the plan: the probe refuses an empty inference table.
  if (options.baseline !== false) await traffic(20);
}

afterEach(async () => {
  await env?.stop();
  await twins?.stop();
});

async function traffic(n: number) {
  for (let i = 0; i < n; i++) {
    await serving
      .query(DEMO.endpoint, {
        records: [{ tenure: 3 + i, monthly_charges: 80, contract: 'Month-to-month', senior_citizen: 0 }],
      })
      .catch(() => undefined);
  }
}

type Answer = {
  text?: string;
  blocks?: Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>;
};

async function answer(after: number): Promise<Answer> {
  const call = await env.slack.waitFor(() => env.slack.calls('response_url').slice(after)[0]);
  return call.args as Answer;
}

async function command(text: string) {
  const before = env.slack.calls('response_url').length;
  await env.command(text);
  return answer(before);
}

async function click(action_id: string, value: string, user?: string) {
  const before = env.slack.calls('response_url').length;
  await env.click({ action_id, value, channel: CHANNEL, ...(user ? { user } : {}) });
  return answer(before);
}

const buttonValue = (m: Answer, action: string) =>
  m.blocks?.flatMap((b) => b.elements ?? []).find((e) => e.action_id === action)?.value;

/**
 * A deploy's plan: the bot's own message in the channel (one message per change), not an answer
 * through the response_url.
 */
async function deployPlan(text: string) {
  const old = new Set(env.slack.messages(CHANNEL).map((m) => m.ts));
  await env.command(text);
  return env.slack.waitFor(() =>
    env.slack
      .messages(CHANNEL)
      .find((m) => !old.has(m.ts) && !m.ephemeral_to && buttonValue(m as Answer, ACTION_APPLY)),
  );
}

/**
 * Apply on a plan message: it gets no answer of its own (the message itself changes), and its work
 * runs after the click is acknowledged, so the change is waited for in the store to its end.
 */
async function apply(plan: { ts: string; blocks?: unknown[] }) {
  const changeId = buttonValue(plan as Answer, ACTION_APPLY)!;
  await env.click({ action_id: ACTION_APPLY, value: changeId, message_ts: plan.ts, channel: CHANNEL });
  await vi.waitFor(
    async () =>
      expect(['succeeded', 'failed', 'timed_out']).toContain((await env.bot.store.get(changeId))?.status),
    { timeout: 10_000, interval: 50 },
  );
  await env.bot.pipeline.idle();
}

async function start(text: string) {
  const plan = await command(`rollout ${text}`);
  const id = buttonValue(plan, ACTION_ROLLOUT_START);
  expect(id, shown(plan)).toBeDefined();
  await click(ACTION_ROLLOUT_START, id!);
  await env.bot.rollouts.driver.idle();
  await env.bot.outbox.settled();
  return id!;
}

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
    ?.config?.served_entities.map((e) => e.name)
    .sort();
const calls = (route: string) => twins.workspace.requests.filter((r) => r.route === route);

describe('deploy and the inference table', () => {
  it('turns the AI Gateway inference table on when the policy asks, before the new config', async () => {
    await setup({ baseline: false });
    twins.workspace.state.endpoints.get(DEMO.endpoint)!.ai_gateway = {};
    const plan = await deployPlan('deploy churn_model 3 to churn-endpoint');
    expect(shown(plan)).toContain('AI Gateway inference table');
    expect(shown(plan)).toContain(PAYLOAD);
    await apply(plan);

    expect(twins.workspace.state.endpoints.get(DEMO.endpoint)?.ai_gateway?.inference_table_config).toEqual({
      enabled: true,
      catalog_name: 'acme',
      schema_name: 'mlops',
      table_name_prefix: 'churn_endpoint',
    });
    const order = twins.workspace.requests
      .map((r) => r.route)
      .filter((r) => r === PUT_GATEWAY || r === PUT_CONFIG);
    expect(order).toEqual([PUT_GATEWAY, PUT_CONFIG]);
    expect(served()).toEqual(['churn_model-3']);
    // The endpoint now logs its requests, so a canary can be planned on it.
    await traffic(20);
    const rollout = await command('rollout churn-endpoint churn_model 2 steps=50 --dry-run');
    expect(shown(rollout)).toContain('canary at 50% → 100%');
  });

  it('leaves an inference table that is on alone', async () => {
    await setup({ baseline: false });
    const plan = await deployPlan('deploy churn_model 3 to churn-endpoint');
    expect(shown(plan)).not.toContain('AI Gateway inference table');
    await apply(plan);
    expect(calls(PUT_GATEWAY)).toHaveLength(0);
    expect(served()).toEqual(['churn_model-3']);
  });
});

describe('an approved change on an endpoint a rollout holds', () => {
  it('is refused by the pipeline, saying which rollout holds it, and changes nothing', async () => {
    await setup();
    const rolloutId = await start('churn-endpoint churn_model 3 steps=50');
    const puts = calls(PUT_CONFIG).length;
    // What an approval's execution does: a stored change, run through pipeline.execute.
    const http = createDatabricksHttp({
      host: twins.workspace.url,
      tokens: staticTokenProvider(twins.workspace.token),
    });
    const input = {
      subcommand: 'deploy' as const,
      model: DEMO.model,
      target: { version: 1 },
      endpoint: DEMO.endpoint,
      dryRun: false,
    };
    const plan = await buildPlanFor(input, {
      serving,
      registry: createRegistryClient(http),
      history: { previousConfig: async () => undefined },
      defaults: { catalog: DEMO.catalog, schema: DEMO.schema },
    });
    const { change } = await env.bot.store.createProposal({
      requester: 'U0REQUEST',
      channel: CHANNEL,
      input,
      plan,
      triggerId: 'approval:apr-held:0',
    });

    const outcome = await env.bot.pipeline.execute(change.id, { userId: 'U0APPROVE' });

    expect(outcome.status).toBe('cancelled');
    expect(outcome.status === 'cancelled' && outcome.reason).toMatch(
      new RegExp(`A canary rollout \\(${rolloutId}\\) holds churn-endpoint: <@U0REQUEST> asked for it`),
    );
    expect((await env.bot.store.get(change.id))?.status).toBe('cancelled');
    expect(calls(PUT_CONFIG)).toHaveLength(puts);
    expect(served()).toEqual(['churn_model-2', 'churn_model-3']);
  });
});

describe('a gated canary', () => {
  it('asks the gate once at the start, runs to the end and moves the bound alias, with no second approval', async () => {
    await setup({ policy: gatedPolicy() });
    const notice = await command('rollout churn-endpoint churn_model 3 steps=50');
    expect(notice.text).toContain('needs approval');
    const id = buttonValue(rolloutMessage() as Answer, ACTION_ROLLOUT_APPROVE)!;
    expect(shown(rolloutMessage())).toContain('Needs 1 approval');

    // The requester cannot approve their own rollout; nothing starts.
    expect((await click(ACTION_ROLLOUT_APPROVE, id)).text).toContain('cannot approve it');
    expect(served()).toEqual(['churn_model-2']);

    expect((await click(ACTION_ROLLOUT_APPROVE, id, 'U0APPROVE')).text).toContain('Approved');
    await env.bot.rollouts.driver.idle();
    expect(served()).toEqual(['churn_model-2', 'churn_model-3']);

    await traffic(60);
    await tick(15);
    expect(served()).toEqual(['churn_model-3']);
    expect(shown(rolloutMessage())).toContain('Production → v3');
    const production = twins.workspace.state.models.get(DEMO.model)?.aliases.get('production');
    expect(production?.version_num).toBe(3);
    // The approval was the rollout's own, at the start: no approval request anywhere else.
    expect(env.slack.state.history('C0APPROVALS')).toHaveLength(0);
    expect(await env.bot.requests.pending()).toHaveLength(0);
  });
});

describe('the figures become unreadable mid-rollout', () => {
  it('holds at the step saying why, neither promotes nor rolls back, and fails safe after the limit', async () => {
    await setup();
    await start('churn-endpoint churn_model 3 steps=50');
    await traffic(60);
    await twins.db.run(`ALTER TABLE ${PAYLOAD} RENAME TO churn_endpoint_payload_gone`);

    await tick(15);
    expect(shown(rolloutMessage())).toContain('holding: the figures cannot be read');
    expect(served()).toEqual(['churn_model-2', 'churn_model-3']);
    await tick(20);
    expect(shown(rolloutMessage())).toContain('holding: the figures cannot be read');
    expect(served()).toEqual(['churn_model-2', 'churn_model-3']);

    // 30 minutes unreadable (the policy's unreadableFor): rolled back.
    await tick(10);
    expect(served()).toEqual(['churn_model-2']);
    expect(shown(rolloutMessage())).toContain('Rolled back');
    expect(shown(rolloutMessage())).toContain('could not be read for 30m 0s');
  });

  it('carries on from the same step when the figures come back in time', async () => {
    await setup();
    await start('churn-endpoint churn_model 3 steps=50');
    await traffic(60);
    await twins.db.run(`ALTER TABLE ${PAYLOAD} RENAME TO churn_endpoint_payload_gone`);
    await tick(15);
    expect(shown(rolloutMessage())).toContain('holding');
    await twins.db.run(`ALTER TABLE acme.mlops.churn_endpoint_payload_gone RENAME TO churn_endpoint_payload`);
    await tick(5);
    await tick(0);
    expect(served()).toEqual(['churn_model-3']);
    expect(shown(rolloutMessage())).toContain('Done');
  });
});

describe("a step's config update", () => {
  it('that Databricks fails to deploy rolls the canary back with its reason', async () => {
    await setup();
    const plan = await command('rollout churn-endpoint churn_model 3 steps=25,50');
    const id = buttonValue(plan, ACTION_ROLLOUT_START)!;
    await click(ACTION_ROLLOUT_START, id);
    failNextRollout(twins.workspace.state, DEMO.endpoint, 'Served entity churn_model-3 ran out of memory.');
    await env.bot.rollouts.driver.idle();
    await tick(1);
    expect(served()).toEqual(['churn_model-2']);
    expect(shown(rolloutMessage())).toContain('step 1 did not deploy');
    expect(shown(rolloutMessage())).toContain('ran out of memory');
  });

  it('that outlasts the wait holds, sends no second update, and goes on once it is READY', async () => {
    await setup();
    twins.workspace.settings.rolloutDelayMs = 3_600_000;
    await start('churn-endpoint churn_model 3 steps=50');
    expect(shown(rolloutMessage())).toContain('holding:');
    expect(shown(rolloutMessage())).toContain('reads Databricks again');
    await tick(5);
    await tick(5);
    expect(calls(PUT_CONFIG)).toHaveLength(1);

    clock.advance(3_600_000);
    await tick(0);
    expect(calls(PUT_CONFIG)).toHaveLength(1);
    expect(shown(rolloutMessage())).toContain('Step 1 of 2, canary at 50%');
    expect(shown(rolloutMessage())).not.toContain('holding');
  });

  it('whose answer is lost is settled by reading the endpoint, never sent twice', async () => {
    await setup({ databricksHttp: { timeoutMs: 300 } });
    twins.workspace.faults.next(PUT_CONFIG, { kind: 'late', ms: 1_000 });
    await start('churn-endpoint churn_model 3 steps=50');
    await tick(0);
    // The twin records the PUT when its late answer goes out (after the client gave up on it).
    await new Promise((r) => setTimeout(r, 1_100));
    expect(calls(PUT_CONFIG)).toHaveLength(1);
    expect(served()).toEqual(['churn_model-2', 'churn_model-3']);
    expect(shown(rolloutMessage())).toContain('Step 1 of 2, canary at 50%');
  });
});

describe('a quality guardrail', () => {
  it("passes on the monitor's quality metric of the canary's model version", async () => {
    await setup({ policy: qualityPolicy(0.1) });
    const plan = await command('rollout churn-endpoint churn_model 3 steps=50 analysis=quality');
    expect(shown(plan)).toContain('quality f1_score.macro');
    await click(ACTION_ROLLOUT_START, buttonValue(plan, ACTION_ROLLOUT_START)!);
    await env.bot.rollouts.driver.idle();
    await traffic(60);
    await tick(15);
    expect(served()).toEqual(['churn_model-3']);
  });

  it('rolls back when that metric is below its bound, and says by how much', async () => {
    await setup({ policy: qualityPolicy(0.999) });
    await start('churn-endpoint churn_model 3 steps=50 analysis=quality');
    await traffic(60);
    await tick(15);
    await tick(1);
    expect(served()).toEqual(['churn_model-2']);
    expect(shown(rolloutMessage())).toMatch(/quality 0\.\d{3} \(baseline 0\.\d{3}\), limit ≥ 0\.999/);
  });
});
