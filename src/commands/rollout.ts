/**
 * `/mlops rollout <endpoint> <model> <version|@alias> [steps=5,25,50,100] [every=15m] [analysis=<name>] [--dry-run]`:
 * a canary. The new version is served beside the current one and traffic moves through the steps,
 * each judged by the policy's analysis before the next; a failure rolls back. The plan comes first.
 */
import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import type { Actor, Origin, Reply, RolloutCommand } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import type { CommandWords, ParseDefaults } from './parse.js';
import { endpointNameSchema, modelRefSchema, versionRefSchema } from './schemas.js';
import type { CommandSpec } from './spec.js';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "15m", "1h30m" → ms; at least a minute. */
const everySchema = z.string().transform((s, ctx) => {
  const m = /^(?:\d+[smhd])+$/i.test(s) ? [...s.toLowerCase().matchAll(/(\d+)([smhd])/g)] : [];
  const ms = m.reduce((t, x) => t + Number(x[1]) * UNIT_MS[x[2]!]!, 0);
  if (m.length === 0 || ms < 60_000 || ms > 7 * 86_400_000) {
    ctx.addIssue({
      code: 'custom',
      message: `every=${s} is not a step time: write 15m, 1h or 1h30m (1 minute to 7 days).`,
    });
    return z.NEVER;
  }
  return ms;
});

const stepsSchema = z.string().transform((s, ctx) => {
  const parts = s.split(',').map((p) => p.trim().replace(/%$/, ''));
  const steps = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || steps.some((p) => p < 1 || p > 100)) {
    ctx.addIssue({
      code: 'custom',
      message: `steps=${s} is not a list of percents: write e.g. steps=5,25,50,100.`,
    });
    return z.NEVER;
  }
  if (steps.some((p, i) => i > 0 && p <= steps[i - 1]!)) {
    ctx.addIssue({ code: 'custom', message: `steps=${s} must climb: each step larger than the one before.` });
    return z.NEVER;
  }
  return steps;
});

export const rolloutInputSchema = z
  .object({
    subcommand: z.literal('rollout'),
    endpoint: endpointNameSchema,
    model: modelRefSchema,
    target: versionRefSchema,
    steps: stepsSchema.optional(),
    everyMs: everySchema.optional(),
    analysis: z
      .string()
      .regex(
        /^[a-z][a-z0-9_-]{0,62}$/,
        'analysis= takes the name of an analysis of the policy, e.g. analysis=default.',
      )
      .optional(),
    dryRun: z.boolean(),
  })
  .strict();

function parseRollout(w: CommandWords, defaults: ParseDefaults): RolloutCommand {
  const { words, dryRun } = w.split();
  const positional: string[] = [];
  const options: Record<'steps' | 'every' | 'analysis', string | undefined> = {
    steps: undefined,
    every: undefined,
    analysis: undefined,
  };
  for (const word of words) {
    const eq = word.text.indexOf('=');
    if (eq > 0 && !word.quoted) {
      const key = word.text.slice(0, eq).toLowerCase();
      if (key === 'steps' || key === 'every' || key === 'analysis') {
        if (options[key] !== undefined) w.add(`${key}= is given twice; give it once.`);
        options[key] = word.text.slice(eq + 1);
      } else {
        w.add(`Unknown option "${word.text.slice(0, eq)}"; rollout takes steps=, every= and analysis=.`);
      }
    } else {
      positional.push(word.text);
    }
  }
  w.tooMany(
    positional.map((text) => ({ text, quoted: false, valueQuoted: false })),
    3,
  );
  const [endpoint, model, target] = positional;
  const parsed = w.validate(rolloutInputSchema, {
    subcommand: 'rollout',
    endpoint,
    model,
    target,
    ...(options.steps !== undefined ? { steps: options.steps } : {}),
    ...(options.every !== undefined ? { everyMs: options.every } : {}),
    ...(options.analysis !== undefined ? { analysis: options.analysis } : {}),
    dryRun,
  });
  return { ...parsed, model: w.resolveModel(parsed.model, defaults) } as RolloutCommand;
}

/** Plans the canary and hands it to the rollout service (plan with Start, or an approval request). */
export async function handleRollout(
  input: RolloutCommand,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  if (!deps.rollouts) throw new UserError('no_warehouse', {});
  return deps.rollouts.propose(input, actor, origin);
}

export const rolloutCommand: CommandSpec<'rollout'> = {
  name: 'rollout',
  summary: 'Canary a version on an endpoint: step traffic up, check guardrails, roll back on failure',
  usage:
    '/mlops rollout <endpoint> <model> <version|@alias> [steps=5,25,50,100] [every=15m] [analysis=<name>] [--dry-run]',
  // A change, but through its own state machine (src/rollouts) rather than the change pipeline.
  mutating: false,
  takesDryRun: true,
  details: [
    "The endpoint must serve one version; the new one is added beside it and gets each step's share of traffic in turn. Each step dwells `every`, then the analysis named in the policy (`analyses:`; `default` unless analysis= names another) compares the canary with the baseline from the endpoint's inference table.",
    'A failing or long-inconclusive analysis rolls back (baseline at 100%, canary removed); after the last step the canary serves alone and the old version is removed. One message follows it all, with Pause, Resume, Promote now and Abort.',
  ],
  examples: [
    '/mlops rollout churn-endpoint churn_model 4',
    '/mlops rollout churn-endpoint churn_model @Challenger steps=10,50 every=30m analysis=strict --dry-run',
  ],
  schema: rolloutInputSchema as unknown as z.ZodType<RolloutCommand>,
  parse: parseRollout,
  handle: handleRollout,
  endpointOf: (input) => input.endpoint,
};
