/**
 * The canary rollout's vocabulary: what a rollout plans (schedule, guardrails, triggers), the
 * figures an analysis reads, how a check is judged, and the durable record the store keeps. Plain
 * data only: no Slack words (slack/blocks/rollout.ts words them), no I/O.
 */
import type { ServedVersion } from '../domain/ports/serving.js';
import type { MessageRef } from '../domain/vocabulary.js';

/** What a guardrail measures: error rate from status codes, latency, or a monitor's quality metric. */
export type GuardrailMetric = 'error_rate' | 'latency_p50' | 'latency_p99' | 'quality';

/**
 * One guardrail: an absolute bound (`max`/`min`) or a bound relative to the baseline
 * (`maxRatio`/`minRatio`, e.g. canary p99 at most 1.5 × the baseline's). Exactly one is set.
 */
export interface Guardrail {
  metric: GuardrailMetric;
  max?: number | undefined;
  min?: number | undefined;
  maxRatio?: number | undefined;
  minRatio?: number | undefined;
  /** quality: the monitor's profile metrics table, its metric column and its model-id column. */
  profileTable?: string | undefined;
  column?: string | undefined;
  modelIdColumn?: string | undefined;
}

/** A named analysis from the policy (`analyses:`), as a rollout keeps it (a snapshot at plan time). */
export interface Analysis {
  guardrails: Guardrail[];
  /** Below this many requests for the canary (or the baseline, for a ratio) a check is inconclusive. */
  minRequests: number;
  /** This many failing checks in a row roll the canary back. */
  failuresToRollback: number;
  /** This many inconclusive checks in a row fail the rollout (rolled back). */
  inconclusiveLimit: number;
  /** Time between checks once a step's dwell time is over. */
  checkEveryMs: number;
  /** How long the figures may stay unreadable before the rollout fails safe (rolled back). */
  unreadableForMs: number;
}

/** What one served entity did over a check's window. */
export interface EntityFigures {
  requests: number;
  /** Requests answered 5xx. */
  errors: number;
  /** Model time in ms (`execution_duration_ms`); undefined without requests. */
  p50Ms?: number | undefined;
  p99Ms?: number | undefined;
  /** A monitor's quality metrics for the entity's model version, by column, when a guardrail asks. */
  quality?: Record<string, number> | undefined;
}

/** The figures of one check: canary against baseline over [sinceMs, untilMs). */
export interface Figures {
  baseline: EntityFigures;
  canary: EntityFigures;
  sinceMs: number;
  untilMs: number;
}

/** One guardrail judged: the values compared and whether the canary stayed within bounds. */
export interface GuardrailResult {
  metric: GuardrailMetric;
  /** Which bound: 'max' | 'min' (absolute) or 'maxRatio' | 'minRatio' (relative to the baseline). */
  bound: 'max' | 'min' | 'maxRatio' | 'minRatio';
  /** The bound as written in the policy. */
  threshold: number;
  /** The limit the canary's value was held to (threshold × baseline for a ratio). */
  limit: number;
  canary: number;
  baseline?: number | undefined;
  ok: boolean;
}

/** How one check came out. */
export type CheckVerdict = 'pass' | 'fail' | 'inconclusive';

export interface CheckResult {
  verdict: CheckVerdict;
  at: number;
  figures: Figures;
  results: GuardrailResult[];
  /** Why a check was inconclusive: which side had too few requests. */
  tooFew?: { side: 'canary' | 'baseline'; requests: number; minRequests: number } | undefined;
}

/** Where a rollout stands. The middle five hold the endpoint (one rollout or change per endpoint). */
export type RolloutState =
  | 'proposed' // plan shown to the requester, waiting for Start
  | 'awaiting_approval' // a gate covers the endpoint: approvers decide before anything starts
  | 'stepping' // the config update of step `stepIndex` is being made or followed to READY
  | 'analysing' // step `stepIndex` is live: dwell, then checks until it passes or fails
  | 'paused' // by a person, or by a change made outside modelgate
  | 'promoting' // the update that serves the canary alone is being made or followed
  | 'rolling_back' // the update that serves the baseline alone is being made or followed
  | 'succeeded'
  | 'rolled_back'
  | 'failed' // the rollback itself did not reach READY: people must look
  | 'cancelled';

export const ROLLOUT_STATES = [
  'proposed',
  'awaiting_approval',
  'stepping',
  'analysing',
  'paused',
  'promoting',
  'rolling_back',
  'succeeded',
  'rolled_back',
  'failed',
  'cancelled',
] as const satisfies readonly RolloutState[];

/** States in which a rollout holds its endpoint; the store's unique index allows one per endpoint. */
export const HOLDING_STATES = [
  'stepping',
  'analysing',
  'paused',
  'promoting',
  'rolling_back',
] as const satisfies readonly RolloutState[];

/** States a rollout never leaves. */
export const FINAL_STATES = [
  'succeeded',
  'rolled_back',
  'failed',
  'cancelled',
] as const satisfies readonly RolloutState[];

export const isHolding = (s: RolloutState): boolean => (HOLDING_STATES as readonly string[]).includes(s);
export const isFinal = (s: RolloutState): boolean => (FINAL_STATES as readonly string[]).includes(s);

/** The served entity as the rollout sets it (no deployment state). */
export type EntitySpec = Omit<ServedVersion, 'state' | 'stateMessage'>;

/** The whole schedule, fixed when the plan is made. */
export interface RolloutPlan {
  endpoint: string;
  /** Three-part model name and the version the canary serves. */
  model: string;
  version: number;
  /** The alias typed (`@Challenger`), when the version was given that way. */
  alias?: string | undefined;
  /** An alias the policy binds to this endpoint, moved to the canary's version on success. */
  moveAlias?: string | undefined;
  baseline: EntitySpec;
  canary: EntitySpec;
  /** Canary traffic per step, increasing; the last is 100 (the promotion). */
  steps: number[];
  /** Dwell time of each step before its first check. */
  everyMs: number;
  analysisName: string;
  analysis: Analysis;
  /** `<catalog>.<schema>.<prefix>_payload`: the AI Gateway inference table the checks read. */
  payloadTable: string;
  /** The live config version the plan was made on. */
  baseConfigVersion?: number | undefined;
  /** The gate covering the endpoint, if any: approvals are asked once, before the first step. */
  gate?: { name: string; approvals: number; users: string[]; groups: string[] } | undefined;
}

/** Why a rollout is paused. */
export type PauseReason =
  | { kind: 'by_person'; by: string }
  /** The endpoint's config moved without the rollout (its live version, or an update in flight). */
  | { kind: 'out_of_band'; configVersion?: number | undefined; updating: boolean };

/** Why a rollout is holding at its step without judging (it is neither promoted nor rolled back). */
export type HoldReason =
  | { kind: 'unreadable'; since: number; cause: string }
  | { kind: 'update_unsettled'; cause: string }
  | { kind: 'endpoint_busy'; configVersion?: number | undefined };

/** How a rollout ended (or why it is rolling back). */
export type EndReason =
  | { kind: 'promoted' }
  | { kind: 'promoted_now'; by: string }
  | { kind: 'guardrail'; check: CheckResult; failures: number }
  | { kind: 'inconclusive'; checks: number; check: CheckResult }
  | { kind: 'unreadable'; forMs: number; cause: string }
  | { kind: 'aborted'; by: string }
  /** Databricks did not bring a step's (or the promotion's) config to READY. */
  | { kind: 'update_failed'; step: number; reason: string }
  | { kind: 'cancelled'; by: string }
  /** The rollback itself failed: `reason` is Databricks'; `cause` why it was rolling back. */
  | { kind: 'rollback_failed'; reason: string; cause: EndReason };

/** The durable record of a rollout. Every move is a compare-and-set on `rev`. */
export interface Rollout {
  id: string;
  createdAt: number;
  updatedAt: number;
  /** Bumped by every write; a write names the rev it read. */
  rev: number;
  requester: string;
  channel: string;
  plan: RolloutPlan;
  state: RolloutState;
  /** The step being made or live; -1 before the first. */
  stepIndex: number;
  /** When the current step became READY. */
  stepLiveAt?: number | undefined;
  /** When the driver should look next (the dwell's end, the next check). */
  nextAt?: number | undefined;
  /** The live config version after the rollout's own last update (out-of-band changes move it). */
  expectConfigVersion?: number | undefined;
  failures: number;
  inconclusive: number;
  lastCheck?: CheckResult | undefined;
  hold?: HoldReason | undefined;
  pause?: PauseReason | undefined;
  /** Set once it is rolling back or has ended. */
  end?: EndReason | undefined;
  /** Who approved (gated rollouts). */
  approvals: string[];
  /** Who pressed Start, or whose approval completed the quorum. */
  startedBy?: string | undefined;
  startedAt?: number | undefined;
  /** The one channel message that follows the rollout. */
  message?: MessageRef | undefined;
  owner?: string | undefined;
  leaseUntil?: number | undefined;
}
