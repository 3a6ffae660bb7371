/**
 * `/mlops retrain <monitor|model> [reason…] [--dry-run]`: asks for a gated retraining run of the job
 * the policy names for a monitor's model (`monitors.<name>.retrainJob`) or a model (`retraining`).
 * Nothing runs until an approver approves; then the bot runs the job and follows it.
 */
import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';

export const retrainInputSchema = z
  .object({
    subcommand: z.literal('retrain'),
    target: z
      .string({ error: 'Say which monitor or model to retrain, e.g. churn or churn_model.' })
      .min(1, 'Say which monitor or model to retrain, e.g. churn or churn_model.'),
    reason: z.string().max(500, 'Keep the reason under 500 characters.').optional(),
    dryRun: z.boolean(),
  })
  .strict();

export type RetrainInput = Extract<ParsedCommand, { subcommand: 'retrain' }>;

/** The approvals desk, or a UserError saying approvals are not available here. */
export function approvalsOf(deps: CommandDeps) {
  if (!deps.approvals) {
    throw new UserError(
      'approvals_unavailable',
      'Approvals are not available in this modelgate.',
      'Whoever runs modelgate can enable them; see the `gates` section of modelgate.example.yml.',
    );
  }
  return deps.approvals;
}

export async function handleRetrain(
  input: RetrainInput,
  deps: CommandDeps,
  actor: Actor,
  origin: Origin,
): Promise<Reply> {
  const desk = approvalsOf(deps);
  const target = desk.retrainTarget(input.target);
  return desk.requestRetrain({
    model: target.model,
    jobId: target.jobId,
    ...(target.monitor ? { monitor: target.monitor } : {}),
    reason: input.reason ?? `Asked with /mlops retrain by ${actor.userName ?? actor.userId}`,
    actor,
    origin,
    parameters: target.parameters,
    dryRun: input.dryRun,
  });
}
