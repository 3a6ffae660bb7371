/**
 * The `monitors` and `charts` keys of the policy file: which models the bot watches for drift, on
 * which schedule, where it posts, and the threshold rules over the Lakehouse Monitoring metric tables.
 * Strict like the rest of the policy: every problem carries its key path and a fix (`params.fix`).
 *
 * Metric paths and column names are checked as identifiers here; the drift queries then place metric
 * paths in SQL text only through `columnName` and bind every column name and value as a parameter.
 */
import { z } from 'zod';
import { columnName, tableName } from '../domain/sql-identifiers.js';
import { isValidCron, scheduleProblem } from '../lib/cron.js';
import {
  channelIdSchema as channelSchema,
  checked,
  endpointNameSchema as endpointSchema,
  groupRefSchema,
  show,
  userIdSchema,
} from './checked.js';

const valid = (f: (v: string) => unknown) => (v: string) => {
  try {
    f(v);
    return true;
  } catch {
    return false;
  }
};

/** Statistics the drift metrics table holds (reference §2.3); anything else is read from the profile table. */
export const DRIFT_METRICS = [
  'js_distance',
  'ks_test.statistic',
  'ks_test.pvalue',
  'chi_squared_test.statistic',
  'chi_squared_test.pvalue',
  'wasserstein_distance',
  'population_stability_index',
  'tv_distance',
  'l_infinity_distance',
  'count_delta',
  'avg_delta',
  'percent_null_delta',
  'percent_zeros_delta',
  'percent_distinct_delta',
  'non_null_columns_delta.added',
  'non_null_columns_delta.missing',
] as const;

/** Struct-valued metrics: a rule must name one of their fields. */
const STRUCT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  f1_score: ['macro', 'weighted'],
  precision: ['macro', 'weighted'],
  recall: ['macro', 'weighted'],
  ks_test: ['statistic', 'pvalue'],
  chi_squared_test: ['statistic', 'pvalue'],
  non_null_columns_delta: ['added', 'missing'],
};

export const GRANULARITIES = [
  '5 minutes',
  '30 minutes',
  '1 hour',
  '1 day',
  '1 week',
  '2 weeks',
  '3 weeks',
  '4 weeks',
  '1 month',
  '1 year',
] as const;

const metricPathSchema = checked(
  (v) => {
    const parts = v.split('.');
    return (
      parts.length >= 1 &&
      parts.length <= 3 &&
      parts.every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) && valid(columnName)(p)) &&
      !(parts.length === 1 && STRUCT_FIELDS[v])
    );
  },
  (v) =>
    STRUCT_FIELDS[v]
      ? `${show(v)} is a struct of several values`
      : `${show(v)} is not a metric column (or struct field) of the metric tables`,
  (v) =>
    STRUCT_FIELDS[v]
      ? `name one field: ${STRUCT_FIELDS[v]!.map((f) => `${v}.${f}`).join(' or ')}`
      : 'write the column as in the metric table, e.g. f1_score.macro, accuracy_score, expected_loss, js_distance, ks_test.pvalue',
);

/** A column of the monitored table, or `:table` for table-level rows (model quality, custom metrics). */
const sourceColumnSchema = checked(
  (v) => v === ':table' || (/^[A-Za-z_][A-Za-z0-9_]*$/.test(v) && valid(columnName)(v)),
  (v) => `${show(v)} is not a column name`,
  () => 'use the column of the monitored table as written there (letters, digits, "_"), or :table',
);

const tableNameSchema = checked(
  valid(tableName),
  (v) => `${show(v)} is not a three-part table name`,
  () => 'write it as catalog.schema.table, e.g. acme.mlops.churn_inference',
);

const identifierSchema = checked(
  (v) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) && valid(columnName)(v),
  (v) => `${show(v)} is not a column name`,
  () => 'use the column name as in the metric tables, e.g. model_version',
);

const modelSchema = checked(
  (v) => {
    const parts = v.split('.');
    return (parts.length === 1 || parts.length === 3) && parts.every((p) => /^[A-Za-z0-9_-]{1,255}$/.test(p));
  },
  (v) => `${show(v)} is not a model name`,
  () => 'write the short name (churn_model, read in the default catalog and schema) or catalog.schema.model',
);

const granularitySchema = checked(
  (v) => (GRANULARITIES as readonly string[]).includes(v),
  (v) => `${show(v)} is not a monitor granularity`,
  () => `use one of ${GRANULARITIES.join(', ')} (as the monitor writes it)`,
);

const modelIdSchema = checked(
  (v) => /^(\*|[A-Za-z0-9_.-]{1,64})$/.test(v),
  (v) => `${show(v)} is not a model id`,
  () => 'use "*" (all versions together, quoted) or a version number such as "2"',
);

const httpsUrlSchema = checked(
  (v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'https:' && u.pathname === '/' && !u.search && !u.hash;
    } catch {
      return false;
    }
  },
  (v) => `${show(v)} is not an https:// host URL`,
  () => 'write the QuickChart server as https://host[:port], e.g. https://quickchart.internal.example.com',
);

export const RULE_TABLES = ['profile', 'drift'] as const;
export const DRIFT_TYPES = ['CONSECUTIVE', 'BASELINE'] as const;

/** One condition of a rule: a metric compared with a threshold, per window. */
export const ruleConditionSchema = z
  .strictObject({
    metric: metricPathSchema,
    /** Which metric table; inferred from the metric (drift statistics → drift, the rest → profile). */
    table: z.enum(RULE_TABLES).optional(),
    /** A column of the monitored table; `:table` (the default for profile metrics) for table-level rows. */
    column: sourceColumnSchema.optional(),
    /** Several columns: one condition each, combined like the rule's other conditions. */
    columns: z.array(sourceColumnSchema).min(1).optional(),
    /** Drift tables only: compare with the previous window or with the baseline. */
    driftType: z.enum(DRIFT_TYPES).optional(),
    /** Compare the absolute value (expected_loss is ≤ 0 in the reference design). */
    abs: z.boolean().default(false),
    direction: z.enum(['above', 'below']),
    threshold: z.number(),
  })
  .superRefine((c, ctx) => {
    const table = c.table ?? metricTable(c.metric);
    const issue = (path: string, message: string, fix: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message, params: { fix } });
    if (c.column !== undefined && c.columns !== undefined) {
      issue('columns', 'is given together with column', 'keep one of column and columns');
    }
    if (!Number.isFinite(c.threshold)) issue('threshold', 'is not a finite number', 'write a number');
    if (table === 'drift') {
      if (c.column === undefined && c.columns === undefined) {
        issue(
          'column',
          `is missing: a drift rule (${c.metric}) is about a column`,
          'name the column of the monitored table, e.g. column: prediction, or columns: [churn, prediction]',
        );
      }
      for (const col of [c.column, ...(c.columns ?? [])]) {
        if (col === ':table') {
          issue('column', 'is :table, which has no drift statistics', 'name a column of the monitored table');
        }
      }
    } else if (c.driftType !== undefined) {
      issue('driftType', `applies to drift metrics only (${c.metric} is a profile metric)`, 'remove it');
    }
  });
export type RuleConditionConfig = z.infer<typeof ruleConditionSchema>;

/** A rule: its conditions, all of which (`all`) or any of which (`any`) must hold for a violation. */
export const ruleSchema = z
  .strictObject({
    /** Shown in alerts; defaults to the conditions written out. */
    description: z.string().min(1).max(200).optional(),
    all: z.array(ruleConditionSchema).min(1).optional(),
    any: z.array(ruleConditionSchema).min(1).optional(),
  })
  .superRefine((r, ctx) => {
    if ((r.all === undefined) === (r.any === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: r.all ? 'has both all and any' : 'has no conditions',
        params: {
          fix: 'list the conditions under all: (every one must hold) or any: (one is enough), not both',
        },
      });
    }
  });

/**
 * Who may Snooze and Acknowledge a monitor's alerts (`responders`): listed users, members of listed
 * groups, or everyone. Absent: the approvers of the `retrain` gate, the people who decide whether the
 * model retrains (config/access.ts `respondersOf`).
 */
export const respondersSchema = z
  .strictObject({
    users: z.array(userIdSchema).default([]),
    groups: z.array(groupRefSchema.transform((g) => (g.startsWith('@') ? g.toLowerCase() : g))).default([]),
    everyone: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    if (!r.everyone && r.users.length === 0 && r.groups.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'names nobody, so nobody could snooze or acknowledge this monitor’s alerts',
        params: {
          fix: 'list users and/or groups, e.g. responders: { groups: ["@ml-oncall"] }, or write everyone: true; leave the key out to use the retrain gate’s approvers',
        },
      });
    }
  });
export type RespondersConfig = z.infer<typeof respondersSchema>;

const NAME = /^[a-z][a-z0-9_-]{0,39}$/;
const nameKey = (what: string) =>
  checked(
    (v) => NAME.test(v),
    (v) => `${show(v)} is not a valid ${what} name`,
    () => 'use 1–40 lower-case letters, digits, "-" or "_", starting with a letter',
  );

const schemaNameSchema = checked(
  (v) => {
    const parts = v.split('.');
    return parts.length === 2 && parts.every((p) => /^[A-Za-z0-9_]{1,255}$/.test(p));
  },
  (v) => `${show(v)} is not a catalog.schema name`,
  () => 'write the catalog and schema the metric tables go to, e.g. acme.mlops',
);

export const CUSTOM_METRIC_TYPES = ['aggregate', 'derived', 'drift'] as const;
export const CUSTOM_METRIC_OUTPUT_TYPES = ['double', 'long', 'string', 'boolean'] as const;

/** A custom metric of the monitor, as the reference's `expected_loss` aggregate. */
export const customMetricSchema = z.strictObject({
  name: identifierSchema,
  type: z.enum(CUSTOM_METRIC_TYPES).default('aggregate'),
  /** Columns it is computed on; `:table` (the default) for one table-level value. */
  inputColumns: z.array(sourceColumnSchema).min(1).default([':table']),
  /** Spark SQL (Jinja templated: {{prediction_col}}, {{label_col}}). */
  definition: z.string().min(1).max(4000),
  outputType: z.enum(CUSTOM_METRIC_OUTPUT_TYPES).default('double'),
});
export type CustomMetricConfig = z.infer<typeof customMetricSchema>;

/**
 * How `/mlops monitor create` makes the monitor on Databricks: an inference-log profile of the
 * monitored table, as the reference's `quality_monitors.create` does.
 */
export const monitorSetupSchema = z.strictObject({
  problemType: z.enum(['classification', 'regression']).default('classification'),
  predictionColumn: identifierSchema,
  labelColumn: identifierSchema.optional(),
  timestampColumn: identifierSchema,
  /** Default: the monitor's granularity. */
  granularities: z.array(granularitySchema).min(1).optional(),
  /** Each expression slices on its own: a predicate gives true/false slices, a column one per value. */
  slicingExprs: z.array(z.string().min(1).max(500)).default([]),
  baselineTable: tableNameSchema.optional(),
  /** Where the profile and drift metric tables are written. */
  outputSchema: schemaNameSchema,
  customMetrics: z.array(customMetricSchema).default([]),
  /** Databricks refreshes it on this Quartz schedule (the reference: "0 0 12 * * ?"); absent: manual. */
  refreshSchedule: z
    .strictObject({ quartz: z.string().min(1).max(100), timezone: z.string().default('UTC') })
    .optional(),
});
export type MonitorSetupConfig = z.infer<typeof monitorSetupSchema>;

export const monitorSchema = z
  .strictObject({
    /** The model watched: short name (default catalog and schema) or catalog.schema.model. */
    model: modelSchema,
    /** The monitored table; the bot asks the monitors API for its metric tables. */
    table: tableNameSchema.optional(),
    /** Or the two metric tables named directly (both). */
    profileTable: tableNameSchema.optional(),
    driftTable: tableNameSchema.optional(),
    /** node-cron syntax (five or six fields), read in `timezone`. */
    // Checked field by field, not in the refinement below: zod skips a refinement while other
    // fields have problems, and every problem of the file is reported at once.
    schedule: checked(
      (v) => isValidCron(v),
      (v) => `${show(v)} is not a valid cron expression`,
      () => 'use node-cron syntax, e.g. "0 13 * * *" (13:00 every day); day-of-week 0 or 7 is Sunday',
    ),
    timezone: checked(
      (v) => scheduleProblem('* * * * *', v) === undefined,
      (v) => `${show(v)} is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)`,
      () => 'use an IANA zone such as UTC, Europe/Paris or America/Los_Angeles',
    ).default('UTC'),
    /** Where alerts, failures and recoveries are posted. */
    channel: channelSchema,
    granularity: granularitySchema.default('1 day'),
    /** Which model-id rows to watch: '*' (all versions together) and/or versions, or the versions an endpoint serves. */
    modelIds: z
      .union([z.array(modelIdSchema).min(1), z.strictObject({ endpoint: endpointSchema })])
      .default(['*']),
    /** The metric tables' model-id column; default: the monitor's, else model_version. */
    modelIdColumn: identifierSchema.optional(),
    /** The Databricks job the Retrain button asks to run. */
    retrainJob: z.number().int().positive().optional(),
    /** Who may Snooze and Acknowledge its alerts; absent: the `retrain` gate's approvers. */
    responders: respondersSchema.optional(),
    /** How `/mlops monitor create` makes this monitor; needs `table`. */
    setup: monitorSetupSchema.optional(),
    /**
     * When a check finds violations (the reference's all_violations_count > 0), ask for the gated
     * retraining at once: one request per alert episode, still needing approval.
     */
    autoRetrain: z.boolean().optional(),
    /** Refresh the monitor (and wait for it) before reading its tables. */
    refreshFirst: z.boolean().default(false),
    /** Windows shown in the chart and counted in alerts. */
    history: z.number().int().min(2).max(366).default(30),
    /**
     * Finished windows judged again at every check: labels that arrive days late (normal for churn) or
     * a monitor refresh that recomputes old windows can make one violate after its first check. Each
     * window still alerts at most once. 0 judges each finished window once, at its first check.
     */
    recheckWindows: z.number().default(7),
    /** Overrides `charts.renderer` for this monitor. */
    renderer: z.enum(['quickchart', 'local']).optional(),
    rules: z.record(nameKey('rule'), ruleSchema),
  })
  .superRefine((m, ctx) => {
    const issue = (path: PropertyKey[], message: string, fix: string) =>
      ctx.addIssue({ code: 'custom', path, message, params: { fix } });
    const direct = m.profileTable !== undefined || m.driftTable !== undefined;
    if (m.table !== undefined && direct) {
      issue(
        ['table'],
        'is given together with profileTable/driftTable',
        'keep table (the bot finds the metric tables) or the two metric tables, not both',
      );
    } else if (m.table === undefined && !direct) {
      issue(
        ['table'],
        'is missing',
        'name the monitored table (table: catalog.schema.table), or both profileTable and driftTable',
      );
    } else if (direct && (m.profileTable === undefined || m.driftTable === undefined)) {
      issue(
        [m.profileTable === undefined ? 'profileTable' : 'driftTable'],
        'is missing',
        'name both metric tables, or the monitored table under table:',
      );
    }
    if (m.setup !== undefined && m.table === undefined) {
      issue(
        ['setup'],
        'needs the monitored table',
        'name it under table: (catalog.schema.table); the metric tables are then made by the monitor',
      );
    }
    if (!Number.isInteger(m.recheckWindows) || m.recheckWindows < 0 || m.recheckWindows > 366) {
      issue(
        ['recheckWindows'],
        `${show(m.recheckWindows)} is not a number of windows from 0 to 366`,
        'write a whole number, e.g. 7 (a week of daily windows judged again for late labels), or 0 to judge each window once',
      );
    }
    if (Object.keys(m.rules).length === 0) {
      issue(['rules'], 'has no rules', 'add at least one rule, e.g. performance: { all: [...] }');
    }
  });
export type MonitorConfig = z.infer<typeof monitorSchema>;

export const monitorsSchema = z.record(nameKey('monitor'), monitorSchema);
export type MonitorsConfig = z.infer<typeof monitorsSchema>;

export const CHART_RENDERERS = ['quickchart', 'local'] as const;
export type ChartRendererKind = (typeof CHART_RENDERERS)[number];

export const chartsSchema = z.strictObject({
  /** quickchart: a QuickChart URL in the alert; local: a PNG rendered here and uploaded to Slack. */
  renderer: z.enum(CHART_RENDERERS).default('quickchart'),
  /** A self-hosted QuickChart; default https://quickchart.io. */
  quickchartHost: httpsUrlSchema.optional(),
});
export type ChartsConfig = z.infer<typeof chartsSchema>;

/**
 * Which metric table a metric lives in when the rule does not say.
 *
 * @example metricTable('js_distance') // 'drift'
 * @example metricTable('f1_score.macro') // 'profile'
 */
export function metricTable(metric: string): 'profile' | 'drift' {
  return (DRIFT_METRICS as readonly string[]).includes(metric) || /_delta(\.|$)/.test(metric)
    ? 'drift'
    : 'profile';
}
