/**
 * Rollback: restore the served versions and traffic an endpoint had before the bot's last change
 * to it, from the bot's own history. Reads both, then plans with the pure `planRollback`.
 */

import type { EndpointPlan } from '../../domain/change.js';
import { normaliseConfig } from '../../domain/endpoint-config.js';
import { UserError } from '../../domain/errors.js';
import type { Endpoint, EndpointConfig } from '../../domain/ports/serving.js';
import type { RollbackCommand } from '../../domain/vocabulary.js';
import type { PlanDeps } from './deps.js';
import { refuseNoOp } from './diff.js';
import { endpointFingerprint } from './fingerprint.js';

export interface RollbackPlanInput {
  endpoint: Endpoint;
  /** The config the endpoint served before the bot's last change, from the change store. */
  previous: EndpointConfig | undefined;
}

/**
 * Rollback: restore the served versions and traffic the endpoint had before the bot's last change.
 *
 * @example planRollback({ endpoint, previous: await history.previousConfig('churn') })
 */
export function planRollback(input: RollbackPlanInput): EndpointPlan {
  const { endpoint, previous } = input;
  if (!previous) {
    throw new UserError('no_history', { endpoint: endpoint.name });
  }
  const after = normaliseConfig({
    servedVersions: previous.servedVersions.map(
      ({ name, modelName, modelVersion, workloadSize, scaleToZero }) => ({
        name,
        modelName,
        modelVersion,
        workloadSize,
        scaleToZero,
      }),
    ),
    traffic: previous.traffic.map((r) => ({ servedName: r.servedName, percent: r.percent })),
  });
  refuseNoOp(endpoint.name, endpoint.current, after, 'rollback');
  return {
    kind: 'endpoint',
    subcommand: 'rollback',
    endpoint: endpoint.name,
    create: false,
    ...(endpoint.current ? { before: endpoint.current } : {}),
    after,
    fingerprint: endpointFingerprint(endpoint),
  };
}

/**
 * Reads the endpoint and its previous config from the history, and plans the rollback.
 *
 * @example await buildRollbackPlan({ subcommand: 'rollback', endpoint: 'churn-endpoint', dryRun: false }, deps)
 */
export async function buildRollbackPlan(
  input: RollbackCommand,
  deps: Pick<PlanDeps, 'serving' | 'history'>,
): Promise<EndpointPlan> {
  const [endpoint, previous] = await Promise.all([
    deps.serving.get(input.endpoint),
    deps.history.previousConfig(input.endpoint),
  ]);
  return planRollback({ endpoint, previous });
}
