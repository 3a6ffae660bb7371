import { describe, expect, it } from 'vitest';
import type { RetrainApprovalPlan } from '../../src/approvals/request-plan.js';
import { APPROVAL_STATUSES, type ApprovalStatus } from '../../src/approvals/state.js';
import type { ApprovalRequest } from '../../src/approvals/store.js';
import { approvalNotices } from '../../src/slack/blocks/approval-notices.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';

const NOW = Date.parse('2026-03-02T09:00:00Z');
const plan: RetrainApprovalPlan = {
  kind: 'retrain',
  model: 'acme.mlops.churn_model',
  jobId: 1001,
  jobName: 'churn-retrain',
  parameters: { reason: 'drift' },
  reason: 'drift',
  fingerprint: 'abc',
};
const request = (status: ApprovalStatus, over: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
  id: 'apr-0123456789',
  createdAt: NOW - 60_000,
  updatedAt: NOW,
  expiresAt: NOW + 3_600_000,
  gate: 'retrain',
  requester: 'U0REQUEST',
  channel: 'C0MLOPS',
  target: 'retrain:acme.mlops.churn_model',
  plan,
  required: 2,
  approvers: { users: ['U0APPROVE'], groups: [] },
  status,
  votes: [{ voter: 'U0APPROVE', at: NOW }],
  attempts: 0,
  ...over,
});
const words = (r: { text: string }) => r.text;

describe('what a click is told about a request', () => {
  it.each(APPROVAL_STATUSES.map((s) => [s]))('says where a %s request stands, ephemerally', (status) => {
    const reply = approvalNotices.status(
      request(status, { decidedBy: 'U0DECIDER', reason: 'it failed' }),
      'x',
    );
    expect(reply.visibility).toBe('ephemeral');
    expect(words(reply)).toContain('Request `apr-0123456789`');
    expect(checkBlocks(reply.blocks ?? [])).toEqual([]);
  });

  it('names the request that does not exist and where to look', () => {
    const reply = approvalNotices.status(undefined, 'apr-<nope>');
    expect(words(reply)).toContain('There is no approval request `apr-&lt;nope&gt;`');
    expect(words(reply)).toContain('/mlops approvals');
  });

  it('tells a withdrawn request from a rejected one, and says who decided', () => {
    const withdrawn = approvalNotices.status(request('rejected', { decidedBy: 'U0REQUEST' }), 'x');
    const rejected = approvalNotices.status(request('rejected', { decidedBy: 'U0OTHER' }), 'x');
    expect(words(withdrawn)).toContain('was withdrawn by <@U0REQUEST>');
    expect(words(rejected)).toContain('was rejected by <@U0OTHER>');
  });

  it('escapes what changed when a request went stale', () => {
    const reply = approvalNotices.superseded(request('pending'), 'job <b> changed & moved');
    expect(reply.blocks?.[0]).toMatchObject({
      text: { text: expect.stringContaining('job &lt;b&gt; changed &amp; moved') },
    });
  });

  it('tells a second click how many approvals are still needed, while it is pending', () => {
    expect(words(approvalNotices.alreadyVoted(request('pending')))).toContain(
      'it needs 1 more from <@U0APPROVE>',
    );
    expect(words(approvalNotices.alreadyVoted(request('approved')))).not.toContain('needs');
  });

  it('counts a recorded vote and says what the approval starts', () => {
    expect(words(approvalNotices.voted(request('pending'), 1, 1))).toContain(
      'is recorded: 1 of 2. It needs 1 more',
    );
    expect(words(approvalNotices.approved(request('approved')))).toContain('The job is starting');
  });

  it('replaces the reject prompt with who withdrew or rejected it', () => {
    const withdrew = approvalNotices.rejected(request('rejected'), true);
    expect(withdrew.replaceOriginal).toBe(true);
    expect(words(withdrew)).toContain('You withdrew');
    expect(words(approvalNotices.rejected(request('rejected'), false))).toContain('You rejected');
  });
});

describe('lines posted in threads', () => {
  it('points the thread it was asked from at the approval channel', () => {
    const said = approvalNotices.askedElsewhere(request('pending'), 'C0APPROVALS');
    expect(said.text).toContain('<@U0REQUEST> asked for *Retrain churn_model*');
    expect(said.text).toContain('waits for approval in <#C0APPROVALS>');
  });

  it('says how it ended, with the outcome or the reason', () => {
    const done = approvalNotices.finished(request('executed'), {
      kind: 'changes',
      ok: true,
      done: ['It registered v4.'],
    });
    const failed = approvalNotices.finished(request('failed'), {
      kind: 'refused',
      ok: false,
      reason: 'the run failed.',
    });
    expect(done.text).toMatch(/^:white_check_mark: .*is done\. It registered v4\./);
    expect(failed.text).toMatch(/^:x: .*failed: the run failed\./);
  });
});
