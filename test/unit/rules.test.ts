import { describe, expect, it } from 'vitest';
import { monitorSchema } from '../../src/config/policy-monitors.js';
import {
  conditionTerms,
  countLikeReference,
  type DriftRule,
  describeRuleTerms,
  judgeWindow,
  type MetricWindow,
  rulesOf,
  termBreached,
  trendOf,
} from '../../src/drift/rules.js';

/** The reference design's rules, as the example policy writes them. */
const [performance, drift] = rulesOf(
  monitorSchema.parse({
    model: 'churn_model',
    table: 'acme.mlops.churn_inference',
    schedule: '0 13 * * *',
    channel: 'C0MLOPS',
    rules: {
      performance: {
        all: [
          { metric: 'f1_score.macro', direction: 'below', threshold: 0.5 },
          { metric: 'expected_loss', abs: true, direction: 'above', threshold: 30 },
        ],
      },
      drift: {
        all: [
          { metric: 'js_distance', columns: ['churn', 'prediction'], direction: 'above', threshold: 0.19 },
        ],
      },
    },
  }),
) as [DriftRule, DriftRule];

const [f1, loss] = performance.terms as [DriftRule['terms'][number], DriftRule['terms'][number]];
const [jsChurn, jsPrediction] = drift.terms as [DriftRule['terms'][number], DriftRule['terms'][number]];

let t = 0;
function win(
  values: { f1?: number | null; loss?: number | null; churn?: number | null; prediction?: number | null },
  tables: { profile?: boolean; drift?: boolean } = {},
): MetricWindow {
  t += 86_400_000;
  return {
    start: t,
    end: t + 86_400_000,
    values: {
      [f1.key]: values.f1 ?? null,
      [loss.key]: values.loss ?? null,
      [jsChurn.key]: values.churn ?? null,
      [jsPrediction.key]: values.prediction ?? null,
    },
    inProfile: tables.profile ?? true,
    inDrift: tables.drift ?? true,
  };
}

describe('termBreached', () => {
  const cases = [
    { name: 'below: under the threshold', term: f1, value: 0.49, want: true },
    {
      name: 'below: at the threshold is not a breach (strict, as the reference)',
      term: f1,
      value: 0.5,
      want: false,
    },
    { name: 'above with abs: a negative loss beyond -30', term: loss, value: -30.5, want: true },
    { name: 'above with abs: -30 exactly', term: loss, value: -30, want: false },
    { name: 'above: over the threshold', term: jsChurn, value: 0.2, want: true },
    { name: 'a missing value is no data, not a pass', term: jsChurn, value: null, want: null },
    { name: 'NaN is no data', term: f1, value: Number.NaN, want: null },
  ];
  for (const c of cases) {
    it(c.name, () => expect(termBreached(c.term, c.value)).toBe(c.want));
  }
});

describe('judgeWindow: the reference AND semantics', () => {
  const cases = [
    {
      name: 'F1 low and loss high: a performance violation',
      rule: performance,
      w: { f1: 0.4, loss: -41 },
      want: 'violation',
    },
    { name: 'F1 low alone counts nothing', rule: performance, w: { f1: 0.4, loss: -12 }, want: 'ok' },
    { name: 'loss high alone counts nothing', rule: performance, w: { f1: 0.7, loss: -41 }, want: 'ok' },
    {
      name: 'both JS distances above 0.19: a drift violation',
      rule: drift,
      w: { churn: 0.25, prediction: 0.21 },
      want: 'violation',
    },
    {
      name: 'one drifted column alone counts nothing',
      rule: drift,
      w: { churn: 0.25, prediction: 0.1 },
      want: 'ok',
    },
    { name: 'F1 missing with loss high: no data', rule: performance, w: { loss: -41 }, want: 'no_data' },
    {
      name: 'F1 missing but loss fine: ok (the AND cannot hold)',
      rule: performance,
      w: { loss: -5 },
      want: 'ok',
    },
    { name: 'everything missing: no data', rule: drift, w: {}, want: 'no_data' },
  ] as const;
  for (const c of cases) {
    it(c.name, () => expect(judgeWindow(c.rule, win(c.w)).status).toBe(c.want));
  }

  it('with any, one breached term is a violation and a missing term blocks an ok', () => {
    const any: DriftRule = { ...drift, combine: 'any' };
    expect(judgeWindow(any, win({ churn: 0.25, prediction: 0.1 })).status).toBe('violation');
    expect(judgeWindow(any, win({ churn: 0.1, prediction: null })).status).toBe('no_data');
    expect(judgeWindow(any, win({ churn: 0.1, prediction: 0.1 })).status).toBe('ok');
  });

  it('reports the compared values, |value| for abs terms', () => {
    const v = judgeWindow(performance, win({ f1: 0.4, loss: -41 }));
    expect(v.values).toEqual({ [f1.key]: 0.4, [loss.key]: 41 });
    expect(v.breached).toEqual([f1.key, loss.key]);
  });
});

describe('countLikeReference', () => {
  const bad = { f1: 0.4, loss: -41, churn: 0.3, prediction: 0.3 };
  const good = { f1: 0.8, loss: -5, churn: 0.05, prediction: 0.05 };
  const cases = [
    {
      name: 'counts violating windows per rule and sums them',
      windows: () => [win(good), win(bad), win(bad)],
      want: { perRule: { performance: 2, drift: 2 }, total: 4, windows: 3 },
    },
    {
      name: 'inner join: a profile window without drift rows is not counted while drift rows exist',
      windows: () => [win(bad, { drift: false }), win(bad)],
      want: { perRule: { performance: 1, drift: 1 }, total: 2, windows: 1 },
    },
    {
      name: 'a drift window without a profile row is not counted either',
      windows: () => [win(bad, { profile: false }), win(good)],
      want: { perRule: { performance: 0, drift: 0 }, total: 0, windows: 1 },
    },
    {
      name: 'with no drift rows at all, the profile windows alone are counted and drift counts 0',
      windows: () => [
        win({ f1: 0.4, loss: -41 }, { drift: false }),
        win({ f1: 0.4, loss: -41 }, { drift: false }),
      ],
      want: { perRule: { performance: 2, drift: 0 }, total: 2, windows: 2 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(countLikeReference([performance, drift], c.windows())).toEqual(c.want));
  }

  it('a monitor reading one table only counts that table’s windows', () => {
    expect(countLikeReference([drift], [win(bad, { profile: false }), win(bad)])).toEqual({
      perRule: { drift: 2 },
      total: 2,
      windows: 2,
    });
  });
});

describe('rule terms', () => {
  it('expands columns into one term each, with the default drift type', () => {
    const terms = conditionTerms({
      metric: 'js_distance',
      columns: ['churn', 'prediction'],
      direction: 'above',
      threshold: 0.19,
      abs: false,
    });
    expect(terms.map((x) => [x.table, x.column, x.driftType, x.label])).toEqual([
      ['drift', 'churn', 'CONSECUTIVE', 'js_distance(churn)'],
      ['drift', 'prediction', 'CONSECUTIVE', 'js_distance(prediction)'],
    ]);
  });

  it('writes a rule out the way the reference reads', () => {
    expect(describeRuleTerms(performance)).toBe('f1_score.macro < 0.5 AND |expected_loss| > 30');
    expect(describeRuleTerms(drift)).toBe(
      'js_distance(churn) > 0.19 AND js_distance(prediction) > 0.19 (CONSECUTIVE)',
    );
  });
});

describe('trendOf', () => {
  const series = (values: Array<number | null>) => values.map((value, i) => ({ start: i, value }));
  const cases = [
    { name: 'a falling F1 is worsening', term: f1, values: [0.8, 0.7, 0.6, 0.4], want: 'worsening' },
    { name: 'a falling JS distance is improving', term: jsChurn, values: [0.3, 0.2, 0.1], want: 'improving' },
    { name: 'a change under 5% of the threshold is steady', term: f1, values: [0.6, 0.61], want: 'steady' },
  ] as const;
  for (const c of cases) {
    it(c.name, () => expect(trendOf(c.term, series([...c.values]))?.verdict).toBe(c.want));
  }

  it('compares the latest value with the one up to seven windows earlier, skipping gaps', () => {
    const trend = trendOf(f1, series([0.9, 0.8, null, 0.7, 0.7, 0.6, 0.6, 0.5, 0.5, 0.4]));
    expect(trend).toEqual({ from: 0.8, to: 0.4, span: 7, verdict: 'worsening' });
    expect(trendOf(f1, series([0.4, null]))).toBeUndefined();
  });
});
