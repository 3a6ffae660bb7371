/**
 * The SQL of a drift check and the zod schemas of its rows. One query per metric table, whatever the
 * number of rules, columns and windows: each term becomes one `max(CASE WHEN …)` column of a result
 * grouped by (window, model id), so the warehouse pivots and returns one row per window and model id.
 *
 * Table names, the model-id column and metric paths are validated identifiers (`tableName`,
 * `columnName`); every value (column names of the monitored table, model ids, granularity, drift type,
 * the first window) is a named parameter.
 */
import { z } from 'zod';
import { type ParamValue, sqlTimestamp } from '../domain/ports/warehouse.js';
import { columnName, tableName } from '../domain/sql-identifiers.js';
import type { DriftTerm, MetricWindow, RuleTable } from './rules.js';

export interface MetricQueryInput {
  /** catalog.schema.table of the profile or drift metrics table. */
  table: string;
  modelIdColumn: string;
  modelIds: readonly string[];
  granularity: string;
  /** First window start to read (inclusive). */
  since: Date;
  /** The terms of this table. */
  terms: readonly DriftTerm[];
}

export interface MetricQuery {
  sql: string;
  params: Record<string, ParamValue>;
  rowSchema: z.ZodType<MetricRow>;
  /** Result column → term key. */
  columns: ReadonlyArray<readonly [alias: string, termKey: string]>;
}

export interface MetricRow {
  window_start: Date;
  window_end: Date;
  model_id: string;
  values: Record<string, number | null>;
}

/** A metric value: doubles arrive as numbers, integer metrics may arrive as bigint. */
const metricValue = z
  .union([z.number(), z.bigint()])
  .nullable()
  .transform((v) => (v === null ? null : Number(v)));

/** `f1_score.macro` → `` `f1_score`.`macro` `` (each part validated). */
function metricExpression(metric: string): string {
  return metric
    .split('.')
    .map((p) => columnName(p))
    .join('.');
}

/**
 * Builds the one query of a metric table.
 *
 * @example
 * const q = buildMetricQuery('profile', { table: 'acme.mlops.churn_inference_profile_metrics', modelIdColumn: 'model_version', modelIds: ['*'], granularity: '1 day', since, terms });
 * const rows = await warehouse.query(q.sql, q.params, q.rowSchema);
 */
export function buildMetricQuery(kind: RuleTable, input: MetricQueryInput): MetricQuery {
  if (input.terms.length === 0) throw new RangeError('a metric query needs at least one term');
  if (input.modelIds.length === 0) throw new RangeError('a metric query needs at least one model id');
  const params: Record<string, ParamValue> = { granularity: input.granularity, since: input.since };
  const modelCol = columnName(input.modelIdColumn);

  const modelMarkers = input.modelIds.map((id, i) => {
    params[`m${i}`] = id;
    return `:m${i}`;
  });
  const columnParams = new Map<string, string>();
  for (const t of input.terms) {
    if (!columnParams.has(t.column)) {
      const name = `c${columnParams.size}`;
      columnParams.set(t.column, name);
      params[name] = t.column;
    }
  }
  const driftTypes = new Map<string, string>();
  if (kind === 'drift') {
    for (const t of input.terms) {
      const type = t.driftType ?? 'CONSECUTIVE';
      if (!driftTypes.has(type)) {
        driftTypes.set(type, `d${driftTypes.size}`);
        params[`d${driftTypes.size - 1}`] = type;
      }
    }
  }

  const columns: Array<readonly [string, string]> = [];
  const selects = input.terms.map((t, i) => {
    const alias = `v${i}`;
    columns.push([alias, t.key]);
    const when = [
      `column_name = :${columnParams.get(t.column)}`,
      ...(kind === 'drift' ? [`drift_type = :${driftTypes.get(t.driftType ?? 'CONSECUTIVE')}`] : []),
    ].join(' AND ');
    return `max(CASE WHEN ${when} THEN ${metricExpression(t.metric)} END) AS ${alias}`;
  });

  const where = [
    ...(kind === 'profile' ? ["log_type = 'INPUT'"] : []),
    'slice_key IS NULL',
    'slice_value IS NULL',
    'granularity = :granularity',
    `${modelCol} IN (${modelMarkers.join(', ')})`,
    `column_name IN (${[...columnParams.values()].map((p) => `:${p}`).join(', ')})`,
    ...(kind === 'drift'
      ? [`drift_type IN (${[...driftTypes.values()].map((p) => `:${p}`).join(', ')})`]
      : []),
    '`window`.start >= :since',
  ];
  const sql = [
    'SELECT `window`.start AS window_start,',
    '       max(`window`.end) AS window_end,',
    `       ${modelCol} AS model_id,`,
    `       ${selects.join(',\n       ')}`,
    `FROM ${tableName(input.table)}`,
    `WHERE ${where.join('\n  AND ')}`,
    `GROUP BY \`window\`.start, ${modelCol}`,
    'ORDER BY window_start, model_id',
  ].join('\n');

  const shape: Record<string, z.ZodType> = {
    window_start: sqlTimestamp,
    window_end: sqlTimestamp,
    model_id: z.string(),
  };
  for (const [alias] of columns) shape[alias] = metricValue;
  const raw = z.object(shape);
  const rowSchema = raw.transform((r): MetricRow => {
    const row = r as Record<string, unknown> & { window_start: Date; window_end: Date; model_id: string };
    const values: Record<string, number | null> = {};
    for (const [alias, key] of columns) values[key] = (row[alias] as number | null | undefined) ?? null;
    return { window_start: row.window_start, window_end: row.window_end, model_id: row.model_id, values };
  });
  return { sql, params, rowSchema, columns };
}

/**
 * Merges the rows of both queries into windows per model id, in window order. A window keeps which
 * table had a row for it (the reference's inner join needs that).
 */
export function toWindows(
  profile: readonly MetricRow[],
  drift: readonly MetricRow[],
): Map<string, MetricWindow[]> {
  const byModel = new Map<string, Map<number, MetricWindow>>();
  const add = (row: MetricRow, table: RuleTable) => {
    const windows = byModel.get(row.model_id) ?? new Map<number, MetricWindow>();
    byModel.set(row.model_id, windows);
    const start = row.window_start.getTime();
    const w = windows.get(start) ?? {
      start,
      end: row.window_end.getTime(),
      values: {},
      inProfile: false,
      inDrift: false,
    };
    Object.assign(w.values, row.values);
    if (table === 'profile') w.inProfile = true;
    else w.inDrift = true;
    windows.set(start, w);
  };
  for (const r of profile) add(r, 'profile');
  for (const r of drift) add(r, 'drift');
  return new Map(
    [...byModel].map(([id, windows]) => [id, [...windows.values()].sort((a, b) => a.start - b.start)]),
  );
}
