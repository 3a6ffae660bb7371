/**
 * `/mlops deploy <model> <version|@alias> [to <endpoint>] [size=…] [scale-to-zero=on|off] [--dry-run]`:
 * make an endpoint serve one version at 100 %, creating the endpoint when it does not exist.
 */
import { z } from 'zod';
import { planDeploy } from '../changes/plan.js';
import type { EndpointPlan } from '../changes/types.js';
import { isUserError, UserError } from '../domain/errors.js';
import type { Endpoint, Serving } from '../domain/ports/serving.js';
import type { Actor, DeployCommand, Origin, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { endpointNameSchema, modelRefSchema, onOffSchema, sizeSchema, versionRefSchema } from './schemas.js';
import { usageOf } from './subcommands.js';

/** The words of a deploy command; `model` is resolved against the defaults by parse.ts. */
export const deployInputSchema = z
  .object({
    subcommand: z.literal('deploy'),
    model: modelRefSchema,
    target: versionRefSchema,
    endpoint: endpointNameSchema.optional(),
    size: sizeSchema.optional(),
    scaleToZero: onOffSchema.optional(),
    dryRun: z.boolean(),
  })
  .strict();

export type DeployInput = DeployCommand;

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
 * Reads the endpoint and the version (resolving an alias) and plans the deploy.
 *
 * @example await buildDeployPlan({ subcommand: 'deploy', model: 'acme.mlops.churn_model', target: { version: 3 }, dryRun: false }, deps)
 */
export async function buildDeployPlan(
  input: DeployInput,
  deps: Pick<CommandDeps, 'serving' | 'registry' | 'defaults'>,
): Promise<EndpointPlan> {
  const endpointName = input.endpoint ?? deps.defaults.endpoint;
  if (!endpointName) {
    throw new UserError(
      'bad_input',
      'Say which endpoint to deploy to: there is no default endpoint in the policy.',
      usageOf('deploy'),
    );
  }
  const { target } = input;
  const [version, endpoint] = await Promise.all([
    'version' in target
      ? deps.registry.getVersion(input.model, target.version)
      : deps.registry.resolveAlias(input.model, target.alias),
    getEndpointIfExists(deps.serving, endpointName),
  ]);
  return planDeploy({
    endpointName,
    endpoint,
    version,
    ...(input.size ? { size: input.size } : {}),
    ...(input.scaleToZero !== undefined ? { scaleToZero: input.scaleToZero } : {}),
    ...('alias' in target ? { alias: target.alias } : {}),
  });
}

/** Plans the deploy and hands it to the change pipeline, which shows it with Apply / Cancel. */
export async function handleDeploy(
  input: DeployInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  const plan = await buildDeployPlan(input, deps);
  return deps.changes.propose({ input, plan, actor, origin, dryRun: input.dryRun });
}
