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
import { type Actor, type Reply, SILENT_REPLY } from '../domain/vocabulary.js';
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
   * Posts the plan as the bot's own channel message: the change's one message, which Apply,
   * Cancel and the rollout then update in place (chat.update needs a message the bot posted; a
   * response_url reply could not be followed for the length of a rollout). When Slack does not
   * take it, the plan is answered through the response_url as before.
   */
  async function postPlan(change: Change, note?: string): Promise<Reply> {
    const reply = planReply(change, note);
    try {
      const ref = await messenger.post(change.channel, reply, undefined, {
        requester: change.requester,
        about: { target: change.target, changeId: change.id },
      });
      await store.setMessage(change.id, ref);
      return SILENT_REPLY;
    } catch (e) {
      report(e);
      return reply;
    }
  }

  /** Ends a plan that never ran in its own message; the reply when it has none. */
  async function closePlan(change: Change, closing: Reply): Promise<Reply> {
    if (!change.message) return closing;
    await message.close(change, closing);
    return SILENT_REPLY;
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
    return closePlan(change, views.noLongerApplicable(e, change.plan));
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

    const held = await deps.heldElsewhere?.(change.plan);
    if (held) {
      await store.transition(change.id, 'applying', 'proposed', { appliedBy: null, appliedAt: null });
      throw held;
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
        return closePlan(change, views.noLongerApplicable(e, change.plan));
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
      // The new plan takes over the message; the old change lets go of it first, so a restart
      // never closes it over the new plan.
      if (change.message) {
        await store.markMessageFinished(change.id);
        await store.setMessage(next.id, change.message);
      }
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
      const note = `This plan was out of date and nothing was changed: ${what}. Here is the new plan.`;
      if (!change.message) return { ...planReply(next, note), replaceOriginal: true };
      try {
        await messenger.update(change.message, planReply(next, note), {
          requester: next.requester,
          about: { target: next.target, changeId: next.id },
        });
      } catch (e) {
        report(e);
      }
      return SILENT_REPLY;
    }

    const started = await store.transition(change.id, 'applying', 'applying', {
      plan: fresh,
      audit: { actor: clicker.userId, action: 'applied', target: change.target, ...planStates(fresh) },
    });
    if (!started.won) return views.statusNotice(await store.get(change.id), changeId);
    const running = started.change;
    void runner.run(running).catch(() => undefined);
    // The plan message itself says Apply was pressed and follows the rollout.
    return SILENT_REPLY;
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
    // The caller (an approval request's card) tells of this change: it posts no message of its own.
    if (!change.message) await store.markMessageFinished(change.id);
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
    // A canary rollout may hold the endpoint (asked after the compare-and-set, as Apply does): the
    // change ends cancelled there, saying who holds it, and nothing reaches Databricks.
    const held = await deps.heldElsewhere?.(change.plan);
    if (held) {
      const words = views.describeError(held);
      const why = words.text;
      const t = await store.transition(change.id, 'applying', 'cancelled', {
        error: why,
        audit: { actor: actor.userId, action: 'refused', target: change.target, detail: why },
      });
      if (!t.won)
        return outcomeOf(await store.get(changeId)) ?? { status: 'not_started', changeId, why: 'unknown' };
      return {
        status: 'cancelled',
        changeId,
        plan: change.plan,
        reason: why,
        ...(words.hint ? { hint: words.hint } : {}),
      };
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
      if (duplicate) {
        if (change.status !== 'proposed') return views.statusNotice(change, change.id);
        return change.message ? SILENT_REPLY : planReply(change);
      }
      const holder = await store.activeFor(change.target);
      if (holder) return postPlan(change, views.busyNote(holder, plan));
      const posted = await postPlan(change);
      if (deps.autoApplies(input.subcommand, plan)) {
        const reply = await apply(change.id, actor);
        return reply.silent ? posted : { ...reply, replaceOriginal: false };
      }
      return posted;
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
      return closePlan(change, views.cancelled(change));
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
        // A plan that never ran ends as it stood (cancelled, out of date); the others with their outcome.
        if (change.status === 'cancelled' || change.status === 'stale') {
          await message.close(
            change,
            change.status === 'cancelled' ? views.cancelled(change) : views.statusNotice(change, change.id),
          );
        } else await message.showFinal(change, change.message, message.finalView(change));
        if ((await store.get(change.id))?.messageFinished) summary.messagesFinished++;
      }
      return summary;
    },

    idle: () => background.idle(),

    stop: () => background.stop(),
  };
}
