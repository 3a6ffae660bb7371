/**
 * Who may act on a request: the gate a change needs must exist in the policy, and a voter must be
 * one of its approvers and not the requester (gate.ts decides; this resolves the voter's groups).
 */
import { UserError } from '../domain/errors.js';
import type { Actor } from '../domain/vocabulary.js';
import { type ApproverCheck, approversNeedGroups, checkApprover, type GateRef } from './gate.js';
import type { ApprovalRequest } from './store.js';

/** A gate the policy has. */
export interface RequiredGate {
  name: string;
  gate: NonNullable<GateRef['gate']>;
}

/**
 * The gate a request falls under; throws UserError when the policy lacks it.
 *
 * @example requireGate(gateForChange(policy, 'promote', plan), 'Production → churn_model v3')
 */
export function requireGate(g: GateRef | undefined, what: string): RequiredGate {
  if (!g?.gate) {
    const name = g?.name ?? 'production';
    throw new UserError('gate_missing', { what, gate: name });
  }
  return { name: g.name, gate: g.gate };
}

/**
 * May the clicker vote on (or reject) the request? Looks the clicker's groups up only when the
 * approvers name groups. Throws nothing; returns the refusal.
 *
 * @example (await rightsOf(request, { userId: 'U0APPROVE' }, directory.groupsOf)).ok // true
 */
export async function rightsOf(
  r: ApprovalRequest,
  clicker: Actor,
  groupsOf: (userId: string) => Promise<Set<string>>,
): Promise<ApproverCheck> {
  const groups = approversNeedGroups(r.approvers) ? await groupsOf(clicker.userId) : new Set<string>();
  return checkApprover(r.approvers, clicker, groups, r.requester);
}
