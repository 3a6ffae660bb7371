/**
 * How an approved request's execution ended, as facts: the store keeps them as JSON in the
 * request's outcome column (and in the audit row's detail), and the Slack views word them. No
 * markup and no sentences here, so a view can change its words without a migration. Rows written
 * before facts were stored hold a sentence instead; `parseExecutionResult` leaves those alone.
 */
import { z } from 'zod';
import type { ChangeHolder, Plan } from '../domain/change.js';

const holderSchema = z.object({
  id: z.string(),
  plan: z.custom<Plan>((v) => typeof v === 'object' && v !== null),
  requester: z.string(),
  appliedBy: z.string().optional(),
  appliedAt: z.number().optional(),
});

/** A step of a change request that did not end well. */
const stepFailureSchema = z.object({
  /** The step's title, e.g. 'Deploy to churn-endpoint'. */
  title: z.string(),
  status: z.enum(['failed', 'timed_out', 'cancelled', 'stale', 'busy']),
  /** The pipeline's plain-text reason (or what changed, for `stale`). */
  detail: z.string().optional(),
  holder: holderSchema.optional(),
});

const runSchema = z.object({
  runId: z.number(),
  url: z.string(),
  jobName: z.string(),
});

/** What a finished retraining registered. */
const registeredSchema = z.discriminatedUnion('found', [
  z.object({
    found: z.literal('version'),
    model: z.string(),
    version: z.number(),
    aliases: z.array(z.string()),
    confirmed: z.boolean(),
  }),
  z.object({ found: z.literal('none'), model: z.string() }),
  z.object({ found: z.literal('unknown') }),
]);

export const executionResultSchema = z.discriminatedUnion('kind', [
  /** Every step of a change request succeeded; `done` holds each step's summary. */
  z.object({ kind: z.literal('changes'), ok: z.literal(true), done: z.array(z.string()) }),
  /** A step failed after `done` ones succeeded. */
  z.object({
    kind: z.literal('step_failed'),
    ok: z.literal(false),
    done: z.array(z.string()),
    failed: stepFailureSchema,
  }),
  /** A retraining's job run ended. */
  z.object({
    kind: z.literal('run'),
    ok: z.boolean(),
    run: runSchema,
    tookMs: z.number().optional(),
    /** The run's state and result code when it did not succeed. */
    state: z.string().optional(),
    result: z.object({ code: z.string(), message: z.string().optional() }).optional(),
    registered: registeredSchema.optional(),
  }),
  /** A deployment-job run approved: its tag set, the run repaired and followed to its end. */
  z.object({
    kind: z.literal('deployment'),
    ok: z.boolean(),
    run: runSchema,
    model: z.string(),
    version: z.number(),
    /** The approval tag's key (its value is Approved). */
    tag: z.string(),
    repairId: z.number(),
    tookMs: z.number().optional(),
    state: z.string().optional(),
    result: z.object({ code: z.string(), message: z.string().optional() }).optional(),
  }),
  /** The bot stopped following a job run. */
  z.object({
    kind: z.literal('run_unfollowed'),
    ok: z.literal(false),
    run: runSchema,
    afterMs: z.number(),
    state: z.string(),
  }),
  /** Databricks (or a planner) refused, in its own plain words. */
  z.object({
    kind: z.literal('refused'),
    ok: z.literal(false),
    reason: z.string(),
    hint: z.string().optional(),
  }),
  /** A bug of ours; people quote the reference. */
  z.object({ kind: z.literal('internal'), ok: z.literal(false), correlationId: z.string() }),
]);

export type ExecutionResult = z.infer<typeof executionResultSchema>;
export type StepFailure = z.infer<typeof stepFailureSchema>;
export type { ChangeHolder };

/**
 * The facts in an outcome column, or undefined when it holds a sentence (a row written before
 * facts were stored) or nothing.
 *
 * @example parseExecutionResult('{"kind":"changes","ok":true,"done":["x"]}')?.ok // true
 */
export function parseExecutionResult(stored: string | null | undefined): ExecutionResult | undefined {
  if (!stored?.startsWith('{')) return undefined;
  try {
    const parsed = executionResultSchema.safeParse(JSON.parse(stored));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
