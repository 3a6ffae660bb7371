/**
 * Canary rollouts (issue #15), on a simulated clock over the twins: warehouse statements per
 * analysis step, Databricks REST calls per step (a config update followed to READY, then its
 * checks; scoring traffic left out), and the simulated time from a breached guardrail (the canary
 * answering 500s from the moment its step is live) to the rollback starting.
 */
import { staticTokenProvider } from '../src/databricks/auth.js';
import { createDatabricksHttp } from '../src/databricks/http.js';
import { createServingClient } from '../src/databricks/serving.js';
import { simulatedClock } from '../src/lib/clock.js';
import { startDatabricksTwins } from '../src/sandbox/start.js';
import { DEMO } from '../src/sandbox/workspace/demo.js';
import { ACTION_ROLLOUT_START } from '../src/slack/blocks/action-ids.js';
import { startBotOnTwins } from '../test/support/bot.js';
import type { BenchRow } from './run.js';

const MINUTE = 60_000;

async function scenario(errorRate: number) {
  const clock = simulatedClock(Date.parse('2026-11-20T12:00:00Z'));
  const twins = await startDatabricksTwins(new Date(clock.now()), { clock, rolloutDelayMs: 200 });
  const env = await startBotOnTwins({ workspace: twins.workspace, warehouse: twins.warehouse, clock });
  const serving = createServingClient(
    createDatabricksHttp({ host: twins.workspace.url, tokens: staticTokenProvider(twins.workspace.token) }),
  );
  const traffic = async (n: number) => {
    for (let i = 0; i < n; i++) {
      await serving
        .query(DEMO.endpoint, {
          records: [{ tenure: i, monthly_charges: 80, contract: 'One year', senior_citizen: 0 }],
        })
        .catch(() => undefined);
    }
  };
  const rest = () => twins.workspace.requests.filter((r) => !r.path.includes('/invocations')).length;
  const statements = () => twins.warehouse.stats().statements;
  try {
    if (errorRate > 0)
      twins.workspace.state.models.get(DEMO.model)!.versions.get(3)!.behaviour = { bias: 0, errorRate };
    await traffic(20);
    const before = env.slack.calls('response_url').length;
    await env.command('rollout churn-endpoint churn_model 3 steps=25,50');
    const plan = await env.slack.waitFor(() => env.slack.calls('response_url').slice(before)[0]);
    const id = JSON.stringify(plan.args).match(/"value":"(ro_\w+)"/)![1]!;
    const rest0 = rest();
    await env.click({ action_id: ACTION_ROLLOUT_START, value: id, channel: 'C0MLOPS' });
    await env.slack.waitFor(() => env.slack.calls('response_url').length > before + 1);
    await env.bot.rollouts.driver.idle();
    const liveAt = clock.now();
    const stepCalls = rest() - rest0;
    await traffic(80);
    const st0 = statements();
    const rest1 = rest();
    clock.advance(15 * MINUTE);
    await env.bot.rollouts.driver.tick();
    await env.bot.rollouts.driver.idle();
    const checkStatements = statements() - st0;
    const checkCalls = rest() - rest1;
    let rollbackAt: number | undefined;
    for (let i = 0; i < 20 && errorRate > 0; i++) {
      const r = await env.bot.rollouts.store.get(id);
      if (r?.state === 'rolled_back' || r?.state === 'rolling_back') {
        rollbackAt = r.updatedAt;
        break;
      }
      await traffic(20);
      clock.advance(MINUTE);
      await env.bot.rollouts.driver.tick();
      await env.bot.rollouts.driver.idle();
    }
    return {
      stepCalls,
      checkStatements,
      checkCalls,
      breachToRollbackMs: rollbackAt ? rollbackAt - liveAt : undefined,
    };
  } finally {
    await env.stop();
    await twins.stop();
  }
}

export default async function rolloutBench(): Promise<BenchRow[]> {
  const ok = await scenario(0);
  const bad = await scenario(0.5);
  const min = (ms?: number) => (ms === undefined ? 'never' : `${(ms / MINUTE).toFixed(1)} min`);
  return [
    { name: 'warehouse statements per analysis step', value: String(ok.checkStatements), target: '≤ 2' },
    {
      name: 'Databricks REST calls per step (1 PUT + GETs to READY; a passing check + the next step)',
      value: `${ok.stepCalls}; ${ok.checkCalls}`,
      target: '1 PUT per step, 1 GET per check, no second PUT',
    },
    {
      name: 'breached guardrail → rollback started (simulated)',
      value: min(bad.breachToRollbackMs),
      target: 'every + (failuresToRollback − 1) × checkEvery = 20 min',
    },
  ];
}
