/**
 * The one pipeline every change goes through: propose (plan shown with Apply/Cancel) → apply
 * (compare-and-set, staleness check, one Databricks call) → follow the rollout in the background,
 * updating one channel message to its end → record the outcome and an audit row. An approved
 * change comes in through `execute` instead of Apply and gets its outcome back. `resume()` picks
 * up what a previous process left in flight. No Bolt here: replies are returned, channel messages
 * go through the Messenger. The running and following live in runner.ts, the channel message in
 * progress-message.ts; this file holds the contracts and the entry points.
 */

import type { ChangeOutcome, Plan } from '../domain/change.js';
import { isUserError, UserError } from '../domain/errors.js';
import type { Actor, Reply } from '../domain/vocabulary.js';
import { createBackground } from '../lib/background.js';
import { describeFailure } from './apply.js';
import type { ChangePipelineDeps, ResumeSummary, RunningChangePipeline } from './contracts.js';
import { DEFAULT_PLAN_EXPIRES_AFTER_MS } from './contracts.js';
import { describeStaleness } from './plan/index.js';
import { createProgressMessage } from './progress-message.js';
import { createChangeRunner } from './runner.js';
import { type Change, planStates } from './store.js';

export type {
  ChangePipelineDeps,
  PipelineViews,
  PlanReplyOptions,
  ProgressPhase,
  ProgressView,
  ResumeSummary,
  RunningChangePipeline,
} from './contracts.js';
export { DEFAULT_PLAN_EXPIRES_AFTER_MS } from './contracts.js';

/**
 * Creates the change pipeline. One instance per process; it owns the background followers.
 *
 * @example
 * const pipeline = createChangePipeline({ store, serving, registry, messenger, clock, workspaceHost, views,
 *   buildPlan: (input) => buildPlanFor(input, deps), autoApplies: () => false });
 * await pipeline.resume();
 * const reply = await pipeline.apply(changeId, { userId: 'U0REQUEST' });
 */
export function createChangePipeline(deps: ChangePipelineDeps): RunningChangePipeline {
  const { store, serving, registry, messenger, clock, workspaceHost, views } = deps;
  const background = createBackground({
    name: 'the change pipeline',
    ...(deps.onError ? { onError: deps.onError } : {}),
    ...(deps.correlationId ? { correlationId: deps.correlationId } : {}),
  });
  const { report } = background;
  const message = createProgressMessage({ store, messenger, views, clock, workspaceHost, report });
  const runner = createChangeRunner({
    store,
    serving,
    registry,
    clock,
    background,
    message,
    describeError: views.describeError,
    ...(deps.waitOptions ? { waitOptions: deps.waitOptions } : {}),
  });
  const { outcomeOf } = runner;
  const planExpiresAfterMs = deps.planExpiresAfterMs ?? DEFAULT_PLAN_EXPIRES_AFTER_MS;

  // -------------------------------------------------------------------------------------------
  // Replies about a change that cannot be acted on as asked
  // -------------------------------------------------------------------------------------------

  function planReply(change: Change, note?: string): Reply {
    return views.planReply(change.plan, {
      changeId: change.id,
      dryRun: false,
      requesterId: change.requester,
      workspaceHost,
      ...(note !== undefined ? { note } : {}),
      ...(deps.needsConfirmation?.(change.plan) ? { confirm: true } : {}),
    });
  }

  /**
   * Refuses Apply on a plan older than the policy allows: the proposal ends as stale (a
   * compare-and-set, audited as expired) and its Apply button goes; nothing reaches Databricks.
   */
  async function expire(change: Change, clicker: Actor, age: number): Promise<Reply> {
    const e = new UserError('plan_expired', {
      subcommand: change.subcommand,
      ageMs: age,
      expiresAfterMs: planExpiresAfterMs,
    });
    const why = views.describeError(e).text.replace(/\.$/, '');
    const t = await store.transition(change.id, 'proposed', 'stale', {
      error: why,
      audit: {
        actor: clicker.userId,
        action: 'expired',
        target: change.target,
        ...planStates(change.plan),
        detail: why,
      },
    });
    // A concurrent click moved it first: say where it stands instead.
    if (!t.won)
      return views.statusNotice(t.reason === 'status' ? t.change : await store.get(change.id), change.id);
    return views.noLongerApplicable(e);
  }

  // -------------------------------------------------------------------------------------------
  // The pipeline
  // -------------------------------------------------------------------------------------------

  async function apply(changeId: string, clicker: Actor): Promise<Reply> {
    if (background.signal.aborted) return views.restarting();
    const change = await store.get(changeId);
    if (!change) return views.statusNotice(undefined, changeId);
    if (clicker.userId !== change.requester) {
      return views.onlyRequester(change, 'apply');
    }
    if (change.status !== 'proposed') return views.statusNotice(change, changeId);

    const age = clock.now() - change.createdAt;
    if (age > planExpiresAfterMs) return expire(change, clicker, age);

    // A compare-and-set in the store: of any number of concurrent clicks (on any replica) exactly one wins.
    const won = await store.transition(change.id, 'proposed', 'applying', {
      appliedBy: clicker.userId,
      appliedAt: clock.now(),
    });
    if (!won.won) {
      if (won.reason === 'target_busy') {
        return views.busy(won.holder, change.plan);
      }
      return views.statusNotice(won.change, changeId);
    }

    let fresh: Plan;
    try {
      fresh = await deps.buildPlan(change.input);
    } catch (e) {
      if (isUserError(e)) {
        // The request no longer makes sense (a version vanished, nothing left to change, …).
        const why = views.describeError(e).text;
        await store.transition(change.id, 'applying', 'stale', {
          error: why,
          audit: {
            actor: clicker.userId,
            action: 'stale',
            target: change.target,
            ...planStates(change.plan),
            detail: why,
          },
        });
        return views.noLongerApplicable(e);
      }
      // Ours or Databricks' trouble: put the proposal back so Apply can be pressed again.
      await store.transition(change.id, 'applying', 'proposed', { appliedBy: null, appliedAt: null });
      const text = describeFailure(e, views.describeError);
      if (!text) throw e;
      throw new UserError('plan_check_failed', { stage: 'apply', ...text });
    }

    if (fresh.fingerprint !== change.plan.fingerprint) {
      const what = describeStaleness(change.plan, fresh);
      const next = (
        await store.createProposal({
          requester: change.requester,
          channel: change.channel,
          input: change.input,
          plan: fresh,
          actor: clicker.userId,
        })
      ).change;
      await store.transition(change.id, 'applying', 'stale', {
        replacedBy: next.id,
        error: what,
        audit: {
          actor: clicker.userId,
          action: 'stale',
          target: change.target,
          before: planStates(change.plan).before,
          after: planStates(fresh).before,
          detail: what,
        },
      });
      return {
        ...planReply(
          next,
          `This plan was out of date and nothing was changed: ${what}. Here is the new plan.`,
        ),
        replaceOriginal: true,
      };
    }

    const started = await store.transition(change.id, 'applying', 'applying', {
      plan: fresh,
      audit: { actor: clicker.userId, action: 'applied', target: change.target, ...planStates(fresh) },
    });
    if (!started.won) return views.statusNotice(await store.get(change.id), changeId);
    const running = started.change;
    void runner.run(running).catch(() => undefined);
    return views.applying(fresh, running.id, running.channel);
  }

  async function execute(changeId: string, actor: Actor): Promise<ChangeOutcome> {
    background.signal.throwIfAborted();
    const running = runner.running(changeId);
    if (running) return running;
    const change = await store.get(changeId);
    if (!change) return { status: 'not_started', changeId, why: 'unknown' };
    const ended = outcomeOf(change);
    if (ended) return ended;
    if (change.status !== 'proposed') {
      // In flight, left by a previous process and not followed yet: pick it up as resume() would.
      await runner.resumeOne(change, { followed: 0, ended: 0, messagesFinished: 0 });
      const picked = runner.running(changeId) ?? outcomeOf(await store.get(changeId));
      if (picked) return picked;
      background.signal.throwIfAborted();
      throw new Error(`change ${changeId} is ${(await store.get(changeId))?.status} and nobody follows it`);
    }
    const won = await store.transition(change.id, 'proposed', 'applying', {
      appliedBy: actor.userId,
      appliedAt: clock.now(),
      audit: { actor: actor.userId, action: 'applied', target: change.target, ...planStates(change.plan) },
    });
    if (!won.won) {
      if (won.reason === 'target_busy') {
        return {
          status: 'not_started',
          changeId,
          plan: change.plan,
          why: 'busy',
          ...(won.holder ? { holder: won.holder } : {}),
        };
      }
      // Someone else moved it first (a second caller): wait for theirs, or read how it ended.
      return (
        runner.running(changeId) ??
        outcomeOf(won.change) ?? { status: 'not_started', changeId, why: 'unknown' }
      );
    }
    const applying = won.change;
    return runner.run(applying);
  }

  return {
    async propose({ input, plan, actor, origin, dryRun }) {
      if (dryRun) {
        return views.planReply(plan, { dryRun: true, requesterId: actor.userId, workspaceHost });
      }
      const { change, duplicate } = await store.createProposal({
        requester: actor.userId,
        channel: origin.channelId,
        input,
        plan,
        ...(origin.triggerId !== undefined ? { triggerId: origin.triggerId } : {}),
      });
      // A Slack retry of the same command: answer as before, never a second change.
      if (duplicate)
        return change.status === 'proposed' ? planReply(change) : views.statusNotice(change, change.id);
      const holder = await store.activeFor(change.target);
      if (holder) {
        return planReply(change, views.busyNote(holder, plan));
      }
      if (deps.autoApplies(input.subcommand, plan)) {
        const reply = await apply(change.id, actor);
        return { ...reply, replaceOriginal: false };
      }
      return planReply(change);
    },

    apply,

    execute,

    async cancel(changeId, clicker) {
      const change = await store.get(changeId);
      if (!change) return views.statusNotice(undefined, changeId);
      if (clicker.userId !== change.requester) {
        return views.onlyRequester(change, 'cancel');
      }
      const t = await store.transition(change.id, 'proposed', 'cancelled', {
        audit: {
          actor: clicker.userId,
          action: 'cancelled',
          target: change.target,
          ...planStates(change.plan),
        },
      });
      if (!t.won)
        return views.statusNotice(t.reason === 'status' ? t.change : await store.get(change.id), changeId);
      return views.cancelled(change);
    },

    async takeOver() {
      const summary: ResumeSummary = { followed: 0, ended: 0, messagesFinished: 0 };
      for (const change of await store.inFlight()) await runner.resumeOne(change, summary);
      return summary;
    },

    async resume() {
      const summary: ResumeSummary = { followed: 0, ended: 0, messagesFinished: 0 };
      // Taken first, so changes that end while we resume are finished once, by their follower.
      const unfinished = await store.unfinishedMessages();
      for (const change of await store.inFlight()) await runner.resumeOne(change, summary);
      for (const change of unfinished) {
        await message.showFinal(change, change.message, message.finalView(change));
        if ((await store.get(change.id))?.messageFinished) summary.messagesFinished++;
      }
      return summary;
    },

    idle: () => background.idle(),

    stop: () => background.stop(),
  };
}
