/**
 * Plans: what will be after a change, built from the state read now. Each kind has its file with
 * its reads (`buildXPlan`) and its pure planner (`planX`); `buildPlanFor` picks by subcommand.
 * The commands show a plan, the pipeline and the approvals rebuild it to spot a stale one.
 */

import type { Plan } from '../../domain/change.js';
import type { MutatingCommand } from '../../domain/vocabulary.js';
import { buildDeployPlan } from './deploy.js';
import type { PlanDeps } from './deps.js';
import { buildPromotePlan } from './promote.js';
import { buildRollbackPlan } from './rollback.js';
import { buildSplitPlan } from './split.js';

export { buildDeployPlan, type DeployPlanInput, getEndpointIfExists, planDeploy } from './deploy.js';
export type { PlanDeps } from './deps.js';
export {
  DEFAULT_SCALE_TO_ZERO,
  DEFAULT_WORKLOAD_SIZE,
  describeStaleness,
  describeTraffic,
  diffPlan,
  summarisePlan,
  trafficOf,
} from './diff.js';
export { aliasFingerprint, endpointFingerprint } from './fingerprint.js';
export { buildPromotePlan, type PromotePlanInput, planPromote } from './promote.js';
export { buildRollbackPlan, planRollback, type RollbackPlanInput } from './rollback.js';
export { buildSplitPlan, planSplit, type SplitPlanInput, servedModelOf } from './split.js';

/**
 * Builds the plan of a change from the state now: what the commands show, and what the pipeline
 * and the approvals rebuild to spot a stale plan (compare fingerprints). Deterministic: the same
 * state gives the same plan.
 *
 * @example const fresh = await buildPlanFor(stored.input, deps); if (fresh.fingerprint !== stored.plan.fingerprint) …
 */
export function buildPlanFor(input: MutatingCommand, deps: PlanDeps): Promise<Plan> {
  switch (input.subcommand) {
    case 'deploy':
      return buildDeployPlan(input, deps);
    case 'split':
      return buildSplitPlan(input, deps);
    case 'promote':
      return buildPromotePlan(input, deps);
    case 'rollback':
      return buildRollbackPlan(input, deps);
  }
}
