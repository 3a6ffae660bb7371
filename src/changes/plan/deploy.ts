/**
 * Deploy: the endpoint serves one version at 100 %, created when it does not exist. Reads the
 * endpoint and the version (resolving an alias), then plans with the pure `planDeploy`.
 */

import type { EndpointPlan } from '../../domain/change.js';
import { normaliseConfig, servedNameFor } from '../../domain/endpoint-config.js';
import { isUserError } from '../../domain/errors.js';
import { requireReady } from '../../domain/model-versions.js';
import type { ModelVersionInfo } from '../../domain/ports/registry.js';
import type { Endpoint, InferenceTableInput, Serving, WorkloadSize } from '../../domain/ports/serving.js';
import type { DeployCommand } from '../../domain/vocabulary.js';
import type { PlanDeps } from './deps.js';
import { busiestOf, DEFAULT_SCALE_TO_ZERO, DEFAULT_WORKLOAD_SIZE, refuseNoOp, versionKey } from './diff.js';
import { endpointFingerprint } from './fingerprint.js';

export interface DeployPlanInput {
  /** Endpoint to deploy to. */
  endpointName: string;
  /** The endpoint as read now; undefined when it does not exist (the plan then creates it). */
  endpoint: Endpoint | undefined;
  /** The version to serve (must be READY). */
  version: ModelVersionInfo;
  size?: WorkloadSize;
  scaleToZero?: boolean;
  /** The alias the version was chosen by (`@Champion`), if any: its target is part of the fingerprint. */
  alias?: string;
  /** The inference table the policy asks a deploy to turn on; kept only while the endpoint logs nothing. */
  enableInferenceTable?: Extract<InferenceTableInput, { enabled: true }>;
}

/**
 * Deploy: the endpoint serves this one version at 100 %. Size and scale-to-zero are those asked
 * for, else those of this version if already served, else of the busiest served version of the
 * same model, else Small with scale-to-zero on.
 *
 * @example planDeploy({ endpointName: 'churn', endpoint: undefined, version }) // { create: true, ... }
 */
export function planDeploy(input: DeployPlanInput): EndpointPlan {
  const { endpointName, endpoint, version } = input;
  requireReady(version);
  const before = endpoint?.current;
  const model = version.modelName;
  const same = before?.servedVersions.find(
    (v) => versionKey(v) === versionKey({ modelName: model, modelVersion: String(version.version) }),
  );
  const template = same ?? busiestOf(before, model);
  const name = same?.name ?? servedNameFor(model, version.version);
  const after = normaliseConfig({
    servedVersions: [
      {
        name,
        modelName: model,
        modelVersion: version.version,
        workloadSize: input.size ?? template?.workloadSize ?? DEFAULT_WORKLOAD_SIZE,
        scaleToZero: input.scaleToZero ?? template?.scaleToZero ?? DEFAULT_SCALE_TO_ZERO,
      },
    ],
    traffic: [{ servedName: name, percent: 100 }],
  });
  refuseNoOp(endpointName, before, after, 'deploy');
  return {
    kind: 'endpoint',
    subcommand: 'deploy',
    endpoint: endpointName,
    create: endpoint === undefined,
    ...(before ? { before } : {}),
    after,
    ...(input.enableInferenceTable && !endpoint?.inferenceTable?.enabled
      ? { inferenceTable: input.enableInferenceTable }
      : {}),
    // Deploying by alias depends on where the alias points too: if it moved, Apply must not
    // silently deploy another version than the plan showed.
    fingerprint: `${endpointFingerprint(endpoint)}${
      input.alias ? `;alias ${input.alias.toLowerCase()}=${version.version}` : ''
    }`,
  };
}

/** The endpoint, or undefined when there is none by that name. */
export async function getEndpointIfExists(serving: Serving, name: string): Promise<Endpoint | undefined> {
  try {
    return await serving.get(name);
  } catch (e) {
    if (isUserError(e) && e.code === 'endpoint_not_found') return undefined;
    throw e;
  }
}

/**
 * Reads the endpoint and the version (resolving an alias) and plans the deploy. The command
 * refuses a deploy with no endpoint and no default before it gets here.
 *
 * @example await buildDeployPlan({ subcommand: 'deploy', model: 'acme.mlops.churn_model', target: { version: 3 }, endpoint: 'churn-endpoint', dryRun: false }, deps)
 */
export async function buildDeployPlan(
  input: DeployCommand,
  deps: Pick<PlanDeps, 'serving' | 'registry' | 'defaults' | 'enableOnDeploy'>,
): Promise<EndpointPlan> {
  const endpointName = input.endpoint ?? deps.defaults.endpoint;
  if (!endpointName) throw new Error('buildDeployPlan: no endpoint given and no default endpoint');
  const { target } = input;
  const [version, endpoint] = await Promise.all([
    'version' in target
      ? deps.registry.getVersion(input.model, target.version)
      : deps.registry.resolveAlias(input.model, target.alias),
    getEndpointIfExists(deps.serving, endpointName),
  ]);
  const table = deps.enableOnDeploy?.(endpointName);
  return planDeploy({
    endpointName,
    endpoint,
    version,
    ...(table ? { enableInferenceTable: table } : {}),
    ...(input.size ? { size: input.size } : {}),
    ...(input.scaleToZero !== undefined ? { scaleToZero: input.scaleToZero } : {}),
    ...('alias' in target ? { alias: target.alias } : {}),
  });
}
