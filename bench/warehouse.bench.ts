/**
 * SQL warehouse figures, through the real driver against the twin on loopback:
 * - latency of a small parameterised query (the prototype did 9 ms mean, 13 ms p95 on 2 cores);
 * - time and rows to read 365 daily windows × 50 feature columns × 3 model ids from the drift table.
 */
import { z } from 'zod';
import { sqlWindow } from '../src/domain/ports/warehouse.js';
import { tableName } from '../src/domain/sql-identifiers.js';
import { DEMO_TABLES, seedDemoTables } from '../src/sandbox/demo-tables.js';
import { startWarehouseOnTwin } from './support.js';

const TOKEN = 'dapi-bench';
const SMALL_QUERIES = 200;
const WARMUP = 20;

export default async function bench(): Promise<Array<{ name: string; value: string; target?: string }>> {
  const sql = await startWarehouseOnTwin(TOKEN);
  const { db, twin, warehouse } = sql;
  try {
    const seedStart = performance.now();
    const seeded = await seedDemoTables(db, {
      windows: 365,
      extraNumericColumns: 50,
      modelIds: 3,
      slices: false,
    });
    const seedMs = performance.now() - seedStart;

    const small = z.object({ model_version: z.string(), n: z.number() });
    const smallSql = `SELECT model_version, count(*) AS n FROM ${tableName(DEMO_TABLES.inference)}
      WHERE model_version = :model AND inference_timestamp >= :since GROUP BY model_version`;
    const since = seeded.windows.at(-7)?.start ?? new Date(0);
    const times: number[] = [];
    for (let i = 0; i < WARMUP + SMALL_QUERIES; i++) {
      const t = performance.now();
      await warehouse.query(smallSql, { model: '2', since }, small);
      if (i >= WARMUP) times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const before = twin.stats().requests;
    await warehouse.query(smallSql, { model: '2', since }, small);
    const roundTrips = twin.stats().requests - before;

    const driftRow = z.object({
      window: sqlWindow,
      model_version: z.string(),
      column_name: z.string(),
      js_distance: z.number().nullable(),
      ks_test: z.object({ statistic: z.number(), pvalue: z.number() }).nullable(),
      population_stability_index: z.number().nullable(),
    });
    const readStart = performance.now();
    const rows = await warehouse.query(
      `SELECT \`window\`, model_version, column_name, js_distance, ks_test, population_stability_index
       FROM ${tableName(DEMO_TABLES.drift)}
       WHERE drift_type = 'CONSECUTIVE' AND slice_key IS NULL AND column_name LIKE 'feature%' AND \`window\`.start >= :since
       ORDER BY \`window\`.start, model_version, column_name`,
      { since: seeded.windows[0]?.start ?? new Date(0) },
      driftRow,
    );
    const readMs = performance.now() - readStart;

    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(times.length * q))]!;
    return [
      {
        name: 'small parameterised query, mean',
        value: `${mean.toFixed(1)} ms`,
        target: '≈ 9 ms (prototype)',
      },
      { name: 'small parameterised query, p50', value: `${at(0.5).toFixed(1)} ms` },
      {
        name: 'small parameterised query, p95',
        value: `${at(0.95).toFixed(1)} ms`,
        target: '≈ 13 ms (prototype)',
      },
      { name: 'HTTP round trips per small query', value: String(roundTrips), target: '1' },
      {
        name: 'drift read: 365 windows × 50 columns × 3 model ids',
        value: `${readMs.toFixed(0)} ms, ${rows.length} rows`,
      },
      {
        name: 'seeding that drift table (setup, not timed above)',
        value: `${(seedMs / 1000).toFixed(1)} s, ${seeded.rows.drift} drift rows`,
      },
    ];
  } finally {
    await sql.stop();
  }
}
