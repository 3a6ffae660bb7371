/**
 * Demo tables for the churn model, generated from a seed: the monitored inference table, its baseline, and
 * the profile and drift metric tables a Lakehouse Monitoring InferenceLog monitor (granularity `1 day`,
 * model-id column `model_version`, slices `senior_citizen='Yes'` and `contract`, custom `expected_loss`)
 * writes for it.
 *
 * Row-level statistics (count, nulls, averages, quantiles, frequent items, confusion matrix) are computed
 * from the generated inference rows, so they agree with the inference table. Model quality and drift
 * statistics follow a scripted scenario instead: the last 7 daily windows cross the reference design's
 * thresholds for the aggregate '*' and the Champion '2' (F1 < 0.5 with |expected_loss| > 30, and JS
 * distance of both `churn` and `prediction` > 0.19 on CONSECUTIVE rows), earlier windows stay healthy
 * apart from single metrics that stray past one threshold now and then (the rules need both).
 */
import { DEMO_CATALOG, DEMO_SCHEMA, PAYLOAD_TABLE_DDL, type SandboxDb } from './duckdb.js';

export const DEMO_TABLES = {
  inference: `${DEMO_CATALOG}.${DEMO_SCHEMA}.churn_inference`,
  baseline: `${DEMO_CATALOG}.${DEMO_SCHEMA}.churn_baseline`,
  profile: `${DEMO_CATALOG}.${DEMO_SCHEMA}.churn_inference_profile_metrics`,
  drift: `${DEMO_CATALOG}.${DEMO_SCHEMA}.churn_inference_drift_metrics`,
  payload: `${DEMO_CATALOG}.${DEMO_SCHEMA}.churn_endpoint_payload`,
} as const;

export const DEMO_MODEL = {
  name: `${DEMO_CATALOG}.${DEMO_SCHEMA}.churn_model`,
  versions: ['1', '2', '3'],
  champion: '2',
  challenger: '3',
  modelIdColumn: 'model_version',
  allModels: '*',
} as const;

/** The reference design's thresholds (dbdemos mlops-end2end, 08_drift_detection). */
export const DEMO_THRESHOLDS = { f1Below: 0.5, expectedLossAbove: 30, jsDistanceAbove: 0.19 } as const;
/** How many of the most recent windows breach both rules. */
export const DEMO_BREACH_WINDOWS = 7;

export interface DemoTablesOptions {
  /** The last window is the UTC day containing `now`. */
  now?: Date;
  seed?: number;
  /** Number of daily windows (default 30). */
  windows?: number;
  /** Extra numeric feature columns `feature_001…` profiled in the metric tables (for volume tests). */
  extraNumericColumns?: number;
  /**
   * Number of model ids including '*'. Default: the demo's '*', '1', '2', '3', with v1 retired after the
   * first third and v3 (Challenger) serving from the middle; given explicitly, every version serves every
   * window (volume mode).
   */
  modelIds?: number;
  /** Whether to write the slice rows (default true). */
  slices?: boolean;
  /** Inference rows a day for a fully serving version (default 40). */
  rowsPerDay?: number;
}

export interface TimeWindow {
  start: Date;
  end: Date;
}

export interface InferenceRow {
  customer_id: string;
  tenure: number;
  monthly_charges: number;
  contract: 'Month-to-month' | 'One year' | 'Two year';
  senior_citizen: 'Yes' | 'No';
  prediction: 'Yes' | 'No';
  churn: 'Yes' | 'No' | null;
  model_version: string;
  inference_timestamp: Date;
}

export interface QualityStruct {
  one_vs_all: Map<string, number>;
  macro: number;
  weighted: number;
}

export interface ProfileRow {
  window: TimeWindow;
  log_type: 'INPUT' | 'BASELINE';
  logging_table_commit_version: number;
  monitor_version: number;
  granularity: string;
  model_version: string;
  slice_key: string | null;
  slice_value: string | null;
  column_name: string;
  data_type: string | null;
  count: number;
  num_nulls: number | null;
  avg: number | null;
  min: number | null;
  max: number | null;
  stddev: number | null;
  median: number | null;
  quantiles: number[] | null;
  num_zeros: number | null;
  num_nan: number | null;
  min_length: number | null;
  max_length: number | null;
  avg_length: number | null;
  non_null_columns: string[] | null;
  frequent_items: { item: string; count: number }[] | null;
  distinct_count: number | null;
  percent_nan: number | null;
  percent_null: number | null;
  percent_zeros: number | null;
  percent_distinct: number | null;
  accuracy_score: number | null;
  precision: QualityStruct | null;
  recall: QualityStruct | null;
  f1_score: QualityStruct | null;
  confusion_matrix: { prediction: string; label: string; count: number }[] | null;
  log_loss: number | null;
  expected_loss: number | null;
}

export interface DriftRow {
  window: TimeWindow;
  window_cmp: TimeWindow;
  drift_type: 'CONSECUTIVE' | 'BASELINE';
  granularity: string;
  monitor_version: number;
  model_version: string;
  slice_key: string | null;
  slice_value: string | null;
  column_name: string;
  data_type: string | null;
  count_delta: number | null;
  avg_delta: number | null;
  percent_null_delta: number | null;
  percent_zeros_delta: number | null;
  percent_distinct_delta: number | null;
  non_null_columns_delta: { added: number; missing: number } | null;
  js_distance: number | null;
  ks_test: { statistic: number; pvalue: number } | null;
  wasserstein_distance: number | null;
  population_stability_index: number | null;
  chi_squared_test: { statistic: number; pvalue: number } | null;
  tv_distance: number | null;
  l_infinity_distance: number | null;
}

export interface DemoTables {
  windows: TimeWindow[];
  inference: InferenceRow[];
  baseline: InferenceRow[];
  profile: ProfileRow[];
  drift: DriftRow[];
}

const QUALITY_TYPE = 'STRUCT(one_vs_all MAP(VARCHAR, DOUBLE), macro DOUBLE, weighted DOUBLE)';
const WINDOW_TYPE = 'STRUCT("start" TIMESTAMP, "end" TIMESTAMP)';
const TEST_TYPE = 'STRUCT(statistic DOUBLE, pvalue DOUBLE)';

const INFERENCE_COLUMNS: ReadonlyArray<readonly [keyof InferenceRow, string]> = [
  ['customer_id', 'VARCHAR'],
  ['tenure', 'INTEGER'],
  ['monthly_charges', 'DOUBLE'],
  ['contract', 'VARCHAR'],
  ['senior_citizen', 'VARCHAR'],
  ['prediction', 'VARCHAR'],
  ['churn', 'VARCHAR'],
  ['model_version', 'VARCHAR'],
  ['inference_timestamp', 'TIMESTAMP'],
];

const PROFILE_COLUMNS: ReadonlyArray<readonly [keyof ProfileRow, string]> = [
  ['window', WINDOW_TYPE],
  ['log_type', 'VARCHAR'],
  ['logging_table_commit_version', 'INTEGER'],
  ['monitor_version', 'BIGINT'],
  ['granularity', 'VARCHAR'],
  ['model_version', 'VARCHAR'],
  ['slice_key', 'VARCHAR'],
  ['slice_value', 'VARCHAR'],
  ['column_name', 'VARCHAR'],
  ['data_type', 'VARCHAR'],
  ['count', 'BIGINT'],
  ['num_nulls', 'BIGINT'],
  ['avg', 'DOUBLE'],
  ['min', 'DOUBLE'],
  ['max', 'DOUBLE'],
  ['stddev', 'DOUBLE'],
  ['median', 'DOUBLE'],
  ['quantiles', 'DOUBLE[]'],
  ['num_zeros', 'BIGINT'],
  ['num_nan', 'BIGINT'],
  ['min_length', 'DOUBLE'],
  ['max_length', 'DOUBLE'],
  ['avg_length', 'DOUBLE'],
  ['non_null_columns', 'VARCHAR[]'],
  ['frequent_items', 'STRUCT(item VARCHAR, count BIGINT)[]'],
  ['distinct_count', 'BIGINT'],
  ['percent_nan', 'DOUBLE'],
  ['percent_null', 'DOUBLE'],
  ['percent_zeros', 'DOUBLE'],
  ['percent_distinct', 'DOUBLE'],
  ['accuracy_score', 'DOUBLE'],
  ['precision', QUALITY_TYPE],
  ['recall', QUALITY_TYPE],
  ['f1_score', QUALITY_TYPE],
  ['confusion_matrix', 'STRUCT(prediction VARCHAR, label VARCHAR, count BIGINT)[]'],
  ['log_loss', 'DOUBLE'],
  ['expected_loss', 'DOUBLE'],
];

const DRIFT_COLUMNS: ReadonlyArray<readonly [keyof DriftRow, string]> = [
  ['window', WINDOW_TYPE],
  ['window_cmp', WINDOW_TYPE],
  ['drift_type', 'VARCHAR'],
  ['granularity', 'VARCHAR'],
  ['monitor_version', 'BIGINT'],
  ['model_version', 'VARCHAR'],
  ['slice_key', 'VARCHAR'],
  ['slice_value', 'VARCHAR'],
  ['column_name', 'VARCHAR'],
  ['data_type', 'VARCHAR'],
  ['count_delta', 'BIGINT'],
  ['avg_delta', 'DOUBLE'],
  ['percent_null_delta', 'DOUBLE'],
  ['percent_zeros_delta', 'DOUBLE'],
  ['percent_distinct_delta', 'DOUBLE'],
  ['non_null_columns_delta', 'STRUCT(added INTEGER, missing INTEGER)'],
  ['js_distance', 'DOUBLE'],
  ['ks_test', TEST_TYPE],
  ['wasserstein_distance', 'DOUBLE'],
  ['population_stability_index', 'DOUBLE'],
  ['chi_squared_test', TEST_TYPE],
  ['tv_distance', 'DOUBLE'],
  ['l_infinity_distance', 'DOUBLE'],
];

const DAY_MS = 86_400_000;
const CONTRACTS = ['Month-to-month', 'One year', 'Two year'] as const;
const GRANULARITY = '1 day';

interface Slice {
  key: string | null;
  value: string | null;
  matches(row: InferenceRow): boolean;
}

const SLICES: readonly Slice[] = [
  { key: null, value: null, matches: () => true },
  { key: "senior_citizen='Yes'", value: 'true', matches: (r) => r.senior_citizen === 'Yes' },
  { key: "senior_citizen='Yes'", value: 'false', matches: (r) => r.senior_citizen !== 'Yes' },
  ...CONTRACTS.map((c) => ({ key: 'contract', value: c, matches: (r: InferenceRow) => r.contract === c })),
];

type ColumnKind = 'string' | 'int' | 'double';
interface ProfiledColumn {
  name: string;
  kind: ColumnKind;
  values?: (r: InferenceRow) => string | number | null;
}

const BASE_COLUMNS: readonly ProfiledColumn[] = [
  { name: 'customer_id', kind: 'string', values: (r) => r.customer_id },
  { name: 'tenure', kind: 'int', values: (r) => r.tenure },
  { name: 'monthly_charges', kind: 'double', values: (r) => r.monthly_charges },
  { name: 'contract', kind: 'string', values: (r) => r.contract },
  { name: 'senior_citizen', kind: 'string', values: (r) => r.senior_citizen },
  { name: 'prediction', kind: 'string', values: (r) => r.prediction },
  { name: 'churn', kind: 'string', values: (r) => r.churn },
];

/** Collects every generated row in memory; fine for the 30-day demo, use `seedDemoTables` for volume. */
export function generateDemoTables(options: DemoTablesOptions = {}): DemoTables {
  const out: DemoTables = { windows: [], inference: [], baseline: [], profile: [], drift: [] };
  const steps = generate(options, {
    inference: (r) => out.inference.push(r),
    baseline: (r) => out.baseline.push(r),
    profile: (r) => out.profile.push(r),
    drift: (r) => out.drift.push(r),
  });
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) {
      out.windows = step.value;
      return out;
    }
  }
}

/**
 * Creates the demo tables (and the payload table, if missing) in `db` and fills them. Existing demo
 * tables are replaced, so seeding twice gives the same data.
 *
 * @example await seedDemoTables(db, { now: new Date() }); // 30 windows ending today (UTC)
 */
export async function seedDemoTables(
  db: SandboxDb,
  options: DemoTablesOptions = {},
): Promise<{ windows: TimeWindow[]; rows: Record<'inference' | 'baseline' | 'profile' | 'drift', number> }> {
  await db.run(PAYLOAD_TABLE_DDL);
  await db.run(createTableSql(DEMO_TABLES.inference, INFERENCE_COLUMNS));
  await db.run(createTableSql(DEMO_TABLES.baseline, INFERENCE_COLUMNS));
  await db.run(createTableSql(DEMO_TABLES.profile, PROFILE_COLUMNS));
  await db.run(createTableSql(DEMO_TABLES.drift, DRIFT_COLUMNS));

  // Rows are inserted a block at a time while generation pauses after each window, so a year of
  // metrics never sits in memory at once.
  const buffers = {
    inference: [] as object[],
    baseline: [] as object[],
    profile: [] as object[],
    drift: [] as object[],
  };
  const counts = { inference: 0, baseline: 0, profile: 0, drift: 0 };
  const tables = Object.keys(buffers) as (keyof typeof buffers)[];
  const flush = async (minRows: number) => {
    for (const table of tables) {
      if (buffers[table].length === 0 || buffers[table].length < minRows) continue;
      const rows = buffers[table];
      buffers[table] = [];
      await db.insert(DEMO_TABLES[table], rows);
    }
  };
  const sink = (table: keyof typeof buffers) => (row: object) => {
    buffers[table].push(row);
    counts[table]++;
  };
  const steps = generate(options, {
    inference: sink('inference'),
    baseline: sink('baseline'),
    profile: sink('profile'),
    drift: sink('drift'),
  });
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) {
      await flush(0);
      return { windows: step.value, rows: counts };
    }
    await flush(50_000);
  }
}

function createTableSql(fullName: string, columns: ReadonlyArray<readonly [PropertyKey, string]>): string {
  const body = columns.map(([name, type]) => `"${String(name)}" ${type}`).join(',\n  ');
  return `CREATE OR REPLACE TABLE ${fullName} (\n  ${body}\n)`;
}

interface Sinks {
  inference(row: InferenceRow): void;
  baseline(row: InferenceRow): void;
  profile(row: ProfileRow): void;
  drift(row: DriftRow): void;
}

/** Summary of one profiled column, kept to compute the drift deltas of later windows. */
interface ColumnSummary {
  count: number;
  avg: number | null;
  percentNull: number;
  percentZeros: number | null;
  percentDistinct: number | null;
}

function* generate(options: DemoTablesOptions, sinks: Sinks): Generator<void, TimeWindow[]> {
  const now = options.now ?? new Date();
  const seed = options.seed ?? 42;
  const n = options.windows ?? 30;
  const extra = options.extraNumericColumns ?? 0;
  const modelIdCount = options.modelIds ?? 4;
  const rowsPerDay = options.rowsPerDay ?? 40;
  const slices = options.slices === false ? SLICES.slice(0, 1) : SLICES;
  if (!Number.isInteger(n) || n < 2) throw new RangeError('windows must be an integer ≥ 2');
  if (!Number.isInteger(modelIdCount) || modelIdCount < 2) throw new RangeError('modelIds must be ≥ 2');

  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const windows: TimeWindow[] = Array.from({ length: n }, (_, i) => {
    const start = today - (n - 1 - i) * DAY_MS;
    return { start: new Date(start), end: new Date(start + DAY_MS) };
  });
  const versions = Array.from({ length: modelIdCount - 1 }, (_, i) => String(i + 1));
  const columns: ProfiledColumn[] = [
    ...BASE_COLUMNS,
    ...Array.from({ length: extra }, (_, i) => ({
      name: `feature_${String(i + 1).padStart(3, '0')}`,
      kind: 'double' as const,
    })),
  ];
  const breachFrom = n - DEMO_BREACH_WINDOWS;
  const scenario = buildScenario(seed, n, breachFrom);
  const rowsRng = makeRng(seed, 'rows');
  const statsRng = makeRng(seed, 'stats');

  // The demo's story: v1 serves until the first third, v2 always (Champion), v3 from the middle
  // (Challenger). With an explicit model-id count (volume mode) every version serves every window.
  const lifecycle = options.modelIds === undefined;
  const serves = (version: string, i: number): boolean =>
    !lifecycle || (version === '1' ? i < Math.ceil(n / 3) : version === '3' ? i > Math.floor(n / 2) : true);
  const share = (version: string): number => (version === '3' ? 0.4 : 1);
  const modelIdsAt = (i: number): string[] => ['*', ...versions.filter((v) => serves(v, i))];

  // Baseline: the scored test set of every version, dated the day before the first window.
  const baselineWindow: TimeWindow = {
    start: new Date(windows[0]!.start.getTime() - DAY_MS),
    end: windows[0]!.start,
  };
  const baselineRows: InferenceRow[] = [];
  let customer = 100_000;
  for (const version of versions) {
    for (let k = 0; k < rowsPerDay * 3; k++) {
      const row = makeInferenceRow(
        rowsRng,
        `C${customer++}`,
        version,
        false,
        baselineWindow.start.getTime(),
        DAY_MS,
      );
      baselineRows.push(row);
      sinks.baseline(row);
    }
  }

  const profileKey = (modelId: string, slice: Slice, column: string) =>
    `${modelId}|${slice.key}|${slice.value}|${column}`;
  const baselineSummaries = new Map<string, ColumnSummary>();
  const emitProfile = (
    window: TimeWindow,
    logType: 'INPUT' | 'BASELINE',
    commitVersion: number,
    modelId: string,
    rows: InferenceRow[],
    quality: Planted | null,
    summaries: Map<string, ColumnSummary>,
  ) => {
    for (const slice of slices) {
      const sliceRows = rows.filter((r) => slice.matches(r));
      if (sliceRows.length === 0) continue;
      const base: ProfileKey = {
        window,
        log_type: logType,
        logging_table_commit_version: commitVersion,
        monitor_version: 1,
        granularity: GRANULARITY,
        model_version: modelId,
        slice_key: slice.key,
        slice_value: slice.value,
      };
      const sliceQuality = quality && slice.key !== null ? jitterQuality(statsRng, quality) : quality;
      const table = qualityColumns(sliceRows, sliceQuality);
      table.count = sliceRows.length;
      table.non_null_columns = columns.map((c) => c.name);
      sinks.profile(profileRow(base, ':table', null, table));
      summaries.set(profileKey(modelId, slice, ':table'), {
        count: sliceRows.length,
        avg: null,
        percentNull: 0,
        percentZeros: null,
        percentDistinct: null,
      });
      for (const column of columns) {
        const stats = column.values
          ? columnStats(sliceRows.map(column.values), column.kind)
          : syntheticNumericStats(statsRng, sliceRows.length);
        sinks.profile(profileRow(base, column.name, column.kind, stats.row));
        summaries.set(profileKey(modelId, slice, column.name), stats.summary);
      }
    }
  };

  for (const modelId of ['*', ...versions]) {
    const rows = modelId === '*' ? baselineRows : baselineRows.filter((r) => r.model_version === modelId);
    emitProfile(baselineWindow, 'BASELINE', 0, modelId, rows, healthyQuality(statsRng), baselineSummaries);
  }
  yield;

  let previous = new Map<string, ColumnSummary>();
  for (const [i, window] of windows.entries()) {
    const breach = i >= breachFrom;
    const dayRows: InferenceRow[] = [];
    const elapsed = Math.max(1, Math.min(DAY_MS, now.getTime() - window.start.getTime()));
    for (const version of versions) {
      if (!serves(version, i)) continue;
      const count = Math.max(3, Math.round(rowsPerDay * share(version) * (1 + 0.15 * gaussian(rowsRng))));
      const drifting = breach && version !== DEMO_MODEL.challenger;
      for (let k = 0; k < count; k++) {
        const row = makeInferenceRow(
          rowsRng,
          `C${customer++}`,
          version,
          drifting,
          window.start.getTime(),
          elapsed,
        );
        // The most recent labels have not arrived yet.
        if (i >= n - 2 && rowsRng() < 0.5) row.churn = null;
        dayRows.push(row);
        sinks.inference(row);
      }
    }

    const current = new Map<string, ColumnSummary>();
    for (const modelId of modelIdsAt(i)) {
      const rows = modelId === '*' ? dayRows : dayRows.filter((r) => r.model_version === modelId);
      emitProfile(window, 'INPUT', i + 1, modelId, rows, scenario.quality(modelId, i), current);

      for (const slice of slices) {
        const sliceBase = { granularity: GRANULARITY, monitor_version: 1, model_version: modelId };
        const driftTypes: Array<['CONSECUTIVE' | 'BASELINE', TimeWindow, Map<string, ColumnSummary>]> = [
          ['BASELINE', baselineWindow, baselineSummaries],
        ];
        const prevWindow = windows[i - 1];
        if (prevWindow && modelIdsAt(i - 1).includes(modelId)) {
          driftTypes.unshift(['CONSECUTIVE', prevWindow, previous]);
        }
        for (const [driftType, windowCmp, cmpSummaries] of driftTypes) {
          const tableNow = current.get(profileKey(modelId, slice, ':table'));
          const tableCmp = cmpSummaries.get(profileKey(modelId, slice, ':table'));
          if (!tableNow || !tableCmp) continue;
          const base: DriftKey = {
            ...sliceBase,
            window,
            window_cmp: windowCmp,
            drift_type: driftType,
            slice_key: slice.key,
            slice_value: slice.value,
          };
          sinks.drift(
            driftRow(base, ':table', null, {
              count_delta: tableNow.count - tableCmp.count,
              non_null_columns_delta: { added: 0, missing: 0 },
            }),
          );
          for (const column of columns) {
            const cur = current.get(profileKey(modelId, slice, column.name));
            const cmp = cmpSummaries.get(profileKey(modelId, slice, column.name));
            if (!cur || !cmp) continue;
            const planted = scenario.js(modelId, i, column.name, driftType);
            const jitter = slice.key === null ? 0 : 0.03 * gaussian(statsRng);
            const stats = driftStatistics(statsRng, column, planted, breach, jitter);
            stats.count_delta = cur.count - cmp.count;
            stats.avg_delta = delta(cur.avg, cmp.avg);
            stats.percent_null_delta = cur.percentNull - cmp.percentNull;
            stats.percent_zeros_delta = delta(cur.percentZeros, cmp.percentZeros);
            stats.percent_distinct_delta = delta(cur.percentDistinct, cmp.percentDistinct);
            sinks.drift(driftRow(base, column.name, column.kind, stats));
          }
        }
      }
    }
    previous = current;
    yield;
  }
  return windows;
}

function delta(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a - b;
}

// ---------------------------------------------------------------------------------------------------
// Scenario: the planted model quality and drift that the checks read.

interface Planted {
  f1: number;
  expectedLoss: number;
  logLoss: number;
}

interface Scenario {
  quality(modelId: string, window: number): Planted;
  /** Planted JS distance for a categorical column, or null to draw a background value. */
  js(modelId: string, window: number, column: string, driftType: 'CONSECUTIVE' | 'BASELINE'): number | null;
}

function buildScenario(seed: number, n: number, breachFrom: number): Scenario {
  // A stream of its own, so the scenario does not move when volume options change.
  const rng = makeRng(seed, 'scenario');
  const followsScenario = (modelId: string) => modelId === '*' || modelId === DEMO_MODEL.champion;
  const series = new Map<
    string,
    { f1: number[]; loss: number[]; jsChurn: number[]; jsPrediction: number[] }
  >();

  const healthyIdx = Array.from({ length: breachFrom - 1 }, (_, k) => k + 1);
  // Single metrics straying past one threshold on a few healthy days; the joint rules must not fire there.
  const noise = pickDistinct(rng, healthyIdx, 4);
  const strays = new Map<number, 'f1' | 'loss' | 'jsChurn' | 'jsPrediction'>(
    noise.map((w, k) => [w, (['f1', 'loss', 'jsChurn', 'jsPrediction'] as const)[k % 4]!]),
  );

  for (const modelId of ['*', DEMO_MODEL.champion]) {
    const s = {
      f1: [] as number[],
      loss: [] as number[],
      jsChurn: [] as number[],
      jsPrediction: [] as number[],
    };
    for (let i = 0; i < n; i++) {
      const breach = i >= breachFrom;
      const offset = modelId === '*' ? 0 : 0.01;
      if (breach) {
        s.f1.push(clamp(0.38 - offset + 0.04 * gaussian(rng), 0.2, 0.46));
        s.loss.push(-clamp(42 + 5 * gaussian(rng), 33, 70));
        s.jsChurn.push(clamp(0.27 + 0.03 * gaussian(rng), 0.21, 0.45));
        s.jsPrediction.push(clamp(0.25 + 0.03 * gaussian(rng), 0.205, 0.45));
      } else {
        s.f1.push(clamp(0.72 - offset + 0.03 * gaussian(rng), 0.58, 0.9));
        s.loss.push(-clamp(12 + 4 * gaussian(rng), 2, 24));
        s.jsChurn.push(clamp(0.06 + 0.03 * gaussian(rng), 0.01, 0.15));
        s.jsPrediction.push(clamp(0.05 + 0.03 * gaussian(rng), 0.01, 0.15));
        const stray = strays.get(i);
        if (stray === 'f1') s.f1[i] = 0.47 - 0.02 * rng();
        if (stray === 'loss') s.loss[i] = -(31 + 4 * rng());
        if (stray === 'jsChurn') s.jsChurn[i] = 0.2 + 0.03 * rng();
        if (stray === 'jsPrediction') s.jsPrediction[i] = 0.2 + 0.02 * rng();
      }
    }
    series.set(modelId, s);
  }
  const healthy = makeRng(seed, 'healthy-versions');

  return {
    quality(modelId, i) {
      const s = series.get(modelId);
      if (followsScenario(modelId) && s) {
        return { f1: s.f1[i]!, expectedLoss: s.loss[i]!, logLoss: i >= breachFrom ? 0.82 : 0.41 };
      }
      // The Challenger and retired versions stay healthy throughout.
      return {
        f1: clamp(0.78 + 0.03 * gaussian(healthy), 0.62, 0.92),
        expectedLoss: -clamp(9 + 3 * gaussian(healthy), 1, 20),
        logLoss: 0.36,
      };
    },
    js(modelId, i, column, driftType) {
      const s = series.get(modelId);
      if (!(column === 'churn' || column === 'prediction')) return null;
      if (!followsScenario(modelId) || !s) return clamp(0.05 + 0.02 * gaussian(healthy), 0.01, 0.14);
      const value = column === 'churn' ? s.jsChurn[i]! : s.jsPrediction[i]!;
      // Against the baseline the live data looks a little further off than day to day.
      return driftType === 'BASELINE' ? clamp(value + 0.03, 0, 1) : value;
    },
  };
}

function healthyQuality(rng: () => number): Planted {
  return {
    f1: clamp(0.76 + 0.02 * gaussian(rng), 0.6, 0.9),
    expectedLoss: -clamp(10 + 2 * gaussian(rng), 1, 20),
    logLoss: 0.38,
  };
}

function jitterQuality(rng: () => number, q: Planted): Planted {
  return {
    f1: clamp(q.f1 + 0.05 * gaussian(rng), 0, 1),
    expectedLoss: Math.min(0, q.expectedLoss + 5 * gaussian(rng)),
    logLoss: clamp(q.logLoss + 0.05 * gaussian(rng), 0.01, 5),
  };
}

function qualityColumns(rows: InferenceRow[], q: Planted | null): StatsRow {
  const labelled = rows.filter((r) => r.churn !== null);
  if (!q || labelled.length === 0) {
    return {
      accuracy_score: null,
      precision: null,
      recall: null,
      f1_score: null,
      confusion_matrix: null,
      log_loss: null,
      expected_loss: null,
    };
  }
  const quality = (macro: number): QualityStruct => ({
    one_vs_all: new Map([
      ['No', round(clamp(macro + 0.08, 0, 1))],
      ['Yes', round(clamp(macro - 0.08, 0, 1))],
    ]),
    macro: round(macro),
    weighted: round(clamp(macro + 0.03, 0, 1)),
  });
  const matrix = new Map<string, number>();
  for (const r of labelled)
    matrix.set(`${r.prediction}|${r.churn}`, (matrix.get(`${r.prediction}|${r.churn}`) ?? 0) + 1);
  return {
    accuracy_score: round(clamp(q.f1 + 0.06, 0, 1)),
    precision: quality(clamp(q.f1 + 0.02, 0, 1)),
    recall: quality(clamp(q.f1 - 0.02, 0, 1)),
    f1_score: quality(q.f1),
    confusion_matrix: [...matrix].sort().map(([key, count]) => {
      const [prediction = '', label = ''] = key.split('|');
      return { prediction, label, count };
    }),
    log_loss: round(q.logLoss),
    expected_loss: round(q.expectedLoss),
  };
}

function driftStatistics(
  rng: () => number,
  column: ProfiledColumn,
  planted: number | null,
  breach: boolean,
  jitter: number,
): DriftStats {
  if (column.kind === 'string') {
    // Identifiers are unique per row, so their distribution always looks maximally different.
    const background = column.name === 'customer_id' ? 1 : breach && column.name === 'contract' ? 0.16 : 0.04;
    const js = clamp((planted ?? background + 0.02 * gaussian(rng)) + jitter, 0.001, 1);
    return {
      js_distance: round(js),
      chi_squared_test: { statistic: round(js * 180), pvalue: round(Math.exp(-js * 40)) },
      tv_distance: round(clamp(js * 1.15, 0, 1)),
      l_infinity_distance: round(clamp(js * 0.9, 0, 1)),
      ks_test: null,
      wasserstein_distance: null,
      population_stability_index: null,
    };
  }
  const shifted = breach && (column.name === 'tenure' || column.name === 'monthly_charges');
  const statistic = clamp((shifted ? 0.21 : 0.05) + 0.02 * gaussian(rng), 0.005, 1);
  return {
    js_distance: null,
    chi_squared_test: null,
    tv_distance: null,
    l_infinity_distance: null,
    ks_test: { statistic: round(statistic), pvalue: round(Math.exp(-statistic * 60)) },
    wasserstein_distance: round(statistic * (column.name === 'monthly_charges' ? 40 : 10)),
    population_stability_index: round(clamp((shifted ? 0.27 : 0.04) + 0.02 * gaussian(rng), 0, 5)),
  };
}

// ---------------------------------------------------------------------------------------------------
// Rows and row statistics.

function makeInferenceRow(
  rng: () => number,
  customerId: string,
  version: string,
  drifting: boolean,
  dayStart: number,
  spanMs: number,
): InferenceRow {
  const contract = pick(rng, CONTRACTS, drifting ? [0.75, 0.15, 0.1] : [0.45, 0.25, 0.3]);
  const tenure = drifting ? 1 + Math.floor(rng() * 24) : 1 + Math.floor(rng() * 72);
  const monthly = round((drifting ? 60 : 20) + rng() * (drifting ? 60 : 90), 2);
  const prediction = rng() < (drifting ? 0.55 : 0.27) ? 'Yes' : 'No';
  const correct = rng() < (drifting ? 0.45 : 0.82);
  const label = correct ? prediction : prediction === 'Yes' ? 'No' : 'Yes';
  return {
    customer_id: customerId,
    tenure,
    monthly_charges: monthly,
    contract,
    senior_citizen: rng() < 0.16 ? 'Yes' : 'No',
    prediction,
    churn: rng() < 0.3 ? null : label,
    model_version: version,
    inference_timestamp: new Date(dayStart + Math.floor(rng() * spanMs)),
  };
}

type ProfileKey = Pick<
  ProfileRow,
  | 'window'
  | 'log_type'
  | 'logging_table_commit_version'
  | 'monitor_version'
  | 'granularity'
  | 'model_version'
  | 'slice_key'
  | 'slice_value'
>;
type StatsRow = Partial<Omit<ProfileRow, keyof ProfileKey | 'column_name' | 'data_type'>>;

// Every row is built by one literal with all columns in table order: one object shape for V8, and a
// missing statistic is an explicit NULL.
function profileRow(k: ProfileKey, column_name: string, data_type: string | null, s: StatsRow): ProfileRow {
  return {
    window: k.window,
    log_type: k.log_type,
    logging_table_commit_version: k.logging_table_commit_version,
    monitor_version: k.monitor_version,
    granularity: k.granularity,
    model_version: k.model_version,
    slice_key: k.slice_key,
    slice_value: k.slice_value,
    column_name,
    data_type,
    count: s.count ?? 0,
    num_nulls: s.num_nulls ?? null,
    avg: s.avg ?? null,
    min: s.min ?? null,
    max: s.max ?? null,
    stddev: s.stddev ?? null,
    median: s.median ?? null,
    quantiles: s.quantiles ?? null,
    num_zeros: s.num_zeros ?? null,
    num_nan: s.num_nan ?? null,
    min_length: s.min_length ?? null,
    max_length: s.max_length ?? null,
    avg_length: s.avg_length ?? null,
    non_null_columns: s.non_null_columns ?? null,
    frequent_items: s.frequent_items ?? null,
    distinct_count: s.distinct_count ?? null,
    percent_nan: s.percent_nan ?? null,
    percent_null: s.percent_null ?? null,
    percent_zeros: s.percent_zeros ?? null,
    percent_distinct: s.percent_distinct ?? null,
    accuracy_score: s.accuracy_score ?? null,
    precision: s.precision ?? null,
    recall: s.recall ?? null,
    f1_score: s.f1_score ?? null,
    confusion_matrix: s.confusion_matrix ?? null,
    log_loss: s.log_loss ?? null,
    expected_loss: s.expected_loss ?? null,
  };
}

type DriftKey = Pick<
  DriftRow,
  | 'window'
  | 'window_cmp'
  | 'drift_type'
  | 'granularity'
  | 'monitor_version'
  | 'model_version'
  | 'slice_key'
  | 'slice_value'
>;
type DriftStats = Partial<Omit<DriftRow, keyof DriftKey | 'column_name' | 'data_type'>>;

function driftRow(k: DriftKey, column_name: string, data_type: string | null, s: DriftStats): DriftRow {
  return {
    window: k.window,
    window_cmp: k.window_cmp,
    drift_type: k.drift_type,
    granularity: k.granularity,
    monitor_version: k.monitor_version,
    model_version: k.model_version,
    slice_key: k.slice_key,
    slice_value: k.slice_value,
    column_name,
    data_type,
    count_delta: s.count_delta ?? null,
    avg_delta: s.avg_delta ?? null,
    percent_null_delta: s.percent_null_delta ?? null,
    percent_zeros_delta: s.percent_zeros_delta ?? null,
    percent_distinct_delta: s.percent_distinct_delta ?? null,
    non_null_columns_delta: s.non_null_columns_delta ?? null,
    js_distance: s.js_distance ?? null,
    ks_test: s.ks_test ?? null,
    wasserstein_distance: s.wasserstein_distance ?? null,
    population_stability_index: s.population_stability_index ?? null,
    chi_squared_test: s.chi_squared_test ?? null,
    tv_distance: s.tv_distance ?? null,
    l_infinity_distance: s.l_infinity_distance ?? null,
  };
}

function columnStats(
  values: (string | number | null)[],
  kind: ColumnKind,
): { row: StatsRow; summary: ColumnSummary } {
  const count = values.length;
  const present = values.filter((v): v is string | number => v !== null);
  const nulls = count - present.length;
  const distinct = new Set(present).size;
  const row: StatsRow = {
    count,
    num_nulls: nulls,
    distinct_count: distinct,
    percent_null: pct(nulls, count),
    percent_distinct: pct(distinct, count),
  };
  if (kind === 'string') {
    const lengths = present.map((v) => String(v).length);
    const freq = new Map<string, number>();
    for (const v of present) freq.set(String(v), (freq.get(String(v)) ?? 0) + 1);
    Object.assign(row, {
      min_length: lengths.length ? Math.min(...lengths) : null,
      max_length: lengths.length ? Math.max(...lengths) : null,
      avg_length: lengths.length ? round(mean(lengths)) : null,
      frequent_items: [...freq]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 10)
        .map(([item, c]) => ({ item, count: c })),
    });
    return {
      row,
      summary: {
        count,
        avg: null,
        percentNull: pct(nulls, count),
        percentZeros: null,
        percentDistinct: pct(distinct, count),
      },
    };
  }
  const nums = (present as number[]).slice().sort((a, b) => a - b);
  const zeros = nums.filter((v) => v === 0).length;
  const avg = nums.length ? mean(nums) : null;
  Object.assign(row, {
    avg: avg === null ? null : round(avg),
    min: nums[0] ?? null,
    max: nums[nums.length - 1] ?? null,
    stddev: nums.length > 1 && avg !== null ? round(Math.sqrt(mean(nums.map((v) => (v - avg) ** 2)))) : null,
    median: nums.length ? quantile(nums, 0.5) : null,
    quantiles: nums.length ? QUANTILE_POINTS.map((p) => quantile(nums, p)) : null,
    num_zeros: zeros,
    num_nan: 0,
    percent_nan: 0,
    percent_zeros: pct(zeros, count),
  });
  return {
    row,
    summary: {
      count,
      avg: row.avg ?? null,
      percentNull: pct(nulls, count),
      percentZeros: pct(zeros, count),
      percentDistinct: pct(distinct, count),
    },
  };
}

/** Statistics for a feature column that exists only in the metric tables (volume option). */
function syntheticNumericStats(rng: () => number, count: number): { row: StatsRow; summary: ColumnSummary } {
  const avg = round(50 + 10 * gaussian(rng));
  const sd = round(5 + rng() * 5);
  const row: StatsRow = {
    count,
    num_nulls: 0,
    avg,
    min: round(avg - 3 * sd),
    max: round(avg + 3 * sd),
    stddev: sd,
    median: avg,
    quantiles: QUANTILE_POINTS.map((p) => round(avg + sd * 2 * (p - 0.5))),
    num_zeros: 0,
    num_nan: 0,
    distinct_count: count,
    percent_nan: 0,
    percent_null: 0,
    percent_zeros: 0,
    percent_distinct: 100,
  };
  return { row, summary: { count, avg, percentNull: 0, percentZeros: 0, percentDistinct: 100 } };
}

// Real monitors store about 1000 quantiles; 21 (every 5 %) keep the demo tables small with the same shape.
const QUANTILE_POINTS = Array.from({ length: 21 }, (_, k) => k / 20);

function quantile(sorted: number[], p: number): number {
  const idx = (sorted.length - 1) * p;
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return round(sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (idx - lo));
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function pct(part: number, whole: number): number {
  return whole === 0 ? 0 : round((100 * part) / whole);
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

// ---------------------------------------------------------------------------------------------------
// Seeded randomness: mulberry32 streams keyed by name, so one part of the data can change without
// reshuffling the others.

export function makeRng(seed: number, stream: string): () => number {
  let h = seed >>> 0;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 2654435761) >>> 0;
  let a = h || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rng: () => number): number {
  const u = Math.max(rng(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function pick<T>(rng: () => number, items: readonly T[], weights: readonly number[]): T {
  let r = rng() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}

function pickDistinct(rng: () => number, pool: number[], count: number): number[] {
  const copy = pool.slice();
  const chosen: number[] = [];
  while (chosen.length < count && copy.length > 0)
    chosen.push(copy.splice(Math.floor(rng() * copy.length), 1)[0]!);
  return chosen;
}
