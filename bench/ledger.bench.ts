/**
 * Databricks calls per ledger tick for 20 endpoints and 20 models (each bound to its endpoint by
 * its Production alias), counted at the workspace twin: the first tick (baseline), a quiet tick,
 * a tick after one endpoint update and one alias move made directly on the workspace, and the
 * periodic full read. Target: one list call per kind where the API has one (serving endpoints),
 * else at most one call per object (models: the list carries no aliases).
 */

import { createChangeStore } from '../src/changes/store.js';
import { EXAMPLE_POLICY_PATH } from '../src/config/env.js';
import { loadPolicy, type Policy } from '../src/config/policy.js';
import { staticTokenProvider } from '../src/databricks/auth.js';
import { createDatabricksHttp } from '../src/databricks/http.js';
import { createRegistryClient } from '../src/databricks/registry.js';
import { createServingClient } from '../src/databricks/serving.js';
import type { Messenger } from '../src/domain/ports/messenger.js';
import { runLedger } from '../src/jobs/ledger.js';
import { createLedgerService } from '../src/ledger/service.js';
import { simulatedClock } from '../src/lib/clock.js';
import { silentLogger } from '../src/lib/logger.js';
import { startWorkspaceTwin } from '../src/sandbox/workspace/server.js';
import { emptyState, registeredModel } from '../src/sandbox/workspace/state.js';
import { ledgerViews } from '../src/slack/blocks/views.js';
import { openDatabase } from '../src/storage/database.js';
import type { BenchRow } from './run.js';

const N = 20;
const FULL_READ_EVERY = 10;

export default async function ledgerCalls(): Promise<BenchRow[]> {
  const clock = simulatedClock(Date.parse('2026-12-03T09:00:00Z'));
  const state = emptyState();
  const models = Array.from({ length: N }, (_, i) => `acme.mlops.model_${i}`);
  for (const m of models) {
    const model = registeredModel(m, [{ version: 1 }, { version: 2 }]);
    model.aliases.set('production', { alias_name: 'Production', version_num: 1 });
    state.models.set(m, model);
  }
  const twin = await startWorkspaceTwin({ state, clock, rolloutDelayMs: 1_000, listPageSize: 100 });
  try {
    const http = createDatabricksHttp({ host: twin.url, tokens: staticTokenProvider(twin.token), clock });
    const serving = createServingClient(http);
    const registry = createRegistryClient(http);
    for (const [i, m] of models.entries()) {
      await serving.create({
        name: `endpoint-${i}`,
        config: { servedVersions: [{ modelName: m, modelVersion: 1 }] },
      });
    }
    clock.advance(2_000);

    const base = loadPolicy(EXAMPLE_POLICY_PATH);
    const policy: Policy = {
      ...base,
      protectedEndpoints: [],
      retraining: undefined,
      monitors: undefined,
      bindings: models.map((m, i) => ({ model: m, alias: 'Production', endpoint: `endpoint-${i}` })),
    };
    const db = openDatabase(':memory:');
    const posts: string[] = [];
    const messenger: Messenger = {
      post: async (channel, message) => {
        posts.push(message.text);
        return { channel, ts: String(posts.length) };
      },
      update: async () => undefined,
      ephemeral: async () => undefined,
    };
    const ledger = createLedgerService({
      db,
      policy,
      serving,
      registry,
      changes: createChangeStore(db, clock),
      messenger,
      views: ledgerViews,
      logger: silentLogger,
      runTick: runLedger,
      fullReadEvery: FULL_READ_EVERY,
    });
    const tick = async () => {
      const from = twin.requests.length;
      await ledger.tick(clock.now());
      clock.advance(60_000);
      return twin.requests.slice(from);
    };
    const describe = (calls: { path: string }[]) => {
      const lists = calls.filter((c) => c.path.split('?')[0] === '/api/2.0/serving-endpoints').length;
      const endpointGets = calls.filter((c) =>
        /^\/api\/2\.0\/serving-endpoints\/[^/?]+(\?|$)/.test(c.path),
      ).length;
      const modelGets = calls.filter((c) =>
        /^\/api\/2\.1\/unity-catalog\/models\/[^/?]+(\?|$)/.test(c.path),
      ).length;
      const versionGets = calls.filter((c) => /\/versions\/\d+/.test(c.path)).length;
      return `${calls.length} (list ${lists}, endpoint GET ${endpointGets}, model GET ${modelGets}, version GET ${versionGets})`;
    };

    const first = await tick();
    const quiet = await tick();
    await serving.updateConfig('endpoint-3', {
      servedVersions: [{ modelName: models[3]!, modelVersion: 2 }],
    });
    clock.advance(2_000);
    await registry.setAlias(models[5]!, 'Production', 2);
    const changed = await tick();
    for (let i = 3; i < FULL_READ_EVERY; i++) await tick();
    const full = await tick();
    await db.close();

    const ceiling = 1 + N + N;
    const target = `≤ ${ceiling} (1 list + ≤ 1 per endpoint + ≤ 1 per model)`;
    console.log(
      `first ${describe(first)}; quiet ${describe(quiet)}; changed ${describe(changed)}; full ${describe(full)}`,
    );
    console.log(`posted: ${posts.join(' | ')}`);
    return [
      { name: `calls, first tick (baseline), ${N} endpoints + ${N} models`, value: describe(first), target },
      { name: 'calls, quiet tick', value: describe(quiet), target: `1 list + ${N} model GETs = ${1 + N}` },
      { name: 'calls, tick after 1 endpoint update + 1 alias move', value: describe(changed), target },
      { name: `calls, full-read tick (every ${FULL_READ_EVERY}th)`, value: describe(full), target },
      { name: 'out-of-band notices posted', value: String(posts.length), target: '2' },
    ];
  } finally {
    await twin.stop();
  }
}
