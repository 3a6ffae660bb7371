/**
 * The clicks on a request: Approve (the vote that makes the quorum checks the plan against what
 * is live, once, and starts the execution), the Reject prompt, and Reject or withdraw.
 */
import { describeFailure } from '../changes/apply.js';
import { isUserError, UserError } from '../domain/errors.js';
import type { Actor, Reply } from '../domain/vocabulary.js';
import type { ApprovalContext } from './context.js';
import {
  type ApprovalPlan,
  approvalFingerprint,
  describeJobChange,
  describeStepChange,
  rebuildChangeSteps,
} from './request-plan.js';
import { rightsOf } from './rights.js';
import type { ApprovalRequest } from './store.js';

export interface Voting {
  approve(requestId: string, clicker: Actor): Promise<Reply>;
  promptReject(requestId: string, clicker: Actor): Promise<Reply>;
  reject(requestId: string, clicker: Actor, reason?: string): Promise<Reply>;
}

/**
 * @example const voting = createVoting(ctx, (id, actor) => execution.start(id, actor));
 */
export function createVoting(
  ctx: ApprovalContext,
  /** Starts the execution of a request this click approved (runs in the background). */
  startExecution: (requestId: string, actor: string) => Promise<void>,
): Voting {
  const { deps, approvals, message, background } = ctx;
  const { views, clock } = deps;
  const statusNotice = (r: ApprovalRequest | undefined, id: string): Reply => views.notices.status(r, id);

  /** What changed since the request was made, or undefined when it is still current. */
  async function staleness(plan: ApprovalPlan): Promise<string | undefined> {
    try {
      if (plan.kind === 'retrain') return describeJobChange(plan, await deps.jobSettings.getJob(plan.jobId));
      if (plan.kind === 'deployment') {
        if (!deps.deployments) return 'deployment jobs are no longer watched by this bot';
        return await deps.deployments.staleness(plan);
      }
      const fresh = await rebuildChangeSteps(plan, ctx.stepDeps);
      if (approvalFingerprint({ kind: 'change', steps: fresh }) === approvalFingerprint(plan))
        return undefined;
      return describeStepChange(plan.steps, fresh) ?? 'the target changed since the request was made';
    } catch (e) {
      // The request no longer makes sense (the version vanished, the alias is there already…).
      if (isUserError(e)) return views.describeError(e).text.replace(/\.$/, '');
      const text = describeFailure(e, views.describeError);
      if (!text) throw e;
      throw new UserError('plan_check_failed', { stage: 'approve', ...text });
    }
  }

  async function supersede(r: ApprovalRequest, what: string, actor: string): Promise<Reply> {
    const applied = await approvals.supersede(r.id, what, actor);
    if (applied.decision.kind !== 'moved') return statusNotice(applied.request, r.id);
    await message.refresh(r.id);
    return views.notices.superseded(r, what);
  }

  return {
    async approve(requestId, clicker) {
      if (background.signal.aborted) return views.notices.restarting();
      const r = await approvals.get(requestId);
      if (r?.status !== 'pending') return statusNotice(r, requestId);
      const rights = await rightsOf(r, clicker, deps.groupsOf);
      if (!rights.ok) return views.notice(rights.text, rights.hint);
      if (r.votes.some((v) => v.voter === clicker.userId)) return views.notices.alreadyVoted(r);
      // The vote that may complete the quorum checks the plan against what is live: a stale
      // request is superseded, never approved. This is the one check: the execution runs the
      // plan made at request time.
      if (clock.now() < r.expiresAt && r.votes.length + 1 >= r.required) {
        const what = await staleness(r.plan);
        if (what !== undefined) return supersede(r, what, clicker.userId);
      }
      // No await between the decision and the write: the store applies it in one transaction.
      const applied = await approvals.vote(requestId, clicker.userId, true, clock.now());
      const d = applied.decision;
      const now = applied.request ?? r;
      switch (d.kind) {
        case 'refused':
          if (d.reason === 'already_voted') return views.notices.alreadyVoted(now);
          return statusNotice(now, requestId);
        case 'voted':
          await message.refresh(requestId);
          return views.notices.voted(now, d.votes, d.remaining);
        case 'moved':
          if (d.to === 'expired') {
            await message.refresh(requestId);
            return statusNotice(now, requestId);
          }
          // This click made the quorum: it, and only it, starts the execution.
          message.setProgress(
            requestId,
            views.progress(
              now.plan.kind === 'deployment'
                ? { kind: 'approving_run', runId: now.plan.runId }
                : { kind: now.plan.kind === 'retrain' ? 'starting_job' : 'applying' },
            ),
          );
          background.track(() => startExecution(requestId, clicker.userId));
          await message.refresh(requestId);
          return views.notices.approved(now);
      }
    },

    async promptReject(requestId, clicker) {
      const r = await approvals.get(requestId);
      if (r?.status !== 'pending') return statusNotice(r, requestId);
      if (clicker.userId !== r.requester) {
        const rights = await rightsOf(r, clicker, deps.groupsOf);
        if (!rights.ok) return views.notice(rights.text.replace('approve or reject', 'reject'), rights.hint);
      }
      return views.rejectPrompt(r);
    },

    async reject(requestId, clicker, reason) {
      const r = await approvals.get(requestId);
      if (r?.status !== 'pending') return { ...statusNotice(r, requestId), replaceOriginal: true };
      let isApprover = false;
      if (clicker.userId !== r.requester) {
        const rights = await rightsOf(r, clicker, deps.groupsOf);
        if (!rights.ok) return views.notice(rights.text, rights.hint);
        isApprover = true;
      }
      const text = reason?.trim() ? reason.trim() : undefined;
      const applied = await approvals.reject(requestId, clicker.userId, isApprover, text, clock.now());
      if (applied.decision.kind !== 'moved')
        return { ...statusNotice(applied.request, requestId), replaceOriginal: true };
      await message.refresh(requestId);
      if (applied.decision.to === 'expired')
        return { ...statusNotice(applied.request, requestId), replaceOriginal: true };
      return views.notices.rejected(r, clicker.userId === r.requester);
    },
  };
}
