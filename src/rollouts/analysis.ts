/**
 * The analysis, pure: figures and guardrails in, a verdict out; and what a verdict does to a rollout
 * (consecutive failures, inconclusive samples, unreadable data). No I/O: the driver reads the figures
 * (queries.ts) and stores what `afterCheck` returns.
 */
import type {
  Analysis,
  CheckResult,
  EndReason,
  EntityFigures,
  Figures,
  Guardrail,
  GuardrailResult,
  HoldReason,
  Rollout,
} from './types.js';

const BOUNDS = ['max', 'min', 'maxRatio', 'minRatio'] as const;

/** The one bound a guardrail sets (the policy schema guarantees exactly one). */
export function boundOf(g: Guardrail): { bound: (typeof BOUNDS)[number]; threshold: number } {
  for (const bound of BOUNDS) {
    const threshold = g[bound];
    if (threshold !== undefined) return { bound, threshold };
  }
  throw new Error(`guardrail on ${g.metric} sets no bound`);
}

/** Whether any guardrail compares with the baseline (then the baseline needs enough requests too). */
export const needsBaseline = (a: Pick<Analysis, 'guardrails'>): boolean =>
  a.guardrails.some((g) => g.maxRatio !== undefined || g.minRatio !== undefined);

/** The value a guardrail reads from one entity's figures; undefined when there is none to read. */
export function readMetric(g: Guardrail, f: EntityFigures): number | undefined {
  switch (g.metric) {
    case 'error_rate':
      return f.requests > 0 ? f.errors / f.requests : undefined;
    case 'latency_p50':
      return f.p50Ms;
    case 'latency_p99':
      return f.p99Ms;
    case 'quality':
      return g.column === undefined ? undefined : f.quality?.[g.column];
  }
}

/**
 * Judges one check. Too few canary requests (or baseline requests, when a guardrail is a ratio)
 * is inconclusive, and so is a guardrail value that cannot be read yet (no monitor row for the
 * canary's version); otherwise any guardrail out of bounds fails the check.
 *
 * @example judge({ baseline, canary, sinceMs, untilMs }, analysis, now).verdict // 'fail'
 */
export function judge(figures: Figures, analysis: Analysis, at: number): CheckResult {
  const base = { at, figures };
  const { minRequests } = analysis;
  if (figures.canary.requests < minRequests) {
    return {
      ...base,
      verdict: 'inconclusive',
      results: [],
      tooFew: { side: 'canary', requests: figures.canary.requests, minRequests },
    };
  }
  if (needsBaseline(analysis) && figures.baseline.requests < minRequests) {
    return {
      ...base,
      verdict: 'inconclusive',
      results: [],
      tooFew: { side: 'baseline', requests: figures.baseline.requests, minRequests },
    };
  }
  const results: GuardrailResult[] = [];
  let unreadable = false;
  for (const g of analysis.guardrails) {
    const { bound, threshold } = boundOf(g);
    const canary = readMetric(g, figures.canary);
    const baseline = readMetric(g, figures.baseline);
    const ratio = bound === 'maxRatio' || bound === 'minRatio';
    if (canary === undefined || (ratio && baseline === undefined)) {
      unreadable = true;
      continue;
    }
    const limit = ratio ? baseline! * threshold : threshold;
    const ok = bound === 'max' || bound === 'maxRatio' ? canary <= limit : canary >= limit;
    results.push({
      metric: g.metric,
      bound,
      threshold,
      limit,
      canary,
      ...(baseline !== undefined ? { baseline } : {}),
      ok,
    });
  }
  const failed = results.some((r) => !r.ok);
  return { ...base, results, verdict: failed ? 'fail' : unreadable ? 'inconclusive' : 'pass' };
}

/** What a check (or a failed read) does to a rollout in `analysing`. */
export type CheckOutcome =
  /** The step passed: the next step (or the promotion, after the last). */
  | { kind: 'advance'; failures: 0; inconclusive: 0 }
  /** Look again at `nextAt`; the counters as they now stand. */
  | { kind: 'recheck'; nextAt: number; failures: number; inconclusive: number; hold?: HoldReason }
  /** Roll the canary back, for this reason. */
  | { kind: 'rollback'; end: EndReason };

/**
 * What one check means for the rollout, pure. A pass advances; a fail counts towards
 * `failuresToRollback` consecutive failures; an inconclusive check waits, and fails after
 * `inconclusiveLimit` in a row; figures that cannot be read hold the step (neither promoted nor rolled
 * back) until `unreadableForMs` has passed since the first failed read, then fail safe.
 *
 * @example afterCheck(rollout, { kind: 'checked', check }, now) // { kind: 'recheck', nextAt, failures: 1, inconclusive: 0 }
 */
export function afterCheck(
  r: Pick<Rollout, 'failures' | 'inconclusive' | 'hold' | 'plan'>,
  event: { kind: 'checked'; check: CheckResult } | { kind: 'unreadable'; cause: string },
  now: number,
): CheckOutcome {
  const a = r.plan.analysis;
  const nextAt = now + a.checkEveryMs;
  if (event.kind === 'unreadable') {
    const since = r.hold?.kind === 'unreadable' ? r.hold.since : now;
    if (now - since >= a.unreadableForMs) {
      return { kind: 'rollback', end: { kind: 'unreadable', forMs: now - since, cause: event.cause } };
    }
    return {
      kind: 'recheck',
      nextAt,
      failures: r.failures,
      inconclusive: r.inconclusive,
      hold: { kind: 'unreadable', since, cause: event.cause },
    };
  }
  const { check } = event;
  switch (check.verdict) {
    case 'pass':
      return { kind: 'advance', failures: 0, inconclusive: 0 };
    case 'fail': {
      const failures = r.failures + 1;
      if (failures >= a.failuresToRollback) {
        return { kind: 'rollback', end: { kind: 'guardrail', check, failures } };
      }
      return { kind: 'recheck', nextAt, failures, inconclusive: 0 };
    }
    case 'inconclusive': {
      const inconclusive = r.inconclusive + 1;
      if (inconclusive >= a.inconclusiveLimit) {
        return { kind: 'rollback', end: { kind: 'inconclusive', checks: inconclusive, check } };
      }
      return { kind: 'recheck', nextAt, failures: r.failures, inconclusive };
    }
  }
}
