/**
 * Which retraining request an alert episode has: the claim whose covered alerts are still open. Used
 * by the Retrain button (alert-actions.ts: one request per model per episode) and by every drawing of
 * an alert (deliver.ts: the request shown instead of the button, on alerts opened later in the
 * episode too). Reads only; the writes are the store's compare-and-sets.
 */
import type { DriftRetrainStore, RetrainClaim } from './retrain-store.js';
import type { DriftStateStore } from './state-store.js';
import type { RetrainRequestView } from './types.js';

/**
 * A claim still `requesting` after this long is taken to have died with its process: the next click
 * may claim again (the approvals service still refuses a second pending request for the same model).
 */
export const STALE_REQUESTING_MS = 5 * 60_000;

export interface EpisodeDeps {
  retrains: DriftRetrainStore;
  state: Pick<DriftStateStore, 'alert'>;
}

const live = (c: RetrainClaim, now: number) =>
  c.state === 'requested' || (c.state === 'requesting' && now - c.requestedAt <= STALE_REQUESTING_MS);

/**
 * The claim of the episode going on for a monitor's model id: live, and covering an alert still open.
 *
 * @example const claim = await activeClaim({ retrains, state }, 'churn', '*', Date.now()); // undefined: Retrain is free
 */
export async function activeClaim(
  deps: EpisodeDeps,
  monitor: string,
  modelId: string,
  now: number,
): Promise<RetrainClaim | undefined> {
  const claim = await deps.retrains.current(monitor, modelId);
  if (!claim || !live(claim, now)) return undefined;
  const covered = await deps.retrains.covered(claim);
  const states = await Promise.all(covered.map((id) => deps.state.alert(id)));
  return states.some((a) => a?.status === 'open') ? claim : undefined;
}

/** A claim as the alert shows it; nothing for a failed or stale one (the button comes back). */
export function retrainRequestView(claim: RetrainClaim, now: number): RetrainRequestView | undefined {
  if (!live(claim, now)) return undefined;
  const r = claim.request;
  return {
    by: claim.requestedBy,
    at: claim.requestedAt,
    state: claim.state === 'requested' ? 'requested' : 'requesting',
    ...(r?.id ? { requestId: r.id } : {}),
    ...(r?.link ? { link: r.link } : {}),
    ...(r?.channel ? { channel: r.channel } : {}),
  };
}

/** The request an alert shows, if its episode has one. */
export async function retrainShownOn(
  retrains: Pick<DriftRetrainStore, 'forAlert'> | undefined,
  alertId: string,
  now: number,
): Promise<RetrainRequestView | undefined> {
  const claim = await retrains?.forAlert(alertId);
  return claim ? retrainRequestView(claim, now) : undefined;
}
