/**
 * Watching a rollout: reads the endpoint through the Serving port until its update ends, with the
 * shared backoff helper (lib/poll.ts), so the injected clock and the abort signal govern every wait.
 */
import { type Clock, systemClock } from '../lib/clock.js';
import { poll } from '../lib/poll.js';
import { isUserError, UserError } from './errors.js';
import type { Endpoint, Serving } from './ports/serving.js';

export type RolloutResult =
  | { outcome: 'ready'; endpoint: Endpoint }
  | { outcome: 'failed'; reason: string; endpoint: Endpoint }
  | { outcome: 'timed_out'; endpoint: Endpoint };

export interface WaitForRolloutOptions {
  clock?: Clock;
  /**
   * Called with the first state seen and then on every change of update state, pending or live
   * config version, or deployment state of a served version. `previous` is undefined the first time.
   */
  onChange?: (endpoint: Endpoint, previous: Endpoint | undefined) => void | Promise<void>;
  /** Give up (outcome `timed_out`) after this long; Databricks' own helpers use 20 min. */
  timeoutMs?: number;
  /** First wait between polls; each next wait is `backoffFactor` times longer, up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  backoffFactor?: number;
  /** When given, a rollout that settles on another live config version counts as failed. */
  expectConfigVersion?: number;
  signal?: AbortSignal;
}

/** What counts as a change worth telling about. */
function fingerprint(ep: Endpoint): string {
  const states = (c: Endpoint['current']) =>
    (c?.servedVersions ?? []).map((v) => `${v.name}:${v.state ?? '?'}`).join(',');
  return [
    ep.updateState,
    ep.ready,
    ep.current?.configVersion ?? '-',
    ep.pending?.configVersion ?? '-',
    states(ep.current),
    states(ep.pending),
  ].join('|');
}

/**
 * Polls an endpoint until its rollout ends, backing off from ~2 s to 30 s between reads (a
 * 10-minute rollout costs about 26 reads). Transient errors are retried by the HTTP layer; one
 * that persists ends the wait with a UserError (the rollout itself may still be going on).
 *
 * @example
 * const r = await waitForRollout(serving, 'churn', { onChange: (ep) => post(ep.updateState) });
 * if (r.outcome === 'failed') say(r.reason);
 */
export async function waitForRollout(
  serving: Pick<Serving, 'get'>,
  endpoint: string,
  options: WaitForRolloutOptions = {},
): Promise<RolloutResult> {
  const {
    clock = systemClock,
    onChange,
    timeoutMs = 30 * 60_000,
    initialDelayMs = 2_000,
    maxDelayMs = 30_000,
    backoffFactor = 1.5,
    expectConfigVersion,
    signal,
  } = options;
  let previous: Endpoint | undefined;

  const read = async () => {
    let ep: Endpoint;
    try {
      ep = await serving.get(endpoint, signal ? { signal } : {});
    } catch (e) {
      if (isUserError(e) || signal?.aborted) throw e;
      throw new UserError('rollout_watch_failed', { endpoint, causeMessage: (e as Error).message });
    }
    if (previous === undefined || fingerprint(ep) !== fingerprint(previous)) await onChange?.(ep, previous);
    previous = ep;
    return ep.updating ? { done: false as const, seen: ep } : { done: true as const, value: ep };
  };

  const r = await poll(read, { clock, signal, timeoutMs, initialDelayMs, maxDelayMs, factor: backoffFactor });
  if (r.status === 'timed_out') return { outcome: 'timed_out', endpoint: r.seen };
  const ep = r.value;
  if (ep.updateState === 'NOT_UPDATING') {
    const live = ep.current?.configVersion;
    if (expectConfigVersion !== undefined && live !== undefined && live !== expectConfigVersion) {
      return {
        outcome: 'failed',
        reason: `config version ${live} is live, not ${expectConfigVersion}: another change replaced this one`,
        endpoint: ep,
      };
    }
    return { outcome: 'ready', endpoint: ep };
  }
  return {
    outcome: 'failed',
    reason: ep.failureReason ?? `the rollout ended in ${ep.updateState}`,
    endpoint: ep,
  };
}
