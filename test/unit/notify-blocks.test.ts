import { describe, expect, it } from 'vitest';
import { requesterEvent } from '../../src/approvals/notify.js';
import type { RequesterEvent } from '../../src/approvals/notify-store.js';
import type { ApprovalRequest } from '../../src/approvals/store.js';
import { approverMentions, buildApprovalMessage } from '../../src/slack/blocks/approval.js';
import {
  buildApproverDm,
  buildDmUnreachable,
  buildRequesterNotice,
} from '../../src/slack/blocks/approval-dm.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';

const NOW = Date.parse('2026-11-20T12:00:00Z');

function request(over: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: 'apr-1',
    createdAt: NOW,
    updatedAt: NOW,
    expiresAt: NOW + 3_600_000,
    gate: 'production',
    requester: 'U0REQUEST',
    channel: 'C0MLOPS',
    target: 'alias:acme.mlops.churn_model@production',
    plan: {
      kind: 'retrain',
      model: 'acme.mlops.churn_model',
      jobId: 7,
      jobName: 'retrain-churn',
      parameters: {},
      reason: 'drift',
      fingerprint: 'f',
    },
    required: 1,
    approvers: { users: ['U0BOSS'], groups: ['@ml-approvers', 'S0DIRECT'] },
    status: 'pending',
    votes: [],
    attempts: 0,
    message: { channel: 'C0APPROVALS', ts: '1.1' },
    ...over,
  } as ApprovalRequest;
}

describe('approverMentions', () => {
  it.each([
    {
      name: 'a resolved handle becomes <!subteam^ID>, a group id needs no lookup',
      mentions: [{ ref: '@ml-approvers', id: 'S0APPROVERS' }],
      want: { line: '<!subteam^S0APPROVERS> <!subteam^S0DIRECT> <@U0BOSS>', unknown: [] },
    },
    {
      name: 'an unknown handle stays text and is listed',
      mentions: [{ ref: '@ml-approvers', unknown: true }],
      want: { line: '@ml-approvers <!subteam^S0DIRECT> <@U0BOSS>', unknown: ['@ml-approvers'] },
    },
    {
      name: 'without an answer from Slack the handle stays text, not called unknown',
      mentions: undefined,
      want: { line: '@ml-approvers <!subteam^S0DIRECT> <@U0BOSS>', unknown: [] },
    },
  ])('$name', ({ mentions, want }) => {
    expect(approverMentions(request().approvers, mentions)).toEqual(want);
  });

  it('puts the mentions in the card text and blocks while pending, and drops them once decided', () => {
    const mentions = [{ ref: '@ml-approvers', id: 'S0APPROVERS' }];
    const pending = buildApprovalMessage(request(), { now: NOW, workspaceHost: 'https://h', mentions });
    expect(pending.text).toContain('<!subteam^S0APPROVERS>');
    expect(JSON.stringify(pending.blocks)).toContain('*Approvers:* <!subteam^S0APPROVERS>');
    const done = buildApprovalMessage(request({ status: 'rejected', decidedBy: 'U0BOSS' }), {
      now: NOW,
      workspaceHost: 'https://h',
      mentions,
    });
    expect(done.text).not.toContain('<!subteam^');
  });
});

describe('approver DM', () => {
  it('carries the card and its buttons while pending, and says why it came', () => {
    const dm = buildApproverDm(request(), { now: NOW, workspaceHost: 'https://h' });
    expect(checkBlocks(dm.blocks)).toEqual([]);
    expect(JSON.stringify(dm.blocks)).toContain('approval-approve');
    expect(JSON.stringify(dm.blocks?.[0])).toContain('<@U0REQUEST> asks for your approval in <#C0APPROVALS>');
  });

  it('has no buttons once decided', () => {
    const dm = buildApproverDm(request({ status: 'executed', decidedBy: 'U0BOSS' }), {
      now: NOW,
      workspaceHost: 'https://h',
    });
    expect(JSON.stringify(dm.blocks)).not.toContain('"actions"');
    expect(JSON.stringify(dm.blocks?.[0])).toContain('nothing left to do');
  });

  it('explains in the thread why an approver got no DM', () => {
    expect(buildDmUnreachable(request(), 'U0GONE', 'user_disabled').text).toBe(
      '<@U0GONE>: request `apr-1` (Retrain churn_model) waits for your approval here; no DM could reach you (the account is deactivated).',
    );
  });
});

describe('requester notices', () => {
  const decided = { decidedBy: 'U0BOSS', decidedAt: NOW };
  it.each<{ event: RequesterEvent; over: Partial<ApprovalRequest>; want: string }>([
    {
      event: 'approved',
      over: { status: 'executing', ...decided },
      want: 'was approved by <@U0BOSS> <!date^',
    },
    {
      event: 'rejected',
      over: { status: 'rejected', reason: '<!here> no', ...decided },
      want: ': &lt;!here&gt; no. Nothing was changed.',
    },
    { event: 'expired', over: { status: 'expired' }, want: 'expired <!date^' },
    {
      event: 'superseded',
      over: { status: 'superseded', reason: 'v3 vanished' },
      want: 'is out of date: v3 vanished',
    },
    { event: 'executed', over: { status: 'executed', ...decided }, want: 'is done.' },
    {
      event: 'failed',
      over: { status: 'failed', reason: 'quota', ...decided },
      want: 'was approved but failed',
    },
  ])('words $event', ({ event, over, want }) => {
    const r = request(over);
    expect(requesterEvent(r)).toBe(event);
    const dm = buildRequesterNotice(r, event, 'dm');
    expect(dm.text).toContain(want);
    expect(checkBlocks(dm.blocks)).toEqual([]);
    expect(buildRequesterNotice(r, event, 'thread').text.startsWith('<@U0REQUEST> ')).toBe(true);
  });

  it('tells nothing for a pending request or one the requester withdrew', () => {
    expect(requesterEvent(request())).toBeUndefined();
    expect(requesterEvent(request({ status: 'rejected', decidedBy: 'U0REQUEST' }))).toBeUndefined();
  });
});
