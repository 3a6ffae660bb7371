/** Rules about registered model versions that hold whichever registry they come from. */
import { UserError } from './errors.js';
import { sameAlias } from './model-names.js';
import type { ModelInfo, ModelVersionInfo } from './ports/registry.js';

/**
 * Throws `version_not_ready` unless the version is READY: only READY versions can be served or aliased.
 *
 * @example requireReady(await registry.getVersion('acme.mlops.churn_model', 4));
 */
export function requireReady(version: ModelVersionInfo): void {
  if (version.status === 'READY') return;
  throw new UserError('version_not_ready', {
    model: version.modelName,
    version: version.version,
    status: version.status,
  });
}

/**
 * The version an alias points at in a model read with its aliases, if the alias exists.
 *
 * @example aliasVersion(model, 'champion') // 3
 */
export function aliasVersion(model: ModelInfo, alias: string): number | undefined {
  return model.aliases.find((a) => sameAlias(a.alias, alias))?.version;
}
