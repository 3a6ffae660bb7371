/**
 * `/mlops audit [model|endpoint]`: the latest changes and approval requests, each with who asked,
 * who approved or applied it, when, and how it ended; for one model (its alias moves and
 * retraining) or one endpoint, or everything. Read-only, from the append-only audit log.
 */
import { z } from 'zod';
import { resolveModelName } from '../domain/model-names.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import { buildAuditReply } from '../slack/blocks/approval-audit.js';
import type { CommandDeps } from './deps.js';
import { approvalsOf } from './retrain.js';

export const auditInputSchema = z
  .object({
    subcommand: z.literal('audit'),
    target: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,255}$/, 'Name a model (churn_model) or an endpoint (churn-endpoint).')
      .optional(),
  })
  .strict();

export type AuditInput = Extract<ParsedCommand, { subcommand: 'audit' }>;

export async function handleAudit(
  input: AuditInput,
  deps: CommandDeps,
  _actor: Actor,
  _origin: Origin,
): Promise<Reply> {
  const desk = approvalsOf(deps);
  if (input.target === undefined) {
    return buildAuditReply(desk.auditTrail(), { now: deps.clock.now() });
  }
  // The same word may name an endpoint or a model: show both.
  let model: string | undefined;
  try {
    model = resolveModelName(input.target, deps.defaults);
  } catch {
    model = undefined;
  }
  const endpoint = input.target.includes('.') ? undefined : input.target;
  const items = desk.auditTrail({ ...(model ? { model } : {}), ...(endpoint ? { endpoint } : {}) });
  return buildAuditReply(items, { now: deps.clock.now(), subject: input.target });
}
