/**
 * The endpoint configs a rollout sets, pure: each step's split between baseline and canary, the
 * promotion (canary alone) and the rollback (baseline alone). The driver compares what Databricks
 * serves with these to tell its own updates from changes made outside modelgate.
 */
import { normaliseConfig, sameConfig } from '../domain/endpoint-config.js';
import type { EndpointConfig } from '../domain/ports/serving.js';
import type { RolloutPlan, RolloutState } from './types.js';

/** The config of a step: canary at `percent`, baseline at the rest (the promotion at 100). */
export function stepConfig(plan: RolloutPlan, percent: number): EndpointConfig {
  if (percent >= 100) return normaliseConfig({ servedVersions: [plan.canary] });
  return normaliseConfig({
    servedVersions: [plan.baseline, plan.canary],
    traffic: [
      { servedName: plan.baseline.name, percent: 100 - percent },
      { servedName: plan.canary.name, percent },
    ],
  });
}

/** The config the rollback sets: the baseline alone, as before the rollout. */
export const baselineConfig = (plan: RolloutPlan): EndpointConfig =>
  normaliseConfig({ servedVersions: [plan.baseline] });

/**
 * The config a rollout in an updating state is making live; undefined in the other states.
 *
 * @example targetConfig(plan, 'stepping', 0) // baseline 95 %, canary 5 %
 */
export function targetConfig(
  plan: RolloutPlan,
  state: RolloutState,
  stepIndex: number,
): EndpointConfig | undefined {
  if (state === 'rolling_back') return baselineConfig(plan);
  if (state === 'promoting') return stepConfig(plan, 100);
  if (state === 'stepping') return stepConfig(plan, plan.steps[Math.max(0, stepIndex)] ?? 100);
  return undefined;
}

/** Whether a config is one the rollout itself sets (before it, any step, the promotion). */
export function isRolloutConfig(plan: RolloutPlan, config: EndpointConfig): boolean {
  return [baselineConfig(plan), ...plan.steps.map((p) => stepConfig(plan, p))].some((c) =>
    sameConfig(c, config),
  );
}

/** The canary's share at a step index (0 before the first). */
export const percentAt = (plan: RolloutPlan, stepIndex: number): number =>
  stepIndex < 0 ? 0 : (plan.steps[stepIndex] ?? 100);

/** The index of the promotion (the last step, 100 %). */
export const lastStepIndex = (plan: RolloutPlan): number => plan.steps.length - 1;
