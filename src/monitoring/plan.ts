/**
 * What `/mlops monitor create` will ask Databricks for, pure: the policy's monitor and its `setup`
 * become a MonitorSpec, and the spec is checked against what Unity Catalog says of the tables (the
 * monitored table's columns, the baseline table, the output schema) so that a bad setup is refused
 * before anything is sent, with the fix.
 */
import type { MonitorConfig } from '../config/policy-monitors.js';
import { UserError } from '../domain/errors.js';
import type { MonitorSpec } from '../domain/ports/monitors.js';
import type { TableInfo } from '../domain/ports/tables.js';

/** The model-id column when neither the setup nor the monitor names one (reference: model_version). */
export const DEFAULT_MODEL_ID_COLUMN = 'model_version';

/**
 * The spec of a policy monitor; throws monitor_setup_missing when the policy has no `setup` for it.
 *
 * @example monitorSpecOf('churn', policy.monitors.churn).customMetrics[0]?.name // 'expected_loss'
 */
export function monitorSpecOf(name: string, config: MonitorConfig): MonitorSpec {
  const setup = config.setup;
  if (!setup || !config.table) throw new UserError('monitor_setup_missing', { monitor: name });
  return {
    table: config.table.toLowerCase(),
    problemType: setup.problemType,
    predictionColumn: setup.predictionColumn,
    ...(setup.labelColumn ? { labelColumn: setup.labelColumn } : {}),
    timestampColumn: setup.timestampColumn,
    modelIdColumn: config.modelIdColumn ?? DEFAULT_MODEL_ID_COLUMN,
    granularities: setup.granularities ?? [config.granularity],
    slicingExprs: setup.slicingExprs,
    ...(setup.baselineTable ? { baselineTable: setup.baselineTable.toLowerCase() } : {}),
    outputSchema: setup.outputSchema.toLowerCase(),
    customMetrics: setup.customMetrics.map((m) => ({
      name: m.name,
      type: m.type,
      inputColumns: m.inputColumns,
      definition: m.definition,
      outputType: m.outputType,
    })),
    ...(setup.refreshSchedule ? { refreshSchedule: setup.refreshSchedule } : {}),
  };
}

/** The columns a spec names on the monitored table. */
export function namedColumns(spec: MonitorSpec): string[] {
  const metricColumns = spec.customMetrics.flatMap((m) => m.inputColumns).filter((c) => c !== ':table');
  return [
    ...new Set([
      spec.predictionColumn,
      spec.labelColumn,
      spec.timestampColumn,
      spec.modelIdColumn,
      ...metricColumns,
    ]),
  ].filter((c): c is string => c !== undefined);
}

/** What Unity Catalog says of the tables a spec names, read before planning. */
export interface SetupFacts {
  table: TableInfo | undefined;
  /** Absent when the spec names no baseline. */
  baseline?: TableInfo | undefined;
  outputSchemaExists: boolean;
  /** Whether the table has a monitor already. */
  monitorExists: boolean;
}

/**
 * Refuses a spec that Databricks would refuse or that would do harm: no such table, a named column
 * it lacks, a missing baseline or output schema, a monitor there already. Returns nothing when fine.
 *
 * @example checkSetup('churn', spec, facts) // throws UserError('monitor_columns_missing', …) for a typo
 */
export function checkSetup(name: string, spec: MonitorSpec, facts: SetupFacts): void {
  if (!facts.table) throw new UserError('table_not_found', { table: spec.table });
  if (facts.monitorExists) throw new UserError('monitor_exists', { table: spec.table, monitor: name });
  const columns = facts.table.columns.map((c) => c.name);
  const lower = new Set(columns.map((c) => c.toLowerCase()));
  const missing = namedColumns(spec).filter((c) => !lower.has(c.toLowerCase()));
  if (missing.length > 0) {
    throw new UserError('monitor_columns_missing', { table: spec.table, monitor: name, missing, columns });
  }
  if (spec.baselineTable && !facts.baseline) {
    throw new UserError('monitor_baseline_missing', { table: spec.baselineTable, monitor: name });
  }
  if (!facts.outputSchemaExists) {
    throw new UserError('monitor_schema_missing', { schema: spec.outputSchema, monitor: name });
  }
}
