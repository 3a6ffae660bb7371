import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/databricks-connection.js';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy, type PolicyIssue, parsePolicy } from '../../src/config/policy.js';
import { metricTable } from '../../src/config/policy-monitors.js';

function issuesOf(yaml: string): PolicyIssue[] {
  try {
    parsePolicy(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/** A policy with one monitor; `monitor` and `rest` are YAML lines indented under it. */
const policyWith = (monitor: string, rest = '') => `defaults: { catalog: acme, schema: mlops }
monitors:
  churn:
    model: churn_model
    schedule: "0 13 * * *"
    channel: C0MLOPS
${monitor}
${rest}`;

const performance = `    rules:
      performance:
        all:
          - { metric: f1_score.macro, direction: below, threshold: 0.5 }`;

describe('monitors in the policy file', () => {
  it('loads the example monitor: the reference design, daily on model id *, retraining with job 1001', () => {
    const policy = loadPolicy(EXAMPLE_POLICY_PATH);
    expect(policy.charts).toEqual({ renderer: 'quickchart' });
    expect(policy.monitors?.churn).toMatchObject({
      model: 'churn_model',
      table: 'acme.mlops.churn_inference',
      channel: 'C0MLOPS',
      granularity: '1 day',
      modelIds: ['*'],
      retrainJob: 1001,
      history: 30,
      refreshFirst: false,
      rules: {
        performance: {
          all: [
            { metric: 'f1_score.macro', direction: 'below', threshold: 0.5, abs: false },
            { metric: 'expected_loss', direction: 'above', threshold: 30, abs: true },
          ],
        },
        drift: {
          all: [
            {
              metric: 'js_distance',
              columns: ['churn', 'prediction'],
              driftType: 'CONSECUTIVE',
              direction: 'above',
              threshold: 0.19,
            },
          ],
        },
      },
    });
  });

  it('fills in defaults: UTC, one day, model id *, 30 windows of history, 7 windows judged again', () => {
    const policy = parsePolicy(policyWith(`    table: acme.mlops.churn_inference\n${performance}`));
    expect(policy.monitors?.churn).toMatchObject({
      timezone: 'UTC',
      granularity: '1 day',
      modelIds: ['*'],
      history: 30,
      recheckWindows: 7,
    });
  });

  const cases = [
    {
      name: 'a drift condition without a column',
      yaml: policyWith(`    table: acme.mlops.t
    rules:
      drift:
        all:
          - { metric: js_distance, direction: above, threshold: 0.19 }`),
      want: {
        key: 'monitors.churn.rules.drift.all[0].column',
        problem: 'is missing: a drift rule (js_distance) is about a column',
        fix: expect.stringContaining('columns: [churn, prediction]'),
      },
    },
    {
      name: 'a struct metric without its field',
      yaml: policyWith(`    table: acme.mlops.t
    rules:
      numeric:
        any:
          - { metric: ks_test, column: tenure, direction: below, threshold: 0.05 }`),
      want: {
        key: 'monitors.churn.rules.numeric.any[0].metric',
        problem: '"ks_test" is a struct of several values',
        fix: 'name one field: ks_test.statistic or ks_test.pvalue',
      },
    },
    {
      name: 'SQL where a metric belongs',
      yaml: policyWith(`    table: acme.mlops.t
    rules:
      x:
        all:
          - { metric: "f1_score.macro) OR (1=1", direction: below, threshold: 0.5 }`),
      want: {
        key: 'monitors.churn.rules.x.all[0].metric',
        problem: expect.stringContaining('is not a metric column'),
      },
    },
    {
      name: 'a misspelt key, with a suggestion',
      yaml: policyWith(`    table: acme.mlops.t
    rules:
      x:
        all:
          - { metric: f1_score.macro, direction: below, treshold: 0.5 }`),
      want: { key: 'monitors.churn.rules.x.all[0].treshold', fix: 'rename it to threshold' },
    },
    {
      name: 'both the monitored table and the metric tables',
      yaml: policyWith(`    table: acme.mlops.t
    profileTable: acme.mlops.p
${performance}`),
      want: { key: 'monitors.churn.table', problem: 'is given together with profileTable/driftTable' },
    },
    {
      name: 'no table at all',
      yaml: policyWith(performance),
      want: { key: 'monitors.churn.table', problem: 'is missing' },
    },
    {
      name: 'a Quartz schedule node-cron cannot read',
      yaml: policyWith(`    table: acme.mlops.t\n${performance}`).replace(
        '"0 13 * * *"',
        '"0 0 12 * * ? 2026"',
      ),
      want: {
        key: 'monitors.churn.schedule',
        problem: expect.stringContaining('is not a valid cron expression'),
      },
    },
    {
      name: 'an unknown time zone',
      yaml: policyWith(`    table: acme.mlops.t\n    timezone: PST8\n${performance}`),
      want: { key: 'monitors.churn.timezone', problem: expect.stringContaining('not an IANA time zone') },
    },
    {
      name: 'a rule with both all and any',
      yaml: policyWith(`    table: acme.mlops.t
    rules:
      x:
        all: [{ metric: accuracy_score, direction: below, threshold: 0.8 }]
        any: [{ metric: accuracy_score, direction: below, threshold: 0.7 }]`),
      want: { key: 'monitors.churn.rules.x', problem: 'has both all and any' },
    },
    {
      name: 'a negative number of windows to judge again',
      yaml: policyWith(`    table: acme.mlops.t\n    recheckWindows: -1\n${performance}`),
      want: {
        key: 'monitors.churn.recheckWindows',
        problem: '-1 is not a number of windows from 0 to 366',
        fix: expect.stringContaining('or 0 to judge each window once'),
      },
    },
    {
      name: 'a QuickChart host over plain http',
      yaml: policyWith(
        `    table: acme.mlops.t\n${performance}`,
        'charts: { quickchartHost: "http://charts.internal" }',
      ),
      want: { key: 'charts.quickchartHost', problem: '"http://charts.internal" is not an https:// host URL' },
    },
  ];
  for (const c of cases) {
    it(`reports ${c.name} with its key path and a fix`, () => {
      expect(issuesOf(c.yaml)).toContainEqual(expect.objectContaining(c.want));
    });
  }

  it('reads drift statistics from the drift table and everything else from the profile table', () => {
    expect(
      ['js_distance', 'ks_test.pvalue', 'count_delta', 'f1_score.macro', 'expected_loss'].map(metricTable),
    ).toEqual(['drift', 'drift', 'drift', 'profile', 'profile']);
  });
});
