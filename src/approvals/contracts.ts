/**
 * The approvals service's contracts: what it offers (ApprovalService, ApprovalDesk), what it needs
 * (ApprovalServiceDeps) and how it looks (ApprovalViews). Kept apart from the factory so the parts
 * (intake, voting, execution, the request message) import the contracts, not the service.
 */
import type { RunningChangePipeline } from '../changes/pipeline.js';
import type { ChangeStore } from '../changes/store.js';
import type { ApprovalPolicy } from '../config/policy-gates.js';
import type { Plan } from '../domain/change.js';
import type { DescribeError } from '../domain/errors.js';
import type { JobSettingsReader, Jobs } from '../domain/ports/jobs.js';
import type { Messenger } from '../domain/ports/messenger.js';
import type { MlflowRuns } from '../domain/ports/mlflow.js';
import type { ApproverGroups, DirectMessages } from '../domain/ports/people.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Actor, ChangePipeline, MutatingCommand, Origin, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { AuditItem } from './audit-trail.js';
import type { FiguresSource } from './evidence.js';
import type { ExecutionResult } from './execution-result.js';
import type { Defaults, GateRef, RetrainTarget } from './gate.js';
import type { NotifyStore, RequesterEvent } from './notify-store.js';
import type { ApprovalPlan, DeploymentApprovalPlan } from './request-plan.js';
import type { ApprovalRequest, ApprovalStore } from './store.js';

/** What starts a gated retraining request; the drift alert's Retrain button calls it. */
export interface RetrainRequest {
  /** Three-part model name. */
  model: string;
  /** The Databricks job to run on approval. */
  jobId: number;
  /** The monitor that asked for it, when a drift alert did. */
  monitor?: string;
  /** Why retraining is asked for, shown to approvers. */
  reason: string;
  actor: Actor;
  origin: Origin;
  /** Thread the request came from (a drift alert's); a pointer and the outcome are posted there. */
  threadTs?: string;
  /** Job parameters passed to run-now (on top of the policy's). */
  parameters?: Record<string, string>;
  /**
   * The check's violation count (the reference's all_violations_count): passed as the job parameter
   * of that name when the job takes it, as the reference passes it to its condition task.
   */
  violations?: number;
  /** Show the request without making it (the retrain subcommand with --dry-run). */
  dryRun?: boolean;
}

/** Creates gated retraining requests. */
export interface RetrainRequester {
  requestRetrain(input: RetrainRequest): Promise<Reply>;
}

/** What opens an approval request for a deployment-job run waiting at its approval task. */
export interface DeploymentRequest {
  plan: DeploymentApprovalPlan;
  /** The gate's name in the policy (the deployment job entry's `gate`). */
  gate: string;
  /** Where the request is posted when the policy has no approvalChannel. */
  channelId?: string;
  /** Unique per run: a second call for the same run finds the first request. */
  triggerId: string;
}

/**
 * What approving a deployment-job run does, beyond the approvals' own bookkeeping (implemented in
 * deployment-jobs/approve.ts): the staleness check of the deciding vote, and the execution.
 */
export interface DeploymentApprover {
  /** What changed outside the bot since the request was made; undefined while it still waits. */
  staleness(plan: DeploymentApprovalPlan): Promise<string | undefined>;
  /**
   * Sets the approval tag (once), repairs the run, follows it to its end. `onProgress` sees the
   * repair once it is made. `superseded`: approved or repaired outside the bot meanwhile.
   */
  execute(
    requestId: string,
    plan: DeploymentApprovalPlan,
    io: { signal: AbortSignal; onProgress: (p: ExecutionProgress) => void },
  ): Promise<ExecutionResult | { superseded: string }>;
}

/** What the read-only subcommands and the retrain subcommand use. */
export interface ApprovalDesk extends RetrainRequester {
  /** Pending requests, oldest first. */
  pending(): Promise<ApprovalRequest[]>;
  /** The latest changes and requests (for one model or endpoint, or all), newest first. */
  auditTrail(filter?: { model?: string; endpoint?: string; limit?: number }): Promise<AuditItem[]>;
  /** What `retrain <name>` runs: a monitor's model and job, or a model's (throws UserError). */
  retrainTarget(name: string): RetrainTarget;
}

export interface ApprovalService extends ApprovalDesk {
  /**
   * A gated change (the pipeline's propose, diverted): posts the request instead of a plan.
   * `gate` is the gate the caller found already; without it the policy is asked.
   */
  requestChange(request: Parameters<ChangePipeline['propose']>[0], gate?: GateRef): Promise<Reply>;
  /**
   * A deployment-job run waiting at its approval task: posts one request per run (a repeat finds
   * the first). Resolves with the request, or undefined when none could be made.
   */
  requestDeployment(input: DeploymentRequest): Promise<ApprovalRequest | undefined>;
  /** A pending request whose subject changed outside the bot: superseded, its message updated. */
  supersede(requestId: string, what: string): Promise<boolean>;
  /** An Approve click (after Slack's confirm dialog). */
  approve(requestId: string, clicker: Actor): Promise<Reply>;
  /** A Reject click: the ephemeral reason prompt, or why not. */
  promptReject(requestId: string, clicker: Actor): Promise<Reply>;
  /** The prompt's confirming click. */
  reject(requestId: string, clicker: Actor, reason?: string): Promise<Reply>;
  /** The DM channels the request was sent to (its buttons may be clicked there too). */
  dmChannelsOf(requestId: string): Promise<string[]>;
  /** Expires what is due at `now`, updating the messages; returns how many. */
  expireDue(now: number): Promise<number>;
  /** At start-up: finish executions a previous process left, and messages left behind. */
  resume(): Promise<ApprovalResumeSummary>;
  /**
   * Periodically: take over executions whose owner let go or died, and start approved requests
   * nobody started (approved before `approvedBefore`).
   */
  takeOver(approvedBefore: number): Promise<ApprovalResumeSummary>;
  /** Resolves when no background work is left. */
  idle(): Promise<void>;
  /** Stops background work; executions stay `executing` for the next `resume()`. */
  stop(): void;
}

export interface ApprovalResumeSummary {
  /** Approved requests whose execution had not started. */
  started: number;
  /** Executions taken over from a previous process. */
  resumed: number;
  /** Request messages brought up to date. */
  messages: number;
}

export interface BackoffOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  backoffFactor?: number;
  timeoutMs?: number;
}

/** An approver group as the card mentions it: its Slack id, or that Slack has no such group. */
export interface ApproverMention {
  /** The reference as the gate names it (`@ml-approvers` or `S…`). */
  ref: string;
  /** The group's id, to mention it as `<!subteam^ID>`. */
  id?: string;
  /** Slack answered, and has no group of that handle: nobody is pinged. */
  unknown?: boolean;
}

export interface ApprovalMessageOptions {
  now: number;
  workspaceHost: string;
  /** The approver groups resolved (while pending); without it they show as plain handles. */
  mentions?: ApproverMention[];
  /** A line about the execution under way, e.g. 'Rolling out churn-endpoint…'. */
  progress?: string;
  /** Links to show once executed or failed (the job run, the endpoint). */
  links?: Array<{ url: string; label: string }>;
}

/** How the approval replies and the request message look (implemented in slack/blocks/views.ts). */
export interface ApprovalViews {
  /** The words for a coded error, where a request's outcome keeps them (the Slack edge's). */
  describeError: DescribeError;
  /** The request message, posted once and updated in place. */
  message(r: ApprovalRequest, options: ApprovalMessageOptions): Pick<Reply, 'text' | 'blocks'>;
  /** A gated change or retraining asked with --dry-run. */
  dryRun(
    plan: ApprovalPlan,
    info: { gate: string; required: number; approversText: string; workspaceHost: string },
  ): Reply;
  /** What the requester sees once the request is posted (or recorded). */
  requested(r: ApprovalRequest, postedIn: string | undefined, askedIn: string): Reply;
  /** An ephemeral answer to a click, leaving the request message as it is. */
  notice(text: string, hint?: string): Reply;
  /** The answers about a request and its thread lines. */
  notices: ApprovalNotices;
  /** The prompt a Reject click opens. */
  rejectPrompt(r: ApprovalRequest): Reply;
  /** The line about the execution under way, shown in the request message. */
  progress(p: ExecutionProgress): string;
  /** The DMs to approvers and the requester (worded in slack/blocks/approval-dm.ts). */
  notify: NotifyViews;
}

/** What approvers and requesters are told directly. */
export interface NotifyViews {
  /** An approver's DM: the request card with its buttons, and where the request is. */
  approverDm(r: ApprovalRequest, options: ApprovalMessageOptions): Pick<Reply, 'text' | 'blocks'>;
  /** The requester told of an event of their request, in a DM or in the request's thread. */
  requesterNotice(
    r: ApprovalRequest,
    event: RequesterEvent,
    where: 'dm' | 'thread',
  ): Pick<Reply, 'text' | 'blocks'>;
  /** In the request's thread: an approver no DM could reach, and why. */
  dmUnreachable(r: ApprovalRequest, userId: string, error: string): Pick<Reply, 'text' | 'blocks'>;
}

/** What the notifications need (wiring gives all three, or none: then only the card is posted). */
export interface NotifyDeps {
  store: NotifyStore;
  dms: DirectMessages;
  groups: ApproverGroups;
}

/** Where an execution stands, for the line the request message shows while it runs. */
export type ExecutionProgress =
  | { kind: 'starting_job' | 'applying' | 'restarted' | 'resumed' }
  | { kind: 'step'; step: number; of: number; title: string }
  | { kind: 'run'; runId: number }
  | { kind: 'approving_run'; runId: number }
  | { kind: 'repair'; runId: number; repairId: number };

/** What a click or a thread is told about a request (worded in slack/blocks/approval-notices.ts). */
export interface ApprovalNotices {
  /** Why a click cannot act on the request as it stands, or that there is no such request. */
  status(r: ApprovalRequest | undefined, id: string): Reply;
  /** A new request for what a pending one already asks. */
  samePending(r: ApprovalRequest): Reply;
  /** The deciding click found the plan stale: the request is superseded. */
  superseded(r: ApprovalRequest, what: string): Reply;
  /** A click by someone who has approved already. */
  alreadyVoted(r: ApprovalRequest): Reply;
  /** A vote recorded; `remaining` more are needed. */
  voted(r: ApprovalRequest, votes: number, remaining: number): Reply;
  /** The click that made the quorum: the execution starts. */
  approved(r: ApprovalRequest): Reply;
  /** The requester withdrew it, or an approver rejected it (replaces the reject prompt). */
  rejected(r: ApprovalRequest, withdrawn: boolean): Reply;
  /** The line in the thread it was asked from, when the request went to the approval channel. */
  askedElsewhere(r: ApprovalRequest, channel: string): Pick<Reply, 'text' | 'blocks'>;
  /** The line in the request's thread once it has run. */
  finished(r: ApprovalRequest, result: ExecutionResult): Pick<Reply, 'text' | 'blocks'>;
  /** An Approve click while the bot is stopping. */
  restarting(): Reply;
}

export interface ApprovalServiceDeps {
  views: ApprovalViews;
  policy: ApprovalPolicy;
  defaults: Defaults;
  store: ChangeStore;
  /** The approval requests and votes; they write their audit rows through the change store's log. */
  requests: ApprovalStore;
  /** Runs an approved step and resolves with how it ended. */
  pipeline: Pick<RunningChangePipeline, 'execute'>;
  /** Builds a command's plan against the live state (the same builder the pipeline uses). */
  buildPlan: (input: MutatingCommand) => Promise<Plan>;
  registry: Registry;
  /** MLflow runs, to tie a registered version to the job run that made it. */
  mlflow: MlflowRuns;
  jobs: Jobs;
  jobSettings: JobSettingsReader;
  messenger: Messenger;
  /** The Slack user groups of a user (ids and @handles). */
  groupsOf: (userId: string) => Promise<Set<string>>;
  clock: Clock;
  workspaceHost: string;
  figures?: FiguresSource;
  /** Deployment-job approvals (absent: the policy links no deployment job). */
  deployments?: DeploymentApprover;
  onError?: (err: unknown, correlationId: string) => void;
  /** How job runs are followed (defaults: 2 s doubling to 30 s, 6 h). */
  wait?: BackoffOptions;
  correlationId?: () => string;
  /** Mentions, approver DMs and requester notices; without it the card names groups as text. */
  notify?: NotifyDeps;
}
