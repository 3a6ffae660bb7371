/**
 * `/mlops split <endpoint> <version>=<percent> … [--dry-run]`: a traffic split between versions of
 * the model an endpoint serves; versions not served yet are added, versions left out removed.
 */
import { z } from 'zod';
import { buildSplitPlan } from '../changes/plan/index.js';
import type { Actor, Origin, Reply, SplitCommand } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { endpointNameSchema, MAX_SPLIT_VERSIONS, routeSchema } from './schemas.js';
import type { CommandSpec } from './spec.js';

export const splitInputSchema = z
  .object({
    subcommand: z.literal('split'),
    endpoint: endpointNameSchema,
    routes: z
      .array(routeSchema)
      .min(1, 'Say how to split the traffic, e.g. 2=90 3=10.')
      .max(MAX_SPLIT_VERSIONS, `An endpoint serves at most ${MAX_SPLIT_VERSIONS} versions; name fewer.`),
    dryRun: z.boolean(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.routes.length === 0) return;
    const seen = new Set<number>();
    for (const r of input.routes) {
      if (seen.has(r.version)) {
        ctx.addIssue({
          code: 'custom',
          message: `Version ${r.version} is listed twice; list each version once.`,
        });
      }
      seen.add(r.version);
    }
    const total = input.routes.reduce((s, r) => s + r.percent, 0);
    if (total !== 100) {
      ctx.addIssue({ code: 'custom', message: `The percentages add up to ${total}%, not 100%.` });
    }
  });

export type SplitInput = SplitCommand;

/** Plans the split and hands it to the change pipeline. */
export async function handleSplit(
  input: SplitInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  const plan = await buildSplitPlan(input, deps);
  return deps.changes.propose({ input, plan, actor, origin, dryRun: input.dryRun });
}

export const splitCommand: CommandSpec<'split'> = {
  name: 'split',
  summary: 'Split the traffic of an endpoint between versions',
  usage: '/mlops split <endpoint> <version>=<percent> … [--dry-run]',
  mutating: true,
  takesDryRun: true,
  details: [
    'Percentages are whole numbers adding up to 100; at most 10 versions. Versions not served yet are added (same size and scale-to-zero as the served ones); served versions you leave out are removed.',
  ],
  examples: ['/mlops split churn-endpoint 2=90 3=10', '/mlops split churn-endpoint v2=50 v3=50 --dry-run'],
  schema: splitInputSchema,
  parse(w) {
    const { words, dryRun } = w.split();
    const routes = words.slice(1).map((word) => word.text.replace(/,$/, ''));
    return w.validate(splitInputSchema, { subcommand: 'split', endpoint: words[0]?.text, routes, dryRun });
  },
  handle: handleSplit,
  endpointOf: (input) => input.endpoint,
};
