import { describe, expect, it } from 'vitest';
import {
  DEMO_BREACH_WINDOWS,
  DEMO_THRESHOLDS,
  type DemoTables,
  generateDemoTables,
} from '../../src/sandbox/demo-tables.js';

const NOW = new Date('2026-03-10T15:30:00Z');
const DAY = 86_400_000;
const demo = generateDemoTables({ now: NOW });

interface WindowVerdict {
  start: number;
  performance: boolean;
  drift: boolean;
  f1: number;
  loss: number;
  jsChurn: number;
  jsPrediction: number;
}

/** The reference design's check (dbdemos 08_drift_detection), evaluated on the generated rows. */
function verdicts(t: DemoTables, model: string): WindowVerdict[] {
  const perf = new Map<number, { f1: number; loss: number }>();
  for (const r of t.profile) {
    if (
      r.log_type !== 'INPUT' ||
      r.column_name !== ':table' ||
      r.slice_key !== null ||
      r.slice_value !== null
    )
      continue;
    if (r.model_version !== model || r.f1_score === null || r.expected_loss === null) continue;
    perf.set(r.window.start.getTime(), { f1: r.f1_score.macro, loss: r.expected_loss });
  }
  const drift = new Map<number, { churn?: number; prediction?: number }>();
  for (const r of t.drift) {
    if (r.drift_type !== 'CONSECUTIVE' || r.slice_key !== null || r.model_version !== model) continue;
    if (r.column_name !== 'churn' && r.column_name !== 'prediction') continue;
    const entry = drift.get(r.window.start.getTime()) ?? {};
    entry[r.column_name] = r.js_distance ?? undefined;
    drift.set(r.window.start.getTime(), entry);
  }
  // Inner join on the window, as the notebook does.
  return [...drift].flatMap(([start, d]) => {
    const p = perf.get(start);
    if (!p || d.churn === undefined || d.prediction === undefined) return [];
    return [
      {
        start,
        f1: p.f1,
        loss: p.loss,
        jsChurn: d.churn,
        jsPrediction: d.prediction,
        performance: p.f1 < DEMO_THRESHOLDS.f1Below && Math.abs(p.loss) > DEMO_THRESHOLDS.expectedLossAbove,
        drift: d.churn > DEMO_THRESHOLDS.jsDistanceAbove && d.prediction > DEMO_THRESHOLDS.jsDistanceAbove,
      },
    ];
  });
}

const lastWeek = demo.windows.slice(-DEMO_BREACH_WINDOWS).map((w) => w.start.getTime());

describe('demo metric tables', () => {
  it('are the same for the same seed and moment', () => {
    expect(generateDemoTables({ now: NOW, seed: 7 })).toEqual(generateDemoTables({ now: NOW, seed: 7 }));
  });

  it('differ for another seed', () => {
    const other = generateDemoTables({ now: NOW, seed: 8 });
    expect(other.profile.map((r) => r.avg)).not.toEqual(
      generateDemoTables({ now: NOW, seed: 7 }).profile.map((r) => r.avg),
    );
  });

  it('hold 30 daily windows ending with the UTC day of `now`', () => {
    expect(demo.windows).toHaveLength(30);
    expect(demo.windows.at(-1)).toEqual({
      start: new Date('2026-03-10T00:00:00Z'),
      end: new Date('2026-03-11T00:00:00Z'),
    });
    for (const [i, w] of demo.windows.entries()) {
      expect(w.end.getTime() - w.start.getTime()).toBe(DAY);
      if (i > 0) expect(w.start.getTime() - demo.windows[i - 1]!.start.getTime()).toBe(DAY);
    }
  });

  it('shift with `now` and keep the same scenario', () => {
    const later = generateDemoTables({ now: new Date(NOW.getTime() + 3 * DAY) });
    expect(later.windows.at(-1)?.start.toISOString()).toBe('2026-03-13T00:00:00.000Z');
    expect(verdicts(later, '*').map((v) => v.f1)).toEqual(verdicts(demo, '*').map((v) => v.f1));
  });

  it.each(['*', '2'])('breach both rules in exactly the last 7 windows for model id %s', (model) => {
    const v = verdicts(demo, model);
    expect(v.length).toBe(demo.windows.length - 1); // CONSECUTIVE drift needs a previous window
    expect(v.filter((x) => x.performance).map((x) => x.start)).toEqual(lastWeek);
    expect(v.filter((x) => x.drift).map((x) => x.start)).toEqual(lastWeek);
  });

  it('stay healthy for the Challenger', () => {
    const v = verdicts(demo, '3');
    expect(v.length).toBeGreaterThan(0);
    expect(v.filter((x) => x.performance || x.drift)).toEqual([]);
  });

  it('let single metrics stray past a threshold on healthy days without firing a rule', () => {
    const healthy = verdicts(demo, '*').filter((x) => !lastWeek.includes(x.start));
    const strays = healthy.filter(
      (x) =>
        x.f1 < DEMO_THRESHOLDS.f1Below ||
        Math.abs(x.loss) > DEMO_THRESHOLDS.expectedLossAbove ||
        x.jsChurn > DEMO_THRESHOLDS.jsDistanceAbove ||
        x.jsPrediction > DEMO_THRESHOLDS.jsDistanceAbove,
    );
    expect(strays.length).toBeGreaterThanOrEqual(2);
  });

  it('are shaped like an InferenceLog monitor’s tables', () => {
    const slices = new Set(demo.profile.map((r) => `${r.slice_key}=${r.slice_value}`));
    expect([...slices].sort()).toEqual(
      [
        'null=null',
        "senior_citizen='Yes'=true",
        "senior_citizen='Yes'=false",
        'contract=Month-to-month',
        'contract=One year',
        'contract=Two year',
      ].sort(),
    );
    expect(new Set(demo.profile.map((r) => r.model_version))).toEqual(new Set(['*', '1', '2', '3']));
    expect(new Set(demo.profile.map((r) => r.log_type))).toEqual(new Set(['INPUT', 'BASELINE']));
    expect(new Set(demo.drift.map((r) => r.drift_type))).toEqual(new Set(['CONSECUTIVE', 'BASELINE']));
    expect(new Set(demo.profile.map((r) => r.granularity))).toEqual(new Set(['1 day']));
    expect(new Set(demo.profile.map((r) => r.column_name))).toEqual(
      new Set([
        ':table',
        'customer_id',
        'tenure',
        'monthly_charges',
        'contract',
        'senior_citizen',
        'prediction',
        'churn',
      ]),
    );
    const table = demo.profile.filter((r) => r.column_name === ':table' && r.f1_score !== null);
    expect(table.length).toBeGreaterThan(0);
    expect(table.every((r) => (r.expected_loss ?? 0) <= 0)).toBe(true);
    // Numeric columns carry KS/PSI, categorical ones JS/χ², as the generated dashboard expects.
    const driftOf = (column: string) =>
      demo.drift.find((r) => r.column_name === column && r.slice_key === null)!;
    expect(driftOf('tenure')).toMatchObject({ js_distance: null, ks_test: expect.any(Object) });
    expect(driftOf('prediction')).toMatchObject({ ks_test: null, js_distance: expect.any(Number) });
  });

  it('count rows that agree with the inference table', () => {
    const start = demo.windows.at(-3)!.start.getTime();
    const rows = demo.inference.filter(
      (r) => r.inference_timestamp.getTime() >= start && r.inference_timestamp.getTime() < start + DAY,
    );
    const profiled = demo.profile.find(
      (r) =>
        r.window.start.getTime() === start &&
        r.model_version === '*' &&
        r.slice_key === null &&
        r.column_name === ':table',
    );
    expect(profiled?.count).toBe(rows.length);
  });

  it('write inference rows with the demo churn features, none in the future', () => {
    expect(demo.inference.length).toBeGreaterThan(0);
    for (const r of demo.inference) {
      expect(['Month-to-month', 'One year', 'Two year']).toContain(r.contract);
      expect(['Yes', 'No']).toContain(r.prediction);
      expect([null, 'Yes', 'No']).toContain(r.churn);
      expect(['1', '2', '3']).toContain(r.model_version);
      expect(r.inference_timestamp.getTime()).toBeLessThanOrEqual(NOW.getTime());
    }
    expect(demo.inference.some((r) => r.churn === null)).toBe(true);
  });

  it('scale to N windows × M extra columns × K model ids for volume tests', () => {
    const big = generateDemoTables({
      now: NOW,
      windows: 12,
      extraNumericColumns: 4,
      modelIds: 3,
      slices: false,
    });
    const consecutive = big.drift.filter((r) => r.drift_type === 'CONSECUTIVE');
    const columns = new Set(consecutive.map((r) => r.column_name));
    expect([...columns].filter((c) => c.startsWith('feature_'))).toEqual([
      'feature_001',
      'feature_002',
      'feature_003',
      'feature_004',
    ]);
    // 11 window pairs × 3 model ids × (':table' + 7 features + 4 extra)
    expect(consecutive).toHaveLength(11 * 3 * 12);
    expect(new Set(consecutive.map((r) => r.slice_key))).toEqual(new Set([null]));
  });
});
