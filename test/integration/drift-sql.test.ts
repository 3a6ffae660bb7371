import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalRenderer } from '../../src/charts/render.js';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import { monitorSchema } from '../../src/config/policy-monitors.js';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp } from '../../src/databricks/http.js';
import { createMonitorsClient } from '../../src/databricks/monitors.js';
import { createServingClient } from '../../src/databricks/serving.js';
import { createDatabricksWarehouse } from '../../src/databricks/warehouse.js';
import type { Warehouse } from '../../src/domain/ports/warehouse.js';
import type { MessageRef } from '../../src/domain/vocabulary.js';
import { rulesOf } from '../../src/drift/rules.js';
import { createDriftStateStore, type DriftStateStore } from '../../src/drift/state-store.js';
import type { DriftPublisher, WatchedMonitor } from '../../src/drift/types.js';
import { type DriftCheckDeps, runDriftCheck } from '../../src/jobs/drift-check.js';
import { DEMO_BREACH_WINDOWS, DEMO_TABLES, seedDemoTables } from '../../src/sandbox/demo-tables.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import { driftViews } from '../../src/slack/blocks/views.js';
import { openDatabase, type StoreDatabase } from '../../src/storage/database.js';

const NOW = new Date('2026-11-20T15:00:00Z');

let twins: DatabricksTwins;
let warehouse: Warehouse;
let state: DriftStateStore;
let db: StoreDatabase | undefined;
let dir: string;

/** Keeps what would go to Slack; these tests look at what was read and counted. */
class RecordingPublisher implements DriftPublisher {
  readonly posts: string[] = [];
  async post(channel: string, message: { text: string }): Promise<MessageRef> {
    this.posts.push(message.text);
    return { channel, ts: `${this.posts.length}.000` };
  }
  async update(): Promise<void> {}
  async upload(): Promise<void> {}
}

function deps(): DriftCheckDeps {
  const http = createDatabricksHttp({
    host: twins.workspace.url,
    tokens: staticTokenProvider(twins.workspace.token),
  });
  return {
    warehouse,
    monitors: createMonitorsClient(http),
    serving: createServingClient(http),
    state,
    publisher: new RecordingPublisher(),
    views: driftViews,
    clock: { now: () => NOW.getTime(), sleep: async () => {} },
  };
}

/** The example policy's churn monitor (the reference design), optionally adjusted. */
function churnMonitor(overrides: Record<string, unknown> = {}): WatchedMonitor {
  const base = loadPolicy(EXAMPLE_POLICY_PATH).monitors?.churn;
  const config = monitorSchema.parse({ ...base, ...overrides });
  return {
    name: 'churn',
    config,
    model: 'acme.mlops.churn_model',
    rules: rulesOf(config),
    renderer: createLocalRenderer(),
  };
}

beforeAll(async () => {
  twins = await startDatabricksTwins(NOW);
  warehouse = createDatabricksWarehouse({
    host: twins.warehouse.url,
    httpPath: twins.warehouse.httpPath,
    ca: twins.warehouse.ca,
    tokens: staticTokenProvider(twins.workspace.token),
  });
  dir = mkdtempSync(join(tmpdir(), 'modelgate-drift-sql-'));
});

afterAll(async () => {
  await warehouse.close();
  await twins.stop();
  rmSync(dir, { recursive: true, force: true });
});

let run = 0;
const freshState = () => {
  db?.close();
  db = openDatabase(join(dir, `state-${run++}.db`));
  state = createDriftStateStore(db);
};

/**
 * The reference notebook's counting (08_drift_detection), written again over the raw DuckDB rows: the
 * performance frame, the drift frame pivoted on column_name, their inner join on time, and the two AND
 * rules with its thresholds.
 */
async function referenceCounts(modelId: string): Promise<{ performance: number; drift: number }> {
  type Win = { start: Date };
  const profile = (await twins.db.all(`SELECT * FROM ${DEMO_TABLES.profile}`)) as Array<{
    window: Win;
    log_type: string;
    column_name: string;
    slice_key: string | null;
    slice_value: string | null;
    model_version: string;
    f1_score: { macro: number } | null;
    expected_loss: number | null;
  }>;
  const drift = (await twins.db.all(`SELECT * FROM ${DEMO_TABLES.drift}`)) as Array<{
    window: Win;
    drift_type: string;
    column_name: string;
    slice_key: string | null;
    slice_value: string | null;
    model_version: string;
    js_distance: number | null;
  }>;
  const perf = profile
    .filter(
      (r) =>
        r.log_type === 'INPUT' &&
        r.column_name === ':table' &&
        r.slice_key === null &&
        r.slice_value === null &&
        r.model_version === modelId,
    )
    .map((r) => ({
      t: r.window.start.getTime(),
      f1: r.f1_score?.macro ?? Number.NaN,
      loss: r.expected_loss ?? Number.NaN,
    }));
  const pivot = new Map<number, { churn: number; prediction: number }>();
  for (const r of drift) {
    if (!['prediction', 'churn'].includes(r.column_name)) continue;
    if (r.slice_key !== null || r.slice_value !== null || r.model_version !== modelId) continue;
    if (r.drift_type !== 'CONSECUTIVE') continue;
    const t = r.window.start.getTime();
    const row = pivot.get(t) ?? { churn: Number.NaN, prediction: Number.NaN };
    row[r.column_name as 'churn' | 'prediction'] = r.js_distance ?? Number.NaN;
    pivot.set(t, row);
  }
  const joined =
    pivot.size === 0
      ? perf.map((p) => ({ ...p, churn: Number.NaN, prediction: Number.NaN }))
      : perf.flatMap((p) => {
          const d = pivot.get(p.t);
          return d ? [{ ...p, ...d }] : [];
        });
  return {
    performance: joined.filter((r) => r.f1 < 0.5 && Math.abs(r.loss) > 30).length,
    drift: pivot.size === 0 ? 0 : joined.filter((r) => r.churn > 0.19 && r.prediction > 0.19).length,
  };
}

describe('drift checks on the demo tables through the SQL warehouse twin', () => {
  it("counts like the reference design: the bot's counts equal the reference logic's, per model id", async () => {
    freshState();
    const result = await runDriftCheck(deps(), churnMonitor({ modelIds: ['*', '2'] }), NOW);
    expect(result.outcome).toBe('ok');
    for (const modelId of ['*', '2']) {
      const bot = result.evaluations.find((e) => e.modelId === modelId)!.counts.perRule;
      const reference = await referenceCounts(modelId);
      expect(bot).toEqual(reference);
      expect(reference).toEqual({ performance: DEMO_BREACH_WINDOWS, drift: DEMO_BREACH_WINDOWS });
    }
    // The reference drops the first window, which has no CONSECUTIVE drift row (its inner join).
    expect(result.evaluations[0]?.counts.windows).toBe(29);
  });

  it('issues one query per metric table, however many columns, windows and model ids it reads', async () => {
    await seedDemoTables(twins.db, {
      now: NOW,
      windows: 60,
      extraNumericColumns: 40,
      modelIds: 3,
      slices: false,
    });
    const features = Array.from({ length: 40 }, (_, i) => `feature_${String(i + 1).padStart(3, '0')}`);
    const shapes = [
      { modelIds: ['*'], history: 7, columns: ['churn', 'prediction'] },
      { modelIds: ['*', '1', '2'], history: 60, columns: ['churn', 'prediction'] },
      { modelIds: ['*', '1', '2'], history: 60, columns: features },
    ];
    for (const shape of shapes) {
      freshState();
      const monitor = churnMonitor({
        modelIds: shape.modelIds,
        history: shape.history,
        rules: {
          ...churnMonitor().config.rules,
          features: {
            any: [
              {
                metric: 'population_stability_index',
                columns: shape.columns,
                direction: 'above',
                threshold: 0.25,
              },
            ],
          },
        },
      });
      const before = twins.warehouse.stats().statements;
      const result = await runDriftCheck(deps(), monitor, NOW);
      expect(result.outcome).toBe('ok');
      expect(twins.warehouse.stats().statements - before).toBe(2);
      expect(result.queries).toBe(2);
      // Pivoted by the warehouse: one row per window and model id from each table, no more.
      expect(result.rowsFetched).toBeLessThanOrEqual(2 * (shape.history + 1) * shape.modelIds.length);
    }
    await seedDemoTables(twins.db, { now: NOW });
  });

  it('reads only the windows it has not processed, plus the chart history', async () => {
    freshState();
    // The windows judged again for late labels (recheckWindows) lie inside this history.
    const monitor = churnMonitor({ history: 5, recheckWindows: 5 });
    const first = await runDriftCheck(deps(), monitor, NOW);
    expect(first.since.toISOString()).toBe('2026-11-15T00:00:00.000Z');
    // Nothing read twice beyond the history: the second check starts at the same place.
    const second = await runDriftCheck(deps(), monitor, NOW);
    expect(second.since.toISOString()).toBe('2026-11-15T00:00:00.000Z');
    expect(second.rowsFetched).toBe(first.rowsFetched);
    expect(second.alertsPosted).toBe(0);
  });

  it('reads further back than a short history when more windows are judged again for late labels', async () => {
    freshState();
    const result = await runDriftCheck(deps(), churnMonitor({ history: 5, recheckWindows: 7 }), NOW);
    expect(result.since.toISOString()).toBe('2026-11-13T00:00:00.000Z');
  });
});
