/**
 * Job: drive the canary rollouts. Every tick looks at each rollout holding an endpoint and moves it
 * as far as it goes now (an update followed to READY, a check of the analysis when due); the work
 * runs in the background under the rollout's lease, so a slow rollout never holds up the tick.
 */
export interface RolloutDriverJobDeps {
  driver: { tick(): Promise<number> };
  report?: (event: RolloutDriverEvent) => void;
}

export type RolloutDriverEvent =
  | { kind: 'ok'; at: number; rollouts: number }
  | { kind: 'error'; at: number; error: unknown };

/**
 * Never throws. Returns how many rollouts it looked at.
 *
 * @example await runRolloutDriver({ driver }, Date.now()); await driver.idle();
 */
export async function runRolloutDriver(deps: RolloutDriverJobDeps, now: number): Promise<number> {
  try {
    const rollouts = await deps.driver.tick();
    deps.report?.({ kind: 'ok', at: now, rollouts });
    return rollouts;
  } catch (error) {
    deps.report?.({ kind: 'error', at: now, error });
    return 0;
  }
}
