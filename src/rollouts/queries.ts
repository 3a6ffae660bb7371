/**
 * The figures of one check, read through the SQL warehouse: ONE parameterised statement over the
 * endpoint's AI Gateway inference table joined to `system.serving.served_entities` (requests, 5xx
 * errors, p50 and p99 of model time, per served entity), and a second only when the analysis has quality guardrails (the monitor's profile metrics
 * for the two model versions). Table and column names come from the policy and are validated and
 * quoted (domain/sql-identifiers.ts); everything else is a parameter.
 */
import { z } from 'zod';
import type { QueryOptions, Warehouse } from '../domain/ports/warehouse.js';
import { columnName, tableName } from '../domain/sql-identifiers.js';
import type { EntityFigures, Figures, RolloutPlan } from './types.js';

const num = z.union([z.number(), z.bigint(), z.string()]).transform(Number);
const optNum = z
  .union([z.number(), z.bigint(), z.string(), z.null()])
  .transform((v) => (v === null ? undefined : Number(v)));

const trafficRow = z.object({
  entity: z.string(),
  requests: num,
  errors: num,
  p50: optNum,
  p99: optNum,
});

/** Where Databricks names each served entity behind its opaque id (one row per config change). */
export const SERVED_ENTITIES_TABLE = 'system.serving.served_entities';

/**
 * The traffic statement: per served entity over [since, until). The payload table names the
 * entity only by an opaque `served_entity_id`; `system.serving.served_entities` maps it to the
 * served entity's name (the latest row per id, for this endpoint), so one statement still reads
 * both sides. That system table lags (up to about an hour): a canary not in it yet reads as no
 * requests, which is inconclusive (wait), never a pass.
 */
export function trafficStatement(payloadTable: string): string {
  return `SELECT e.served_entity_name AS entity, COUNT(*) AS requests,
  SUM(CASE WHEN p.status_code >= 500 THEN 1 ELSE 0 END) AS errors,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY p.execution_duration_ms) AS p50,
  percentile_cont(0.99) WITHIN GROUP (ORDER BY p.execution_duration_ms) AS p99
FROM ${tableName(payloadTable)} AS p
JOIN (
  SELECT served_entity_id, served_entity_name,
    ROW_NUMBER() OVER (PARTITION BY served_entity_id ORDER BY change_time DESC) AS latest
  FROM ${SERVED_ENTITIES_TABLE}
  WHERE endpoint_name = :endpoint
) AS e ON e.served_entity_id = p.served_entity_id AND e.latest = 1
WHERE p.request_time >= :since AND p.request_time < :until AND e.served_entity_name IN (:baseline, :canary)
GROUP BY e.served_entity_name`;
}

const qualityColumns = (plan: RolloutPlan) => [
  ...new Set(plan.analysis.guardrails.flatMap((g) => (g.metric === 'quality' && g.column ? [g.column] : []))),
];

/** A metric column, or `struct.field`, quoted part by part. */
const metricColumn = (c: string) => c.split('.').map(columnName).join('.');

/** The quality statement: the latest whole-table profile row per model version, newest first. */
export function qualityStatement(plan: RolloutPlan): string | undefined {
  const g = plan.analysis.guardrails.find((x) => x.metric === 'quality');
  const columns = qualityColumns(plan);
  if (!g?.profileTable || columns.length === 0) return undefined;
  const id = columnName(g.modelIdColumn ?? 'model_version');
  return `SELECT CAST(${id} AS STRING) AS version, ${columns.map((c, i) => `${metricColumn(c)} AS q${i}`).join(', ')}
FROM ${tableName(g.profileTable)}
WHERE CAST(${id} AS STRING) IN (:baseline, :canary) AND column_name = ':table' AND slice_key IS NULL
ORDER BY window.end DESC
LIMIT 20`;
}

const empty = (): EntityFigures => ({ requests: 0, errors: 0 });

/**
 * Reads the figures of one check: one statement, or two with quality guardrails. A warehouse or
 * table failure is thrown as it comes (a WarehouseError); the driver holds the step on it.
 *
 * @example const { figures, statements } = await readFigures(warehouse, plan, since, now);
 */
export async function readFigures(
  warehouse: Warehouse,
  plan: RolloutPlan,
  sinceMs: number,
  untilMs: number,
  options: QueryOptions = {},
): Promise<{ figures: Figures; statements: number }> {
  const rows = await warehouse.query(
    trafficStatement(plan.payloadTable),
    {
      endpoint: plan.endpoint,
      since: new Date(sinceMs),
      until: new Date(untilMs),
      baseline: plan.baseline.name,
      canary: plan.canary.name,
    },
    trafficRow,
    options,
  );
  const of = (name: string): EntityFigures => {
    const r = rows.find((x) => x.entity === name);
    return r ? { requests: r.requests, errors: r.errors, p50Ms: r.p50, p99Ms: r.p99 } : empty();
  };
  const figures: Figures = {
    baseline: of(plan.baseline.name),
    canary: of(plan.canary.name),
    sinceMs,
    untilMs,
  };
  const quality = qualityStatement(plan);
  if (!quality) return { figures, statements: 1 };
  const columns = qualityColumns(plan);
  const qualityRow = z.object({
    version: z.string(),
    ...Object.fromEntries(columns.map((_, i) => [`q${i}`, optNum])),
  });
  const qrows = await warehouse.query(
    quality,
    { baseline: plan.baseline.modelVersion, canary: plan.canary.modelVersion },
    qualityRow,
    options,
  );
  const latest = (version: string): Record<string, number> | undefined => {
    const r = qrows.find((x) => x.version === version) as Record<string, number | undefined> | undefined;
    if (!r) return undefined;
    const out: Record<string, number> = {};
    columns.forEach((c, i) => {
      const v = r[`q${i}`];
      if (v !== undefined && Number.isFinite(v)) out[c] = v;
    });
    return out;
  };
  const bq = latest(plan.baseline.modelVersion);
  const cq = latest(plan.canary.modelVersion);
  return {
    figures: {
      ...figures,
      baseline: { ...figures.baseline, ...(bq ? { quality: bq } : {}) },
      canary: { ...figures.canary, ...(cq ? { quality: cq } : {}) },
    },
    statements: 2,
  };
}
