import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/index.js';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import { dataQualityMonitorBody, legacyMonitorBody } from '../../src/databricks/monitors.js';
import type { UserError } from '../../src/domain/errors.js';
import { type AutoRetrainFacts, decideAutoRetrain } from '../../src/monitoring/auto-retrain.js';
import { checkSetup, monitorSpecOf } from '../../src/monitoring/plan.js';
import { defaultOutputTable, modelUri } from '../../src/scoring/service.js';

const defaults = { catalog: 'acme', schema: 'mlops' };
const policy = loadPolicy(EXAMPLE_POLICY_PATH);
const spec = monitorSpecOf('churn', policy.monitors!.churn!);
const columns = [
  'customer_id',
  'monthly_charges',
  'contract',
  'senior_citizen',
  'prediction',
  'churn',
  'model_version',
  'inference_timestamp',
].map((name) => ({ name }));
const table = { fullName: spec.table, tableId: 't1', columns, properties: {} };

describe('decideAutoRetrain', () => {
  const cases: Array<{ name: string; facts: AutoRetrainFacts; want: ReturnType<typeof decideAutoRetrain> }> =
    [
      { name: 'off', facts: { enabled: false, violations: 5, alertOpen: true }, want: 'nothing' },
      {
        name: 'a new episode',
        facts: { enabled: true, violations: 5, alertOpen: true },
        want: 'open-and-request',
      },
      { name: 'no violations', facts: { enabled: true, violations: 0, alertOpen: true }, want: 'nothing' },
      {
        name: 'the same episode',
        facts: { enabled: true, violations: 9, alertOpen: true, episode: { requested: true } },
        want: 'nothing',
      },
      {
        name: 'an episode whose request was never made',
        facts: { enabled: true, violations: 9, alertOpen: true, episode: { requested: false } },
        want: 'request',
      },
      {
        name: 'the alerts recovered',
        facts: { enabled: true, violations: 3, alertOpen: false, episode: { requested: true } },
        want: 'close',
      },
      {
        name: 'nothing open, no episode',
        facts: { enabled: true, violations: 3, alertOpen: false },
        want: 'nothing',
      },
    ];
  for (const c of cases)
    it(`decides ${c.want} for ${c.name}`, () => expect(decideAutoRetrain(c.facts)).toBe(c.want));
});

describe('the monitor the policy sets up', () => {
  it('is the reference monitor: inference log, expected_loss, slices, baseline, output schema', () => {
    expect(spec).toMatchObject({
      table: 'acme.mlops.churn_inference',
      problemType: 'classification',
      modelIdColumn: 'model_version',
      granularities: ['1 day'],
      slicingExprs: ["senior_citizen='Yes'", 'contract'],
      baselineTable: 'acme.mlops.churn_baseline',
      outputSchema: 'acme.mlops',
    });
    expect(spec.customMetrics.map((m) => m.name)).toEqual(['expected_loss']);
  });

  it('speaks each API’s spelling', () => {
    const dq = dataQualityMonitorBody(spec, { tableId: 't1', schemaId: 's1' });
    expect(dq.data_profiling_config.inference_log).toMatchObject({
      problem_type: 'INFERENCE_PROBLEM_TYPE_CLASSIFICATION',
      prediction_column: 'prediction',
      granularities: ['AGGREGATION_GRANULARITY_1_DAY'],
    });
    expect(dq.data_profiling_config.custom_metrics?.[0]?.type).toBe(
      'DATA_PROFILING_CUSTOM_METRIC_TYPE_AGGREGATE',
    );
    const legacy = legacyMonitorBody(spec);
    expect(legacy.inference_log).toMatchObject({
      problem_type: 'PROBLEM_TYPE_CLASSIFICATION',
      prediction_col: 'prediction',
    });
    expect(legacy.custom_metrics?.[0]?.type).toBe('CUSTOM_METRIC_TYPE_AGGREGATE');
    expect(JSON.parse(legacy.custom_metrics![0]!.output_data_type)).toMatchObject({ type: 'double' });
  });

  const refused = (facts: Parameters<typeof checkSetup>[2]): string | undefined => {
    try {
      checkSetup('churn', spec, facts);
      return undefined;
    } catch (e) {
      return (e as UserError).code;
    }
  };
  const fine = { table, baseline: table, outputSchemaExists: true, monitorExists: false };
  it.each([
    ['nothing for a setup that fits', fine, undefined],
    ['table_not_found for no table', { ...fine, table: undefined }, 'table_not_found'],
    ['monitor_exists for a monitored table', { ...fine, monitorExists: true }, 'monitor_exists'],
    [
      'monitor_columns_missing for a missing label column',
      { ...fine, table: { ...table, columns: columns.filter((c) => c.name !== 'churn') } },
      'monitor_columns_missing',
    ],
    [
      'monitor_baseline_missing for no baseline',
      { ...fine, baseline: undefined },
      'monitor_baseline_missing',
    ],
    [
      'monitor_schema_missing for no output schema',
      { ...fine, outputSchemaExists: false },
      'monitor_schema_missing',
    ],
  ])('refuses with %s', (_name, facts, want) => expect(refused(facts)).toBe(want));
});

describe('/mlops score parsing and its job parameters', () => {
  it('reads an alias, a version, short tables and into', () => {
    expect(parseCommand('score churn_model@Champion churn_baseline', defaults)).toEqual({
      subcommand: 'score',
      model: 'acme.mlops.churn_model',
      target: { alias: 'Champion' },
      input: 'acme.mlops.churn_baseline',
    });
    expect(parseCommand('score churn_model@v3 raw.customers into acme.out.scored', defaults)).toMatchObject({
      target: { version: 3 },
      input: 'acme.raw.customers',
      output: 'acme.out.scored',
    });
  });

  it('names the model URI as MLflow writes it', () => {
    expect(modelUri('acme.mlops.churn_model', { alias: 'Champion' })).toBe(
      'models:/acme.mlops.churn_model@Champion',
    );
    expect(modelUri('acme.mlops.churn_model', { version: 3 })).toBe('models:/acme.mlops.churn_model/3');
  });

  it('writes <input>_scored, in the policy’s output schema when it names one', () => {
    expect(defaultOutputTable('acme.raw.customers', {})).toBe('acme.raw.customers_scored');
    expect(defaultOutputTable('acme.raw.customers', { outputSchema: 'acme.mlops' })).toBe(
      'acme.mlops.customers_scored',
    );
  });

  it('refuses a table name with other characters, and a dangling into', () => {
    expect(() => parseCommand('score churn_model@1 acme.mlops.x;drop', defaults)).toThrow();
    expect(() => parseCommand('score churn_model@1 churn_baseline into', defaults)).toThrow();
  });
});
