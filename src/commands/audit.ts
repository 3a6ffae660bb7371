/**
 * `/mlops audit [model|endpoint]`: the latest changes and approval requests, each with who asked,
 * who approved or applied it, when, and how it ended; for one model (its alias moves and
 * retraining) or one endpoint, or everything. Read-only, from the append-only audit log.
 */
import { z } from 'zod';
import { resolveModelName } from '../domain/model-names.js';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { approvalsOf } from './retrain.js';
import { type CommandSpec, noEndpoint } from './spec.js';

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
    return deps.views.audit(await desk.auditTrail(), { now: deps.clock.now() });
  }
  // The same word may name an endpoint or a model: show both.
  let model: string | undefined;
  try {
    model = resolveModelName(input.target, deps.defaults);
  } catch {
    model = undefined;
  }
  const endpoint = input.target.includes('.') ? undefined : input.target;
  const items = await desk.auditTrail({ ...(model ? { model } : {}), ...(endpoint ? { endpoint } : {}) });
  return deps.views.audit(items, { now: deps.clock.now(), subject: input.target });
}

export const auditCommand: CommandSpec<'audit'> = {
  name: 'audit',
  summary: 'Show the latest changes with requester, approver, time and outcome',
  usage: '/mlops audit [model|endpoint]',
  mutating: false,
  takesDryRun: false,
  details: [
    'From the append-only audit log: changes applied through the bot and approval requests, newest first. With a model: its alias moves and retraining; with an endpoint: its changes.',
  ],
  examples: ['/mlops audit', '/mlops audit churn_model', '/mlops audit churn-endpoint'],
  schema: auditInputSchema,
  parse(w) {
    const { words } = w.split();
    w.tooMany(words, 1);
    const target = words[0]?.text;
    return w.validate(auditInputSchema, { subcommand: 'audit', ...(target !== undefined ? { target } : {}) });
  },
  handle: handleAudit,
  endpointOf: noEndpoint,
};
