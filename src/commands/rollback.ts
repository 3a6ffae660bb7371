/**
 * `/mlops rollback <endpoint> [--dry-run]`: restore the served versions and traffic the endpoint
 * had before the bot's last change to it, taken from the bot's own history.
 */
import { z } from 'zod';
import { planRollback } from '../changes/plan.js';
import type { EndpointPlan } from '../changes/types.js';
import type { Actor, Origin, Reply, RollbackCommand } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { endpointNameSchema } from './schemas.js';

export const rollbackInputSchema = z
  .object({ subcommand: z.literal('rollback'), endpoint: endpointNameSchema, dryRun: z.boolean() })
  .strict();

export type RollbackInput = RollbackCommand;

/**
 * Reads the endpoint and its previous config from the history, and plans the rollback.
 *
 * @example await buildRollbackPlan({ subcommand: 'rollback', endpoint: 'churn-endpoint', dryRun: false }, deps)
 */
export async function buildRollbackPlan(
  input: RollbackInput,
  deps: Pick<CommandDeps, 'serving' | 'history'>,
): Promise<EndpointPlan> {
  const [endpoint, previous] = await Promise.all([
    deps.serving.get(input.endpoint),
    deps.history.previousConfig(input.endpoint),
  ]);
  return planRollback({ endpoint, previous });
}

export async function handleRollback(
  input: RollbackInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  const plan = await buildRollbackPlan(input, deps);
  return deps.changes.propose({ input, plan, actor, origin, dryRun: input.dryRun });
}
