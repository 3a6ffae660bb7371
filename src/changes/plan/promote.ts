/**
 * Promote: move an alias of a model to a version. Reads the model's aliases and the version, then
 * plans with the pure `planPromote`. A gated move (Production, or what a gate covers) is turned
 * into an approval request later, by the approvals; the plan is the same.
 */

import type { AliasPlan } from '../../domain/change.js';
import { UserError } from '../../domain/errors.js';
import { aliasVersion, requireReady } from '../../domain/model-versions.js';
import type { ModelInfo, ModelVersionInfo } from '../../domain/ports/registry.js';
import type { PromoteCommand } from '../../domain/vocabulary.js';
import type { PlanDeps } from './deps.js';
import { aliasFingerprint } from './fingerprint.js';

export interface PromotePlanInput {
  /** The model read with its aliases. */
  model: ModelInfo;
  /** Canonical spelling, e.g. 'Champion'. */
  alias: string;
  /** The version the alias should point at (must be READY). */
  version: ModelVersionInfo;
}

/**
 * Promote: move an alias to a version. Refuses a move to where the alias already points.
 *
 * @example planPromote({ model, alias: 'Champion', version: v3 }) // { fromVersion: 2, toVersion: 3, ... }
 */
export function planPromote(input: PromotePlanInput): AliasPlan {
  const { model, alias, version } = input;
  requireReady(version);
  const fromVersion = aliasVersion(model, alias);
  if (fromVersion === version.version) {
    throw new UserError('no_change', {
      variant: 'alias',
      model: model.fullName,
      alias,
      version: version.version,
    });
  }
  return {
    kind: 'alias',
    subcommand: 'promote',
    model: model.fullName,
    alias,
    ...(fromVersion !== undefined ? { fromVersion } : {}),
    toVersion: version.version,
    fingerprint: aliasFingerprint(model, alias),
  };
}

/**
 * Reads the model's aliases and the version, and plans the alias move.
 *
 * @example await buildPromotePlan({ subcommand: 'promote', model: 'acme.mlops.churn_model', version: 3, alias: 'Champion', dryRun: false }, deps)
 */
export async function buildPromotePlan(
  input: PromoteCommand,
  deps: Pick<PlanDeps, 'registry'>,
): Promise<AliasPlan> {
  const [model, version] = await Promise.all([
    deps.registry.getModel(input.model),
    deps.registry.getVersion(input.model, input.version),
  ]);
  return planPromote({ model, alias: input.alias, version });
}
