/**
 * Executes a Plan through our own Databricks clients: an endpoint plan becomes one create or
 * update-config call followed by a watched rollout; an alias plan becomes one setAlias call. No
 * Slack and no store here: the pipeline decides what to record and show.
 */

import type { AliasPlan, ChangeAdvice, EndpointPlan, Plan } from '../domain/change.js';
import { sameConfig } from '../domain/endpoint-config.js';
import { type DescribeError, isUserError, type LostAnswer, UserError } from '../domain/errors.js';
import {
  DatabricksApiError,
  DatabricksTransportError,
  unavailableError,
} from '../domain/ports/databricks-errors.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Endpoint, EndpointConfig, EndpointConfigInput, Serving } from '../domain/ports/serving.js';
import { type RolloutResult, type WaitForRolloutOptions, waitForRollout } from '../domain/rollout.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { shortModel } from './describe.js';
import { describeTraffic } from './plan/index.js';

export interface ApplyDeps {
  serving: Serving;
  registry: Registry;
  /** Waits before a second look after a timed-out update (systemClock when absent). */
  clock?: Clock;
  /** How long that wait is (default 2 s). */
  settleDelayMs?: number;
}

const SETTLE_DELAY_MS = 2_000;

/** What Databricks said to the call that starts a change. */
export type Submitted =
  | { kind: 'rollout'; endpoint: Endpoint; expectConfigVersion?: number }
  | { kind: 'done'; summary: string };

/** How a watched rollout ended. `endpoint` is the last state seen, when there is one. */
export type RolloutOutcome =
  | { status: 'succeeded'; summary: string; endpoint: Endpoint }
  | { status: 'failed'; reason: string; hint?: string; endpoint?: Endpoint }
  | { status: 'timed_out'; reason: string; hint?: string; advice?: ChangeAdvice; endpoint?: Endpoint };

/** A failure told in words a Slack user can read; undefined when the error is ours (a bug). */
export interface FailureText {
  reason: string;
  hint?: string;
}

/** The config as the serving client takes it: every name and route explicit. */
export function toConfigInput(config: EndpointConfig): EndpointConfigInput {
  return {
    servedVersions: config.servedVersions.map((v) => ({
      name: v.name,
      modelName: v.modelName,
      modelVersion: v.modelVersion,
      workloadSize: v.workloadSize,
      scaleToZero: v.scaleToZero,
    })),
    traffic: config.traffic.map((r) => ({ servedName: r.servedName, percent: r.percent })),
  };
}

/** The rollout an answer (or a read) shows; its pending config version is the one to wait for. */
const rollout = (endpoint: Endpoint, version = endpoint.pending?.configVersion): Submitted => {
  return { kind: 'rollout', endpoint, ...(version !== undefined ? { expectConfigVersion: version } : {}) };
};

async function submitEndpoint(plan: EndpointPlan, deps: ApplyDeps): Promise<Submitted> {
  const config = toConfigInput(plan.after);
  const table = plan.inferenceTable;
  if (plan.create) {
    return rollout(
      await deps.serving.create({ name: plan.endpoint, config, ...(table ? { inferenceTable: table } : {}) }),
    );
  }
  // The inference table first (its own PUT, applied at once, idempotent): the new version's first
  // requests are logged, and a refusal leaves the endpoint as it was.
  if (table) await deps.serving.setInferenceTable(plan.endpoint, table);
  const clock = deps.clock ?? systemClock;
  // The PUT is never repeated blindly (each one that lands is a new config version): after a lost
  // answer the endpoint is read, and the update is sent again only when Databricks itself said it
  // was unavailable AND the read shows nothing of it, so no second update goes over one in flight.
  // An update in flight elsewhere is refused by Databricks (409 → rollout_in_progress).
  for (let attempt = 1; ; attempt++) {
    try {
      return rollout(await deps.serving.updateConfig(plan.endpoint, config));
    } catch (e) {
      const lost = lostAnswerOf(e);
      if (!lost) throw e;
      const now = await readAfterLoss(plan, lost, deps, clock);
      const verdict = judgeLostUpdate(plan, now);
      if (verdict.kind === 'ours') {
        return rollout(now, (verdict.where === 'pending' ? now.pending : now.current)?.configVersion);
      }
      if (verdict.kind !== 'unchanged') {
        const { kind, ...found } = verdict;
        throw new UserError('update_not_applied', {
          endpoint: plan.endpoint,
          failure: lost,
          found: kind,
          ...found,
        });
      }
      const outage = unavailableError(e);
      if (outage && attempt < MAX_UPDATE_ATTEMPTS) {
        await clock.sleep(RESEND_DELAY_MS * attempt);
        continue;
      }
      if (outage) {
        throw new UserError('databricks_unavailable', {
          ...outage.details,
          attempts: attempt,
          nothingChanged: true,
        });
      }
      throw new UserError('update_not_applied', {
        endpoint: plan.endpoint,
        failure: lost,
        found: 'unchanged',
      });
    }
  }
}

/** How many times an update is sent while Databricks answers 5xx and the endpoint shows none of it. */
const MAX_UPDATE_ATTEMPTS = 3;
const RESEND_DELAY_MS = 1_000;

/**
 * Why a call's answer never arrived, when its outcome is unknown: a time-out, a dropped
 * connection or a 5xx (the HTTP layer does not repeat a config PUT after any of them). Undefined
 * for answers that say what happened (4xx, 429, an abort).
 *
 * @example lostAnswerOf(new DatabricksTransportError('timeout', '…', 'PUT', '/')) // { kind: 'timeout' }
 */
export function lostAnswerOf(e: unknown): LostAnswer | undefined {
  if (e instanceof DatabricksTransportError) {
    return e.kind === 'timeout' || e.kind === 'connection' ? { kind: e.kind } : undefined;
  }
  if (e instanceof DatabricksApiError && e.status >= 500) {
    return { kind: 'unavailable', status: e.status, errorCode: e.errorCode, gateway: e.gateway };
  }
  return undefined;
}

/**
 * Reads the endpoint after a lost answer. A request that timed out, dropped, or met a gateway
 * (502/504, an HTML page) may still be on its way to Databricks, so an endpoint that shows nothing
 * of it is read once more after a pause; a 5xx in Databricks' own envelope ended the request.
 * Unreadable → `change_outcome_unknown`.
 */
async function readAfterLoss(plan: EndpointPlan, lost: LostAnswer, deps: ApplyDeps, clock: Clock) {
  const read = async () => {
    try {
      return await deps.serving.get(plan.endpoint);
    } catch {
      throw new UserError('change_outcome_unknown', { endpoint: plan.endpoint, failure: lost });
    }
  };
  const now = await read();
  const inTransit = lost.kind !== 'unavailable' || lost.gateway || lost.status === 502 || lost.status === 504;
  if (!inTransit || judgeLostUpdate(plan, now).kind !== 'unchanged') return now;
  await clock.sleep(deps.settleDelayMs ?? SETTLE_DELAY_MS);
  return read();
}

/** What an endpoint read after a lost update answer says about that update. */
export type LostUpdateVerdict =
  | { kind: 'ours'; where: 'pending' | 'live' }
  | { kind: 'unchanged' }
  | { kind: 'other_in_flight' | 'other_live'; configVersion?: number };

/**
 * What the endpoint shows about an update whose answer was lost (pure), against the live config
 * the plan was made on: the plan's config pending, or live in a new version, is ours; an update in
 * flight that is not ours is another change; a live config that moved without us is another
 * change that finished; else nothing happened.
 *
 * @example judgeLostUpdate(plan, endpoint) // { kind: 'ours', where: 'pending' }
 */
export function judgeLostUpdate(plan: EndpointPlan, now: Endpoint): LostUpdateVerdict {
  if (now.pending && sameConfig(now.pending, plan.after)) return { kind: 'ours', where: 'pending' };
  const was = plan.before;
  const liveMoved =
    now.current !== undefined &&
    (was === undefined || now.current.configVersion !== was.configVersion || !sameConfig(now.current, was));
  if (now.current && liveMoved && !now.updating && sameConfig(now.current, plan.after)) {
    return { kind: 'ours', where: 'live' };
  }
  const version = (c: EndpointConfig | undefined) =>
    c?.configVersion !== undefined ? { configVersion: c.configVersion } : {};
  if (now.updating) return { kind: 'other_in_flight', ...version(now.pending) };
  if (liveMoved) return { kind: 'other_live', ...version(now.current) };
  return { kind: 'unchanged' };
}

async function submitAlias(plan: AliasPlan, deps: ApplyDeps): Promise<Submitted> {
  const moved = await deps.registry.setAlias(plan.model, plan.alias, plan.toVersion);
  const was = plan.fromVersion !== undefined ? ` (was v${plan.fromVersion})` : '';
  return {
    kind: 'done',
    summary: `${plan.alias} now points at ${shortModel(plan.model)} v${moved.version}${was}.`,
  };
}

/**
 * Makes the one call that starts a change. Errors are thrown as they come (UserError for the
 * ones users can act on); `describeFailure` turns them into words.
 *
 * @example
 * const s = await submitPlan(plan, { serving, registry });
 * if (s.kind === 'rollout') await followRollout(plan, { serving, clock }, { expectConfigVersion: s.expectConfigVersion });
 */
export function submitPlan(plan: Plan, deps: ApplyDeps): Promise<Submitted> {
  return plan.kind === 'endpoint' ? submitEndpoint(plan, deps) : submitAlias(plan, deps);
}

/** Where an endpoint stands with respect to a plan, read from Databricks. */
export type EndpointProgress =
  | { state: 'rolling_out'; endpoint: Endpoint }
  | { state: 'applied'; endpoint: Endpoint }
  | { state: 'not_applied'; endpoint?: Endpoint };

/**
 * Reads the endpoint and tells whether the plan's config is being rolled out, already live, or not
 * there at all. Used after a call whose answer was lost and after a restart.
 *
 * @example (await locatePlan(plan, serving)).state // 'rolling_out'
 */
export async function locatePlan(
  plan: EndpointPlan,
  serving: Pick<Serving, 'get'>,
): Promise<EndpointProgress> {
  let endpoint: Endpoint;
  try {
    endpoint = await serving.get(plan.endpoint);
  } catch (e) {
    if (isUserError(e) && e.code === 'endpoint_not_found') return { state: 'not_applied' };
    throw e;
  }
  if (endpoint.updating && endpoint.pending && sameConfig(endpoint.pending, plan.after)) {
    return { state: 'rolling_out', endpoint };
  }
  if (!endpoint.updating && endpoint.current && sameConfig(endpoint.current, plan.after)) {
    return { state: 'applied', endpoint };
  }
  return { state: 'not_applied', endpoint };
}

export interface FollowOptions {
  clock: Clock;
  expectConfigVersion?: number;
  onChange?: WaitForRolloutOptions['onChange'];
  signal?: AbortSignal;
  /** Polling and timeout tunables passed to waitForRollout. */
  wait?: Pick<WaitForRolloutOptions, 'timeoutMs' | 'initialDelayMs' | 'maxDelayMs' | 'backoffFactor'>;
  /** Words for a coded error that ends the watch (the Slack edge's, through the views). */
  describeError: DescribeError;
}

/**
 * Watches an endpoint's rollout to its end. Never throws for Databricks trouble: losing track of
 * the rollout ends as `timed_out` with what to check. An abort (shutdown) is rethrown.
 *
 * @example const r = await followRollout(plan, serving, { clock, onChange: (ep) => show(ep) });
 */
export async function followRollout(
  plan: EndpointPlan,
  serving: Pick<Serving, 'get'>,
  options: FollowOptions,
): Promise<RolloutOutcome> {
  let result: RolloutResult;
  try {
    result = await waitForRollout(serving, plan.endpoint, {
      clock: options.clock,
      ...options.wait,
      ...(options.expectConfigVersion !== undefined
        ? { expectConfigVersion: options.expectConfigVersion }
        : {}),
      ...(options.onChange ? { onChange: options.onChange } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (e) {
    if (options.signal?.aborted) throw e;
    const text = describeFailure(e, options.describeError);
    if (!text) throw e;
    return {
      status: 'timed_out',
      reason: text.reason,
      ...(text.hint
        ? { hint: text.hint }
        : { advice: { kind: 'rollout_may_continue', endpoint: plan.endpoint } }),
    };
  }
  switch (result.outcome) {
    case 'ready':
      return {
        status: 'succeeded',
        summary: `${plan.endpoint} serves ${describeTraffic(result.endpoint.current ?? plan.after)}.`,
        endpoint: result.endpoint,
      };
    case 'failed':
      return { status: 'failed', reason: result.reason, endpoint: result.endpoint };
    case 'timed_out':
      return {
        status: 'timed_out',
        reason: `The rollout on ${plan.endpoint} had not finished when the bot stopped waiting.`,
        advice: { kind: 'rollout_may_finish', endpoint: plan.endpoint },
        endpoint: result.endpoint,
      };
  }
}

/**
 * Turns an error from a Databricks call into a reason and a hint fit for Slack: a UserError gets the
 * words `describe` gives it (the Slack edge's), a Databricks envelope its own. Returns undefined for
 * anything else (a bug): those are shown only as a correlation id.
 *
 * @example describeFailure(rolloutInProgress('churn'), views.describeError) // { reason: 'A rollout is already in progress on churn.', hint: … }
 */
export function describeFailure(e: unknown, describe: DescribeError): FailureText | undefined {
  if (isUserError(e)) {
    const words = describe(e);
    return { reason: words.text, ...(words.hint ? { hint: words.hint } : {}) };
  }
  if (e instanceof DatabricksApiError) {
    const tries = e.attempts > 1 ? ` after ${e.attempts} attempts` : '';
    if (e.status === 429) {
      return {
        reason: `Databricks kept refusing the call as rate-limited (429 ${e.errorCode})${tries}.`,
        hint: 'Nothing was changed. Wait a minute and try again.',
      };
    }
    const unavailable = unavailableError(e);
    if (unavailable) return describeFailure(unavailable, describe);
    if (e.status >= 500) {
      return {
        reason: `Databricks was unavailable (${e.status} ${e.errorCode})${tries}.`,
        hint: 'Try again in a few minutes; if it persists, check the Databricks status page.',
      };
    }
    return { reason: `Databricks refused the call (${e.status} ${e.errorCode}): ${e.message}` };
  }
  if (e instanceof DatabricksTransportError) {
    const what =
      e.kind === 'timeout'
        ? 'did not answer in time'
        : e.kind === 'invalid_response'
          ? 'gave an answer the bot could not read'
          : 'could not be reached';
    const tries = e.attempts > 1 ? ` (${e.attempts} attempts)` : '';
    return {
      reason: `Databricks ${what}${tries}.`,
      hint: 'Check the workspace URL and the network, then try again; `npm run doctor` checks both.',
    };
  }
  return undefined;
}
