/**
 * Split: the traffic of an endpoint between versions of the model it serves; versions not served
 * yet are added, versions left out removed. Reads the endpoint and the new versions, then plans
 * with the pure `planSplit`.
 */

import type { EndpointPlan } from '../../domain/change.js';
import { normaliseConfig, servedNameFor } from '../../domain/endpoint-config.js';
import { UserError } from '../../domain/errors.js';
import { requireReady } from '../../domain/model-versions.js';
import type { ModelVersionInfo } from '../../domain/ports/registry.js';
import type { Endpoint, ServedVersion } from '../../domain/ports/serving.js';
import type { SplitCommand } from '../../domain/vocabulary.js';
import type { PlanDeps } from './deps.js';
import {
  busiestOf,
  DEFAULT_SCALE_TO_ZERO,
  DEFAULT_WORKLOAD_SIZE,
  label,
  refuseNoOp,
  sameModel,
  versionKey,
} from './diff.js';
import { endpointFingerprint } from './fingerprint.js';

/**
 * The one model an endpoint serves; split adds versions of it. Throws when the endpoint has no
 * live config yet or serves several models (then versions alone are ambiguous).
 */
export function servedModelOf(endpoint: Endpoint): string {
  const models = new Map<string, string>();
  for (const v of endpoint.current?.servedVersions ?? []) models.set(v.modelName.toLowerCase(), v.modelName);
  const [first, ...rest] = [...models.values()];
  if (!first) {
    throw new UserError('no_live_config', { endpoint: endpoint.name });
  }
  if (rest.length > 0) {
    throw new UserError('several_models', { endpoint: endpoint.name, models: [first, ...rest] });
  }
  return first;
}

export interface SplitPlanInput {
  endpoint: Endpoint;
  routes: Array<{ version: number; percent: number }>;
  /** Registry records of the versions the endpoint does not serve yet (they must be READY). */
  newVersions: ModelVersionInfo[];
}

/**
 * Split: the versions listed get the traffic given; versions not yet served are added with the
 * settings of the busiest served version of the model; served versions left out are removed.
 *
 * @example planSplit({ endpoint, routes: [{ version: 2, percent: 90 }, { version: 3, percent: 10 }], newVersions: [v3] })
 */
export function planSplit(input: SplitPlanInput): EndpointPlan {
  const { endpoint, routes } = input;
  const model = servedModelOf(endpoint);
  const before = endpoint.current!;
  const template = busiestOf(before, model);
  const servedVersions: ServedVersion[] = routes.map(({ version }) => {
    const served = before.servedVersions.find(
      (v) => versionKey(v) === versionKey({ modelName: model, modelVersion: String(version) }),
    );
    if (served) {
      const { state: _state, stateMessage: _message, ...kept } = served;
      return kept;
    }
    const info = input.newVersions.find((v) => v.version === version && sameModel(v.modelName, model));
    if (!info) {
      throw new Error(`planSplit: no registry record was passed for ${label(model, version)}`);
    }
    requireReady(info);
    return {
      name: servedNameFor(model, version),
      modelName: model,
      modelVersion: String(version),
      workloadSize: template?.workloadSize ?? DEFAULT_WORKLOAD_SIZE,
      scaleToZero: template?.scaleToZero ?? DEFAULT_SCALE_TO_ZERO,
    };
  });
  const after = normaliseConfig({
    servedVersions,
    traffic: routes.map((r, i) => ({ servedName: servedVersions[i]!.name, percent: r.percent })),
  });
  refuseNoOp(endpoint.name, before, after, 'split');
  return {
    kind: 'endpoint',
    subcommand: 'split',
    endpoint: endpoint.name,
    create: false,
    before,
    after,
    fingerprint: endpointFingerprint(endpoint),
  };
}

/**
 * Reads the endpoint and the versions it does not serve yet, and plans the split.
 *
 * @example await buildSplitPlan({ subcommand: 'split', endpoint: 'churn-endpoint', routes: [{ version: 2, percent: 90 }, { version: 3, percent: 10 }], dryRun: false }, deps)
 */
export async function buildSplitPlan(
  input: SplitCommand,
  deps: Pick<PlanDeps, 'serving' | 'registry'>,
): Promise<EndpointPlan> {
  const endpoint = await deps.serving.get(input.endpoint);
  const model = servedModelOf(endpoint);
  const served = new Set(
    (endpoint.current?.servedVersions ?? [])
      .filter((v) => v.modelName.toLowerCase() === model.toLowerCase())
      .map((v) => v.modelVersion),
  );
  const newVersions = await Promise.all(
    input.routes
      .filter((r) => !served.has(String(r.version)))
      .map((r) => deps.registry.getVersion(model, r.version)),
  );
  return planSplit({ endpoint, routes: input.routes, newVersions });
}
