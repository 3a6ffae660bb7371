/**
 * `/mlops promote <model> <version> <Challenger|Champion|Production> [--dry-run]`: move an alias to
 * a version. The plan goes to the change pipeline as usual; a Production move (and any alias a
 * gate covers) is diverted there into an approval request (changes/approvals.ts `gateChanges`).
 */
import { z } from 'zod';
import { planPromote } from '../changes/plan.js';
import type { AliasPlan } from '../changes/types.js';
import type { Actor, Origin, PromoteCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { modelRefSchema, versionSchema } from './schemas.js';

/** The aliases promote may move, in their display spelling. */
export const PROMOTABLE_ALIASES = ['Challenger', 'Champion', 'Production'] as const;

/**
 * An alias as typed (any case, with or without @) → its display spelling.
 *
 * @example promoteAliasSchema.parse('@champion') // 'Champion'
 */
export const promoteAliasSchema = z
  .string({ error: 'Say which alias to move: Challenger, Champion or Production.' })
  .transform((s, ctx) => {
    const name = s.replace(/^@/, '');
    const alias = PROMOTABLE_ALIASES.find((a) => a.toLowerCase() === name.toLowerCase());
    if (alias) return alias;
    ctx.addIssue({
      code: 'custom',
      message: `"${name}" is not an alias promote can move: use Challenger, Champion or Production.`,
    });
    return z.NEVER;
  });

export const promoteInputSchema = z
  .object({
    subcommand: z.literal('promote'),
    model: modelRefSchema,
    version: versionSchema,
    alias: promoteAliasSchema,
    dryRun: z.boolean(),
  })
  .strict();

export type PromoteInput = PromoteCommand;

/**
 * Reads the model's aliases and the version, and plans the alias move.
 *
 * @example await buildPromotePlan({ subcommand: 'promote', model: 'acme.mlops.churn_model', version: 3, alias: 'Champion', dryRun: false }, deps)
 */
export async function buildPromotePlan(
  input: PromoteInput,
  deps: Pick<CommandDeps, 'registry'>,
): Promise<AliasPlan> {
  const [model, version] = await Promise.all([
    deps.registry.getModel(input.model),
    deps.registry.getVersion(input.model, input.version),
  ]);
  return planPromote({ model, alias: input.alias, version });
}

export async function handlePromote(
  input: PromoteInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  const plan = await buildPromotePlan(input, deps);
  return deps.changes.propose({ input, plan, actor, origin, dryRun: input.dryRun });
}
