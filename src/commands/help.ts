/**
 * `/mlops help [subcommand]`: what each subcommand does and how to type it.
 */
import { z } from 'zod';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import { buildHelpReply, buildSubcommandHelpReply } from '../slack/blocks/help.js';
import type { CommandDeps } from './deps.js';
import { isSubcommand, SUBCOMMAND_ALIASES, SUBCOMMAND_NAMES } from './subcommands.js';

export const helpInputSchema = z
  .object({
    subcommand: z.literal('help'),
    topic: z
      .string()
      .transform((s, ctx) => {
        const name = s.toLowerCase();
        const topic = SUBCOMMAND_ALIASES[name] ?? name;
        if (isSubcommand(topic)) return topic;
        ctx.addIssue({
          code: 'custom',
          message: `There is no subcommand "${s}"; the subcommands are ${SUBCOMMAND_NAMES.join(', ')}.`,
        });
        return z.NEVER;
      })
      .optional(),
  })
  .strict();

export type HelpInput = Extract<ParsedCommand, { subcommand: 'help' }>;

export async function handleHelp(
  input: HelpInput,
  _deps: CommandDeps,
  _actor: Actor,
  _origin: Origin,
): Promise<Reply> {
  const topic = input.topic?.toLowerCase();
  const name = topic === undefined ? undefined : (SUBCOMMAND_ALIASES[topic] ?? topic);
  return name !== undefined && isSubcommand(name) ? buildSubcommandHelpReply(name) : buildHelpReply();
}
