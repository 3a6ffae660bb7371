/**
 * `/mlops help [subcommand]`: what each subcommand does and how to type it. Help reads the list
 * in index.ts, which holds this spec too, so the list comes in as an argument.
 */
import { z } from 'zod';
import type { Actor, Origin, ParsedCommand, Reply, Subcommand } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { type AnyCommandSpec, type CommandSpec, noEndpoint } from './spec.js';

/** The topic is checked against the list by `parse` (the schema cannot know the list). */
export const helpInputSchema = z
  .object({ subcommand: z.literal('help'), topic: z.string().optional() })
  .strict();

export type HelpInput = Extract<ParsedCommand, { subcommand: 'help' }>;

/** The subcommand a word names, through its aliases, any case. */
export function subcommandNamed(all: readonly AnyCommandSpec[], word: string): AnyCommandSpec | undefined {
  const name = word.toLowerCase();
  return all.find((c) => c.name === name) ?? all.find((c) => c.aliases?.includes(name));
}

/**
 * The help spec over the list of every spec (help included), read when help runs.
 *
 * @example export const COMMANDS = [statusCommand, …, createHelpCommand(() => COMMANDS)];
 */
export function createHelpCommand(all: () => readonly AnyCommandSpec[]): CommandSpec<'help'> {
  async function handleHelp(
    input: HelpInput,
    deps: CommandDeps,
    _actor: Actor,
    _origin: Origin,
  ): Promise<Reply> {
    const command = input.topic === undefined ? undefined : subcommandNamed(all(), input.topic);
    return command ? deps.views.subcommandHelp(command) : deps.views.help(all());
  }
  return {
    name: 'help',
    summary: 'Explain the subcommands, or one of them',
    usage: '/mlops help [subcommand]',
    mutating: false,
    takesDryRun: false,
    details: [],
    examples: ['/mlops help', '/mlops help deploy'],
    schema: helpInputSchema,
    parse(w) {
      const { words } = w.split();
      w.tooMany(words, 1);
      const word = words[0]?.text;
      let topic: Subcommand | undefined;
      if (word) {
        topic = subcommandNamed(all(), word)?.name;
        if (!topic) {
          w.add(
            `There is no subcommand "${word}"; the subcommands are ${all()
              .map((c) => c.name)
              .join(', ')}.`,
          );
        }
      }
      return w.validate(helpInputSchema, { subcommand: 'help', ...(topic ? { topic } : {}) });
    },
    handle: handleHelp,
    endpointOf: noEndpoint,
  };
}
