/**
 * Executes a Plan through our own Databricks clients: an endpoint plan becomes one create or
 * update-config call followed by a watched rollout; an alias plan becomes one setAlias call. No
 * Slack and no store here: the pipeline decides what to record and show.
 */

import type { AliasPlan, ChangeAdvice, EndpointPlan, Plan } from '../domain/change.js';
import { sameConfig } from '../domain/endpoint-config.js';
import { type DescribeError, isUserError } from '../domain/errors.js';
import { DatabricksApiError, DatabricksTransportError } from '../domain/ports/databricks-errors.js';
import type { Registry } from '../domain/ports/registry.js';
import type { Endpoint, EndpointConfig, EndpointConfigInput, Serving } from '../domain/ports/serving.js';
import { type RolloutResult, type WaitForRolloutOptions, waitForRollout } from '../domain/rollout.js';
import type { Clock } from '../lib/clock.js';
import { shortModel } from './describe.js';
import { describeTraffic } from './plan/index.js';

export interface ApplyDeps {
  serving: Serving;
  registry: Registry;
}

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

async function submitEndpoint(plan: EndpointPlan, deps: ApplyDeps): Promise<Submitted> {
  const config = toConfigInput(plan.after);
  const endpoint = plan.create
    ? await deps.serving.create({ name: plan.endpoint, config })
    : await deps.serving.updateConfig(plan.endpoint, config);
  const version = endpoint.pending?.configVersion;
  return { kind: 'rollout', endpoint, ...(version !== undefined ? { expectConfigVersion: version } : {}) };
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
