/**
 * Running a change to its end: the one call that starts it, the rollout followed in the
 * background, and the outcome recorded once (compare-and-set) with its audit row and final
 * message. Also picks up what a previous process left in flight. Each run resolves with the
 * change's outcome, so `execute` callers get it back instead of reading the store.
 */

import type { ChangeAdvice, ChangeOutcome, EndpointPlan, Plan } from '../domain/change.js';
import { type DescribeError, hasCode, isUserError } from '../domain/errors.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Endpoint, Serving } from '../domain/ports/serving.js';
import type { MessageRef } from '../domain/vocabulary.js';
import type { Background } from '../lib/background.js';
import type { Clock } from '../lib/clock.js';
import {
  describeFailure,
  type FollowOptions,
  followRollout,
  locatePlan,
  type Submitted,
  submitPlan,
} from './apply.js';
import type { ResumeSummary } from './contracts.js';
import { describeTraffic } from './plan/index.js';
import { APPLY_GRACE_MS, type ProgressMessage } from './progress-message.js';
import { ACTIVE_STATUSES, type Change, type ChangeStore, planStates } from './store.js';

export interface ChangeRunnerDeps {
  store: ChangeStore;
  serving: Serving;
  registry: Registry;
  clock: Clock;
  background: Background;
  message: ProgressMessage;
  /** Words for a coded error a change ends on (the Slack edge's, through the views). */
  describeError: DescribeError;
  /** Polling and timeout of rollouts (defaults: waitForRollout's). */
  waitOptions?: FollowOptions['wait'];
}

export interface ChangeRunner {
  /** Runs a change that is `applying` (Apply or execute won) and resolves with how it ended. */
  run(change: Change): Promise<ChangeOutcome>;
  /** The run or follower of a change in this process, if any. */
  running(id: string): Promise<ChangeOutcome> | undefined;
  /** How a change ended, from the store; undefined while it is not final. */
  outcomeOf(change: Change | undefined): ChangeOutcome | undefined;
  /** Picks up one change a previous process left `applying` or `rolling_out`. */
  resumeOne(change: Change, summary: ResumeSummary): Promise<void>;
}

/** @example const runner = createChangeRunner({ store, serving, registry, clock, background, message, describeError }); */
export function createChangeRunner(deps: ChangeRunnerDeps): ChangeRunner {
  const { store, serving, registry, clock, background, message } = deps;
  const { report, track } = background;
  const { view, post, show, showFinal } = message;

  /** Per change: the run or follower of this process, resolving with how the change ended. */
  const runs = new Map<string, Promise<ChangeOutcome>>();

  /**
   * Runs `work` in the background once per change: a second call for the same change gets the
   * first one's promise. Work that gives up because the pipeline stops rejects with the reason.
   */
  function start(id: string, work: () => Promise<ChangeOutcome | undefined>): Promise<ChangeOutcome> {
    const running = runs.get(id);
    if (running) return running;
    const outcome = work().then((o) => {
      if (o) return o;
      background.signal.throwIfAborted();
      throw new Error(`change ${id} was moved on by another process`);
    });
    runs.set(id, outcome);
    track(async () => {
      try {
        await outcome;
      } finally {
        runs.delete(id);
      }
    });
    return outcome;
  }

  type Ending =
    | { status: 'succeeded'; summary: string; endpoint?: Endpoint }
    | {
        status: 'failed' | 'timed_out';
        reason: string;
        hint?: string;
        advice?: ChangeAdvice;
        endpoint?: Endpoint;
        correlationId?: string;
      };

  /** How a change ended, from the store; undefined while it is not final. */
  function outcomeOf(change: Change | undefined): ChangeOutcome | undefined {
    if (!change) return undefined;
    const base = { changeId: change.id, plan: change.plan };
    switch (change.status) {
      case 'succeeded':
        return { status: 'succeeded', ...base, ...(change.outcome ? { summary: change.outcome } : {}) };
      case 'failed':
      case 'timed_out':
      case 'cancelled':
        return { status: change.status, ...base, ...(change.error ? { reason: change.error } : {}) };
      case 'stale':
        return {
          status: 'stale',
          ...base,
          ...(change.error ? { what: change.error } : {}),
          ...(change.replacedBy ? { replacedBy: change.replacedBy } : {}),
        };
      default:
        return undefined;
    }
  }

  /** The outcome of an ending this process recorded. */
  function outcomeOfEnding(change: Change, ending: Ending): ChangeOutcome {
    const base = { changeId: change.id, plan: change.plan };
    if (ending.status === 'succeeded') return { status: 'succeeded', ...base, summary: ending.summary };
    return {
      status: ending.status,
      ...base,
      reason: ending.reason,
      ...(ending.hint ? { hint: ending.hint } : {}),
      ...(ending.advice ? { advice: ending.advice } : {}),
      ...(ending.correlationId ? { correlationId: ending.correlationId } : {}),
    };
  }

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
  async function finish(change: Change, ref: MessageRef | undefined, ending: Ending): Promise<ChangeOutcome> {
    const { before, after } = planStates(change.plan);
    const endState =
      change.plan.kind === 'endpoint'
        ? (ending.endpoint?.current ?? null)
        : ending.status === 'succeeded'
          ? after
          : before;
    const detail = ending.status === 'succeeded' ? ending.summary : ending.reason;
    const t = await store.transition(change.id, ACTIVE_STATUSES, ending.status, {
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
    // Someone else ended it already (a second resume, a process that took it over); their message
    // and outcome stand, and what this one saw is kept beside them when it differs.
    if (!t.won) {
      const recorded = await store.get(change.id);
      if (recorded && recorded.status !== ending.status) {
        await recordLate(change, recorded, `it ended here as ${ending.status}: ${detail}`, endState);
      }
      return outcomeOf(recorded) ?? outcomeOfEnding(change, ending);
    }
    const v =
      ending.status === 'succeeded'
        ? view(t.change, 'succeeded', { summary: ending.summary, ...endpointOf(ending.endpoint) })
        : view(t.change, ending.status, {
            reason: ending.reason,
            ...(ending.hint ? { hint: ending.hint } : {}),
            ...(ending.advice ? { advice: ending.advice } : {}),
            ...(ending.correlationId ? { correlationId: ending.correlationId } : {}),
            ...endpointOf(ending.endpoint),
          });
    await showFinal(t.change, ref ?? t.change.message, v);
    return outcomeOfEnding(t.change, ending);
  }

  const endpointOf = (endpoint: Endpoint | undefined) => (endpoint ? { endpoint } : {});

  /**
   * A compare-and-set lost after this process had acted (its call reached Databricks, or it saw
   * the end): the record moved on without it, so the facts go in the audit log, never lost.
   */
  async function recordLate(
    change: Change,
    recorded: Change | undefined,
    what: string,
    after: unknown,
  ): Promise<void> {
    try {
      await store.audit({
        actor: 'modelgate',
        action: 'late_result',
        target: change.target,
        changeId: change.id,
        before: planStates(change.plan).before,
        after,
        detail:
          `${store.owner ?? 'A process'} lost the change to ${recorded?.owner ?? 'another process'} ` +
          `(recorded as ${recorded?.status ?? 'missing'}${recorded?.error ? `: ${recorded.error}` : ''}); ${what}.`,
      });
    } catch (e) {
      report(e);
    }
  }

  /** Ends a change that broke on our side: the message says so, with a correlation id. */
  async function finishAfterBug(
    change: Change,
    ref: MessageRef | undefined,
    err: unknown,
  ): Promise<ChangeOutcome> {
    const correlationId = report(err);
    return finish(change, ref, {
      status: 'failed',
      reason: 'The bot hit an internal error while applying this change.',
      advice: {
        kind: 'check_live',
        ...(change.plan.kind === 'endpoint' ? { endpoint: change.plan.endpoint } : {}),
      },
      correlationId,
      ...endpointOf(await readEndpoint(change.plan)),
    });
  }

  async function follow(change: Change, ref: MessageRef | undefined): Promise<ChangeOutcome> {
    const plan = change.plan as EndpointPlan;
    const outcome = await followRollout(plan, serving, {
      clock,
      describeError: deps.describeError,
      signal: background.signal,
      ...(change.expectConfigVersion !== undefined
        ? { expectConfigVersion: change.expectConfigVersion }
        : {}),
      ...(deps.waitOptions ? { wait: deps.waitOptions } : {}),
      onChange: async (endpoint) => {
        if (endpoint.updating) await show(ref, view(change, 'rolling_out', { endpoint }));
      },
    });
    return finish(change, ref, outcome);
  }

  /**
   * Follows a change that is `rolling_out`, guarding against bugs and shutdown. Undefined when
   * the pipeline stops: the change stays rolling_out and the next resume() follows it again.
   */
  async function followGuarded(
    change: Change,
    ref: MessageRef | undefined,
  ): Promise<ChangeOutcome | undefined> {
    try {
      return await follow(change, ref);
    } catch (e) {
      if (background.signal.aborted) {
        // A clean stop: the next process may take the rollout over without waiting out the lease.
        try {
          await store.release(change.id);
        } catch {
          // The connection closed first: the lease runs out instead.
        }
        return undefined;
      }
      return finishAfterBug(change, ref, e);
    }
  }

  /**
   * After a create whose answer did not arrive: did Databricks take it anyway? (Updates are
   * settled inside submitPlan, which reads the endpoint before and after.)
   */
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

  /**
   * The plan message says Apply was pressed only when Databricks is slow to take the change:
   * a quick answer goes straight to "rolling out" (or done), one call fewer per change.
   */
  async function sayApplyingUnlessQuick(
    change: Change,
    ref: MessageRef | undefined,
    submission: Promise<unknown>,
  ): Promise<void> {
    const timer = new AbortController();
    const quick = await Promise.race([
      submission.then(() => true),
      clock.sleep(APPLY_GRACE_MS, timer.signal).then(
        () => false,
        () => false,
      ),
    ]);
    timer.abort();
    if (!quick) await show(ref, view(change, 'starting'));
  }

  /** Makes the call that starts a change and follows it to its end. */
  async function run(change: Change): Promise<ChangeOutcome | undefined> {
    let ref = change.message;
    try {
      ref ??= await post(change, view(change, 'starting'));
      const submission = submitPlan(change.plan, { serving, registry, clock }).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      if (change.message) await sayApplyingUnlessQuick(change, ref, submission);
      let submitted: Submitted;
      try {
        const settled = await submission;
        if (!settled.ok) throw settled.error;
        submitted = settled.value;
      } catch (e) {
        const text = describeFailure(e, deps.describeError);
        if (!text) throw e;
        // An update submitPlan could not settle by reading Databricks is neither failed nor done.
        if (hasCode(e, 'change_outcome_unknown')) {
          return finish(change, ref, { status: 'timed_out', ...text, advice: { kind: 'check_if_applied' } });
        }
        const anyway = isUserError(e) ? undefined : await acceptedAnyway(change.plan);
        if (!anyway) {
          return finish(change, ref, {
            status: 'failed',
            ...text,
            ...endpointOf(await readEndpoint(change.plan)),
          });
        }
        submitted = anyway;
      }
      if (submitted.kind === 'done') {
        return finish(change, ref, { status: 'succeeded', summary: submitted.summary });
      }
      const t = await store.transition(change.id, 'applying', 'rolling_out', {
        ...(submitted.expectConfigVersion !== undefined
          ? { expectConfigVersion: submitted.expectConfigVersion }
          : {}),
      });
      if (!t.won) {
        const recorded = await store.get(change.id);
        const version = submitted.expectConfigVersion;
        await recordLate(
          change,
          recorded,
          `its call reached Databricks and ${change.target} is rolling out${version !== undefined ? ` config version ${version}` : ''}`,
          submitted.endpoint.pending ?? submitted.endpoint.current ?? null,
        );
        return outcomeOf(recorded);
      }
      await show(ref, view(t.change, 'rolling_out', { endpoint: submitted.endpoint }));
      return await followGuarded(t.change, ref);
    } catch (e) {
      return finishAfterBug(change, ref, e);
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
      const t = await store.transition(change.id, 'applying', 'rolling_out', {
        ...(version !== undefined ? { expectConfigVersion: version } : {}),
      });
      if (!t.won) return;
      summary.followed++;
      const resumed = t.change;
      void start(resumed.id, async () => {
        const ref =
          resumed.message ??
          (await post(resumed, view(resumed, 'rolling_out', { endpoint: where.endpoint })));
        return followGuarded(resumed, ref);
      }).catch(() => undefined);
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

  async function resumeOne(found: Change, summary: ResumeSummary): Promise<void> {
    // Only work nobody runs: not this process's own, not a live owner's (a live lease).
    if (runs.has(found.id)) return;
    const claimed = await store.claim(found.id);
    if (!claimed.won) return;
    const change = claimed.change;
    try {
      if (change.status === 'rolling_out' && change.plan.kind === 'endpoint') {
        summary.followed++;
        void start(change.id, async () => {
          const ref = change.message ?? (await post(change, view(change, 'rolling_out')));
          return followGuarded(change, ref);
        }).catch(() => undefined);
        return;
      }
      await resumeApplying(change, summary);
    } catch (e) {
      // Databricks unreadable at start-up: end the change rather than leave its message open.
      const text = describeFailure(e, deps.describeError);
      if (!text) {
        await finishAfterBug(change, change.message, e);
        return;
      }
      summary.ended++;
      await finish(change, change.message, {
        status: 'timed_out',
        reason: `After a restart the bot could not check this change: ${text.reason}`,
        advice: { kind: 'check_if_applied' },
      });
    }
  }

  return {
    run: (change) => start(change.id, () => run(change)),
    running: (id) => runs.get(id),
    outcomeOf,
    resumeOne,
  };
}
