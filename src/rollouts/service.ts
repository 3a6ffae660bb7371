/**
 * The rollout service: `/mlops rollout` (plan, gate, store) and the buttons (Start, Cancel, Approve,
 * Pause, Resume, Promote now, Abort), each a compare-and-set on the store, then a kick of the driver.
 * Rights: the Slack edge checks the channel and the policy's `rollout` rule on every click; this
 * checks what each button asks on top (only the requester starts or cancels; only an approver of the
 * gate, never the requester, approves; on a gated endpoint, Resume and Promote now need an approver
 * or the requester).
 */
import type { Approvers } from '../config/policy-gates.js';
import { UserError } from '../domain/errors.js';
import type { Serving } from '../domain/ports/serving.js';
import type { Actor, Origin, Reply, RolloutCommand } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { RolloutDriver } from './driver.js';
import { buildRolloutPlan, type RolloutPlanDeps } from './plan.js';
import type { RolloutPatch, RolloutStore } from './store.js';
import type { Rollout, RolloutState } from './types.js';
import type { RolloutViews } from './views.js';

/** A change of the change pipeline holding an endpoint, as far as a refusal tells of it. */
export interface ChangeHolding {
  id: string;
  requester: string;
  appliedBy?: string | undefined;
}

export interface RolloutServiceDeps {
  store: RolloutStore;
  driver: RolloutDriver;
  serving: Serving;
  views: RolloutViews;
  clock: Clock;
  planDeps: RolloutPlanDeps;
  /** The change in flight on an endpoint (the change store's one-change-per-target rule). */
  changeHolding: (endpoint: string) => Promise<ChangeHolding | undefined>;
  /** The user groups of a clicker, for gates that name groups. */
  groupsOf: (userId: string) => Promise<ReadonlySet<string>>;
  /** May this actor approve under these approvers (never the requester)? approvals/gate.ts. */
  checkApprover: (
    approvers: Approvers,
    actor: Actor,
    groups: ReadonlySet<string>,
    requester: string,
  ) => { ok: true } | { ok: false; reason: 'self_approval' | 'not_approver' };
}

export type RolloutAction = 'start' | 'cancel' | 'approve' | 'pause' | 'resume' | 'promote_now' | 'abort';

/** What the command handlers see. */
export interface RolloutDesk {
  propose(input: RolloutCommand, actor: Actor, origin: Origin): Promise<Reply>;
}

export interface RolloutService extends RolloutDesk {
  /** A button on a rollout's plan or message. */
  click(action: RolloutAction, id: string, actor: Actor): Promise<Reply>;
  /** The rollout holding an endpoint, if any (deploys and splits are refused while one does). */
  holderOf(endpoint: string): Promise<Rollout | undefined>;
  /** The endpoint a rollout is about, for the rights check of a click. */
  endpointOf(id: string): Promise<string | undefined>;
}

const notNow = (r: Rollout, action: RolloutAction) =>
  new UserError('rollout_click', { variant: 'not_now', action, state: r.state, endpoint: r.plan.endpoint });

const busyRollout = (h: Rollout) =>
  new UserError('rollout_refused', {
    variant: 'busy_rollout',
    endpoint: h.plan.endpoint,
    rolloutId: h.id,
    requester: h.requester,
    ...(h.startedBy ? { startedBy: h.startedBy } : {}),
  });

const busyChange = (endpoint: string, c: ChangeHolding) =>
  new UserError('rollout_refused', {
    variant: 'busy_change',
    endpoint,
    changeId: c.id,
    requester: c.requester,
    ...(c.appliedBy ? { appliedBy: c.appliedBy } : {}),
  });

/** @example const rollouts = createRolloutService({ store, driver, serving, views, clock, planDeps, … }); */
export function createRolloutService(deps: RolloutServiceDeps): RolloutService {
  const { store, driver, views, clock } = deps;

  async function refuseIfHeld(endpoint: string, self?: string): Promise<void> {
    const holder = await store.holderOf(endpoint);
    if (holder && holder.id !== self) throw busyRollout(holder);
    const change = await deps.changeHolding(endpoint);
    if (change) throw busyChange(endpoint, change);
  }

  /** Moves a rollout into its first step: takes the endpoint (the index), then checks the pipeline. */
  async function begin(r: Rollout, actor: Actor, extra: RolloutPatch = {}): Promise<Rollout> {
    await refuseIfHeld(r.plan.endpoint, r.id);
    const w = await store.write(r, {
      ...extra,
      state: 'stepping',
      stepIndex: 0,
      startedBy: actor.userId,
      startedAt: clock.now(),
    });
    if (!w.won) {
      if (w.reason === 'endpoint_busy' && w.holder) throw busyRollout(w.holder);
      throw notNow(w.reason === 'stale' && w.current ? w.current : r, 'start');
    }
    // A deploy that won its own compare-and-set meanwhile: give the endpoint back to it.
    const change = await deps.changeHolding(r.plan.endpoint);
    if (change) {
      await store.write(w.rollout, {
        state: r.state,
        stepIndex: -1,
        startedBy: undefined,
        startedAt: undefined,
      });
      throw busyChange(r.plan.endpoint, change);
    }
    const shown = await driver.show(w.rollout);
    driver.kick(r.id);
    return shown;
  }

  async function approverCheck(r: Rollout, actor: Actor, allowRequester: boolean): Promise<void> {
    const gate = r.plan.gate;
    if (!gate) return;
    if (allowRequester && actor.userId === r.requester) return;
    const approvers: Approvers = { users: gate.users, groups: gate.groups };
    const groups = gate.groups.length > 0 ? await deps.groupsOf(actor.userId) : new Set<string>();
    const c = deps.checkApprover(approvers, actor, groups, r.requester);
    if (!c.ok) {
      throw new UserError('rollout_click', {
        variant: 'not_approver',
        self: c.reason === 'self_approval',
        users: gate.users,
        groups: gate.groups,
      });
    }
  }

  /** A compare-and-set from one of `from` to a patch, answered with a notice. */
  async function flip(
    r: Rollout,
    action: RolloutAction,
    from: readonly RolloutState[],
    patch: RolloutPatch,
    notice: Parameters<RolloutViews['notice']>[0],
  ): Promise<Reply> {
    if (!from.includes(r.state)) throw notNow(r, action);
    const w = await store.write(r, patch);
    if (!w.won) throw notNow(w.reason === 'stale' && w.current ? w.current : r, action);
    const shown = await driver.show(w.rollout);
    driver.kick(r.id);
    return views.notice(notice, shown);
  }

  return {
    async propose(input, actor, origin) {
      // Who holds the endpoint first: a held endpoint is not in a state a plan could start from.
      await refuseIfHeld(input.endpoint);
      const plan = await buildRolloutPlan(input, deps.planDeps);
      if (plan.gate && plan.gate.users.length + plan.gate.groups.length === 0) {
        throw new UserError('rollout_refused', { variant: 'gate_without_approvers', gate: plan.gate.name });
      }
      if (input.dryRun) return views.planReply(plan, { dryRun: true });
      await refuseIfHeld(plan.endpoint);
      const { rollout, duplicate } = await store.create({
        requester: actor.userId,
        channel: origin.channelId,
        plan,
        state: plan.gate ? 'awaiting_approval' : 'proposed',
        triggerId: origin.triggerId,
      });
      if (plan.gate) {
        // The request is the rollout's own message: approvers approve it there, once, at the start.
        if (!duplicate) await driver.show(rollout);
        return views.notice('approval_requested', rollout);
      }
      return views.planReply(plan, { rolloutId: rollout.id, dryRun: false });
    },

    async click(action, id, actor) {
      const r = await store.get(id);
      if (!r) throw new UserError('rollout_click', { variant: 'not_found', id });
      switch (action) {
        case 'start': {
          if (actor.userId !== r.requester) {
            throw new UserError('rollout_click', {
              variant: 'only_requester',
              action,
              requester: r.requester,
            });
          }
          if (r.state !== 'proposed') throw notNow(r, action);
          return views.notice('started', await begin(r, actor));
        }
        case 'cancel': {
          if (actor.userId !== r.requester) {
            throw new UserError('rollout_click', {
              variant: 'only_requester',
              action,
              requester: r.requester,
            });
          }
          return flip(
            r,
            action,
            ['proposed', 'awaiting_approval'],
            { state: 'cancelled', end: { kind: 'cancelled', by: actor.userId } },
            'cancelled',
          );
        }
        case 'approve': {
          if (r.state !== 'awaiting_approval') throw notNow(r, action);
          await approverCheck(r, actor, false);
          const approvals = [...new Set([...r.approvals, actor.userId])];
          if (approvals.length >= (r.plan.gate?.approvals ?? 1)) {
            return views.notice('approved', await begin(r, actor, { approvals }));
          }
          const w = await store.write(r, { approvals });
          if (!w.won) throw notNow(w.reason === 'stale' && w.current ? w.current : r, action);
          return views.notice('approved', await driver.show(w.rollout));
        }
        case 'pause':
          return flip(
            r,
            action,
            ['stepping', 'analysing'],
            { state: 'paused', pause: { kind: 'by_person', by: actor.userId } },
            'paused',
          );
        case 'resume': {
          await approverCheck(r, actor, true);
          if (r.state !== 'paused') throw notNow(r, action);
          // The step's config is made live again (a no-op when it still is); the live version read
          // now is accepted as the rollout's, so a change made outside is not flagged twice.
          const ep = await deps.serving.get(r.plan.endpoint);
          return flip(
            r,
            action,
            ['paused'],
            {
              state: 'stepping',
              pause: undefined,
              hold: undefined,
              ...(ep.current?.configVersion !== undefined
                ? { expectConfigVersion: ep.current.configVersion }
                : {}),
            },
            'resumed',
          );
        }
        case 'promote_now':
          await approverCheck(r, actor, true);
          return flip(
            r,
            action,
            ['stepping', 'analysing', 'paused'],
            {
              state: 'promoting',
              pause: undefined,
              hold: undefined,
              end: { kind: 'promoted_now', by: actor.userId },
            },
            'promoting',
          );
        case 'abort':
          return flip(
            r,
            action,
            ['stepping', 'analysing', 'paused', 'promoting'],
            {
              state: 'rolling_back',
              pause: undefined,
              hold: undefined,
              end: { kind: 'aborted', by: actor.userId },
            },
            'aborting',
          );
      }
    },

    holderOf: (endpoint) => store.holderOf(endpoint),

    async endpointOf(id) {
      return (await store.get(id))?.plan.endpoint;
    },
  };
}
