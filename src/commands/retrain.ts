/**
 * `/mlops retrain <monitor|model> [reason…] [--dry-run]`: asks for a gated retraining run of the job
 * the policy names for a monitor's model (`monitors.<name>.retrainJob`) or a model (`retraining`).
 * Nothing runs until an approver approves; then the bot runs the job and follows it.
 */
import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { type CommandSpec, noEndpoint } from './spec.js';

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
    throw new UserError('approvals_unavailable', {});
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

export const retrainCommand: CommandSpec<'retrain'> = {
  name: 'retrain',
  summary: "Ask for approval to run a monitor's or a model's retraining job",
  usage: '/mlops retrain <monitor|model> [reason] [--dry-run]',
  // A change, but through the approvals rather than the change pipeline: no plan, no Apply.
  mutating: false,
  takesDryRun: true,
  details: [
    'Uses the job the policy names (monitors.<name>.retrainJob, or retraining.<model>.job). The bot posts an approval request; once approved it runs the job (run-now, once, whatever the clicks), follows the run and posts how it ended, with a link and the model version it registered.',
    'Words after the name are the reason shown to approvers.',
  ],
  examples: ['/mlops retrain churn', '/mlops retrain churn_model F1 dropped below 0.5 last week'],
  schema: retrainInputSchema,
  parse(w) {
    const { words, dryRun } = w.split();
    const reason = words
      .slice(1)
      .map((word) => word.text)
      .join(' ');
    return w.validate(retrainInputSchema, {
      subcommand: 'retrain',
      target: words[0]?.text,
      ...(reason !== '' ? { reason } : {}),
      dryRun,
    });
  },
  handle: handleRetrain,
  endpointOf: noEndpoint,
};
