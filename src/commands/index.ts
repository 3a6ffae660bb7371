/**
 * The /mlops subcommands: THE one list of specs, and what derives from it: parsing the command
 * text, dispatching to a handler, help, the endpoint a command touches, and which subcommands
 * change something.
 */
import { UserError } from '../domain/errors.js';
import type {
  Actor,
  MutatingCommand,
  MutatingSubcommand,
  Origin,
  ParsedCommand,
  Reply,
  Subcommand,
} from '../domain/vocabulary.js';
import { approvalsCommand } from './approvals.js';
import { auditCommand } from './audit.js';
import { deployCommand } from './deploy.js';
import type { CommandDeps } from './deps.js';
import { driftCommand } from './drift.js';
import { createHelpCommand, subcommandNamed } from './help.js';
import { historyCommand } from './history.js';
import { modelsCommand } from './models.js';
import { monitorCommand } from './monitor.js';
import { CommandWords, distance, normaliseText, type ParseDefaults } from './parse.js';
import { promoteCommand } from './promote.js';
import { queryCommand } from './query.js';
import { retrainCommand } from './retrain.js';
import { rollbackCommand } from './rollback.js';
import { rolloutCommand } from './rollout.js';
import { scoreCommand } from './score.js';
import type { AnyCommandSpec, CommandSpec, InputOf } from './spec.js';
import { splitCommand } from './split.js';
import { statusCommand } from './status.js';
import { withSuggestion } from './suggest.js';

export type { CommandDeps } from './deps.js';
export type { ParseDefaults } from './parse.js';
export { type AnyCommandSpec, type CommandSpec, type InputOf, usageOf } from './spec.js';
export type { CommandHelp, CommandViews } from './views.js';

/** The slash command the app registers; manifest.yml must list exactly these. */
export const SLASH_COMMANDS = ['/mlops'] as const;

/**
 * Every subcommand by name, in the order help lists them. The type makes the compiler check that
 * each subcommand of the vocabulary has exactly one spec, and that `mutating` matches
 * MUTATING_SUBCOMMANDS.
 */
export const SUBCOMMANDS: { readonly [N in Subcommand]: CommandSpec<N> } = {
  status: statusCommand,
  models: modelsCommand,
  deploy: deployCommand,
  split: splitCommand,
  query: queryCommand,
  promote: promoteCommand,
  rollback: rollbackCommand,
  rollout: rolloutCommand,
  drift: driftCommand,
  retrain: retrainCommand,
  monitor: monitorCommand,
  score: scoreCommand,
  approvals: approvalsCommand,
  audit: auditCommand,
  history: historyCommand,
  help: createHelpCommand(() => COMMANDS),
};

/** The specs as a list, in help order. */
export const COMMANDS: readonly AnyCommandSpec[] = Object.values(SUBCOMMANDS);

/** The subcommand names, in help order. */
export const SUBCOMMAND_NAMES: readonly Subcommand[] = COMMANDS.map((c) => c.name);

/** The subcommands that change something through the pipeline; equal to MUTATING_SUBCOMMANDS. */
export const MUTATING_COMMANDS = COMMANDS.filter((c) => c.mutating).map(
  (c) => c.name,
) as MutatingSubcommand[];

/** "deploy, split, promote, rollback, retrain": named when --dry-run goes to another subcommand. */
const DRY_RUN_NAMES = COMMANDS.filter((c) => c.takesDryRun)
  .map((c) => c.name)
  .join(', ');

function unknownSubcommand(word: string): never {
  const near = SUBCOMMAND_NAMES.map((n) => ({ n, d: distance(word.toLowerCase(), n) }))
    .filter((x) => x.d <= 2)
    .sort((a, b) => a.d - b.d)[0];
  throw new UserError('bad_input', {
    problems: [`"${word}" is not a subcommand.${near ? ` Did you mean ${near.n}?` : ''}`],
    hint: `Usage: /mlops <subcommand> …, where the subcommand is one of ${SUBCOMMAND_NAMES.join(', ')}. Run /mlops help for details.`,
  });
}

/**
 * Parses the text after `/mlops`: the first word picks the spec (or an alias of it), whose
 * `parse` reads the rest. Empty text means help.
 *
 * @example
 * parseCommand('deploy churn_model v3 to churn-endpoint --dry-run', { catalog: 'acme', schema: 'mlops' })
 * // { subcommand: 'deploy', model: 'acme.mlops.churn_model', target: { version: 3 }, endpoint: 'churn-endpoint', dryRun: true }
 */
export function parseCommand(text: string, defaults: ParseDefaults): ParsedCommand {
  const norm = normaliseText(text);
  const first = /^\s*(\S+)/.exec(norm);
  if (!first) return { subcommand: 'help' };
  const spec = subcommandNamed(COMMANDS, first[1]!);
  if (!spec) return unknownSubcommand(first[1]!);
  return spec.parse(new CommandWords(norm.slice(first[0].length), spec, DRY_RUN_NAMES), defaults);
}

/** The spec of a parsed command, typed by its name. */
const specOf = <N extends Subcommand>(input: InputOf<N>): CommandSpec<N> =>
  SUBCOMMANDS[input.subcommand as N] as CommandSpec<N>;

/**
 * Runs the handler of a parsed command. Handlers never talk to Slack: the caller sends the Reply.
 *
 * @example const reply = await dispatch(parseCommand(text, policy.defaults), deps, actor, origin);
 */
export async function dispatch(
  parsed: ParsedCommand,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  try {
    return await specOf(parsed).handle(parsed, deps, actor, origin);
  } catch (e) {
    // A name that does not exist: offer the nearest one Databricks has (read only on this path).
    throw await withSuggestion(e, deps);
  }
}

/**
 * The endpoint a command reads or changes, for the protected-endpoint rules (deploy may use the
 * default endpoint); undefined when it touches none.
 *
 * @example endpointOf(parseCommand('rollback churn-endpoint', defaults), defaults) // 'churn-endpoint'
 */
export function endpointOf(parsed: ParsedCommand, defaults: ParseDefaults): string | undefined {
  return specOf(parsed).endpointOf(parsed, defaults);
}

/** Whether a parsed command changes something through the pipeline (and so needs a plan). */
export function isMutating(parsed: ParsedCommand): parsed is MutatingCommand {
  return SUBCOMMANDS[parsed.subcommand].mutating;
}
