/**
 * `/mlops drift [monitor]`: runs a drift check now (one monitor, or every monitor) and posts the result
 * in the channel, healthy or not, with its charts. New violations become alerts exactly as on the
 * schedule; the reply says what was posted where.
 */
import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { type CommandSpec, noEndpoint } from './spec.js';

export const driftInputSchema = z
  .object({
    subcommand: z.literal('drift'),
    monitor: z
      .string()
      .regex(
        /^[A-Za-z][A-Za-z0-9_-]{0,39}$/,
        'A monitor name is letters, digits, "-" and "_" (see /mlops help drift).',
      )
      .transform((s) => s.toLowerCase())
      .optional(),
  })
  .strict();

export type DriftInput = Extract<ParsedCommand, { subcommand: 'drift' }>;

export async function handleDrift(
  input: DriftInput,
  deps: CommandDeps,
  _actor: Actor,
  origin: Origin,
): Promise<Reply> {
  if (!deps.drift) {
    throw new UserError('drift_not_configured', {});
  }
  return deps.drift.check(input.monitor, origin);
}

export const driftCommand: CommandSpec<'drift'> = {
  name: 'drift',
  summary: 'Run a drift check now and post the result with its charts',
  usage: '/mlops drift [monitor]',
  mutating: false,
  takesDryRun: false,
  details: [
    'Reads the monitor’s metric tables now and checks its rules (see monitors: in the policy file). New violating windows become alerts in the monitor’s channel, as on the schedule; the result of the other rules, healthy or not, is posted here with its chart.',
    'Without a monitor, every monitor is checked.',
  ],
  examples: ['/mlops drift', '/mlops drift churn'],
  schema: driftInputSchema,
  parse(w) {
    const { words } = w.split();
    w.tooMany(words, 1);
    const monitor = words[0]?.text;
    return w.validate(driftInputSchema, {
      subcommand: 'drift',
      ...(monitor !== undefined ? { monitor } : {}),
    });
  },
  handle: handleDrift,
  endpointOf: noEndpoint,
};
