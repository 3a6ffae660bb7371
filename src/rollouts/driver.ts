/**
 * The rollout driver: moves each rollout one step of its state machine at a time, from the store.
 * A tick (the scheduled `rollout-driver` job, and a kick after a click) looks at every rollout that
 * holds an endpoint; for each one it takes the lease, reads Databricks, and then either makes or
 * follows the config update its state calls for, or runs a check of the analysis. Every move is a
 * compare-and-set on the rollout's `rev`: a click or another process that moved it first wins, and
 * this work stops. Nothing is assumed after a restart: an update state reads the endpoint and
 * follows, settles or makes its update (never a second over one in flight).
 */
import { describeFailure, type FollowOptions, followRollout, submitPlan } from '../changes/apply.js';
import type { EndpointPlan } from '../domain/change.js';
import { sameConfig } from '../domain/endpoint-config.js';
import { type DescribeError, hasCode, isUserError } from '../domain/errors.js';
import type { Messenger } from '../domain/ports/messenger.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Endpoint, Serving } from '../domain/ports/serving.js';
import type { Warehouse } from '../domain/ports/warehouse.js';
import { createBackground } from '../lib/background.js';
import type { Clock } from '../lib/clock.js';
import { afterCheck, judge } from './analysis.js';
import { isRolloutConfig, lastStepIndex, targetConfig } from './configs.js';
import { readFigures } from './queries.js';
import type { RolloutPatch, RolloutStore } from './store.js';
import type { EndReason, Rollout } from './types.js';
import { isFinal } from './types.js';
import type { RolloutViews } from './views.js';

export interface RolloutDriverDeps {
  store: RolloutStore;
  serving: Serving;
  registry: Registry;
  warehouse: Warehouse | undefined;
  messenger: Messenger;
  views: RolloutViews;
  describeError: DescribeError;
  clock: Clock;
  /** This process (the lease owner) and how long its lease on a rollout lasts. */
  owner: string;
  leaseMs: number;
  workspaceHost: string;
  /** Polling and timeout of each config update (defaults: waitForRollout's). */
  wait?: FollowOptions['wait'];
  onError?: (err: unknown, correlationId: string) => void;
}

export interface RolloutDriver {
  /** One pass over the rollouts holding an endpoint; their work runs in the background. */
  tick(): Promise<number>;
  /** Drives one rollout now (after a click), in the background. */
  kick(id: string): void;
  /** Posts or updates the rollout's one message with how it stands. */
  show(r: Rollout): Promise<Rollout>;
  /** Resolves when no work is left (tests, shutdown). */
  idle(): Promise<void>;
  /** Stops: the rollouts stay as stored, their leases released, for the next tick (or process). */
  stop(): void;
}

/** @example const driver = createRolloutDriver({ store, serving, registry, warehouse, messenger, views, … }); await driver.tick(); */
export function createRolloutDriver(deps: RolloutDriverDeps): RolloutDriver {
  const { store, serving, clock, views } = deps;
  const background = createBackground({
    name: 'the rollout driver',
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  const running = new Set<string>();

  const endpointPlanOf = (
    r: Rollout,
    before: Endpoint,
    after: NonNullable<ReturnType<typeof targetConfig>>,
  ): EndpointPlan => ({
    kind: 'endpoint',
    subcommand: 'split',
    endpoint: r.plan.endpoint,
    create: false,
    ...(before.current ? { before: before.current } : {}),
    after,
    fingerprint: `rollout ${r.id}`,
  });

  async function show(r: Rollout): Promise<Rollout> {
    const content = views.message({ rollout: r, now: clock.now(), workspaceHost: deps.workspaceHost });
    const delivery = {
      requester: r.requester,
      about: { target: `endpoint:${r.plan.endpoint}` },
      final: isFinal(r.state),
    };
    try {
      if (r.message) {
        await deps.messenger.update(r.message, content, delivery);
        return r;
      }
      const ref = await deps.messenger.post(r.channel, content, undefined, delivery);
      const w = await store.write(r, { message: ref });
      return w.won ? w.rollout : r;
    } catch (e) {
      background.report(e);
      return r;
    }
  }

  /** Writes a move (CAS) and shows it; undefined when someone moved the rollout first. */
  async function move(r: Rollout, patch: RolloutPatch): Promise<Rollout | undefined> {
    const w = await store.write(r, patch);
    if (!w.won) return undefined;
    const shown = await show(w.rollout);
    if (w.rollout.state === 'rolled_back' || w.rollout.state === 'failed') await threadFigures(shown);
    return shown;
  }

  /** The rollout's thread gets the figures that failed it. */
  async function threadFigures(r: Rollout): Promise<void> {
    if (!r.message || !r.end) return;
    const end = r.end.kind === 'rollback_failed' ? r.end.cause : r.end;
    if (end.kind !== 'guardrail' && end.kind !== 'inconclusive' && end.kind !== 'unreadable') return;
    try {
      await deps.messenger.post(r.message.channel, views.failingFigures(r), r.message.ts, {
        requester: r.requester,
        about: { target: `endpoint:${r.plan.endpoint}` },
        final: true,
      });
    } catch (e) {
      background.report(e);
    }
  }

  const rollBack = (r: Rollout, end: EndReason, extra: RolloutPatch = {}) =>
    move(r, { ...extra, state: 'rolling_back', end, nextAt: undefined, hold: undefined });

  /** An update state: read, then follow, settle or make the update. Returns the next state to drive. */
  async function driveUpdate(r: Rollout): Promise<Rollout | undefined> {
    const target = targetConfig(r.plan, r.state, r.stepIndex)!;
    let ep: Endpoint;
    try {
      ep = await serving.get(r.plan.endpoint);
    } catch (e) {
      return hold(r, { kind: 'update_unsettled', cause: wordsOf(e) });
    }
    const rollingBack = r.state === 'rolling_back';
    if (ep.updating) {
      if (ep.pending && sameConfig(ep.pending, target)) return follow(r, ep, target);
      // Our own previous update still settling (a click moved the state on): wait for it.
      if (ep.pending && isRolloutConfig(r.plan, ep.pending)) {
        return hold(r, { kind: 'endpoint_busy', configVersion: ep.pending.configVersion });
      }
      if (rollingBack) return hold(r, { kind: 'endpoint_busy', configVersion: ep.pending?.configVersion });
      return pauseOutOfBand(r, ep);
    }
    if (ep.current && sameConfig(ep.current, target)) return onLive(r, ep);
    // Another config than the rollout's own is out of band, unless it is the one Resume accepted.
    const accepted =
      ep.current?.configVersion !== undefined && ep.current.configVersion === r.expectConfigVersion;
    if (!rollingBack && (!ep.current || (!isRolloutConfig(r.plan, ep.current) && !accepted))) {
      return pauseOutOfBand(r, ep);
    }
    let submitted: Awaited<ReturnType<typeof submitPlan>>;
    try {
      submitted = await submitPlan(endpointPlanOf(r, ep, target), {
        serving,
        registry: deps.registry,
        clock,
      });
    } catch (e) {
      if (hasCode(e, 'change_outcome_unknown') || hasCode(e, 'rollout_in_progress')) {
        return hold(r, { kind: 'update_unsettled', cause: wordsOf(e) });
      }
      if (hasCode(e, 'update_not_applied') && e.details.found !== 'unchanged') {
        return rollingBack ? hold(r, { kind: 'endpoint_busy' }) : pauseOutOfBand(r, await readOr(ep));
      }
      const text = describeFailure(e, deps.describeError);
      if (!text) throw e;
      return failedUpdate(r, text.reason);
    }
    if (submitted.kind !== 'rollout') return onLive(r, await readOr(ep));
    return follow(r, submitted.endpoint, target, submitted.expectConfigVersion);
  }

  async function readOr(fallback: Endpoint): Promise<Endpoint> {
    try {
      return await serving.get(fallback.name);
    } catch {
      return fallback;
    }
  }

  async function follow(
    r: Rollout,
    ep: Endpoint,
    target: NonNullable<ReturnType<typeof targetConfig>>,
    expect = ep.pending?.configVersion,
  ): Promise<Rollout | undefined> {
    const outcome = await followRollout(endpointPlanOf(r, ep, target), serving, {
      clock,
      describeError: deps.describeError,
      signal: background.signal,
      ...(expect !== undefined ? { expectConfigVersion: expect } : {}),
      ...(deps.wait ? { wait: deps.wait } : {}),
      // Following keeps the lease alive.
      onChange: async () => {
        await store.claim(r.id, deps.owner, deps.leaseMs);
      },
    });
    if (outcome.status === 'succeeded') return onLive(r, outcome.endpoint);
    if (outcome.status === 'timed_out') return hold(r, { kind: 'update_unsettled', cause: outcome.reason });
    return failedUpdate(r, outcome.reason);
  }

  /** Databricks did not bring the update to READY: the live config is still the one before. */
  function failedUpdate(r: Rollout, reason: string): Promise<Rollout | undefined> {
    if (r.state === 'rolling_back') {
      return move(r, {
        state: 'failed',
        end: { kind: 'rollback_failed', reason, cause: r.end ?? { kind: 'aborted', by: 'modelgate' } },
        hold: undefined,
      });
    }
    return rollBack(r, { kind: 'update_failed', step: Math.max(0, r.stepIndex), reason });
  }

  async function onLive(r: Rollout, ep: Endpoint): Promise<Rollout | undefined> {
    const now = clock.now();
    const configVersion = ep.current?.configVersion;
    const version = configVersion !== undefined ? { expectConfigVersion: configVersion } : {};
    if (r.state === 'stepping') {
      return move(r, {
        state: 'analysing',
        stepLiveAt: now,
        nextAt: now + r.plan.everyMs,
        hold: undefined,
        ...version,
      });
    }
    if (r.state === 'promoting') {
      let aliasNote: Pick<RolloutPatch, 'hold'> = {};
      if (r.plan.moveAlias) {
        try {
          await deps.registry.setAlias(r.plan.model, r.plan.moveAlias, r.plan.version);
        } catch (e) {
          // The endpoint serves the canary; the alias must follow, so hold and try again next tick.
          aliasNote = { hold: { kind: 'update_unsettled', cause: wordsOf(e) } };
          return hold(r, aliasNote.hold!);
        }
      }
      return move(r, {
        state: 'succeeded',
        stepIndex: lastStepIndex(r.plan),
        hold: undefined,
        nextAt: undefined,
        ...version,
        end: r.end ?? { kind: 'promoted' },
      });
    }
    return move(r, { state: 'rolled_back', hold: undefined, nextAt: undefined, ...version });
  }

  async function hold(r: Rollout, reason: NonNullable<Rollout['hold']>): Promise<Rollout | undefined> {
    const same = JSON.stringify(r.hold) === JSON.stringify(reason);
    if (same) return undefined;
    await move(r, { hold: reason });
    return undefined;
  }

  function pauseOutOfBand(r: Rollout, ep: Endpoint): Promise<Rollout | undefined> {
    return move(r, {
      state: 'paused',
      pause: {
        kind: 'out_of_band',
        configVersion: ep.pending?.configVersion ?? ep.current?.configVersion,
        updating: ep.updating,
      },
      nextAt: undefined,
    }).then(() => undefined);
  }

  /** `analysing`: watch for changes made outside modelgate; when due, check the analysis. */
  async function driveAnalysis(r: Rollout): Promise<Rollout | undefined> {
    const now = clock.now();
    let ep: Endpoint | undefined;
    try {
      ep = await serving.get(r.plan.endpoint);
    } catch {
      // Unreadable endpoint: the checks can still run; the config is looked at next tick.
    }
    if (ep && (ep.updating || ep.current?.configVersion !== r.expectConfigVersion))
      return pauseOutOfBand(r, ep);
    if (r.nextAt !== undefined && now < r.nextAt) return undefined;
    const since = r.stepLiveAt ?? r.startedAt ?? now;
    let event: Parameters<typeof afterCheck>[1];
    let check: Rollout['lastCheck'];
    if (!deps.warehouse) {
      event = { kind: 'unreadable', cause: 'no SQL warehouse is configured' };
    } else {
      try {
        const { figures } = await readFigures(deps.warehouse, r.plan, since, now + 1);
        check = judge(figures, r.plan.analysis, now);
        event = { kind: 'checked', check };
      } catch (e) {
        if (!isUserError(e)) throw e;
        event = { kind: 'unreadable', cause: wordsOf(e) };
      }
    }
    const o = afterCheck(r, event, now);
    const last = check ? { lastCheck: check } : {};
    if (o.kind === 'rollback') return rollBack(r, o.end, last);
    if (o.kind === 'recheck') {
      return move(r, {
        ...last,
        nextAt: o.nextAt,
        failures: o.failures,
        inconclusive: o.inconclusive,
        hold: o.hold,
      }).then(() => undefined);
    }
    const next = r.stepIndex + 1;
    return move(r, {
      ...last,
      failures: 0,
      inconclusive: 0,
      hold: undefined,
      nextAt: undefined,
      ...(next >= lastStepIndex(r.plan)
        ? { state: 'promoting', end: { kind: 'promoted' } }
        : { state: 'stepping', stepIndex: next }),
    });
  }

  function wordsOf(e: unknown): string {
    if (isUserError(e)) return deps.describeError(e).text;
    return describeFailure(e, deps.describeError)?.reason ?? 'an internal error';
  }

  /** Drives one rollout as far as it goes now (an update followed to READY, a check). */
  async function drive(id: string): Promise<void> {
    if (!(await store.claim(id, deps.owner, deps.leaseMs))) return;
    try {
      let r = await store.get(id);
      // Each pass is one move; a pass that moves into an update state goes on with it at once.
      for (let guard = 0; r && guard < 4 && !background.signal.aborted; guard++) {
        switch (r.state) {
          case 'stepping':
          case 'promoting':
          case 'rolling_back':
            r = await driveUpdate(r);
            break;
          case 'analysing':
            r = await driveAnalysis(r);
            break;
          default:
            r = undefined;
        }
      }
    } finally {
      await store.release(id, deps.owner).catch(() => undefined);
    }
  }

  function kick(id: string): void {
    if (running.has(id) || background.signal.aborted) return;
    running.add(id);
    background.track(async () => {
      try {
        await drive(id);
      } catch (e) {
        if (!background.signal.aborted) background.report(e);
      } finally {
        running.delete(id);
      }
    });
  }

  return {
    async tick() {
      const rollouts = await store.holding();
      let n = 0;
      for (const r of rollouts) {
        if (r.state === 'paused') continue;
        n++;
        kick(r.id);
      }
      return n;
    },
    kick,
    show,
    idle: () => background.idle(),
    stop: () => background.stop(),
  };
}
