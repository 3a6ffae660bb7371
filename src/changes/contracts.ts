/**
 * The change pipeline's contracts: what it offers (RunningChangePipeline), what it needs
 * (ChangePipelineDeps) and how it looks (PipelineViews, ProgressView). Apart from the factory so the
 * runner and the progress message import the contracts, not the pipeline.
 */
import type { ChangeAdvice, ChangeOutcome, Plan } from '../domain/change.js';
import type { DescribeError, UserError } from '../domain/errors.js';
import type { Messenger } from '../domain/ports/messenger.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Endpoint, Serving } from '../domain/ports/serving.js';
import type {
  Actor,
  ChangePipeline,
  MutatingCommand,
  MutatingSubcommand,
  Reply,
} from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { FollowOptions } from './apply.js';
import type { NextStep } from './next-step.js';
import type { Change, ChangeStore } from './store.js';

export interface PlanReplyOptions {
  /** The stored change; without it (or in a dry run) no buttons are shown. */
  changeId?: string;
  dryRun: boolean;
  /** Who asked; only they may press the buttons. */
  requesterId: string;
  workspaceHost: string;
  /**
   * A line shown above the diff, in mrkdwn (escape user text yourself), e.g. why the plan was
   * replaced as stale, or that the endpoint is protected. A note that mentions "protected" also
   * puts an "are you sure" dialog on Apply.
   */
  note?: string;
  /** Force the "are you sure" dialog on Apply (e.g. protected endpoints) whatever the note says. */
  confirm?: boolean;
}

export type ProgressPhase = 'starting' | 'rolling_out' | 'succeeded' | 'failed' | 'timed_out';

export interface ProgressView {
  changeId: string;
  plan: Plan;
  phase: ProgressPhase;
  /** Slack user ids. */
  requester: string;
  appliedBy?: string;
  /** When Apply was pressed, and now (ms); the message shows the difference. */
  startedAt: number;
  now: number;
  workspaceHost: string;
  /** The latest endpoint state seen (pending versions, what is live). */
  endpoint?: Endpoint;
  /** How it ended, for `succeeded`. */
  summary?: string;
  /** Why, for `failed` and `timed_out` (already safe to show). */
  reason?: string;
  hint?: string;
  /** What to do next, when no hint says it; the view words it. */
  advice?: ChangeAdvice;
  /** Set when the failure was ours: people quote it, the logs carry it. */
  correlationId?: string;
  /** The obvious next step, offered as a button once the change has ended. */
  next?: NextStep;
}

/** How the pipeline's replies and channel messages look (implemented in slack/blocks/views.ts). */
export interface PipelineViews {
  /** The plan with Apply/Cancel (or a dry run without buttons). */
  planReply(plan: Plan, options: PlanReplyOptions): Reply;
  /** The change's one message once Apply won: the plan message, updated in place to its end. */
  progress(view: ProgressView): Pick<Reply, 'text' | 'blocks'>;
  /** Why a change cannot be acted on as asked (unknown, already applied, cancelled, stale, …). */
  statusNotice(change: Change | undefined, id: string): Reply;
  /** Apply refused: another change holds the target. */
  busy(holder: Change | undefined, plan: Plan): Reply;
  /** The line above a new plan whose target is busy. */
  busyNote(holder: Change | undefined, plan: Plan): string;
  /** Someone other than the requester pressed a button. */
  onlyRequester(change: Change, action: 'apply' | 'cancel'): Reply;
  /** Apply pressed while the pipeline is stopping. */
  restarting(): Reply;
  /** The request no longer makes sense (the plan message, its table kept): the error that says why. */
  noLongerApplicable(e: UserError, plan?: Plan): Reply;
  /** Cancel won (the plan message, its table kept). */
  cancelled(change: Change): Reply;
  /** The words for a coded error, where a change outcome keeps them (the Slack edge's). */
  describeError: DescribeError;
}

export interface ChangePipelineDeps {
  views: PipelineViews;
  store: ChangeStore;
  serving: Serving;
  registry: Registry;
  messenger: Messenger;
  clock: Clock;
  /** Builds the plan of a command against the live state (Apply calls it again to detect staleness). */
  buildPlan: (input: MutatingCommand) => Promise<Plan>;
  workspaceHost: string;
  /** Whether the policy lets this change apply without an Apply click (never on protected endpoints). */
  autoApplies: (subcommand: MutatingSubcommand, plan: Plan) => boolean;
  /** Sees every error that is ours (a bug, Slack trouble) with the correlation id shown to users. */
  onError?: (err: unknown, correlationId: string) => void;
  /** Polling and timeout of rollouts (defaults: waitForRollout's). */
  waitOptions?: FollowOptions['wait'];
  /** Whether Apply needs an "are you sure" dialog (protected endpoints); default never. */
  needsConfirmation?: (plan: Plan) => boolean;
  /** Correlation ids; defaults to 8 hex characters of a random UUID. */
  correlationId?: () => string;
  /**
   * How long a plan stays good for Apply (the policy's `planExpiresAfter`; default 1 h): the
   * requester agreed to what they saw then, so an older plan is refused, never applied.
   */
  planExpiresAfterMs?: number;
  /**
   * Other work that holds a plan's target (a canary rollout holds its endpoint): the error saying
   * who, or undefined. Asked after Apply won its compare-and-set, so of a rollout start and an
   * Apply racing, at least one sees the other.
   */
  heldElsewhere?: (plan: Plan) => Promise<UserError | undefined>;
}

/** How long a plan stays good for Apply when the policy does not say (`planExpiresAfter`). */
export const DEFAULT_PLAN_EXPIRES_AFTER_MS = 3_600_000;

export interface ResumeSummary {
  /** Rollouts being followed again. */
  followed: number;
  /** Changes ended at start-up (nothing reached Databricks, or it already finished). */
  ended: number;
  /** Progress messages finished that a crash or Slack outage had left open. */
  messagesFinished: number;
}

export interface RunningChangePipeline extends ChangePipeline {
  /** The requester pressed Apply. Returns at once; the rollout is followed in the background. */
  apply(changeId: string, clicker: Actor): Promise<Reply>;
  /**
   * Runs a stored change on behalf of `actor` (an approved request) and resolves with how it
   * ended. No requester check and no staleness check: whoever calls it has decided already (the
   * approval checked the plan against what is live). A change already running or finished is not
   * run again: its outcome is awaited or read. Rejects only when the pipeline is stopping.
   */
  execute(changeId: string, actor: Actor): Promise<ChangeOutcome>;
  cancel(changeId: string, clicker: Actor): Promise<Reply>;
  /** At start-up: follow again what a previous process left in flight, finish open messages. */
  resume(): Promise<ResumeSummary>;
  /** Periodically: take over (and settle by reading Databricks) changes whose owner let go or died. */
  takeOver(): Promise<ResumeSummary>;
  /** Resolves when no background work is left (tests, graceful shutdown). */
  idle(): Promise<void>;
  /** Stops following rollouts (they stay `rolling_out` for the next `resume()`) and refuses new applies. */
  stop(): void;
}
