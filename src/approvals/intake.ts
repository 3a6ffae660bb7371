/**
 * Making requests: a gated change or a retraining becomes a stored request with its plan (built
 * once, here), its evidence, and a message with Approve / Reject in the approval channel.
 */
import { changeTitle, shortModel } from '../changes/describe.js';
import { UserError } from '../domain/errors.js';
import type { Actor, ChangePipeline, Origin, Reply } from '../domain/vocabulary.js';
import type { ApprovalContext } from './context.js';
import type { DeploymentRequest, RetrainRequest } from './contracts.js';
import { gatherEvidence } from './evidence.js';
import { describeApprovers, type GateRef, gateForChange } from './gate.js';
import {
  type ApprovalPlan,
  approvalFingerprint,
  approvalTarget,
  buildChangeSteps,
  type ChangeApprovalPlan,
  type RetrainApprovalPlan,
} from './request-plan.js';
import { DEPLOYMENT_REQUESTER } from './requesters.js';
import { type RequiredGate, requireGate } from './rights.js';
import type { ApprovalRequest } from './store.js';

export interface Intake {
  requestChange(request: Parameters<ChangePipeline['propose']>[0], gate?: GateRef): Promise<Reply>;
  requestRetrain(input: RetrainRequest): Promise<Reply>;
  requestDeployment(input: DeploymentRequest): Promise<ApprovalRequest | undefined>;
}

/** The job parameter that carries a check's violation count (the reference's task value). */
export const VIOLATIONS_PARAMETER = 'all_violations_count';

/** @example const intake = createIntake(ctx); await intake.requestChange({ input, plan, actor, origin, dryRun: false }); */
export function createIntake(ctx: ApprovalContext): Intake {
  const { deps, approvals, message } = ctx;
  const { views, policy, clock, workspaceHost } = deps;
  const report = (e: unknown) => ctx.background.report(e);

  function dryRun(plan: ApprovalPlan, gate: RequiredGate): Reply {
    return views.dryRun(plan, {
      gate: gate.name,
      required: gate.gate.approvals,
      approversText: describeApprovers(gate.gate.approvers),
      workspaceHost,
    });
  }

  async function makeRequest(input: {
    gate: RequiredGate;
    plan: ApprovalPlan;
    actor: Actor;
    origin: Origin;
    threadTs?: string;
  }): Promise<{ reply: Reply; request?: ApprovalRequest }> {
    const { gate, plan, actor, origin } = input;
    const same = (await approvals.pending()).find(
      (p) => p.target === approvalTarget(plan) && approvalFingerprint(p.plan) === approvalFingerprint(plan),
    );
    if (same?.triggerId !== undefined && same.triggerId === origin.triggerId) {
      // A Slack retry of the same command: answer as before, never a second request.
      return { reply: views.requested(same, same.message?.channel, origin.channelId), request: same };
    }
    if (same) return { reply: views.notices.samePending(same) };
    const evidence = await gatherEvidence(plan, {
      registry: deps.registry,
      workspaceHost,
      ...(deps.figures ? { figures: deps.figures } : {}),
      onError: report,
    });
    const { request, duplicate } = await approvals.create({
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
    if (duplicate)
      return { reply: views.requested(request, request.message?.channel, origin.channelId), request };
    const channel = policy.approvalChannel ?? origin.channelId;
    const thread =
      policy.approvalChannel === undefined || policy.approvalChannel === origin.channelId
        ? input.threadTs
        : undefined;
    const posted = await message.post(request, channel, thread);
    // One pointer where it was asked (in its thread, if it came from one) to the one card.
    if (posted && thread === undefined && channel !== origin.channelId) {
      try {
        await deps.messenger.post(
          origin.channelId,
          views.notices.askedElsewhere(request, channel),
          input.threadTs,
          { requester: request.requester, about: { target: request.target } },
        );
      } catch (e) {
        report(e);
      }
    }
    return { reply: views.requested(request, posted ? channel : undefined, origin.channelId), request };
  }

  return {
    async requestChange(request, gateRef) {
      const { input, plan, actor, origin } = request;
      const gate = requireGate(gateRef ?? gateForChange(policy, input.subcommand, plan), changeTitle(plan));
      const steps = await buildChangeSteps(input, plan, ctx.stepDeps);
      const approvalPlan: ChangeApprovalPlan = { kind: 'change', steps };
      if (request.dryRun) return dryRun(approvalPlan, gate);
      return (await makeRequest({ gate, plan: approvalPlan, actor, origin })).reply;
    },

    async requestRetrain(input) {
      const gate = requireGate(
        { name: 'retrain', gate: policy.gates?.retrain },
        `Retraining ${shortModel(input.model)}`,
      );
      const job = await deps.jobSettings.getJob(input.jobId);
      const declared = new Set(job.parameters.map((p) => p.name));
      const parameters: Record<string, string> = { ...(input.parameters ?? {}) };
      if (declared.has('reason') && parameters.reason === undefined)
        parameters.reason = input.reason.slice(0, 200);
      if (declared.has(VIOLATIONS_PARAMETER) && input.violations !== undefined)
        parameters[VIOLATIONS_PARAMETER] = String(input.violations);
      const unknown = Object.keys(parameters).filter((p) => !declared.has(p));
      if (unknown.length > 0) {
        throw new UserError('unknown_job_parameter', {
          job: job.name,
          jobId: job.jobId,
          unknown,
          declared: [...declared],
        });
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
      if (input.dryRun) return dryRun(plan, gate);
      const made = await makeRequest({
        gate,
        plan,
        actor: input.actor,
        origin: input.origin,
        ...(input.threadTs ? { threadTs: input.threadTs } : {}),
      });
      return made.reply;
    },

    async requestDeployment(input) {
      const gate = requireGate(
        { name: input.gate, gate: policy.gates?.[input.gate] },
        `Deploying ${shortModel(input.plan.model)} v${input.plan.version}`,
      );
      const channelId = policy.approvalChannel ?? input.channelId;
      if (channelId === undefined) return undefined;
      const made = await makeRequest({
        gate,
        plan: input.plan,
        actor: { userId: DEPLOYMENT_REQUESTER },
        origin: { channelId, triggerId: input.triggerId },
      });
      return made.request;
    },
  };
}
