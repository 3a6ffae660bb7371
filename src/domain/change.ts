/**
 * The change pipeline's shared types. Every mutation (deploy, split, promote, rollback) becomes a
 * Plan: what is there now and what will be after. Plans are built by pure functions in plan.ts,
 * stored and executed by the pipeline, and shown by the Block Kit builders.
 */
import type { EndpointConfig, InferenceTableInput } from './ports/serving.js';

/** A change to what an endpoint serves: its served versions and traffic split. */
export interface EndpointPlan {
  kind: 'endpoint';
  subcommand: 'deploy' | 'split' | 'rollback';
  endpoint: string;
  /** True when the endpoint does not exist yet and the plan creates it. */
  create: boolean;
  /** Live config when the plan was made; undefined when creating. */
  before?: EndpointConfig;
  /** Config after the change: served versions with explicit names, traffic adding up to 100. */
  after: EndpointConfig;
  /**
   * Digest of the state the plan was built on (live config version, served versions, traffic,
   * and whether a rollout was pending). Apply rebuilds the plan and refuses it as stale when
   * this differs.
   */
  fingerprint: string;
  /**
   * The AI Gateway inference table this change turns on first (a deploy, when the policy's
   * `inferenceTables.<endpoint>.enableOnDeploy` asks and the endpoint logs nothing yet).
   */
  inferenceTable?: Extract<InferenceTableInput, { enabled: true }>;
}

/** A move of a model alias. */
export interface AliasPlan {
  kind: 'alias';
  subcommand: 'promote';
  /** Three-part model name. */
  model: string;
  /** Canonical display spelling, e.g. 'Champion'. */
  alias: string;
  /** Version the alias points at now, if any. */
  fromVersion?: number;
  toVersion: number;
  fingerprint: string;
}

export type Plan = EndpointPlan | AliasPlan;

/** One line of a plan's readable diff. */
export interface DiffLine {
  /** What changes, e.g. 'churn_model v3 traffic', 'size of churn_model-3', 'alias Champion'. */
  label: string;
  before: string;
  after: string;
  change: 'added' | 'removed' | 'changed' | 'unchanged';
}

/** Lifecycle of a change request in the store. */
export type ChangeStatus =
  | 'proposed' // plan shown, waiting for Apply / Cancel
  | 'cancelled'
  | 'stale' // refused at Apply because the target changed; a new proposal replaced it
  | 'applying' // Apply won the compare-and-set; calls to Databricks under way
  | 'rolling_out' // Databricks accepted; the bot follows the rollout
  | 'succeeded'
  | 'failed'
  | 'timed_out';

/** Key that serialises changes: one change in flight per endpoint or per model alias. */
export const planTarget = (plan: Plan): string =>
  plan.kind === 'endpoint' ? `endpoint:${plan.endpoint}` : `alias:${plan.model}@${plan.alias.toLowerCase()}`;

/** What to do after a change that did not end well; the views word it (with the command to run). */
export type ChangeAdvice =
  /** Check what is live (on this endpoint) before trying again. */
  | { kind: 'check_live'; endpoint?: string }
  /** After a restart the bot could not tell whether it was applied. */
  | { kind: 'check_if_applied' }
  /** The bot lost track of the rollout; it may still be going on. */
  | { kind: 'rollout_may_continue'; endpoint: string }
  /** The bot stopped waiting for the rollout; it may still finish. */
  | { kind: 'rollout_may_finish'; endpoint: string };

/**
 * How one change ended, as data: what `execute` returns and what the views render. `summary`,
 * `reason` and `what` are plain sentences (no markup); `hint` says what to do next.
 */
export type ChangeOutcome =
  | { status: 'succeeded'; changeId: string; plan: Plan; summary?: string }
  | {
      status: 'failed' | 'timed_out' | 'cancelled';
      changeId: string;
      plan: Plan;
      reason?: string;
      hint?: string;
      advice?: ChangeAdvice;
      correlationId?: string;
    }
  /** The change was refused as out of date; `replacedBy` is the fresh proposal, if one was made. */
  | { status: 'stale'; changeId: string; plan: Plan; what?: string; replacedBy?: string }
  /** It never started: another change holds its target (`holder`), or there is no such change. */
  | { status: 'not_started'; changeId: string; plan?: Plan; why: 'busy' | 'unknown'; holder?: ChangeHolder };

/** The change holding a target, as far as a busy notice tells of it. */
export interface ChangeHolder {
  id: string;
  plan: Plan;
  requester: string;
  appliedBy?: string;
  appliedAt?: number;
}
