/**
 * Pure threshold evaluation over monitor metric windows: the policy's rules become terms (one metric of
 * one column against one threshold), each window gets a verdict per rule, and the counts follow the
 * reference design (dbdemos 08_drift_detection) including its inner join of drift and profile windows.
 *
 * Semantics, per window:
 * - a term is breached when its value is strictly above (below) the threshold; `abs` compares |value|;
 * - `all`: a violation when every term is breached; `ok` when some term has data and is not breached;
 *   otherwise `no_data` (a null metric is no data, never a pass);
 * - `any`: a violation when some term is breached; `ok` when every term has data and none is breached;
 *   otherwise `no_data`.
 */
import type { MonitorConfig, RuleConditionConfig } from '../config/policy-monitors.js';
import { metricTable } from '../config/policy-monitors.js';

export type RuleTable = 'profile' | 'drift';
export type Direction = 'above' | 'below';

/** One comparison: a metric of one column (or `:table`) against a threshold. */
export interface DriftTerm {
  /** Stable and unique within a monitor, e.g. `drift:js_distance:churn:CONSECUTIVE`. */
  key: string;
  table: RuleTable;
  /** Metric path as in the table, e.g. `f1_score.macro`. */
  metric: string;
  /** A column of the monitored table, or `:table`. */
  column: string;
  driftType?: 'CONSECUTIVE' | 'BASELINE';
  abs: boolean;
  direction: Direction;
  threshold: number;
  /** How people read it: `f1_score.macro`, `|expected_loss|`, `js_distance(churn)`. */
  label: string;
}

export interface DriftRule {
  name: string;
  combine: 'all' | 'any';
  terms: DriftTerm[];
  description?: string;
}

/** The metric values of one window for one model id, keyed by term key (null: no value). */
export interface MetricWindow {
  /** Window start, ms since the epoch. */
  start: number;
  /** Window end, ms (the profile or drift row's `window.end`). */
  end: number;
  values: Record<string, number | null>;
  /** Whether the profile and the drift table had a row for this window (the reference's frames). */
  inProfile: boolean;
  inDrift: boolean;
}

export type WindowStatus = 'violation' | 'ok' | 'no_data';

export interface WindowVerdict {
  start: number;
  end: number;
  status: WindowStatus;
  /** Keys of the breached terms. */
  breached: string[];
  /** Each term's value as compared (|value| for abs terms). */
  values: Record<string, number | null>;
}

/**
 * The terms of one rule condition: one per column.
 *
 * @example conditionTerms({ metric: 'js_distance', columns: ['churn', 'prediction'], direction: 'above', threshold: 0.19, abs: false }).length // 2
 */
export function conditionTerms(c: RuleConditionConfig): DriftTerm[] {
  const table = c.table ?? metricTable(c.metric);
  const columns = c.columns ?? [c.column ?? ':table'];
  return columns.map((column) => {
    const driftType = table === 'drift' ? (c.driftType ?? 'CONSECUTIVE') : undefined;
    const base = c.abs ? `|${c.metric}|` : c.metric;
    return {
      key: [table, c.metric, column, driftType ?? '', c.abs ? 'abs' : '', c.direction, c.threshold].join(':'),
      table,
      metric: c.metric,
      column,
      ...(driftType ? { driftType } : {}),
      abs: c.abs,
      direction: c.direction,
      threshold: c.threshold,
      label: column === ':table' ? base : `${base}(${column})`,
    };
  });
}

/**
 * The rules of a monitor, in policy order, with their terms.
 *
 * @example rulesOf(policy.monitors.churn).map((r) => r.name) // ['performance', 'drift']
 */
export function rulesOf(monitor: Pick<MonitorConfig, 'rules'>): DriftRule[] {
  return Object.entries(monitor.rules).map(([name, rule]) => ({
    name,
    combine: rule.all ? 'all' : 'any',
    terms: (rule.all ?? rule.any ?? []).flatMap(conditionTerms),
    ...(rule.description ? { description: rule.description } : {}),
  }));
}

/** Every distinct term of a monitor's rules (what the queries must fetch). */
export function termsOf(rules: readonly DriftRule[]): DriftTerm[] {
  const seen = new Map<string, DriftTerm>();
  for (const r of rules) for (const t of r.terms) if (!seen.has(t.key)) seen.set(t.key, t);
  return [...seen.values()];
}

/** The value a term compares: |value| for abs terms; null stays null. */
export function comparedValue(term: DriftTerm, raw: number | null | undefined): number | null {
  if (raw === null || raw === undefined || Number.isNaN(raw)) return null;
  return term.abs ? Math.abs(raw) : raw;
}

/**
 * Whether a value breaches its term: strictly beyond the threshold, as the reference compares (`< 0.5`,
 * `> 30`). Null means no data.
 *
 * @example termBreached({ direction: 'below', threshold: 0.5, abs: false } as DriftTerm, 0.49) // true
 */
export function termBreached(term: DriftTerm, raw: number | null | undefined): boolean | null {
  const v = comparedValue(term, raw);
  if (v === null) return null;
  return term.direction === 'above' ? v > term.threshold : v < term.threshold;
}

/** The verdict of one rule on one window. */
export function judgeWindow(rule: DriftRule, window: MetricWindow): WindowVerdict {
  const values: Record<string, number | null> = {};
  const breached: string[] = [];
  let missing = 0;
  let passed = 0;
  for (const term of rule.terms) {
    values[term.key] = comparedValue(term, window.values[term.key]);
    const b = termBreached(term, window.values[term.key]);
    if (b === null) missing++;
    else if (b) breached.push(term.key);
    else passed++;
  }
  let status: WindowStatus;
  if (rule.combine === 'all') {
    status = breached.length === rule.terms.length ? 'violation' : passed > 0 ? 'ok' : 'no_data';
  } else {
    status = breached.length > 0 ? 'violation' : missing === 0 ? 'ok' : 'no_data';
  }
  return { start: window.start, end: window.end, status, breached, values };
}

/** Verdicts of one rule over windows, in window order. */
export function evaluateRule(rule: DriftRule, windows: readonly MetricWindow[]): WindowVerdict[] {
  return [...windows].sort((a, b) => a.start - b.start).map((w) => judgeWindow(rule, w));
}

/**
 * The windows the reference counts: it inner-joins the pivoted drift frame to the performance frame on
 * (time, model id), so while the drift frame has rows, a window counts only when both tables have it;
 * with no drift rows at all it uses the performance frame alone. A monitor reading one table only
 * counts that table's windows.
 */
export function joinedWindows(rules: readonly DriftRule[], windows: readonly MetricWindow[]): MetricWindow[] {
  const tables = new Set(termsOf(rules).map((t) => t.table));
  if (tables.size < 2) return windows.filter((w) => (tables.has('drift') ? w.inDrift : w.inProfile));
  const anyDrift = windows.some((w) => w.inDrift);
  return windows.filter((w) => w.inProfile && (!anyDrift || w.inDrift));
}

export interface ReferenceCounts {
  /** Violating windows per rule, like `performance_violation_count` / `drift_violation_count`. */
  perRule: Record<string, number>;
  /** The sum, like `all_violations_count`. */
  total: number;
  /** Windows counted (after the join). */
  windows: number;
}

/**
 * Counts violating windows per rule the way the reference does: over the joined windows, every
 * violating window counts (the reference recounts them on every run; the bot's alerts do not).
 *
 * @example countLikeReference(rulesOf(monitor), windows) // { perRule: { performance: 7, drift: 7 }, total: 14, windows: 29 }
 */
export function countLikeReference(
  rules: readonly DriftRule[],
  windows: readonly MetricWindow[],
): ReferenceCounts {
  const joined = joinedWindows(rules, windows);
  const perRule: Record<string, number> = {};
  for (const rule of rules) {
    perRule[rule.name] = joined.filter((w) => judgeWindow(rule, w).status === 'violation').length;
  }
  return { perRule, total: Object.values(perRule).reduce((a, b) => a + b, 0), windows: joined.length };
}

export interface Trend {
  /** The latest value and the one `span` windows before it (both with data). */
  from: number;
  to: number;
  span: number;
  /** Moving towards (worsening) or away from (improving) a breach, or about level. */
  verdict: 'worsening' | 'improving' | 'steady';
}

/**
 * The trend of one term over its last windows: the latest value against the one up to `span` windows
 * earlier. A change under 5% of the threshold counts as steady.
 *
 * @example trendOf(term, [{ start: 1, value: 0.7 }, { start: 2, value: 0.4 }]) // { from: 0.7, to: 0.4, span: 1, verdict: 'worsening' } for `below 0.5`
 */
export function trendOf(
  term: Pick<DriftTerm, 'direction' | 'threshold'>,
  series: ReadonlyArray<{ start: number; value: number | null }>,
  span = 7,
): Trend | undefined {
  const points = series.filter((p): p is { start: number; value: number } => p.value !== null);
  if (points.length < 2) return undefined;
  const last = points[points.length - 1]!;
  const back = Math.min(span, points.length - 1);
  const first = points[points.length - 1 - back]!;
  const delta = last.value - first.value;
  const tolerance = Math.max(Math.abs(term.threshold) * 0.05, 1e-9);
  const verdict =
    Math.abs(delta) < tolerance
      ? 'steady'
      : delta > 0 === (term.direction === 'above')
        ? 'worsening'
        : 'improving';
  return { from: first.value, to: last.value, span: back, verdict };
}

/**
 * A rule written out: `f1_score.macro < 0.5 AND |expected_loss| > 30`.
 *
 * @example describeRule(rule) // 'js_distance(churn) > 0.19 AND js_distance(prediction) > 0.19 (CONSECUTIVE)'
 */
export function describeRuleTerms(rule: DriftRule): string {
  const parts = rule.terms.map((t) => `${t.label} ${t.direction === 'above' ? '>' : '<'} ${t.threshold}`);
  const types = [...new Set(rule.terms.map((t) => t.driftType).filter(Boolean))];
  return `${parts.join(rule.combine === 'all' ? ' AND ' : ' OR ')}${types.length ? ` (${types.join(', ')})` : ''}`;
}
