import { describe, expect, it } from 'vitest';
import {
  type ApprovalDecision,
  type ApprovalEvent,
  type ApprovalState,
  decide,
} from '../../src/approvals/state.js';

const REQUESTER = 'U0REQUEST';
const AVERY = 'U0APPROVE';
const SAM = 'U0SAM';
const VIC = 'U0VIEWER';
const EXPIRES = 1_000;

const state = (over: Partial<ApprovalState> = {}): ApprovalState => ({
  status: 'pending',
  requester: REQUESTER,
  required: 1,
  votes: [],
  expiresAt: EXPIRES,
  ...over,
});
const approve = (by: string, isApprover = true, at = 10): ApprovalEvent => ({
  type: 'approve',
  by,
  isApprover,
  at,
});
const reject = (by: string, isApprover = true, at = 10): ApprovalEvent => ({
  type: 'reject',
  by,
  isApprover,
  at,
});
const refused = (reason: string): ApprovalDecision => ({ kind: 'refused', reason }) as ApprovalDecision;

describe('the approval state machine', () => {
  const cases: Array<{ name: string; state: ApprovalState; event: ApprovalEvent; want: ApprovalDecision }> = [
    {
      name: 'approves a pending request on the one approval it needs',
      state: state(),
      event: approve(AVERY),
      want: { kind: 'moved', from: 'pending', to: 'approved', votes: 1 },
    },
    {
      name: 'records the first of two approvals and keeps the request pending',
      state: state({ required: 2 }),
      event: approve(AVERY),
      want: { kind: 'voted', votes: 1, remaining: 1 },
    },
    {
      name: 'approves on the second distinct approval of two',
      state: state({ required: 2, votes: [AVERY] }),
      event: approve(SAM),
      want: { kind: 'moved', from: 'pending', to: 'approved', votes: 2 },
    },
    {
      name: 'needs three distinct people for three approvals',
      state: state({ required: 3, votes: [AVERY] }),
      event: approve(SAM),
      want: { kind: 'voted', votes: 2, remaining: 1 },
    },
    {
      name: 'refuses an approval by the requester themself',
      state: state(),
      event: approve(REQUESTER),
      want: refused('self_approval'),
    },
    {
      name: 'refuses self-approval even when the requester is an approver of the gate',
      state: state({ required: 2, votes: [AVERY] }),
      event: approve(REQUESTER, true),
      want: refused('self_approval'),
    },
    {
      name: 'refuses someone the gate does not name',
      state: state(),
      event: approve(VIC, false),
      want: refused('not_approver'),
    },
    {
      name: 'refuses a second vote by the same person',
      state: state({ required: 2, votes: [AVERY] }),
      event: approve(AVERY),
      want: refused('already_voted'),
    },
    {
      name: 'expires a request clicked after its time is up instead of counting the vote',
      state: state(),
      event: approve(AVERY, true, EXPIRES),
      want: { kind: 'moved', from: 'pending', to: 'expired' },
    },
    {
      name: 'refuses an approval of a request that is already approved',
      state: state({ status: 'approved', votes: [AVERY] }),
      event: approve(SAM),
      want: refused('not_pending'),
    },
    {
      name: 'refuses an approval of a rejected request',
      state: state({ status: 'rejected' }),
      event: approve(AVERY),
      want: refused('not_pending'),
    },
    {
      name: 'rejects on an approver’s rejection',
      state: state({ required: 2, votes: [SAM] }),
      event: reject(AVERY),
      want: { kind: 'moved', from: 'pending', to: 'rejected' },
    },
    {
      name: 'lets the requester withdraw their own request',
      state: state(),
      event: reject(REQUESTER, false),
      want: { kind: 'moved', from: 'pending', to: 'rejected' },
    },
    {
      name: 'refuses a rejection by someone the gate does not name',
      state: state(),
      event: reject(VIC, false),
      want: refused('not_approver'),
    },
    {
      name: 'refuses a rejection of an executed request',
      state: state({ status: 'executed' }),
      event: reject(AVERY),
      want: refused('not_pending'),
    },
    {
      name: 'expires a pending request once its time is up',
      state: state(),
      event: { type: 'expire', at: EXPIRES },
      want: { kind: 'moved', from: 'pending', to: 'expired' },
    },
    {
      name: 'does not expire a request before its time',
      state: state(),
      event: { type: 'expire', at: EXPIRES - 1 },
      want: refused('not_pending'),
    },
    {
      name: 'does not expire an approved request',
      state: state({ status: 'approved' }),
      event: { type: 'expire', at: EXPIRES * 2 },
      want: refused('not_pending'),
    },
    {
      name: 'supersedes a pending request whose plan went stale',
      state: state(),
      event: { type: 'stale' },
      want: { kind: 'moved', from: 'pending', to: 'superseded' },
    },
    {
      name: 'supersedes an execution that finds the plan stale before acting',
      state: state({ status: 'executing' }),
      event: { type: 'stale' },
      want: { kind: 'moved', from: 'executing', to: 'superseded' },
    },
    {
      name: 'does not supersede an executed request',
      state: state({ status: 'executed' }),
      event: { type: 'stale' },
      want: refused('not_pending'),
    },
    {
      name: 'starts executing an approved request',
      state: state({ status: 'approved' }),
      event: { type: 'start' },
      want: { kind: 'moved', from: 'approved', to: 'executing' },
    },
    {
      name: 'refuses to start a request twice',
      state: state({ status: 'executing' }),
      event: { type: 'start' },
      want: refused('not_approved'),
    },
    {
      name: 'refuses to start a pending request',
      state: state(),
      event: { type: 'start' },
      want: refused('not_approved'),
    },
    {
      name: 'marks an execution that ended well as executed',
      state: state({ status: 'executing' }),
      event: { type: 'finish', ok: true },
      want: { kind: 'moved', from: 'executing', to: 'executed' },
    },
    {
      name: 'marks an execution that ended badly as failed',
      state: state({ status: 'executing' }),
      event: { type: 'finish', ok: false },
      want: { kind: 'moved', from: 'executing', to: 'failed' },
    },
    {
      name: 'refuses to finish an execution twice',
      state: state({ status: 'failed' }),
      event: { type: 'finish', ok: true },
      want: refused('not_executing'),
    },
  ];

  it.each(cases)('$name', ({ state: s, event, want }) => {
    expect(decide(s, event)).toEqual(want);
  });

  it('never approves without the required number of distinct approvers, whatever the order of clicks', () => {
    const clicks = [AVERY, AVERY, REQUESTER, VIC, SAM, AVERY, SAM];
    let s = state({ required: 2 });
    const approvedAfter: string[] = [];
    for (const by of clicks) {
      const d = decide(s, approve(by, by !== VIC));
      if (d.kind === 'voted') s = { ...s, votes: [...s.votes, by] };
      if (d.kind === 'moved' && d.to === 'approved') {
        s = { ...s, status: 'approved', votes: [...s.votes, by] };
        approvedAfter.push(by);
      }
    }
    expect(approvedAfter).toEqual([SAM]);
    expect(s.votes).toEqual([AVERY, SAM]);
  });
});
