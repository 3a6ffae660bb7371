/**
 * What an alert shows, as plain data: built by the check (pure, from rules and windows), stored with
 * the alert so a click (Snooze, Acknowledge) or a later check can redraw the same message, and turned
 * into Block Kit by slack/blocks/drift.ts.
 */
import { z } from 'zod';
import type { CodedDetails } from '../domain/errors.js';
import {
  countLikeReference,
  type DriftRule,
  describeRuleTerms,
  evaluateRule,
  joinedWindows,
  type MetricWindow,
  trendOf,
  type WindowStatus,
} from './rules.js';

/**
 * Why a check (or its chart) failed, as data: a UserError's code and details, or `internal` for
 * anything else (the log has it). slack/blocks/drift.ts words it.
 */
export type CheckFailure = CodedDetails | { code: 'internal' };

/** A stored CheckFailure; rows written before it was data hold its words as a string. */
const storedFailureSchema = z.union([
  z.string(),
  z.custom<CheckFailure>(
    (v) => typeof v === 'object' && v !== null && typeof (v as { code?: unknown }).code === 'string',
  ),
]);

export const termViewSchema = z.object({
  key: z.string(),
  label: z.string(),
  direction: z.enum(['above', 'below']),
  threshold: z.number(),
});

export const windowViewSchema = z.object({
  start: z.number(),
  end: z.number(),
  /** The window had not ended when it was checked (its values may still change). */
  partial: z.boolean(),
  status: z.enum(['violation', 'ok', 'no_data']),
  /** Judged again after its first check (labels arrived late, a monitor refresh recomputed it). */
  late: z.boolean().optional(),
  /** Compared values by term key. */
  values: z.record(z.string(), z.number().nullable()),
});
export type WindowView = z.infer<typeof windowViewSchema>;

export const trendViewSchema = z.object({
  label: z.string(),
  from: z.number(),
  to: z.number(),
  span: z.number(),
  verdict: z.enum(['worsening', 'improving', 'steady']),
});

export const alertViewSchema = z.object({
  monitor: z.string(),
  rule: z.string(),
  description: z.string().optional(),
  /** `f1_score.macro < 0.5 AND |expected_loss| > 30` */
  ruleText: z.string(),
  model: z.string(),
  modelId: z.string(),
  terms: z.array(termViewSchema),
  /** The violating windows this message reports (new ones only: alerted windows are never repeated). */
  windows: z.array(windowViewSchema),
  /** The latest window with data, flagged in the message. */
  latest: windowViewSchema.optional(),
  /** Reference-style counts over the chart's history. */
  counts: z.object({
    rule: z.number(),
    perRule: z.record(z.string(), z.number()),
    total: z.number(),
    windows: z.number(),
    history: z.number(),
  }),
  trends: z.array(trendViewSchema),
  /** A chart URL shown inside the message (QuickChart); local charts go into the thread instead. */
  chartUrl: z.string().optional(),
  chartAlt: z.string().optional(),
  /** Why no chart could be drawn; the text summary stands alone. */
  chartProblem: storedFailureSchema.optional(),
  retrain: z.boolean(),
  checkedAt: z.number(),
});
export type AlertView = z.infer<typeof alertViewSchema>;

export interface RuleEvaluation {
  rule: DriftRule;
  modelId: string;
  /** Verdicts over the windows read, in order (joined like the reference). */
  verdicts: ReturnType<typeof evaluateRule>;
  /** Verdicts of the windows inside the chart's history. */
  history: ReturnType<typeof evaluateRule>;
  counts: AlertView['counts'];
  trends: AlertView['trends'];
  latest?: WindowView;
}

const toView = (v: ReturnType<typeof evaluateRule>[number], now: number): WindowView => ({
  start: v.start,
  end: v.end,
  partial: v.end > now,
  status: v.status,
  values: v.values,
});

/**
 * Evaluates every rule of a monitor for one model id: verdicts on the joined windows, the reference
 * counts over the history, the trend of each term and the latest window with data.
 */
export function evaluateModel(input: {
  rules: readonly DriftRule[];
  modelId: string;
  windows: readonly MetricWindow[];
  historyFrom: number;
  history: number;
  now: number;
}): RuleEvaluation[] {
  const joined = joinedWindows(input.rules, input.windows);
  const inHistory = input.windows.filter((w) => w.start >= input.historyFrom);
  const counts = countLikeReference(input.rules, inHistory);
  return input.rules.map((rule) => {
    const verdicts = evaluateRule(rule, joined);
    const history = verdicts.filter((v) => v.start >= input.historyFrom);
    const latest = [...history].reverse().find((v) => v.status !== 'no_data');
    const trends = rule.terms.flatMap((t) => {
      const trend = trendOf(
        t,
        history.map((v) => ({ start: v.start, value: v.values[t.key] ?? null })),
      );
      return trend ? [{ label: t.label, ...trend }] : [];
    });
    return {
      rule,
      modelId: input.modelId,
      verdicts,
      history,
      counts: {
        rule: counts.perRule[rule.name] ?? 0,
        perRule: counts.perRule,
        total: counts.total,
        windows: counts.windows,
        history: input.history,
      },
      trends,
      ...(latest ? { latest: toView(latest, input.now) } : {}),
    };
  });
}

/** The view of an alert (or of a report) for one rule evaluation. */
export function buildAlertView(input: {
  monitor: string;
  model: string;
  evaluation: RuleEvaluation;
  /** The windows to report: the new violating ones. */
  windows: readonly number[];
  /** Those of them that violate only since their first check (late labels, a monitor refresh). */
  late?: readonly number[];
  retrain: boolean;
  now: number;
}): AlertView {
  const { evaluation: e } = input;
  const wanted = new Set(input.windows);
  const late = new Set(input.late ?? []);
  return {
    monitor: input.monitor,
    rule: e.rule.name,
    ...(e.rule.description ? { description: e.rule.description } : {}),
    ruleText: describeRuleTerms(e.rule),
    model: input.model,
    modelId: e.modelId,
    terms: e.rule.terms.map((t) => ({
      key: t.key,
      label: t.label,
      direction: t.direction,
      threshold: t.threshold,
    })),
    windows: e.verdicts
      .filter((v) => wanted.has(v.start))
      .map((v) => ({ ...toView(v, input.now), ...(late.has(v.start) ? { late: true } : {}) })),
    ...(e.latest ? { latest: e.latest } : {}),
    counts: e.counts,
    trends: e.trends,
    retrain: input.retrain,
    checkedAt: input.now,
  };
}

export type { WindowStatus };
