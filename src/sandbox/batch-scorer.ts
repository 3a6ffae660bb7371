/**
 * The batch-scoring job of the sandbox: when a run of a `scores_batch` job ends, it scores the
 * run's `input_table` with the model version its `model_uri` names (the demo churn score, as the
 * served model answers) into `output_table` in DuckDB, with the reference's inference-tracking
 * columns, and registers the output in the workspace twin's Unity Catalog with the property the
 * bot checks before writing to a table. What Databricks would refuse fails the run with its words.
 */
import { SCORED_BY_PROPERTY, SCORED_BY_VALUE } from '../domain/ports/tables.js';
import type { SandboxDb } from './duckdb.js';
import type { BatchScoreResult } from './workspace/context.js';
import { CHURN_FEATURES, CONTRACT_WEIGHT } from './workspace/invocations.js';
import type { Job, JobRun, WorkspaceState } from './workspace/state.js';

const TABLE = /^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$/;
/** The columns the job adds to every scored row (reference: inference tracking), plus the request. */
export const SCORING_COLUMNS = [
  'prediction',
  'model_name',
  'model_version',
  'model_alias',
  'inference_timestamp',
  'request_id',
] as const;

const SPARK_TYPE: Record<string, string> = {
  VARCHAR: 'STRING',
  INTEGER: 'INT',
  BIGINT: 'BIGINT',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
  DATE: 'DATE',
};

/** `models:/name@alias` or `models:/name/3`. */
function modelOf(
  state: WorkspaceState,
  uri: string,
): { name: string; version: number; alias?: string } | string {
  const m = /^models:\/([^@/]+)(?:@([^/]+)|\/(\d+))$/.exec(uri);
  if (!m)
    return `INVALID_PARAMETER_VALUE: '${uri}' is not a models:/<name>@<alias> or models:/<name>/<version> URI.`;
  const name = m[1]!.toLowerCase();
  const model = state.models.get(name);
  if (!model) return `RESOURCE_DOES_NOT_EXIST: Registered model '${name}' does not exist.`;
  if (m[2] !== undefined) {
    const alias = model.aliases.get(m[2].toLowerCase());
    if (!alias) return `RESOURCE_DOES_NOT_EXIST: Registered model alias ${m[2]} not found.`;
    return { name, version: alias.version_num, alias: alias.alias_name };
  }
  const version = Number(m[3]);
  if (!model.versions.has(version))
    return `RESOURCE_DOES_NOT_EXIST: Model version ${name}/${version} does not exist.`;
  return { name, version };
}

/**
 * @example const twin = await startWorkspaceTwin({ state, onBatchScore: createBatchScorer(db, state) });
 */
export function createBatchScorer(
  db: SandboxDb,
  state: WorkspaceState,
  now: () => number = Date.now,
): (run: JobRun, job: Job) => Promise<BatchScoreResult> {
  return async (run, job) => {
    const param = (name: string) =>
      run.job_parameters[name] ?? job.parameters.find((p) => p.name === name)?.default ?? '';
    const model = modelOf(state, param('model_uri'));
    if (typeof model === 'string') return { ok: false, message: model };
    const input = param('input_table').toLowerCase();
    const output = param('output_table').toLowerCase();
    if (!TABLE.test(input) || !TABLE.test(output)) {
      return { ok: false, message: 'input_table and output_table must be catalog.schema.table names.' };
    }
    let columns: Array<{ column_name: string; column_type: string }>;
    try {
      columns = (await db.all(`DESCRIBE ${input}`)) as typeof columns;
    } catch {
      return {
        ok: false,
        message: `[TABLE_OR_VIEW_NOT_FOUND] The table or view \`${input}\` cannot be found.`,
      };
    }
    const names = columns.map((c) => c.column_name);
    const missing = CHURN_FEATURES.filter((f) => !names.includes(f));
    if (missing.length > 0) {
      return {
        ok: false,
        message: `MlflowException: Model is missing inputs [${missing.map((f) => `'${f}'`).join(', ')}].`,
      };
    }
    const bias = state.models.get(model.name)?.versions.get(model.version)?.behaviour?.bias ?? 0;
    const contract = Object.entries(CONTRACT_WEIGHT)
      .map(([name, w]) => `WHEN lower(contract) = '${name}' THEN ${w}`)
      .join(' ');
    const keep = names
      .filter((n) => !(SCORING_COLUMNS as readonly string[]).includes(n))
      .map((n) => `"${n}"`);
    const z = `(-1.2 - 0.06 * tenure + 0.025 * monthly_charges + (CASE ${contract} ELSE 0 END) + (CASE WHEN senior_citizen IN ('Yes', '1', 'true') THEN 0.45 ELSE 0 END) + $bias)`;
    const [catalog, schema] = output.split('.');
    try {
      await db.run(`CREATE SCHEMA IF NOT EXISTS ${catalog}.${schema}`);
      await db.run(
        `CREATE OR REPLACE TABLE ${output} AS SELECT ${[...keep, ''].join(', ')}
           CASE WHEN 1 / (1 + exp(-${z})) >= 0.5 THEN 'Yes' ELSE 'No' END AS prediction,
           CAST($name AS VARCHAR) AS model_name, CAST($version AS VARCHAR) AS model_version,
           CAST($alias AS VARCHAR) AS model_alias, CAST($at AS TIMESTAMP) AS inference_timestamp,
           CAST($rid AS VARCHAR) AS request_id
         FROM ${input}`,
        {
          bias,
          name: model.name,
          version: String(model.version),
          alias: model.alias ?? null,
          at: new Date(now()),
          rid: param('request_id'),
        },
      );
    } catch (e) {
      return { ok: false, message: `[SCORING_FAILED] ${(e as Error).message.split('\n')[0]}` };
    }
    const [count] = await db.all(`SELECT count(*) AS n FROM ${output}`);
    const written = (await db.all(`DESCRIBE ${output}`)) as typeof columns;
    if (!state.tables.has(output)) state.tables.set(output, crypto.randomUUID());
    state.table_details.set(output, {
      columns: written.map((c) => ({
        name: c.column_name,
        type_name: SPARK_TYPE[c.column_type] ?? c.column_type,
      })),
      properties: { [SCORED_BY_PROPERTY]: SCORED_BY_VALUE, 'modelgate.request_id': param('request_id') },
      owner: job.creator_user_name,
      comment: `Batch scores of ${model.name} v${model.version}, written by job ${job.name}.`,
    });
    return { ok: true, rows: Number(count?.n ?? 0) };
  };
}
