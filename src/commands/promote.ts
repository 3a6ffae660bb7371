/**
 * `/mlops promote <model> <version> <Challenger|Champion|Production> [--dry-run]`: move an alias to
 * a version. The plan goes to the change pipeline as usual; a Production move (and any alias a
 * gate covers) is diverted there into an approval request (changes/approvals.ts `gateChanges`).
 */
import { z } from 'zod';
import { buildPromotePlan } from '../changes/plan/index.js';
import type { Actor, Origin, PromoteCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { modelRefSchema, versionSchema } from './schemas.js';
import { type CommandSpec, noEndpoint } from './spec.js';

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

/** Plans the alias move and hands it to the change pipeline (which may divert it to an approval). */
export async function handlePromote(
  input: PromoteInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  const plan = await buildPromotePlan(input, deps);
  return deps.changes.propose({ input, plan, actor, origin, dryRun: input.dryRun });
}

export const promoteCommand: CommandSpec<'promote'> = {
  name: 'promote',
  summary: 'Move the Challenger, Champion or Production alias of a model to a version',
  usage: '/mlops promote <model> <version> <Challenger|Champion|Production> [--dry-run]',
  mutating: true,
  takesDryRun: true,
  details: [
    'Only READY versions can carry an alias. The bot shows the plan first; nothing changes until Apply.',
    'Production needs a second person: the bot posts an approval request (in the approval channel when the policy names one) with the plan, the evidence and Approve / Reject buttons. When the policy binds Production to an endpoint, approval rolls the endpoint out to the version, then moves the alias.',
  ],
  examples: [
    '/mlops promote churn_model 3 Champion',
    '/mlops promote churn_model v4 Challenger --dry-run',
    '/mlops promote churn_model 4 Production',
  ],
  schema: promoteInputSchema,
  parse(w, defaults) {
    const { words, dryRun } = w.split();
    w.tooMany(words, 3);
    const at = (i: number) => words[i]?.text;
    const parsed = w.validate(promoteInputSchema, {
      subcommand: 'promote',
      model: at(0),
      version: at(1),
      alias: at(2),
      dryRun,
    });
    return { ...parsed, model: w.resolveModel(parsed.model, defaults) };
  },
  handle: handlePromote,
  endpointOf: noEndpoint,
};
