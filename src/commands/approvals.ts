/**
 * `/mlops approvals`: the approval requests still pending, with their age, their approvals so far
 * and who may approve them. Read-only.
 */
import { z } from 'zod';
import type { Actor, Origin, ParsedCommand, Reply } from '../domain/vocabulary.js';
import { buildApprovalsListReply } from '../slack/blocks/approval.js';
import type { CommandDeps } from './deps.js';
import { approvalsOf } from './retrain.js';

export const approvalsInputSchema = z.object({ subcommand: z.literal('approvals') }).strict();

export type ApprovalsInput = Extract<ParsedCommand, { subcommand: 'approvals' }>;

export async function handleApprovals(
  _input: ApprovalsInput,
  deps: CommandDeps,
  _actor: Actor,
  _origin: Origin,
): Promise<Reply> {
  return buildApprovalsListReply(approvalsOf(deps).pending(), deps.clock.now());
}
