/**
 * The one pipeline every change goes through: propose (plan shown with Apply/Cancel) → apply
 * (compare-and-set, staleness check, one Databricks call) → follow the rollout in the background,
 * updating one channel message to its end → record the outcome and an audit row. An approved
 * change comes in through `execute` instead of Apply and gets its outcome back. `resume()` picks
 * up what a previous process left in flight. No Bolt here: replies are returned, channel messages
 * go through the Messenger. The running and following live in runner.ts, the channel message in
 * progress-message.ts; this file holds the contracts and the entry points.
 */

import type { ChangeAdvice, ChangeOutcome, MutatingSubcommand, Plan } from '../domain/change.js';
import { type DescribeError, isUserError, UserError } from '../domain/errors.js';
import type { Messenger } from '../domain/ports/messenger.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Endpoint, Serving } from '../domain/ports/serving.js';
import type { Actor, ChangePipeline, MutatingCommand, Reply } from '../domain/vocabulary.js';
import { createBackground } from '../lib/background.js';
import type { Clock } from '../lib/clock.js';
import { describeFailure, type FollowOptions } from './apply.js';
import { describeStaleness } from './plan/index.js';
import { createProgressMessage } from './progress-message.js';
import { createChangeRunner } from './runner.js';
import { type Change, type ChangeStore, planStates } from './store.js';

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
}

/** How the pipeline's replies and channel messages look (implemented in slack/blocks/views.ts). */
export interface PipelineViews {
  /** The plan with Apply/Cancel (or a dry run without buttons). */
  planReply(plan: Plan, options: PlanReplyOptions): Reply;
  /** The channel message that follows one change, posted once and then updated. */
  progress(view: ProgressView): Pick<Reply, 'text' | 'blocks'>;
  /** What replaces the plan once Apply won. */
  applying(plan: Plan, changeId: string, channel: string): Reply;
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
  /** The request no longer makes sense (replaces the plan): the error that says why. */
  noLongerApplicable(e: UserError): Reply;
  /** Cancel won (replaces the plan). */
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
  function expire(change: Change, clicker: Actor, age: number): Reply {
    const e = new UserError('plan_expired', {
      subcommand: change.subcommand,
      ageMs: age,
      expiresAfterMs: planExpiresAfterMs,
    });
    const why = views.describeError(e).text.replace(/\.$/, '');
    const t = store.transition(change.id, 'proposed', 'stale', {
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
    if (!t.won) return views.statusNotice(t.reason === 'status' ? t.change : store.get(change.id), change.id);
    return views.noLongerApplicable(e);
  }

  // -------------------------------------------------------------------------------------------
  // The pipeline
  // -------------------------------------------------------------------------------------------

  async function apply(changeId: string, clicker: Actor): Promise<Reply> {
    if (background.signal.aborted) return views.restarting();
    const change = store.get(changeId);
    if (!change) return views.statusNotice(undefined, changeId);
    if (clicker.userId !== change.requester) {
      return views.onlyRequester(change, 'apply');
    }
    if (change.status !== 'proposed') return views.statusNotice(change, changeId);

    const age = clock.now() - change.createdAt;
    if (age > planExpiresAfterMs) return expire(change, clicker, age);

    // No await before this line: of any number of concurrent clicks exactly one wins here.
    const won = store.transition(change.id, 'proposed', 'applying', {
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
        store.transition(change.id, 'applying', 'stale', {
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
      store.transition(change.id, 'applying', 'proposed', { appliedBy: null, appliedAt: null });
      const text = describeFailure(e, views.describeError);
      if (!text) throw e;
      throw new UserError('plan_check_failed', { stage: 'apply', ...text });
    }

    if (fresh.fingerprint !== change.plan.fingerprint) {
      const what = describeStaleness(change.plan, fresh);
      const next = store.createProposal({
        requester: change.requester,
        channel: change.channel,
        input: change.input,
        plan: fresh,
        actor: clicker.userId,
      }).change;
      store.transition(change.id, 'applying', 'stale', {
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

    const started = store.transition(change.id, 'applying', 'applying', {
      plan: fresh,
      audit: { actor: clicker.userId, action: 'applied', target: change.target, ...planStates(fresh) },
    });
    if (!started.won) return views.statusNotice(store.get(change.id), changeId);
    const running = started.change;
    void runner.run(running).catch(() => undefined);
    return views.applying(fresh, running.id, running.channel);
  }

  async function execute(changeId: string, actor: Actor): Promise<ChangeOutcome> {
    background.signal.throwIfAborted();
    const running = runner.running(changeId);
    if (running) return running;
    const change = store.get(changeId);
    if (!change) return { status: 'not_started', changeId, why: 'unknown' };
    const ended = outcomeOf(change);
    if (ended) return ended;
    if (change.status !== 'proposed') {
      // In flight, left by a previous process and not followed yet: pick it up as resume() would.
      await runner.resumeOne(change, { followed: 0, ended: 0, messagesFinished: 0 });
      const picked = runner.running(changeId) ?? outcomeOf(store.get(changeId));
      if (picked) return picked;
      background.signal.throwIfAborted();
      throw new Error(`change ${changeId} is ${store.get(changeId)?.status} and nobody follows it`);
    }
    const won = store.transition(change.id, 'proposed', 'applying', {
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
      const { change, duplicate } = store.createProposal({
        requester: actor.userId,
        channel: origin.channelId,
        input,
        plan,
        ...(origin.triggerId !== undefined ? { triggerId: origin.triggerId } : {}),
      });
      // A Slack retry of the same command: answer as before, never a second change.
      if (duplicate)
        return change.status === 'proposed' ? planReply(change) : views.statusNotice(change, change.id);
      const holder = store.activeFor(change.target);
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
      const change = store.get(changeId);
      if (!change) return views.statusNotice(undefined, changeId);
      if (clicker.userId !== change.requester) {
        return views.onlyRequester(change, 'cancel');
      }
      const t = store.transition(change.id, 'proposed', 'cancelled', {
        audit: {
          actor: clicker.userId,
          action: 'cancelled',
          target: change.target,
          ...planStates(change.plan),
        },
      });
      if (!t.won)
        return views.statusNotice(t.reason === 'status' ? t.change : store.get(change.id), changeId);
      return views.cancelled(change);
    },

    async takeOver() {
      const summary: ResumeSummary = { followed: 0, ended: 0, messagesFinished: 0 };
      for (const change of store.inFlight()) await runner.resumeOne(change, summary);
      return summary;
    },

    async resume() {
      const summary: ResumeSummary = { followed: 0, ended: 0, messagesFinished: 0 };
      // Taken first, so changes that end while we resume are finished once, by their follower.
      const unfinished = store.unfinishedMessages();
      for (const change of store.inFlight()) await runner.resumeOne(change, summary);
      for (const change of unfinished) {
        await message.showFinal(change, change.message, message.finalView(change));
        if (store.get(change.id)?.messageFinished) summary.messagesFinished++;
      }
      return summary;
    },

    idle: () => background.idle(),

    stop: () => background.stop(),
  };
}
