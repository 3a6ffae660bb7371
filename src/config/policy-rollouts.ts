/**
 * The canary-rollout parts of the policy file: named analyses (`analyses:`) with their guardrails
 * and limits, and where each endpoint's AI Gateway inference table lives (`inferenceTables:`), which
 * the checks read and which a deploy enables when asked (`enableOnDeploy`).
 *
 * Self-contained like policy-gates.ts: policy.ts imports these schemas, this imports nothing of it.
 */
import { z } from 'zod';
import { checked, endpointNameSchema, show } from './checked.js';
import { durationSchema, parseDuration } from './policy-gates.js';

const NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const UC_PART = /^[A-Za-z0-9_]{1,255}$/;
const TABLE = /^[A-Za-z0-9_]{1,255}\.[A-Za-z0-9_]{1,255}\.[A-Za-z0-9_]{1,255}$/;

/** The metrics a guardrail can name. */
export const GUARDRAIL_METRICS = ['error_rate', 'latency_p50', 'latency_p99', 'quality'] as const;

const ucPart = (what: string) =>
  checked(
    (v) => UC_PART.test(v),
    (v) => `${show(v)} is not a ${what} name`,
    () => `write the ${what} alone: letters, digits and "_"`,
  );

const tableSchema = checked(
  (v) => TABLE.test(v),
  (v) => `${show(v)} is not a three-part table name`,
  () => 'write catalog.schema.table, e.g. acme.mlops.churn_inference_profile_metrics',
);

/**
 * One guardrail: a metric and exactly one bound, absolute (`max`, `min`) or relative to the baseline
 * (`maxRatio`, `minRatio`). A `quality` guardrail names the monitor's profile metrics table and the
 * metric column, read per model version.
 */
export const guardrailSchema = z
  .strictObject({
    metric: z.enum(GUARDRAIL_METRICS),
    max: z.number().nonnegative().optional(),
    min: z.number().optional(),
    maxRatio: z.number().positive().optional(),
    minRatio: z.number().positive().optional(),
    profileTable: tableSchema.optional(),
    /** The metric column; a struct field with a dot, e.g. f1_score.macro. */
    column: checked(
      (v) => /^[A-Za-z0-9_]{1,255}(\.[A-Za-z0-9_]{1,255})?$/.test(v),
      (v) => `${show(v)} is not a metric column`,
      () => 'write the column, or column.field for a struct, e.g. f1_score.macro',
    ).optional(),
    modelIdColumn: ucPart('column').default('model_version'),
  })
  .superRefine((g, ctx) => {
    const bounds = (['max', 'min', 'maxRatio', 'minRatio'] as const).filter((b) => g[b] !== undefined);
    if (bounds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          bounds.length === 0 ? `the ${g.metric} guardrail sets no bound` : `sets ${bounds.join(' and ')}`,
        params: { fix: 'give exactly one of max, min (absolute) or maxRatio, minRatio (× the baseline)' },
      });
    }
    if (g.metric === 'quality' && (g.profileTable === undefined || g.column === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a quality guardrail needs the monitor table and its metric column',
        params: {
          fix: 'add profileTable: <catalog.schema.table>_profile_metrics and column: <metric>, e.g. f1_score',
        },
      });
    }
    if (g.metric !== 'quality' && (g.profileTable !== undefined || g.column !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: `profileTable and column apply to quality guardrails, not ${g.metric}`,
        params: { fix: 'remove them, or set metric: quality' },
      });
    }
  });

/** A named analysis: guardrails and the limits the rollout's checks follow. */
export const analysisSchema = z
  .strictObject({
    guardrails: z.array(guardrailSchema).min(1),
    /** Fewer requests than this (canary, or baseline for a ratio) make a check inconclusive. */
    minRequests: z.number().int().min(1).default(100),
    /** Failing checks in a row before the canary is rolled back. */
    failuresToRollback: z.number().int().min(1).max(100).default(2),
    /** Inconclusive checks in a row before the rollout fails (and rolls back). */
    inconclusiveLimit: z.number().int().min(1).max(1000).default(6),
    /** Time between checks once a step has dwelt its `every`. */
    checkEvery: durationSchema.default(parseDuration('5m')),
    /** How long the figures may be unreadable before the rollout fails safe (rolled back). */
    unreadableFor: durationSchema.default(parseDuration('30m')),
    /** A step's dwell time when the command gives no `every=`. */
    every: durationSchema.default(parseDuration('15m')),
  })
  .superRefine((a, ctx) => {
    // One statement reads every quality guardrail, so they must share the monitor table.
    const tables = new Set(
      a.guardrails.filter((g) => g.metric === 'quality').map((g) => `${g.profileTable}|${g.modelIdColumn}`),
    );
    if (tables.size > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['guardrails'],
        message: 'the quality guardrails name different monitor tables',
        params: { fix: 'read every quality metric of one analysis from one profile metrics table' },
      });
    }
  });
export type AnalysisConfig = z.infer<typeof analysisSchema>;

const analysisName = checked(
  (v) => NAME.test(v),
  (v) => `${show(v)} is not an analysis name`,
  () => 'use lower-case letters, digits, "_" and "-", starting with a letter',
);

export const analysesSchema = z.record(analysisName, analysisSchema);

/** Where an endpoint's AI Gateway inference table lives: `<catalog>.<schema>.<prefix>_payload`. */
export const inferenceTableSchema = z.strictObject({
  catalog: ucPart('catalog'),
  schema: ucPart('schema'),
  prefix: ucPart('table prefix'),
  /** Turn the inference table on when a deploy creates or changes the endpoint. */
  enableOnDeploy: z.boolean().default(false),
});
export type InferenceTableConfig = z.infer<typeof inferenceTableSchema>;

export const inferenceTablesSchema = z.record(endpointNameSchema, inferenceTableSchema);

/** The keys policy.ts spreads into its schema. */
export const rolloutPolicyShape = {
  /** Canary analyses by name (`/mlops rollout … analysis=<name>`; `default` when none is named). */
  analyses: analysesSchema.optional(),
  /** Each endpoint's AI Gateway inference table. */
  inferenceTables: inferenceTablesSchema.optional(),
};

/** The payload table of an endpoint's inference table config. */
export const payloadTableOf = (t: InferenceTableConfig): string =>
  `${t.catalog}.${t.schema}.${t.prefix}_payload`;
