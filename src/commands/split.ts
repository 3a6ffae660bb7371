/**
 * `/mlops split <endpoint> <version>=<percent> … [--dry-run]`: a traffic split between versions of
 * the model an endpoint serves; versions not served yet are added, versions left out removed.
 */
import { z } from 'zod';
import { planSplit, servedModelOf } from '../changes/plan.js';
import type { EndpointPlan } from '../changes/types.js';
import type { Actor, Origin, Reply, SplitCommand } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { endpointNameSchema, MAX_SPLIT_VERSIONS, routeSchema } from './schemas.js';

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

/**
 * Reads the endpoint and the versions it does not serve yet, and plans the split.
 *
 * @example await buildSplitPlan({ subcommand: 'split', endpoint: 'churn-endpoint', routes: [{ version: 2, percent: 90 }, { version: 3, percent: 10 }], dryRun: false }, deps)
 */
export async function buildSplitPlan(
  input: SplitInput,
  deps: Pick<CommandDeps, 'serving' | 'registry'>,
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

export async function handleSplit(
  input: SplitInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  const plan = await buildSplitPlan(input, deps);
  return deps.changes.propose({ input, plan, actor, origin, dryRun: input.dryRun });
}
