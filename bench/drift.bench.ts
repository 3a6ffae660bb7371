/**
 * Drift check figures, through the real driver against the SQL warehouse twin on loopback:
 * - one check over 365 daily windows × 50 feature columns × 3 model ids: statements issued (target ≤ 3),
 *   rows fetched, wall time (reading, evaluating, drawing the alert charts, posting to a recorder);
 * - chart rendering: the local renderer (PNG) and QuickChart (building the URL only, no network).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickChartFor } from '../src/charts/quickchart.js';
import { createLocalRenderer, renderChartPng } from '../src/charts/render.js';
import { buildDriftChart, type DriftChartInput } from '../src/charts/spec.js';
import { monitorSchema } from '../src/config/policy-monitors.js';
import type { MessageRef } from '../src/domain/vocabulary.js';
import { rulesOf } from '../src/drift/rules.js';
import { createDriftStateStore } from '../src/drift/state-store.js';
import type { DriftPublisher } from '../src/drift/types.js';
import { runDriftCheck } from '../src/jobs/drift-check.js';
import { DEMO_TABLES, seedDemoTables } from '../src/sandbox/demo-tables.js';
import { driftViews } from '../src/slack/blocks/views.js';
import { openDatabase } from '../src/storage/database.js';
import { startWarehouseOnTwin } from './support.js';

const TOKEN = 'dapi-bench';
const NOW = new Date('2026-11-20T15:00:00Z');
const FEATURES = Array.from({ length: 50 }, (_, i) => `feature_${String(i + 1).padStart(3, '0')}`);

const ms = (t: number) => `${t.toFixed(0)} ms`;

function timed<T>(fn: () => T, runs: number): { value: T; mean: number } {
  let value = fn();
  const t = performance.now();
  for (let i = 0; i < runs; i++) value = fn();
  return { value, mean: (performance.now() - t) / runs };
}

export default async function bench(): Promise<Array<{ name: string; value: string; target?: string }>> {
  const sql = await startWarehouseOnTwin(TOKEN);
  const { db, twin, warehouse } = sql;
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-drift-bench-'));
  const stateDb = openDatabase(join(dir, 'modelgate.db'));
  const state = createDriftStateStore(stateDb);
  const posts: string[] = [];
  const publisher: DriftPublisher = {
    async post(channel, message): Promise<MessageRef> {
      posts.push(message.text);
      return { channel, ts: `${posts.length}.000` };
    },
    async update() {},
    async upload() {},
  };
  try {
    const seedStart = performance.now();
    const seeded = await seedDemoTables(db, { now: NOW, windows: 365, extraNumericColumns: 50, modelIds: 3 });
    const seedMs = performance.now() - seedStart;

    const config = monitorSchema.parse({
      model: 'acme.mlops.churn_model',
      profileTable: DEMO_TABLES.profile,
      driftTable: DEMO_TABLES.drift,
      schedule: '0 13 * * *',
      channel: 'C0MLOPS',
      modelIds: ['*', '1', '2'],
      history: 365,
      rules: {
        performance: {
          all: [
            { metric: 'f1_score.macro', direction: 'below', threshold: 0.5 },
            { metric: 'expected_loss', abs: true, direction: 'above', threshold: 30 },
          ],
        },
        drift: {
          all: [
            { metric: 'js_distance', columns: ['churn', 'prediction'], direction: 'above', threshold: 0.19 },
          ],
        },
        features: {
          any: [
            { metric: 'population_stability_index', columns: FEATURES, direction: 'above', threshold: 0.25 },
          ],
        },
      },
    });
    const monitor = {
      name: 'bench',
      config,
      model: config.model,
      rules: rulesOf(config),
      renderer: createLocalRenderer(),
    };
    const deps = {
      warehouse,
      monitors: {
        findMetricTables: async () => Promise.reject(new Error('not used')),
        refresh: async () => Promise.reject(new Error('not used')),
        getRefresh: async () => Promise.reject(new Error('not used')),
      },
      serving: { get: async () => Promise.reject(new Error('not used')) },
      state,
      publisher,
      views: driftViews,
      clock: { now: () => NOW.getTime(), sleep: async () => {} },
    };

    const statementsBefore = twin.stats().statements;
    const checkStart = performance.now();
    const result = await runDriftCheck(deps, monitor, NOW);
    const checkMs = performance.now() - checkStart;
    const statements = twin.stats().statements - statementsBefore;
    if (result.outcome !== 'ok') throw new Error(`the check failed: ${JSON.stringify(result.error)}`);

    const readStart = performance.now();
    const again = await runDriftCheck(deps, monitor, NOW);
    const againMs = performance.now() - readStart;

    // Charts: a month (what an alert shows by default) and the whole year, two series each.
    const chart = (days: number): DriftChartInput => {
      const windows = seeded.windows.slice(-days).map((w) => w.start.getTime());
      const violating = windows.map((_, i) => i >= days - 7);
      return {
        title: 'bench · performance · model id *',
        windows,
        granularity: '1 day',
        series: [
          {
            label: 'f1_score.macro',
            values: windows.map((_, i) => 0.7 - (i % 11) / 40),
            threshold: 0.5,
            direction: 'below',
            violating,
          },
          {
            label: '|expected_loss|',
            values: windows.map((_, i) => 12 + (i % 13) * 2.7),
            threshold: 30,
            direction: 'above',
            violating,
          },
        ],
      };
    };
    const rows: Array<{ name: string; value: string; target?: string }> = [
      {
        name: 'check: 365 windows × 50 columns × 3 model ids, statements',
        value: String(statements),
        target: '≤ 3',
      },
      {
        name: 'check: rows fetched (pivoted by the warehouse)',
        value: String(result.rowsFetched),
        target: `≤ ${2 * 365 * 3} (2 tables × windows × ids)`,
      },
      {
        name: 'check: wall time (read, evaluate, alerts with local PNG charts)',
        value: `${ms(checkMs)}, ${result.alertsPosted} alerts`,
      },
      {
        name: 'check again: nothing new (read + evaluate only)',
        value: `${ms(againMs)}, ${again.alertsPosted} alerts`,
      },
    ];
    for (const days of [30, 365]) {
      const config = buildDriftChart(chart(days));
      const local = timed(() => renderChartPng(config), 5);
      const qc = timed(() => quickChartFor(config).getUrl(), 50);
      rows.push(
        {
          name: `chart, ${days} windows: local PNG 800×400`,
          value: `${local.mean.toFixed(1)} ms, ${(local.value.length / 1024).toFixed(0)} KB`,
        },
        {
          name: `chart, ${days} windows: QuickChart URL (build only)`,
          value: `${qc.mean.toFixed(2)} ms, ${qc.value.length} chars`,
          target: '≤ 3000 chars, else short URL / PNG',
        },
      );
    }
    rows.push({
      name: 'seeding those tables (setup, not timed above)',
      value: `${(seedMs / 1000).toFixed(1)} s, ${seeded.rows.profile} profile + ${seeded.rows.drift} drift rows`,
    });
    return rows;
  } finally {
    await stateDb.close();
    await sql.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
