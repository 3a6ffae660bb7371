/**
 * The approval state machine, pure: a request's state and an event in, a decision out. The store
 * applies a decision inside one SQLite transaction (compare-and-set on the status, a vote row that
 * is unique per request and voter), so that of any number of concurrent clicks exactly one moves a
 * request on.
 *
 * ```
 * pending ──approve (quorum)──► approved ──start──► executing ──finish──► executed | failed
 *    │  └─approve (not yet)──► pending (+1 vote)             └─stale──► superseded
 *    ├─reject──► rejected      ├─expire (time is up)──► expired      └─stale──► superseded
 * ```
 */

export const APPROVAL_STATUSES = [
  'pending',
  'approved',
  'executing',
  'executed',
  'failed',
  'rejected',
  'expired',
  'superseded',
] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** Statuses a request never leaves. */
export const FINAL_APPROVAL_STATUSES = [
  'executed',
  'failed',
  'rejected',
  'expired',
  'superseded',
] as const satisfies readonly ApprovalStatus[];

export const isFinalApproval = (s: ApprovalStatus): boolean =>
  (FINAL_APPROVAL_STATUSES as readonly ApprovalStatus[]).includes(s);

/** What the machine needs to know about a request. */
export interface ApprovalState {
  status: ApprovalStatus;
  /** Slack user id of whoever asked; never an approver of their own request. */
  requester: string;
  /** Distinct approvals needed. */
  required: number;
  /** Who approved so far (distinct user ids). */
  votes: readonly string[];
  /** When the request expires (ms). */
  expiresAt: number;
}

export type ApprovalEvent =
  /** `isApprover`: the gate names the clicker (directly or through a user group). */
  | { type: 'approve'; by: string; isApprover: boolean; at: number }
  /** The requester may withdraw their own request; approvers may reject it. */
  | { type: 'reject'; by: string; isApprover: boolean; at: number }
  | { type: 'expire'; at: number }
  /** The plan no longer matches what is live. */
  | { type: 'stale' }
  | { type: 'start' }
  | { type: 'finish'; ok: boolean };

export type RefusalReason =
  | 'self_approval'
  | 'not_approver'
  | 'already_voted'
  | 'not_pending'
  | 'expired'
  | 'not_executing'
  | 'not_approved';

export type ApprovalDecision =
  | { kind: 'refused'; reason: RefusalReason }
  /** The vote counts, and the request waits for more. */
  | { kind: 'voted'; votes: number; remaining: number }
  /** The request moves to `to`; for an approval, the vote that made the quorum. */
  | { kind: 'moved'; from: ApprovalStatus; to: ApprovalStatus; votes?: number };

const refused = (reason: RefusalReason): ApprovalDecision => ({ kind: 'refused', reason });
const moved = (from: ApprovalStatus, to: ApprovalStatus, votes?: number): ApprovalDecision => ({
  kind: 'moved',
  from,
  to,
  ...(votes !== undefined ? { votes } : {}),
});

/**
 * Decides what an event does to a request. Pure: the caller applies the decision atomically.
 *
 * @example
 * decide({ status: 'pending', requester: 'U1', required: 1, votes: [], expiresAt: 10 }, { type: 'approve', by: 'U1', isApprover: true, at: 0 })
 * // { kind: 'refused', reason: 'self_approval' }
 */
export function decide(state: ApprovalState, event: ApprovalEvent): ApprovalDecision {
  switch (event.type) {
    case 'approve': {
      if (state.status !== 'pending') return refused('not_pending');
      if (event.at >= state.expiresAt) return moved('pending', 'expired');
      if (event.by === state.requester) return refused('self_approval');
      if (!event.isApprover) return refused('not_approver');
      if (state.votes.includes(event.by)) return refused('already_voted');
      const votes = state.votes.length + 1;
      if (votes >= state.required) return moved('pending', 'approved', votes);
      return { kind: 'voted', votes, remaining: state.required - votes };
    }
    case 'reject':
      if (state.status !== 'pending') return refused('not_pending');
      if (event.at >= state.expiresAt) return moved('pending', 'expired');
      if (event.by !== state.requester && !event.isApprover) return refused('not_approver');
      return moved('pending', 'rejected');
    case 'expire':
      if (state.status !== 'pending') return refused('not_pending');
      if (event.at < state.expiresAt) return refused('not_pending');
      return moved('pending', 'expired');
    case 'stale':
      if (state.status === 'pending' || state.status === 'approved' || state.status === 'executing') {
        return moved(state.status, 'superseded');
      }
      return refused('not_pending');
    case 'start':
      return state.status === 'approved' ? moved('approved', 'executing') : refused('not_approved');
    case 'finish':
      return state.status === 'executing'
        ? moved('executing', event.ok ? 'executed' : 'failed')
        : refused('not_executing');
  }
}
