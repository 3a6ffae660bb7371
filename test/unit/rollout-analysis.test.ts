import { describe, expect, it } from 'vitest';
import { afterCheck, judge } from '../../src/rollouts/analysis.js';
import { isRolloutConfig, stepConfig, targetConfig } from '../../src/rollouts/configs.js';
import type {
  Analysis,
  CheckResult,
  EntityFigures,
  Guardrail,
  RolloutPlan,
} from '../../src/rollouts/types.js';

const analysis = (guardrails: Guardrail[], over: Partial<Analysis> = {}): Analysis => ({
  guardrails,
  minRequests: 50,
  failuresToRollback: 2,
  inconclusiveLimit: 3,
  checkEveryMs: 60_000,
  unreadableForMs: 600_000,
  ...over,
});

const side = (over: Partial<EntityFigures> = {}): EntityFigures => ({
  requests: 100,
  errors: 0,
  p50Ms: 10,
  p99Ms: 40,
  ...over,
});

const figures = (canary: Partial<EntityFigures>, baseline: Partial<EntityFigures> = {}) => ({
  canary: side(canary),
  baseline: side(baseline),
  sinceMs: 0,
  untilMs: 1,
});

describe('judging one check against the guardrails', () => {
  const cases: Array<{
    name: string;
    guardrails: Guardrail[];
    canary: Partial<EntityFigures>;
    baseline?: Partial<EntityFigures>;
    want: CheckResult['verdict'];
  }> = [
    {
      name: 'an error rate under its absolute max passes',
      guardrails: [{ metric: 'error_rate', max: 0.02 }],
      canary: { errors: 1 },
      want: 'pass',
    },
    {
      name: 'an error rate over its absolute max fails',
      guardrails: [{ metric: 'error_rate', max: 0.02 }],
      canary: { errors: 3 },
      want: 'fail',
    },
    {
      name: 'exactly at the max passes',
      guardrails: [{ metric: 'error_rate', max: 0.02 }],
      canary: { errors: 2 },
      want: 'pass',
    },
    {
      name: 'a p99 within 1.5 × the baseline passes',
      guardrails: [{ metric: 'latency_p99', maxRatio: 1.5 }],
      canary: { p99Ms: 59 },
      want: 'pass',
    },
    {
      name: 'a p99 over 1.5 × the baseline fails',
      guardrails: [{ metric: 'latency_p99', maxRatio: 1.5 }],
      canary: { p99Ms: 61 },
      want: 'fail',
    },
    {
      name: 'a p50 over its absolute max fails',
      guardrails: [{ metric: 'latency_p50', max: 20 }],
      canary: { p50Ms: 25 },
      want: 'fail',
    },
    {
      name: 'a quality under its min ratio fails',
      guardrails: [{ metric: 'quality', minRatio: 0.95, profileTable: 'a.b.c', column: 'f1' }],
      canary: { quality: { f1: 0.8 } },
      baseline: { quality: { f1: 0.9 } },
      want: 'fail',
    },
    {
      name: 'a quality the monitor has no row for yet is inconclusive',
      guardrails: [{ metric: 'quality', min: 0.7, profileTable: 'a.b.c', column: 'f1' }],
      canary: {},
      want: 'inconclusive',
    },
    {
      name: 'too few canary requests is inconclusive, whatever the errors',
      guardrails: [{ metric: 'error_rate', max: 0.02 }],
      canary: { requests: 10, errors: 10 },
      want: 'inconclusive',
    },
    {
      name: 'too few baseline requests is inconclusive for a ratio',
      guardrails: [{ metric: 'latency_p99', maxRatio: 1.5 }],
      canary: {},
      baseline: { requests: 5 },
      want: 'inconclusive',
    },
    {
      name: 'too few baseline requests does not matter for absolute bounds',
      guardrails: [{ metric: 'error_rate', max: 0.02 }],
      canary: {},
      baseline: { requests: 5 },
      want: 'pass',
    },
    {
      name: 'one failing guardrail of several fails the check',
      guardrails: [
        { metric: 'error_rate', max: 0.02 },
        { metric: 'latency_p99', maxRatio: 1.5 },
      ],
      canary: { p99Ms: 100 },
      want: 'fail',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(judge(figures(c.canary, c.baseline), analysis(c.guardrails), 1).verdict).toBe(c.want);
    });
  }

  it('keeps the figures it compared, with the limit a ratio worked out to', () => {
    const r = judge(figures({ p99Ms: 90 }), analysis([{ metric: 'latency_p99', maxRatio: 1.5 }]), 1);
    expect(r.results).toEqual([
      {
        metric: 'latency_p99',
        bound: 'maxRatio',
        threshold: 1.5,
        limit: 60,
        canary: 90,
        baseline: 40,
        ok: false,
      },
    ]);
  });
});

describe('what a check does to the rollout', () => {
  const plan = { analysis: analysis([{ metric: 'error_rate', max: 0.02 }]) } as RolloutPlan;
  const check = (verdict: CheckResult['verdict']): CheckResult => ({
    verdict,
    at: 0,
    figures: figures({}),
    results: [],
  });
  const cases: Array<{
    name: string;
    failures: number;
    inconclusive: number;
    event: Parameters<typeof afterCheck>[1];
    hold?: { since: number };
    now?: number;
    want: string;
  }> = [
    {
      name: 'a pass advances and clears the counters',
      failures: 1,
      inconclusive: 2,
      event: { kind: 'checked', check: check('pass') },
      want: 'advance',
    },
    {
      name: 'a first failure waits for another check',
      failures: 0,
      inconclusive: 0,
      event: { kind: 'checked', check: check('fail') },
      want: 'recheck 1/0',
    },
    {
      name: 'the second failure in a row rolls back',
      failures: 1,
      inconclusive: 0,
      event: { kind: 'checked', check: check('fail') },
      want: 'rollback guardrail',
    },
    {
      name: 'an inconclusive check waits and keeps the failures',
      failures: 1,
      inconclusive: 0,
      event: { kind: 'checked', check: check('inconclusive') },
      want: 'recheck 1/1',
    },
    {
      name: 'inconclusive checks up to the limit fail the rollout',
      failures: 0,
      inconclusive: 2,
      event: { kind: 'checked', check: check('inconclusive') },
      want: 'rollback inconclusive',
    },
    {
      name: 'unreadable figures hold the step',
      failures: 0,
      inconclusive: 0,
      event: { kind: 'unreadable', cause: 'warehouse down' },
      want: 'recheck 0/0 hold',
    },
    {
      name: 'unreadable past the limit fails safe',
      failures: 0,
      inconclusive: 0,
      event: { kind: 'unreadable', cause: 'warehouse down' },
      hold: { since: 0 },
      now: 600_000,
      want: 'rollback unreadable',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const o = afterCheck(
        {
          plan,
          failures: c.failures,
          inconclusive: c.inconclusive,
          ...(c.hold ? { hold: { kind: 'unreadable', since: c.hold.since, cause: 'x' } } : {}),
        },
        c.event,
        c.now ?? 1_000,
      );
      const got =
        o.kind === 'advance'
          ? 'advance'
          : o.kind === 'rollback'
            ? `rollback ${o.end.kind}`
            : `recheck ${o.failures}/${o.inconclusive}${o.hold ? ' hold' : ''}`;
      expect(got).toBe(c.want);
    });
  }
});

describe('the configs a rollout sets', () => {
  const base = {
    name: 'churn_model-2',
    modelName: 'acme.mlops.churn_model',
    modelVersion: '2',
    workloadSize: 'Small' as const,
    scaleToZero: false,
  };
  const plan = {
    baseline: base,
    canary: { ...base, name: 'churn_model-3', modelVersion: '3' },
    steps: [5, 50, 100],
  } as RolloutPlan;

  it('splits each step between baseline and canary, and serves the canary alone at 100', () => {
    expect(stepConfig(plan, 5).traffic).toEqual([
      { servedName: 'churn_model-2', percent: 95 },
      { servedName: 'churn_model-3', percent: 5 },
    ]);
    expect(targetConfig(plan, 'promoting', 2)?.servedVersions.map((v) => v.name)).toEqual(['churn_model-3']);
    expect(targetConfig(plan, 'rolling_back', 1)?.servedVersions.map((v) => v.name)).toEqual([
      'churn_model-2',
    ]);
  });

  it('tells its own configs from one made outside it', () => {
    expect(isRolloutConfig(plan, stepConfig(plan, 50))).toBe(true);
    expect(isRolloutConfig(plan, stepConfig(plan, 30))).toBe(false);
  });
});
