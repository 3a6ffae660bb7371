/**
 * The shape of one /mlops subcommand. Each `src/commands/<name>.ts` exports one spec; index.ts
 * lists them, and dispatch, help, parse errors, access and the protected-endpoint check derive
 * from that list.
 */
import type { z } from 'zod';
import type {
  Actor,
  MutatingSubcommand,
  Origin,
  ParsedCommand,
  Reply,
  Subcommand,
} from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import type { CommandWords, ParseDefaults } from './parse.js';
import type { CommandHelp } from './views.js';

/** The parsed input of one subcommand. */
export type InputOf<N extends Subcommand> = Extract<ParsedCommand, { subcommand: N }>;

/**
 * One subcommand: its words for help, its input schema, how its words become input, what it
 * does, and the endpoint it touches.
 */
export interface CommandSpec<N extends Subcommand = Subcommand> extends CommandHelp {
  name: N;
  /** Other words people type for it (`versions` for `models`). */
  aliases?: readonly string[];
  /**
   * Changes something through the change pipeline: a plan, Apply, auto-apply, protected
   * endpoints, no access without a rule. The compiler holds it to MUTATING_SUBCOMMANDS.
   */
  mutating: N extends MutatingSubcommand ? true : false;
  /** Takes `--dry-run`: every change, retrain included (which goes through approvals instead). */
  takesDryRun: boolean;
  /** The input schema; `parse` hands it the raw words. */
  schema: z.ZodType<InputOf<N>>;
  /**
   * The words after the subcommand → its input. Throws UserError('bad_input', { problems, hint: 'Usage: …' }).
   */
  parse(words: CommandWords, defaults: ParseDefaults): InputOf<N>;
  /** Runs it. Never talks to Slack: the caller sends the Reply. */
  handle(input: InputOf<N>, deps: CommandDeps, actor: Actor, origin: Origin): Promise<Reply>;
  /** The endpoint it reads or changes, for the protected-endpoint rules; undefined: none. */
  endpointOf(input: InputOf<N>, defaults: ParseDefaults): string | undefined;
}

/** Any one spec: the union over every subcommand, so each keeps its own input type. */
export type AnyCommandSpec = { [N in Subcommand]: CommandSpec<N> }[Subcommand];

/**
 * 'Usage: /mlops deploy …' — the hint of every parse error.
 *
 * @example usageOf(rollbackCommand) // 'Usage: /mlops rollback <endpoint> [--dry-run]'
 */
export const usageOf = (spec: Pick<CommandHelp, 'usage'>): string => `Usage: ${spec.usage}`;

/** For a subcommand that touches no endpoint. */
export const noEndpoint = (): undefined => undefined;
