/**
 * The /mlops subcommands: the one explicit registry, the dispatcher from a parsed command to its
 * handler, and the plan builder the change pipeline uses at Apply to rebuild a plan.
 */
import type { Plan } from '../changes/types.js';
import type { Actor, MutatingCommand, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import { handleApprovals } from './approvals.js';
import { handleAudit } from './audit.js';
import { buildDeployPlan, handleDeploy } from './deploy.js';
import type { CommandDeps } from './deps.js';
import { handleDrift } from './drift.js';
import { handleHelp } from './help.js';
import { handleModels } from './models.js';
import { buildPromotePlan, handlePromote } from './promote.js';
import { handleQuery } from './query.js';
import { handleRetrain } from './retrain.js';
import { buildRollbackPlan, handleRollback } from './rollback.js';
import { buildSplitPlan, handleSplit } from './split.js';
import { handleStatus } from './status.js';

export { type ParseDefaults, parseCommand } from './parse.js';
export { SLASH_COMMANDS, SUBCOMMANDS, type SubcommandSpec, usageOf } from './subcommands.js';

/**
 * Runs the handler of a parsed command. Handlers never talk to Slack: the caller sends the Reply.
 *
 * @example const reply = await dispatch(parseCommand(text, policy.defaults), deps, actor, origin);
 */
export function dispatch(
  parsed: ParsedCommand,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  switch (parsed.subcommand) {
    case 'help':
      return handleHelp(parsed, deps, actor, origin);
    case 'status':
      return handleStatus(parsed, deps, actor, origin);
    case 'models':
      return handleModels(parsed, deps, actor, origin);
    case 'query':
      return handleQuery(parsed, deps, actor, origin);
    case 'deploy':
      return handleDeploy(parsed, deps, actor, origin);
    case 'split':
      return handleSplit(parsed, deps, actor, origin);
    case 'promote':
      return handlePromote(parsed, deps, actor, origin);
    case 'rollback':
      return handleRollback(parsed, deps, actor, origin);
    case 'drift':
      return handleDrift(parsed, deps, actor, origin);
    case 'retrain':
      return handleRetrain(parsed, deps, actor, origin);
    case 'approvals':
      return handleApprovals(parsed, deps, actor, origin);
    case 'audit':
      return handleAudit(parsed, deps, actor, origin);
  }
}

/** What building a plan reads; a subset of CommandDeps, so the pipeline needs no `changes` of its own. */
export type PlanDeps = Pick<CommandDeps, 'serving' | 'registry' | 'history' | 'defaults'>;

/**
 * Builds the plan of a change from the state now: what the handlers show, and what the pipeline
 * rebuilds at Apply to spot a stale plan (compare fingerprints).
 *
 * @example const fresh = await buildPlanFor(stored.input, deps); if (fresh.fingerprint !== stored.plan.fingerprint) …
 */
export function buildPlanFor(input: MutatingCommand, deps: PlanDeps): Promise<Plan> {
  switch (input.subcommand) {
    case 'deploy':
      return buildDeployPlan(input, deps);
    case 'split':
      return buildSplitPlan(input, deps);
    case 'promote':
      return buildPromotePlan(input, deps);
    case 'rollback':
      return buildRollbackPlan(input, deps);
  }
}

/** Whether a parsed command changes something (and so needs rights and a plan). */
export function isMutating(parsed: ParsedCommand): parsed is MutatingCommand {
  return (
    parsed.subcommand === 'deploy' ||
    parsed.subcommand === 'split' ||
    parsed.subcommand === 'promote' ||
    parsed.subcommand === 'rollback'
  );
}
