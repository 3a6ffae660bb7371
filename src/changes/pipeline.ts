/**
 * The one pipeline every change goes through: propose (plan shown with Apply/Cancel) → apply
 * (compare-and-set, staleness check, one Databricks call) → follow the rollout in the background,
 * updating one channel message to its end → record the outcome and an audit row. `resume()` picks
 * up what a previous process left in flight. No Bolt here: replies are returned, channel messages
 * go through the Messenger.
 */

import { isUserError, UserError } from '../domain/errors.js';
import type { Messenger } from '../domain/ports/messenger.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Endpoint, Serving } from '../domain/ports/serving.js';
import type {
  Actor,
  ChangePipeline,
  MessageRef,
  MutatingCommand,
  Origin,
  Reply,
} from '../domain/vocabulary.js';
import { createBackground } from '../lib/background.js';
import type { Clock } from '../lib/clock.js';
import {
  describeFailure,
  type FollowOptions,
  followRollout,
  locatePlan,
  type Submitted,
  submitPlan,
} from './apply.js';
import { describeStaleness, describeTraffic } from './plan.js';
import { ACTIVE_STATUSES, type Change, type ChangeStore, planStates } from './store.js';
import type { EndpointPlan, MutatingSubcommand, Plan } from './types.js';

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
  /** The request no longer makes sense (replaces the plan). */
  noLongerApplicable(reason: string, hint?: string): Reply;
  /** Cancel won (replaces the plan). */
  cancelled(change: Change): Reply;
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
}

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
  apply(changeId: string, clicker: Actor, origin?: Origin): Promise<Reply>;
  cancel(changeId: string, clicker: Actor): Promise<Reply>;
  /** At start-up: follow again what a previous process left in flight, finish open messages. */
  resume(): Promise<ResumeSummary>;
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
  const { report, track } = background;

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

  // -------------------------------------------------------------------------------------------
  // The progress message
  // -------------------------------------------------------------------------------------------

  function view(change: Change, phase: ProgressPhase, extra: Partial<ProgressView> = {}): ProgressView {
    return {
      changeId: change.id,
      plan: change.plan,
      phase,
      requester: change.requester,
      ...(change.appliedBy !== undefined ? { appliedBy: change.appliedBy } : {}),
      startedAt: change.appliedAt ?? change.createdAt,
      now: clock.now(),
      workspaceHost,
      ...extra,
    };
  }

  /** Posts the message once; a failure to post is logged and the change goes on without it. */
  async function post(change: Change, v: ProgressView): Promise<MessageRef | undefined> {
    try {
      const ref = await messenger.post(change.channel, views.progress(v));
      store.setMessage(change.id, ref);
      return ref;
    } catch (e) {
      report(e);
      return undefined;
    }
  }

  async function show(ref: MessageRef | undefined, v: ProgressView): Promise<boolean> {
    if (!ref) return false;
    try {
      await messenger.update(ref, views.progress(v));
      return true;
    } catch (e) {
      report(e);
      return false;
    }
  }

  /** Shows a final state: updates the message, or posts one when there is none yet. */
  async function showFinal(change: Change, ref: MessageRef | undefined, v: ProgressView): Promise<void> {
    const shown = ref ? await show(ref, v) : (await post(change, v)) !== undefined;
    if (shown) store.markMessageFinished(change.id);
  }

  // -------------------------------------------------------------------------------------------
  // Running a change
  // -------------------------------------------------------------------------------------------

  type Ending =
    | { status: 'succeeded'; summary: string; endpoint?: Endpoint }
    | {
        status: 'failed' | 'timed_out';
        reason: string;
        hint?: string;
        endpoint?: Endpoint;
        correlationId?: string;
      };

  /** What an endpoint serves now, for "still serving"; undefined when it cannot be read. */
  async function readEndpoint(plan: Plan): Promise<Endpoint | undefined> {
    if (plan.kind !== 'endpoint') return undefined;
    try {
      return await serving.get(plan.endpoint);
    } catch {
      return undefined;
    }
  }

  /** Records how the change ended (once: compare-and-set) and finishes its message. */
  async function finish(change: Change, ref: MessageRef | undefined, ending: Ending): Promise<void> {
    const { before, after } = planStates(change.plan);
    const endState =
      change.plan.kind === 'endpoint'
        ? (ending.endpoint?.current ?? null)
        : ending.status === 'succeeded'
          ? after
          : before;
    const detail = ending.status === 'succeeded' ? ending.summary : ending.reason;
    const t = store.transition(change.id, ACTIVE_STATUSES, ending.status, {
      ...(ending.status === 'succeeded' ? { outcome: ending.summary } : { error: ending.reason }),
      audit: {
        actor: change.appliedBy ?? change.requester,
        action: ending.status,
        target: change.target,
        before,
        after: endState,
        outcome: ending.status,
        detail:
          ending.status === 'failed' && ending.correlationId
            ? `${detail} (ref ${ending.correlationId})`
            : detail,
      },
    });
    if (!t.won) return; // someone else ended it already (a second resume); their message stands
    const v =
      ending.status === 'succeeded'
        ? view(t.change, 'succeeded', { summary: ending.summary, ...endpointOf(ending.endpoint) })
        : view(t.change, ending.status, {
            reason: ending.reason,
            ...(ending.hint ? { hint: ending.hint } : {}),
            ...(ending.correlationId ? { correlationId: ending.correlationId } : {}),
            ...endpointOf(ending.endpoint),
          });
    await showFinal(t.change, ref ?? t.change.message, v);
  }

  const endpointOf = (endpoint: Endpoint | undefined) => (endpoint ? { endpoint } : {});

  /** Ends a change that broke on our side: the message says so, with a correlation id. */
  async function finishAfterBug(change: Change, ref: MessageRef | undefined, err: unknown): Promise<void> {
    const correlationId = report(err);
    const name = change.plan.kind === 'endpoint' ? ` ${change.plan.endpoint}` : '';
    await finish(change, ref, {
      status: 'failed',
      reason: 'The bot hit an internal error while applying this change.',
      hint: `Check what is live with \`/mlops status${name}\` before trying again.`,
      correlationId,
      ...endpointOf(await readEndpoint(change.plan)),
    });
  }

  async function follow(change: Change, ref: MessageRef | undefined): Promise<void> {
    const plan = change.plan as EndpointPlan;
    const outcome = await followRollout(plan, serving, {
      clock,
      signal: background.signal,
      ...(change.expectConfigVersion !== undefined
        ? { expectConfigVersion: change.expectConfigVersion }
        : {}),
      ...(deps.waitOptions ? { wait: deps.waitOptions } : {}),
      onChange: async (endpoint) => {
        if (endpoint.updating) await show(ref, view(change, 'rolling_out', { endpoint }));
      },
    });
    await finish(change, ref, outcome);
  }

  /** Follows a change that is `rolling_out`, guarding against bugs and shutdown. */
  async function followGuarded(change: Change, ref: MessageRef | undefined): Promise<void> {
    try {
      await follow(change, ref);
    } catch (e) {
      if (background.signal.aborted) return; // stays rolling_out; the next resume() follows it again
      await finishAfterBug(change, ref, e);
    }
  }

  /** After a call whose answer did not arrive: did Databricks take it anyway? */
  async function acceptedAnyway(plan: Plan): Promise<Submitted | undefined> {
    if (plan.kind !== 'endpoint') return undefined;
    try {
      const where = await locatePlan(plan, serving);
      if (where.state !== 'rolling_out') return undefined;
      const version = where.endpoint.pending?.configVersion;
      return {
        kind: 'rollout',
        endpoint: where.endpoint,
        ...(version !== undefined ? { expectConfigVersion: version } : {}),
      };
    } catch {
      return undefined;
    }
  }

  async function run(change: Change): Promise<void> {
    let ref = change.message;
    try {
      ref ??= await post(change, view(change, 'starting'));
      let submitted: Submitted;
      try {
        submitted = await submitPlan(change.plan, { serving, registry });
      } catch (e) {
        const text = describeFailure(e);
        if (!text) throw e;
        const anyway = isUserError(e) ? undefined : await acceptedAnyway(change.plan);
        if (!anyway) {
          await finish(change, ref, {
            status: 'failed',
            ...text,
            ...endpointOf(await readEndpoint(change.plan)),
          });
          return;
        }
        submitted = anyway;
      }
      if (submitted.kind === 'done') {
        await finish(change, ref, { status: 'succeeded', summary: submitted.summary });
        return;
      }
      const t = store.transition(change.id, 'applying', 'rolling_out', {
        ...(submitted.expectConfigVersion !== undefined
          ? { expectConfigVersion: submitted.expectConfigVersion }
          : {}),
      });
      if (!t.won) return;
      await show(ref, view(t.change, 'rolling_out', { endpoint: submitted.endpoint }));
      await followGuarded(t.change, ref);
    } catch (e) {
      await finishAfterBug(change, ref, e);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Resume after a restart
  // -------------------------------------------------------------------------------------------

  const NOT_REACHED = {
    reason: 'The bot restarted before the change reached Databricks; nothing was changed.',
    hint: 'Run the command again to make a new plan.',
  };

  async function resumeApplying(change: Change, summary: ResumeSummary): Promise<void> {
    const plan = change.plan;
    if (plan.kind === 'alias') {
      let now: number | undefined;
      try {
        now = (await registry.resolveAlias(plan.model, plan.alias)).version;
      } catch (e) {
        if (!(isUserError(e) && e.code === 'alias_not_found')) throw e;
      }
      summary.ended++;
      if (now === plan.toVersion) {
        await finish(change, change.message, {
          status: 'succeeded',
          summary: `${plan.alias} points at v${plan.toVersion}.`,
        });
      } else {
        await finish(change, change.message, { status: 'failed', ...NOT_REACHED });
      }
      return;
    }
    const where = await locatePlan(plan, serving);
    if (where.state === 'rolling_out') {
      const version = where.endpoint.pending?.configVersion;
      const t = store.transition(change.id, 'applying', 'rolling_out', {
        ...(version !== undefined ? { expectConfigVersion: version } : {}),
      });
      if (!t.won) return;
      summary.followed++;
      const resumed = t.change;
      track(async () => {
        const ref =
          resumed.message ??
          (await post(resumed, view(resumed, 'rolling_out', { endpoint: where.endpoint })));
        await followGuarded(resumed, ref);
      });
      return;
    }
    summary.ended++;
    if (where.state === 'applied') {
      await finish(change, change.message, {
        status: 'succeeded',
        summary: `${plan.endpoint} serves ${describeTraffic(where.endpoint.current)}.`,
        endpoint: where.endpoint,
      });
      return;
    }
    await finish(change, change.message, { status: 'failed', ...NOT_REACHED, ...endpointOf(where.endpoint) });
  }

  async function resumeOne(change: Change, summary: ResumeSummary): Promise<void> {
    try {
      if (change.status === 'rolling_out' && change.plan.kind === 'endpoint') {
        summary.followed++;
        track(async () => {
          const ref = change.message ?? (await post(change, view(change, 'rolling_out')));
          await followGuarded(change, ref);
        });
        return;
      }
      await resumeApplying(change, summary);
    } catch (e) {
      // Databricks unreadable at start-up: end the change rather than leave its message open.
      const text = describeFailure(e);
      if (!text) {
        await finishAfterBug(change, change.message, e);
        return;
      }
      summary.ended++;
      await finish(change, change.message, {
        status: 'timed_out',
        reason: `After a restart the bot could not check this change: ${text.reason}`,
        hint: 'It may or may not have been applied; check `/mlops status` before trying again.',
      });
    }
  }

  /** The final message of a change that ended, rebuilt from the store. */
  function finalView(change: Change): ProgressView {
    switch (change.status) {
      case 'succeeded':
        return view(change, 'succeeded', change.outcome ? { summary: change.outcome } : {});
      case 'timed_out':
        return view(change, 'timed_out', change.error ? { reason: change.error } : {});
      default:
        return view(change, 'failed', { reason: change.error ?? `The change ended as ${change.status}.` });
    }
  }

  // -------------------------------------------------------------------------------------------
  // The pipeline
  // -------------------------------------------------------------------------------------------

  async function apply(changeId: string, clicker: Actor, _origin?: Origin): Promise<Reply> {
    if (background.signal.aborted) return views.restarting();
    const change = store.get(changeId);
    if (!change) return views.statusNotice(undefined, changeId);
    if (clicker.userId !== change.requester) {
      return views.onlyRequester(change, 'apply');
    }
    if (change.status !== 'proposed') return views.statusNotice(change, changeId);

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
        store.transition(change.id, 'applying', 'stale', {
          error: e.message,
          audit: {
            actor: clicker.userId,
            action: 'stale',
            target: change.target,
            ...planStates(change.plan),
            detail: e.message,
          },
        });
        return views.noLongerApplicable(e.message, e.hint);
      }
      // Ours or Databricks' trouble: put the proposal back so Apply can be pressed again.
      store.transition(change.id, 'applying', 'proposed', { appliedBy: null, appliedAt: null });
      const text = describeFailure(e);
      if (!text) throw e;
      throw new UserError(
        'plan_check_failed',
        `Could not check the plan against Databricks before applying it: ${text.reason} Nothing was changed.`,
        text.hint ? `${text.hint} Then press Apply again.` : 'Press Apply again in a minute.',
      );
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
    track(() => run(running));
    return views.applying(fresh, running.id, running.channel);
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
        const reply = await apply(change.id, actor, origin);
        return { ...reply, replaceOriginal: false };
      }
      return planReply(change);
    },

    apply,

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

    async resume() {
      const summary: ResumeSummary = { followed: 0, ended: 0, messagesFinished: 0 };
      // Taken first, so changes that end while we resume are finished once, by their follower.
      const unfinished = store.unfinishedMessages();
      for (const change of store.inFlight()) await resumeOne(change, summary);
      for (const change of unfinished) {
        const v = finalView(change);
        await showFinal(change, change.message, v);
        if (store.get(change.id)?.messageFinished) summary.messagesFinished++;
      }
      return summary;
    },

    idle: () => background.idle(),

    stop: () => background.stop(),
  };
}
