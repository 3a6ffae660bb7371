/**
 * The obvious next step after a change, offered as a button on its message: after a move to
 * Champion, promoting that version to Production; after a failed rollout, rolling back. Pure: a
 * change's plan and end in, the step (or nothing) out. The click runs the step's command through
 * its usual plan path, so rights, gates and staleness are checked as if it had been typed.
 */
import type { ChangeStatus, Plan } from '../domain/change.js';
import type { PromoteCommand, RollbackCommand } from '../domain/vocabulary.js';

export type NextStep =
  | { kind: 'promote'; model: string; version: number; alias: 'Production' }
  | { kind: 'rollback'; endpoint: string };

/**
 * @example nextStepOf({ kind: 'alias', alias: 'Champion', toVersion: 4, ... }, 'succeeded') // { kind: 'promote', version: 4, alias: 'Production', ... }
 */
export function nextStepOf(plan: Plan, status: ChangeStatus): NextStep | undefined {
  if (plan.kind === 'alias') {
    if (status !== 'succeeded' || plan.alias.toLowerCase() !== 'champion') return undefined;
    return { kind: 'promote', model: plan.model, version: plan.toVersion, alias: 'Production' };
  }
  // A failed rollback is not undone by another one; a failed create has nothing to go back to.
  if (status !== 'failed' || plan.subcommand === 'rollback' || plan.create) return undefined;
  return { kind: 'rollback', endpoint: plan.endpoint };
}

/** The command a next step runs, exactly as if it had been typed. */
export function commandOfNextStep(step: NextStep): PromoteCommand | RollbackCommand {
  return step.kind === 'promote'
    ? { subcommand: 'promote', model: step.model, version: step.version, alias: step.alias, dryRun: false }
    : { subcommand: 'rollback', endpoint: step.endpoint, dryRun: false };
}
