/**
 * The approvals service: gated requests (promotion to Production, retraining, anything the policy
 * marks as gated), their votes, expiry and exactly-once execution. No Bolt here: clicks come in as
 * calls, replies go back as `Reply`s, and the request message is posted and updated through the
 * Messenger.
 *
 * The parts: intake.ts (making requests), voting.ts (clicks), execution.ts (running what was
 * approved, exactly once, and resuming after a restart), request-message.ts (the message and its
 * thread), rights.ts (who may vote), state.ts (the pure state machine), store.ts. This file holds
 * the contracts and composes the parts.
 */

import type { ApprovalPolicy } from '../config/policy-gates.js';
import type { ChangePipeline } from '../domain/vocabulary.js';
import { createBackground } from '../lib/background.js';
import { auditTrailOf } from './audit-trail.js';
import type { ApprovalContext } from './context.js';
import type { ApprovalResumeSummary, ApprovalService, ApprovalServiceDeps } from './contracts.js';
import { createExecution } from './execution.js';
import { gateForChange, retrainTargetFor } from './gate.js';
import { createIntake } from './intake.js';
import { createApprovalNotifier } from './notify.js';
import { createRequestMessage } from './request-message.js';
import { isFinalApproval } from './state.js';
import { createVoting } from './voting.js';

export type {
  ApprovalDesk,
  ApprovalMessageOptions,
  ApprovalNotices,
  ApprovalResumeSummary,
  ApprovalService,
  ApprovalServiceDeps,
  ApprovalViews,
  ApproverMention,
  BackoffOptions,
  DeploymentApprover,
  DeploymentRequest,
  ExecutionProgress,
  NotifyDeps,
  NotifyViews,
  RetrainRequest,
  RetrainRequester,
} from './contracts.js';

/**
 * Creates the approvals service: intake, voting and execution over one store, one request
 * message and one set of background work. One per process; it owns the background executions.
 *
 * @example
 * const approvals = createApprovalService({ policy, defaults, store, pipeline, buildPlan, registry, jobs,
 *   views, jobSettings, messenger, groupsOf: (u) => directory.groupsOf(u), clock, workspaceHost });
 * await approvals.resume();
 */
export function createApprovalService(deps: ApprovalServiceDeps): ApprovalService {
  const { policy, store, clock, workspaceHost, views } = deps;
  const approvals = deps.requests;
  const background = createBackground({
    name: 'the approvals service',
    ...(deps.onError ? { onError: deps.onError } : {}),
    ...(deps.correlationId ? { correlationId: deps.correlationId } : {}),
  });
  const report = (e: unknown) => background.report(e);
  const notifier = deps.notify
    ? createApprovalNotifier({
        ...deps.notify,
        messenger: deps.messenger,
        views,
        gates: policy.gates,
        get: (id) => approvals.get(id),
        audit: (entry) => store.audit(entry),
        clock,
        report,
      })
    : undefined;
  const message = createRequestMessage({
    approvals,
    messenger: deps.messenger,
    views,
    clock,
    workspaceHost,
    report,
    ...(notifier ? { notifier } : {}),
  });
  const ctx: ApprovalContext = {
    deps,
    approvals,
    background,
    message,
    stepDeps: { policy, defaults: deps.defaults, buildPlan: deps.buildPlan },
  };
  const intake = createIntake(ctx);
  const execution = createExecution(ctx);
  const voting = createVoting(ctx, (id, actor) => execution.start(id, actor));

  return {
    requestChange: intake.requestChange,
    requestRetrain: intake.requestRetrain,
    requestDeployment: intake.requestDeployment,
    async supersede(requestId, what) {
      // Only a pending request: an approved one is its execution's to settle (it reads Databricks).
      if ((await approvals.get(requestId))?.status !== 'pending') return false;
      const applied = await approvals.supersede(requestId, what, 'modelgate');
      if (applied.decision.kind !== 'moved') return false;
      await message.refresh(requestId);
      return true;
    },
    approve: voting.approve,
    promptReject: voting.promptReject,
    reject: voting.reject,

    async dmChannelsOf(requestId) {
      if (!deps.notify) return [];
      return (await deps.notify.store.approverDms(requestId)).flatMap((d) => (d.ref ? [d.ref.channel] : []));
    },

    async expireDue(now) {
      const expired = await approvals.expireDue(now);
      await Promise.all(expired.map((r) => message.refresh(r.id)));
      return expired.length;
    },

    pending: () => approvals.pending(),

    retrainTarget: (name) => retrainTargetFor(policy, name, deps.defaults),

    auditTrail: (filter = {}) => auditTrailOf(store, approvals, filter),

    async takeOver(approvedBefore) {
      const summary: ApprovalResumeSummary = { started: 0, resumed: 0, messages: 0 };
      await execution.resume(summary, { approvedBefore });
      return summary;
    },

    async resume() {
      const summary: ApprovalResumeSummary = { started: 0, resumed: 0, messages: 0 };
      await execution.resume(summary);
      for (const r of await approvals.unshown()) {
        if (isFinalApproval(r.status) || r.status === 'pending') {
          await message.refresh(r.id);
          summary.messages++;
        }
      }
      return summary;
    },

    async idle() {
      await background.idle();
      await message.settled();
    },

    stop: () => background.stop(),
  };
}

/**
 * The change pipeline as handlers see it, with gated changes diverted into approval requests:
 * what the policy gates (a Production move; a deploy, split or rollback of an endpoint bound to a
 * gated alias, unless the binding opts it out; a custom gate's subcommand, alias or endpoint) is
 * requested for approval instead of proposed. Nothing gated reaches `pipeline.propose`, so no
 * Apply button (nor autoApply) can change it.
 *
 * @example const changes = gateChanges(pipeline, approvals, policy); await changes.propose({ input, plan, actor, origin, dryRun });
 */
export function gateChanges(
  pipeline: ChangePipeline,
  approvals: Pick<ApprovalService, 'requestChange'>,
  policy: Pick<ApprovalPolicy, 'gates' | 'bindings'>,
): ChangePipeline {
  return {
    propose(request) {
      // The gate found here is passed on, so the request does not look it up again.
      const gated = gateForChange(policy, request.input.subcommand, request.plan);
      return gated ? approvals.requestChange(request, gated) : pipeline.propose(request);
    },
  };
}
