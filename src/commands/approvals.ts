/**
 * `/mlops approvals`: the approval requests still pending, with their age, their approvals so far
 * and who may approve them. Read-only.
 */
import { z } from 'zod';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import type { CommandDeps } from './deps.js';
import { approvalsOf } from './retrain.js';
import { type CommandSpec, noEndpoint } from './spec.js';

export const approvalsInputSchema = z.object({ subcommand: z.literal('approvals') }).strict();

export type ApprovalsInput = Extract<ParsedCommand, { subcommand: 'approvals' }>;

export async function handleApprovals(
  _input: ApprovalsInput,
  deps: CommandDeps,
  _actor: Actor,
  _origin: Origin,
): Promise<Reply> {
  return deps.views.approvals(await approvalsOf(deps).pending(), deps.clock.now());
}

export const approvalsCommand: CommandSpec<'approvals'> = {
  name: 'approvals',
  summary: 'List the approval requests still pending, with age and who may approve',
  usage: '/mlops approvals',
  mutating: false,
  takesDryRun: false,
  details: ['Requests expire after the time the policy sets (24 hours by default).'],
  examples: ['/mlops approvals'],
  schema: approvalsInputSchema,
  parse(w) {
    const { words } = w.split();
    w.tooMany(words, 0);
    return w.validate(approvalsInputSchema, { subcommand: 'approvals' });
  },
  handle: handleApprovals,
  endpointOf: noEndpoint,
};
