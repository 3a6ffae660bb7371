/**
 * The approvals service: gated requests (promotion to Production, retraining, anything the policy
 * marks as gated), their votes, expiry and exactly-once execution. No Bolt here: clicks come in as
 * calls, replies go back as `Reply`s, and the request message is posted and updated through the
 * Messenger.
 *
 * Exactly once: every state move is a compare-and-set in the store (approval-store.ts), and only
 * the click whose vote moved a request to `approved` starts its execution, which then holds an
 * attempt token. A change request runs its steps as pipeline changes whose trigger ids are
 * `approval:<request>:<step>` (a unique index: a second run finds the first), and a retraining run
 * is started with the request id as run-now's idempotency token (a second call returns the same
 * run). After a crash, `resume()` takes each execution over and finishes it.
 */

import { describeFailure } from '../changes/apply.js';
import { changeTitle, formatElapsed, shortModel } from '../changes/describe.js';
import type { RunningChangePipeline } from '../changes/pipeline.js';
import type { Change, ChangeStore } from '../changes/store.js';
import type { ChangeStatus, Plan } from '../changes/types.js';
import type { ApprovalPolicy } from '../config/policy-gates.js';
import { isUserError, UserError } from '../domain/errors.js';
import { isFinished, succeeded } from '../domain/job-runs.js';
import type { JobRun, Jobs } from '../domain/ports/jobs.js';
import type { Messenger } from '../domain/ports/messenger.js';
import type { MlflowRuns } from '../domain/ports/mlflow.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Actor, ChangePipeline, MutatingCommand, Origin, Reply } from '../domain/vocabulary.js';
import { jobRunUrl } from '../domain/workspace-links.js';
import { createBackground } from '../lib/background.js';
import type { Clock } from '../lib/clock.js';
import { type AuditItem, summariseAudit } from './audit-trail.js';
import { type FiguresSource, gatherEvidence } from './evidence.js';
import {
  approversNeedGroups,
  checkApprover,
  type Defaults,
  describeApprovers,
  type GateRef,
  gateForChange,
  type RetrainTarget,
  retrainTargetFor,
} from './gate.js';
import type { JobSettingsReader } from './job-settings.js';
import { findRegisteredVersion } from './registered-version.js';
import {
  type ApprovalPlan,
  approvalFingerprint,
  approvalTarget,
  approvalTitle,
  buildChangeSteps,
  type ChangeApprovalPlan,
  describeJobChange,
  describeStepChange,
  type RetrainApprovalPlan,
  rebuildChangeSteps,
} from './request-plan.js';
import { isFinalApproval } from './state.js';
import type { ApprovalRequest } from './store.js';

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
  /** Show the request without making it (`/mlops retrain … --dry-run`). */
  dryRun?: boolean;
}

/** Creates gated retraining requests. */
export interface RetrainRequester {
  requestRetrain(input: RetrainRequest): Promise<Reply>;
}

/** What the read-only subcommands and `/mlops retrain` use. */
export interface ApprovalDesk extends RetrainRequester {
  /** Pending requests, oldest first. */
  pending(): ApprovalRequest[];
  /** The latest changes and requests (for one model or endpoint, or all), newest first. */
  auditTrail(filter?: { model?: string; endpoint?: string; limit?: number }): AuditItem[];
  /** What `/mlops retrain <name>` runs: a monitor's model and job, or a model's (throws UserError). */
  retrainTarget(name: string): RetrainTarget;
}

export interface ApprovalService extends ApprovalDesk {
  /** A gated change (the pipeline's propose, diverted): posts the request instead of a plan. */
  requestChange(request: Parameters<ChangePipeline['propose']>[0]): Promise<Reply>;
  /** An Approve click (after Slack's confirm dialog). */
  approve(requestId: string, clicker: Actor): Promise<Reply>;
  /** A Reject click: the ephemeral reason prompt, or why not. */
  promptReject(requestId: string, clicker: Actor): Promise<Reply>;
  /** The prompt's confirming click. */
  reject(requestId: string, clicker: Actor, reason?: string): Promise<Reply>;
  /** Expires what is due at `now`, updating the messages; returns how many. */
  expireDue(now: number): Promise<number>;
  /** At start-up: finish executions a previous process left, and messages left behind. */
  resume(): Promise<ApprovalResumeSummary>;
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

export interface ApprovalMessageOptions {
  now: number;
  workspaceHost: string;
  /** A line about the execution under way, e.g. 'Rolling out churn-endpoint…'. */
  progress?: string;
  /** Links to show once executed or failed (the job run, the endpoint). */
  links?: Array<{ url: string; label: string }>;
}

/** How the approval replies and the request message look (implemented in slack/blocks/views.ts). */
export interface ApprovalViews {
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
  /** A link in the messages' markup, for the outcome and failure sentences the store keeps. */
  link(url: string, label: string): string;
}

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
  finished(
    r: ApprovalRequest,
    result: { ok: true; outcome: string } | { ok: false; reason: string },
  ): Pick<Reply, 'text' | 'blocks'>;
}

export interface ApprovalServiceDeps {
  views: ApprovalViews;
  policy: ApprovalPolicy;
  defaults: Defaults;
  store: ChangeStore;
  pipeline: Pick<RunningChangePipeline, 'apply'>;
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
  onError?: (err: unknown, correlationId: string) => void;
  /** How job runs and pipeline steps are followed (defaults: 2 s doubling to 30 s, 6 h). */
  wait?: BackoffOptions;
  correlationId?: () => string;
}

const FINAL_CHANGE: readonly ChangeStatus[] = ['succeeded', 'failed', 'timed_out', 'cancelled', 'stale'];

/** Raised inside an execution to end it as failed with words for Slack. */
class ExecutionFailure extends Error {}

/**
 * Creates the approvals service. One per process; it owns the background executions.
 *
 * @example
 * const approvals = createApprovalService({ policy, defaults, store, pipeline, buildPlan, registry, jobs,
 *   views, jobSettings, messenger, groupsOf: (u) => directory.groupsOf(u), clock, workspaceHost });
 * await approvals.resume();
 */
export function createApprovalService(deps: ApprovalServiceDeps): ApprovalService {
  const { policy, store, messenger, clock, workspaceHost, views } = deps;
  const approvals = store.approvals;
  const wait = {
    initialDelayMs: deps.wait?.initialDelayMs ?? 2_000,
    maxDelayMs: deps.wait?.maxDelayMs ?? 30_000,
    backoffFactor: deps.wait?.backoffFactor ?? 2,
    timeoutMs: deps.wait?.timeoutMs ?? 6 * 3_600_000,
  };
  const background = createBackground({
    name: 'the approvals service',
    ...(deps.onError ? { onError: deps.onError } : {}),
    ...(deps.correlationId ? { correlationId: deps.correlationId } : {}),
  });
  const { report, track } = background;
  /** Per request: the message update in flight, and the one queued behind it (if any). */
  const renders = new Map<string, { running: Promise<void>; queued: Promise<void> | undefined }>();
  /** Per request: a line about the execution under way, shown in the message. */
  const progress = new Map<string, string>();
  const stepDeps = { policy, defaults: deps.defaults, buildPlan: deps.buildPlan };

  // -------------------------------------------------------------------------------------------
  // The request message
  // -------------------------------------------------------------------------------------------

  /**
   * Brings the request message up to date with the store. Updates of one request go out one at a
   * time, in order, and each reads the store when it starts: so a burst of clicks costs at most
   * one update in flight plus one queued, and the last one always shows the latest state.
   */
  function refresh(id: string): Promise<void> {
    const entry = renders.get(id);
    if (entry?.queued) return entry.queued;
    const render = async () => {
      const current = renders.get(id);
      if (current) current.queued = undefined;
      const r = approvals.get(id);
      if (!r?.message) return;
      const note = progress.get(id);
      try {
        await messenger.update(
          r.message,
          views.message(r, { now: clock.now(), workspaceHost, ...(note ? { progress: note } : {}) }),
        );
        approvals.markShown(id, r.status);
      } catch (e) {
        report(e);
      }
    };
    const next = (entry?.running ?? Promise.resolve()).then(render);
    const state = { running: next, queued: entry ? next : undefined };
    renders.set(id, state);
    void next.finally(() => {
      if (renders.get(id) === state) renders.delete(id);
    });
    return next;
  }

  async function postRequest(r: ApprovalRequest, channel: string, threadTs?: string): Promise<boolean> {
    try {
      const ref = await messenger.post(
        channel,
        views.message(r, { now: clock.now(), workspaceHost }),
        threadTs,
      );
      approvals.setMessage(r.id, ref);
      return true;
    } catch (e) {
      report(e);
      return false;
    }
  }

  /**
   * Posts a line in the request's thread, and in the thread it was asked from when the request
   * lives elsewhere (the approval channel); best effort.
   */
  async function tell(r: ApprovalRequest, said: Pick<Reply, 'text' | 'blocks'>): Promise<void> {
    const fresh = approvals.get(r.id) ?? r;
    const targets: Array<{ channel: string; ts: string }> = [];
    if (fresh.message) {
      // A request posted inside the thread it came from answers in that same thread.
      const inOrigin = fresh.threadTs !== undefined && fresh.message.channel === fresh.channel;
      targets.push({ channel: fresh.message.channel, ts: inOrigin ? fresh.threadTs! : fresh.message.ts });
      if (fresh.threadTs && !inOrigin) targets.push({ channel: fresh.channel, ts: fresh.threadTs });
    }
    for (const t of targets) {
      try {
        await messenger.post(t.channel, said, t.ts);
      } catch (e) {
        report(e);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Notices
  // -------------------------------------------------------------------------------------------

  const statusNotice = (r: ApprovalRequest | undefined, id: string): Reply => views.notices.status(r, id);

  // -------------------------------------------------------------------------------------------
  // Making requests
  // -------------------------------------------------------------------------------------------

  function requireGate(g: GateRef | undefined, what: string) {
    if (!g?.gate) {
      const name = g?.name ?? 'production';
      throw new UserError(
        'gate_missing',
        `${what} needs an approval, but the policy has no \`gates.${name}\` saying who approves it.`,
        `An admin can add \`gates: { ${name}: { approvers: { groups: ["@…"] } } }\` to the policy file.`,
      );
    }
    return { name: g.name, gate: g.gate };
  }

  async function makeRequest(input: {
    gate: { name: string; gate: NonNullable<GateRef['gate']> };
    plan: ApprovalPlan;
    actor: Actor;
    origin: Origin;
    threadTs?: string;
  }): Promise<Reply> {
    const { gate, plan, actor, origin } = input;
    const same = approvals
      .pending()
      .find(
        (p) => p.target === approvalTarget(plan) && approvalFingerprint(p.plan) === approvalFingerprint(plan),
      );
    if (same?.triggerId !== undefined && same.triggerId === origin.triggerId) {
      // A Slack retry of the same command: answer as before, never a second request.
      return views.requested(same, same.message?.channel, origin.channelId);
    }
    if (same) return views.notices.samePending(same);
    const evidence = await gatherEvidence(plan, {
      registry: deps.registry,
      workspaceHost,
      ...(deps.figures ? { figures: deps.figures } : {}),
      onError: (e) => report(e),
    });
    const { request, duplicate } = approvals.create({
      gate: gate.name,
      requester: actor.userId,
      channel: origin.channelId,
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
      target: approvalTarget(plan),
      plan,
      evidence,
      required: gate.gate.approvals,
      approvers: gate.gate.approvers,
      expiresAt: clock.now() + gate.gate.expiresAfter,
      ...(origin.triggerId ? { triggerId: origin.triggerId } : {}),
    });
    // A Slack retry of the same command: answer as before, never a second request.
    if (duplicate) return views.requested(request, request.message?.channel, origin.channelId);
    const channel = policy.approvalChannel ?? origin.channelId;
    const thread =
      policy.approvalChannel === undefined || policy.approvalChannel === origin.channelId
        ? input.threadTs
        : undefined;
    const posted = await postRequest(request, channel, thread);
    if (posted && input.threadTs && thread === undefined) {
      try {
        await messenger.post(
          origin.channelId,
          views.notices.askedElsewhere(request, channel),
          input.threadTs,
        );
      } catch (e) {
        report(e);
      }
    }
    return views.requested(request, posted ? channel : undefined, origin.channelId);
  }

  async function requestChange(request: Parameters<ChangePipeline['propose']>[0]): Promise<Reply> {
    const { input, plan, actor, origin, dryRun } = request;
    const gate = requireGate(gateForChange(policy, input.subcommand, plan), changeTitle(plan));
    const steps = await buildChangeSteps(input, plan, stepDeps);
    const approvalPlan: ChangeApprovalPlan = { kind: 'change', steps };
    if (dryRun) {
      return views.dryRun(approvalPlan, {
        gate: gate.name,
        required: gate.gate.approvals,
        approversText: describeApprovers(gate.gate.approvers),
        workspaceHost,
      });
    }
    return makeRequest({ gate, plan: approvalPlan, actor, origin });
  }

  async function requestRetrain(input: RetrainRequest): Promise<Reply> {
    const gate = requireGate(
      { name: 'retrain', gate: policy.gates?.retrain },
      `Retraining ${shortModel(input.model)}`,
    );
    const job = await deps.jobSettings.getJob(input.jobId);
    const declared = new Set(job.parameters.map((p) => p.name));
    const parameters: Record<string, string> = { ...(input.parameters ?? {}) };
    if (declared.has('reason') && parameters.reason === undefined)
      parameters.reason = input.reason.slice(0, 200);
    const unknown = Object.keys(parameters).filter((p) => !declared.has(p));
    if (unknown.length > 0) {
      throw new UserError(
        'unknown_job_parameter',
        `Job ${job.name} (${job.jobId}) has no parameter ${unknown.join(', ')}.`,
        `Its parameters are ${[...declared].join(', ') || 'none'}; fix \`retraining\` in the policy file.`,
      );
    }
    const plan: RetrainApprovalPlan = {
      kind: 'retrain',
      model: input.model,
      jobId: job.jobId,
      jobName: job.name,
      parameters,
      ...(input.monitor ? { monitor: input.monitor } : {}),
      reason: input.reason,
      fingerprint: job.fingerprint,
    };
    if (input.dryRun) {
      return views.dryRun(plan, {
        gate: gate.name,
        required: gate.gate.approvals,
        approversText: describeApprovers(gate.gate.approvers),
        workspaceHost,
      });
    }
    return makeRequest({
      gate,
      plan,
      actor: input.actor,
      origin: input.origin,
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Clicks
  // -------------------------------------------------------------------------------------------

  /** May the clicker vote on (or reject) the request? Throws nothing; returns the refusal. */
  async function rightsOf(r: ApprovalRequest, clicker: Actor) {
    const groups = approversNeedGroups(r.approvers) ? await deps.groupsOf(clicker.userId) : new Set<string>();
    return checkApprover(r.approvers, clicker, groups, r.requester);
  }

  /** What changed since the request was made, or undefined when it is still current. */
  async function staleness(plan: ApprovalPlan): Promise<string | undefined> {
    try {
      if (plan.kind === 'retrain') return describeJobChange(plan, await deps.jobSettings.getJob(plan.jobId));
      const fresh = await rebuildChangeSteps(plan, stepDeps);
      if (approvalFingerprint({ kind: 'change', steps: fresh }) === approvalFingerprint(plan))
        return undefined;
      return describeStepChange(plan.steps, fresh) ?? 'the target changed since the request was made';
    } catch (e) {
      // The request no longer makes sense (the version vanished, the alias is there already…).
      if (isUserError(e)) return e.message.replace(/\.$/, '');
      const text = describeFailure(e);
      if (!text) throw e;
      throw new UserError(
        'plan_check_failed',
        `Could not check the request against Databricks: ${text.reason} Your approval was not recorded.`,
        text.hint ? `${text.hint} Then press Approve again.` : 'Press Approve again in a minute.',
      );
    }
  }

  async function supersede(r: ApprovalRequest, what: string, actor: string): Promise<Reply> {
    const applied = approvals.supersede(r.id, what, actor);
    if (applied.decision.kind !== 'moved') return statusNotice(applied.request, r.id);
    await refresh(r.id);
    return views.notices.superseded(r, what);
  }

  async function approve(requestId: string, clicker: Actor): Promise<Reply> {
    if (background.signal.aborted)
      return views.notice('The bot is restarting; press Approve again in a minute.');
    const r = approvals.get(requestId);
    if (r?.status !== 'pending') return statusNotice(r, requestId);
    const rights = await rightsOf(r, clicker);
    if (!rights.ok) return views.notice(rights.text, rights.hint);
    if (r.votes.some((v) => v.voter === clicker.userId)) return views.notices.alreadyVoted(r);
    // The vote that may complete the quorum checks the plan against what is live first: a stale
    // request is superseded, never approved. (Earlier votes only count; the execution checks
    // again before it acts.)
    if (clock.now() < r.expiresAt && r.votes.length + 1 >= r.required) {
      const what = await staleness(r.plan);
      if (what !== undefined) return supersede(r, what, clicker.userId);
    }
    // No await between the decision and the write: the store applies it in one transaction.
    const applied = approvals.vote(requestId, clicker.userId, true, clock.now());
    const d = applied.decision;
    const now = applied.request ?? r;
    switch (d.kind) {
      case 'refused':
        if (d.reason === 'already_voted') return views.notices.alreadyVoted(now);
        return statusNotice(now, requestId);
      case 'voted':
        await refresh(requestId);
        return views.notices.voted(now, d.votes, d.remaining);
      case 'moved':
        if (d.to === 'expired') {
          await refresh(requestId);
          return statusNotice(now, requestId);
        }
        // This click made the quorum: it, and only it, starts the execution.
        progress.set(requestId, now.plan.kind === 'retrain' ? 'Starting the job…' : 'Applying the change…');
        track(() => execute(requestId, clicker.userId));
        await refresh(requestId);
        return views.notices.approved(now);
    }
  }

  async function promptReject(requestId: string, clicker: Actor): Promise<Reply> {
    const r = approvals.get(requestId);
    if (r?.status !== 'pending') return statusNotice(r, requestId);
    if (clicker.userId !== r.requester) {
      const rights = await rightsOf(r, clicker);
      if (!rights.ok) return views.notice(rights.text.replace('approve or reject', 'reject'), rights.hint);
    }
    return views.rejectPrompt(r);
  }

  async function reject(requestId: string, clicker: Actor, reason?: string): Promise<Reply> {
    const r = approvals.get(requestId);
    if (r?.status !== 'pending') return { ...statusNotice(r, requestId), replaceOriginal: true };
    let isApprover = false;
    if (clicker.userId !== r.requester) {
      const rights = await rightsOf(r, clicker);
      if (!rights.ok) return views.notice(rights.text, rights.hint);
      isApprover = true;
    }
    const text = reason?.trim() ? reason.trim() : undefined;
    const applied = approvals.reject(requestId, clicker.userId, isApprover, text, clock.now());
    if (applied.decision.kind !== 'moved')
      return { ...statusNotice(applied.request, requestId), replaceOriginal: true };
    await refresh(requestId);
    if (applied.decision.to === 'expired')
      return { ...statusNotice(applied.request, requestId), replaceOriginal: true };
    return views.notices.rejected(r, clicker.userId === r.requester);
  }

  // -------------------------------------------------------------------------------------------
  // Execution
  // -------------------------------------------------------------------------------------------

  async function execute(requestId: string, actor: string): Promise<void> {
    const started = approvals.startExecution(requestId, actor);
    if (!started) return; // another caller started it
    await runExecution(started.request, started.attempt, true);
  }

  async function runExecution(r: ApprovalRequest, attempt: string, fresh: boolean): Promise<void> {
    let result: { ok: true; outcome: string } | { ok: false; reason: string } | 'superseded' | 'lost';
    try {
      result =
        r.plan.kind === 'retrain'
          ? await executeRetrain(r, r.plan, attempt, fresh)
          : await executeChange(r, r.plan);
    } catch (e) {
      if (background.signal.aborted) return; // stays executing: the next resume() finishes it
      if (e instanceof ExecutionFailure) {
        result = { ok: false, reason: e.message };
      } else {
        const text = describeFailure(e);
        const correlationId = text ? undefined : report(e);
        result = {
          ok: false,
          reason: text
            ? `${text.reason}${text.hint ? ` ${text.hint}` : ''}`
            : `The bot hit an internal error while executing it (reference ${correlationId}).`,
        };
      }
    }
    if (result === 'superseded' || result === 'lost') {
      progress.delete(r.id);
      return;
    }
    const actor = r.decidedBy ?? r.requester;
    const applied = approvals.finish(r.id, attempt, result, actor);
    progress.delete(r.id);
    if (applied.decision.kind !== 'moved') return;
    await refresh(r.id);
    await tell(applied.request ?? r, views.notices.finished(r, result));
  }

  /** Polls a pipeline change until it ends (the pipeline follows it, also after a restart). */
  async function waitForChange(id: string): Promise<Change> {
    let delay = Math.min(wait.initialDelayMs, 1_000);
    const deadline = clock.now() + wait.timeoutMs;
    for (;;) {
      const c = store.get(id);
      if (!c) throw new Error(`pipeline change ${id} vanished`);
      if (FINAL_CHANGE.includes(c.status)) return c;
      if (clock.now() > deadline) {
        throw new ExecutionFailure(
          `The bot stopped waiting for change \`${id}\` (${c.status}); check \`/mlops status\` before trying again.`,
        );
      }
      await clock.sleep(delay, background.signal);
      delay = Math.min(delay * wait.backoffFactor, Math.min(wait.maxDelayMs, 5_000));
    }
  }

  async function executeChange(
    r: ApprovalRequest,
    plan: ChangeApprovalPlan,
  ): Promise<{ ok: true; outcome: string } | 'superseded'> {
    const channel = r.message?.channel ?? r.channel;
    const outcomes: string[] = [];
    for (const [i, step] of plan.steps.entries()) {
      const { change } = store.createProposal({
        requester: r.requester,
        channel,
        input: step.input,
        plan: step.plan,
        triggerId: `approval:${r.id}:${i}`,
        actor: r.decidedBy ?? r.requester,
      });
      if (change.status === 'proposed') {
        progress.set(r.id, `Step ${i + 1} of ${plan.steps.length}: ${changeTitle(step.plan)}…`);
        void refresh(r.id);
        // The pipeline rebuilds the plan, checks it is still current and follows the rollout.
        const reply = await deps.pipeline.apply(change.id, { userId: r.requester }, { channelId: channel });
        const after = store.get(change.id);
        if (after?.status === 'proposed') {
          throw new ExecutionFailure(`${changeTitle(step.plan)} could not start: ${reply.text}`);
        }
      }
      const ended = await waitForChange(change.id);
      if (ended.status === 'stale') {
        // The pipeline made a fresh proposal to show; nobody will, so it is withdrawn.
        if (ended.replacedBy) store.transition(ended.replacedBy, 'proposed', 'cancelled');
        const what = ended.error ?? 'the target changed since the request was made';
        if (i === 0) {
          approvals.supersede(r.id, what, 'modelgate');
          await refresh(r.id);
          return 'superseded';
        }
        throw new ExecutionFailure(
          `${outcomes.join(' ')} Then ${changeTitle(step.plan)} could not be applied: ${what}.`.trim(),
        );
      }
      if (ended.status !== 'succeeded') {
        const done = outcomes.length > 0 ? `${outcomes.join(' ')} Then ` : '';
        throw new ExecutionFailure(
          `${done}${changeTitle(step.plan)} ${ended.status === 'timed_out' ? 'timed out' : ended.status}: ${ended.error ?? 'see the change message'}`,
        );
      }
      outcomes.push(ended.outcome ?? `${changeTitle(step.plan)} done.`);
    }
    return { ok: true, outcome: outcomes.join(' ') };
  }

  async function followRun(runId: number): Promise<JobRun> {
    let delay = wait.initialDelayMs;
    const deadline = clock.now() + wait.timeoutMs;
    for (;;) {
      const run = await deps.jobs.getRun(runId);
      if (isFinished(run)) return run;
      if (clock.now() + delay > deadline) {
        const url = jobRunUrl(workspaceHost, run);
        throw new ExecutionFailure(
          `The bot stopped following ${views.link(url, `run ${runId}`)} after ${formatElapsed(wait.timeoutMs)} (it is ${run.state}); it may still finish.`,
        );
      }
      await clock.sleep(delay, background.signal);
      delay = Math.min(delay * wait.backoffFactor, wait.maxDelayMs);
    }
  }

  async function executeRetrain(
    r: ApprovalRequest,
    plan: RetrainApprovalPlan,
    attempt: string,
    fresh: boolean,
  ): Promise<{ ok: true; outcome: string } | { ok: false; reason: string } | 'superseded' | 'lost'> {
    let runId = r.runId;
    if (runId === undefined) {
      if (fresh) {
        const what = describeJobChange(plan, await deps.jobSettings.getJob(plan.jobId));
        if (what !== undefined) {
          approvals.supersede(r.id, what, 'modelgate');
          await refresh(r.id);
          return 'superseded';
        }
      }
      // The request id as idempotency token: a repeat (a retry, a restart) returns the same run.
      const started = await deps.jobs.runNow(plan.jobId, {
        idempotencyToken: r.id,
        parameters: plan.parameters,
      });
      runId = started.runId;
      if (!approvals.recordRun(r.id, attempt, runId)) return 'lost';
      progress.set(r.id, `Job run ${runId} started; following it…`);
      await refresh(r.id);
    }
    const run = await followRun(runId);
    const url = jobRunUrl(workspaceHost, run);
    const runLink = views.link(url, `run ${run.runId}`);
    const took =
      run.startedAt && run.endedAt
        ? ` after ${formatElapsed(run.endedAt.getTime() - run.startedAt.getTime())}`
        : '';
    if (!succeeded(run)) {
      const why = run.result
        ? `${run.result.code}${run.result.message ? `: ${run.result.message}` : ''}`
        : run.state;
      return { ok: false, reason: `${runLink} of ${plan.jobName} did not succeed${took} (${why}).` };
    }
    let registered = '';
    try {
      const found = await findRegisteredVersion(deps, plan.model, run);
      const v = found?.version;
      const aliases = v && v.aliases.length > 0 ? v.aliases.join(', ') : 'none yet';
      registered = !v
        ? ` It registered no new version of ${shortModel(plan.model)}.`
        : found.confirmed
          ? ` It registered ${shortModel(plan.model)} v${v.version} (aliases: ${aliases}).`
          : ` ${shortModel(plan.model)} v${v.version} was registered while it ran (aliases: ${aliases}); the bot could not confirm it came from this run.`;
    } catch (e) {
      if (!isUserError(e) && !describeFailure(e)) report(e);
      registered = ` The bot could not check which version it registered.`;
    }
    return { ok: true, outcome: `${runLink} of ${plan.jobName} succeeded${took}.${registered}` };
  }

  // -------------------------------------------------------------------------------------------
  // The service
  // -------------------------------------------------------------------------------------------

  return {
    requestChange,
    requestRetrain,
    approve,
    promptReject,
    reject,

    async expireDue(now) {
      const expired = approvals.expireDue(now);
      await Promise.all(expired.map((r) => refresh(r.id)));
      return expired.length;
    },

    pending: () => approvals.pending(),

    retrainTarget: (name) => retrainTargetFor(policy, name, deps.defaults),

    auditTrail(filter = {}) {
      const targets: string[] = [];
      const prefixes: string[] = [];
      if (filter.endpoint) targets.push(`endpoint:${filter.endpoint}`);
      if (filter.model) {
        prefixes.push(`alias:${filter.model}@`);
        targets.push(`retrain:${filter.model}`);
      }
      const rows =
        targets.length + prefixes.length > 0
          ? approvals.auditFor({ targets, prefixes, limit: 500 })
          : store.recentAudit({ limit: 500 });
      // Steps of a request file their rows under their own target; fetch the request's rows too.
      const requestIds = new Set<string>();
      for (const row of rows) {
        const trigger = row.changeId ? store.get(row.changeId)?.triggerId : undefined;
        const m = /^approval:([^:]+):\d+$/.exec(trigger ?? '');
        if (m) requestIds.add(m[1]!);
      }
      const extra = [...requestIds].flatMap((id) => store.recentAudit({ changeId: id, limit: 100 }));
      const seen = new Set(rows.map((r) => r.seq));
      const all = [...rows, ...extra.filter((r) => !seen.has(r.seq))];
      return summariseAudit(all, {
        requestTitle: (id) => {
          const r = approvals.get(id);
          return r ? approvalTitle(r.plan) : undefined;
        },
        change: (id) => {
          const c = store.get(id);
          return c
            ? { title: changeTitle(c.plan), ...(c.triggerId ? { triggerId: c.triggerId } : {}) }
            : undefined;
        },
      }).slice(0, filter.limit ?? 15);
    },

    async resume() {
      const summary: ApprovalResumeSummary = { started: 0, resumed: 0, messages: 0 };
      for (const r of approvals.inFlight()) {
        if (r.status === 'approved') {
          summary.started++;
          progress.set(r.id, 'Executing after a restart…');
          track(() => execute(r.id, r.decidedBy ?? r.requester));
        } else {
          const taken = approvals.takeOver(r.id, r.attempt);
          if (!taken) continue;
          summary.resumed++;
          progress.set(r.id, 'Picked up again after a restart…');
          track(() => runExecution(taken.request, taken.attempt, false));
        }
      }
      for (const r of approvals.unshown()) {
        if (isFinalApproval(r.status) || r.status === 'pending') {
          await refresh(r.id);
          summary.messages++;
        }
      }
      return summary;
    },

    async idle() {
      await background.idle();
      await Promise.allSettled([...renders.values()].map((r) => r.running));
    },

    stop: () => background.stop(),
  };
}

/**
 * The change pipeline as handlers see it, with gated changes diverted into approval requests:
 * what the policy gates (a Production move, a custom gate's subcommand, alias or endpoint) is
 * requested for approval instead of proposed.
 *
 * @example const changes = gateChanges(pipeline, approvals, policy); await changes.propose({ input, plan, actor, origin, dryRun });
 */
export function gateChanges(
  pipeline: ChangePipeline,
  approvals: Pick<ApprovalService, 'requestChange'>,
  policy: Pick<ApprovalPolicy, 'gates'>,
): ChangePipeline {
  return {
    propose(request) {
      const gated = gateForChange(policy, request.input.subcommand, request.plan);
      return gated ? approvals.requestChange(request) : pipeline.propose(request);
    },
  };
}
