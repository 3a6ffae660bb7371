/**
 * `/mlops rollback <endpoint> [--dry-run]`: restore the served versions and traffic the endpoint
 * had before the bot's last change to it, taken from the bot's own history.
 */
import { z } from 'zod';
import { buildRollbackPlan } from '../changes/plan/index.js';
import type { Actor, Origin, Reply, RollbackCommand } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { endpointNameSchema } from './schemas.js';
import type { CommandSpec } from './spec.js';

export const rollbackInputSchema = z
  .object({ subcommand: z.literal('rollback'), endpoint: endpointNameSchema, dryRun: z.boolean() })
  .strict();

export type RollbackInput = RollbackCommand;

/** Plans the rollback and hands it to the change pipeline. */
export async function handleRollback(
  input: RollbackInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  const plan = await buildRollbackPlan(input, deps);
  return deps.changes.propose({ input, plan, actor, origin, dryRun: input.dryRun });
}

export const rollbackCommand: CommandSpec<'rollback'> = {
  name: 'rollback',
  summary: "Restore an endpoint's previous served versions and traffic",
  usage: '/mlops rollback <endpoint> [--dry-run]',
  mutating: true,
  takesDryRun: true,
  details: [
    'Uses the bot’s own history of the endpoint: the config it served before the last change made through the bot.',
  ],
  examples: ['/mlops rollback churn-endpoint', '/mlops rollback churn-endpoint --dry-run'],
  schema: rollbackInputSchema,
  parse(w) {
    const { words, dryRun } = w.split();
    w.tooMany(words, 1);
    return w.validate(rollbackInputSchema, { subcommand: 'rollback', endpoint: words[0]?.text, dryRun });
  },
  handle: handleRollback,
  endpointOf: (input) => input.endpoint,
};
