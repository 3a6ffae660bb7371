import { describe, expect, it } from 'vitest';
import { type AuditItem, summariseAudit } from '../../src/approvals/audit-trail.js';
import type { ChangeApprovalPlan } from '../../src/approvals/request-plan.js';
import type { ApprovalStatus } from '../../src/approvals/state.js';
import type { ApprovalRequest } from '../../src/approvals/store.js';
import type { AuditEntry } from '../../src/changes/store.js';
import {
  buildApprovalMessage,
  buildApprovalsListReply,
  buildRejectPrompt,
} from '../../src/slack/blocks/approval.js';
import { buildAuditReply } from '../../src/slack/blocks/approval-audit.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';

const HOST = 'https://adb-1.azuredatabricks.net';
const NOW = Date.parse('2026-03-02T09:00:00Z');
const plan: ChangeApprovalPlan = {
  kind: 'change',
  steps: [
    {
      input: {
        subcommand: 'promote',
        model: 'acme.mlops.churn_model',
        version: 3,
        alias: 'Production',
        dryRun: false,
      },
      plan: {
        kind: 'alias',
        subcommand: 'promote',
        model: 'acme.mlops.churn_model',
        alias: 'Production',
        fromVersion: 2,
        toVersion: 3,
        fingerprint: '2',
      },
    },
  ],
};
const request = (status: ApprovalStatus, over: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
  id: 'apr-0123456789',
  createdAt: NOW - 60_000,
  updatedAt: NOW,
  expiresAt: NOW + 3_600_000,
  gate: 'production',
  requester: 'U0REQUEST',
  channel: 'C0MLOPS',
  target: 'alias:acme.mlops.churn_model@production',
  plan,
  required: 1,
  approvers: { users: [], groups: ['@ml-approvers'] },
  status,
  votes:
    status === 'pending' || status === 'rejected' || status === 'expired'
      ? []
      : [{ voter: 'U0APPROVE', at: NOW }],
  attempts: 0,
  ...over,
});

const readable = (blocks: unknown) => JSON.stringify(blocks);

describe('the approval request message', () => {
  const cases: Array<{
    status: ApprovalStatus;
    over?: Partial<ApprovalRequest>;
    want: string[];
    buttons: boolean;
  }> = [
    {
      status: 'pending',
      want: ['Approval needed: Production → churn_model v3', 'v2 → v3', '0 of 1 approvals'],
      buttons: true,
    },
    { status: 'executing', want: ['Approved, executing', 'Approved by <@U0APPROVE>'], buttons: false },
    {
      status: 'executed',
      over: { outcome: 'Production now points at churn_model v3.' },
      want: ['Done:', 'and done. Production now points'],
      buttons: false,
    },
    {
      status: 'failed',
      over: { reason: 'Databricks was unavailable (503).' },
      want: ['Failed:', 'but it failed: Databricks was unavailable'],
      buttons: false,
    },
    {
      status: 'rejected',
      over: { decidedBy: 'U0APPROVE', reason: 'not before the Q3 eval' },
      want: ['Rejected by <@U0APPROVE>: not before the Q3 eval'],
      buttons: false,
    },
    {
      status: 'rejected',
      over: { decidedBy: 'U0REQUEST' },
      want: ['Withdrawn by <@U0REQUEST>'],
      buttons: false,
    },
    { status: 'expired', want: ['Expired:', 'with 0 of 1 approvals. Nothing was changed.'], buttons: false },
    {
      status: 'superseded',
      over: { reason: 'Production now points at v4' },
      want: ['Superseded: Production now points at v4'],
      buttons: false,
    },
  ];
  it.each(cases)('shows a $status request within Slack limits', ({ status, over, want, buttons }) => {
    const m = buildApprovalMessage(request(status, over), { now: NOW, workspaceHost: HOST });
    expect(checkBlocks(m.blocks)).toEqual([]);
    for (const w of want) expect(`${m.text}\n${readable(m.blocks)}`).toContain(w);
    expect(readable(m.blocks).includes('"actions"')).toBe(buttons);
  });

  it('escapes a rejection reason typed by a person', () => {
    const m = buildApprovalMessage(
      request('rejected', { decidedBy: 'U0APPROVE', reason: '<!channel> & <@U0X>' }),
      {
        now: NOW,
        workspaceHost: HOST,
      },
    );
    expect(readable(m.blocks)).toContain('&lt;!channel&gt; &amp; &lt;@U0X&gt;');
  });

  it('offers an optional reason and a confirming button when rejecting', () => {
    const reply = buildRejectPrompt(request('pending'));
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(reply.visibility).toBe('ephemeral');
    expect(readable(reply.blocks)).toContain('"optional":true');
  });

  it('lists pending requests with age, approvals and approvers', () => {
    const reply = buildApprovalsListReply([request('pending')], NOW);
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(readable(reply.blocks)).toContain(
      'asked by <@U0REQUEST> 1m 0s ago · 0 of 1 approvals · approvers: members of @ml-approvers',
    );
  });
});

describe('the audit trail', () => {
  const row = (
    seq: number,
    action: string,
    actor: string,
    changeId: string,
    over: Partial<AuditEntry> = {},
  ): AuditEntry => ({
    seq,
    at: NOW + seq * 1000,
    actor,
    action,
    target: 'alias:acme.mlops.churn_model@production',
    changeId,
    ...over,
  });

  it('tells each request once, with the change it ran folded in', () => {
    const rows = [
      row(1, 'approval_requested', 'U0REQUEST', 'apr-1'),
      row(2, 'approval_vote', 'U0APPROVE', 'apr-1'),
      row(3, 'approved', 'U0APPROVE', 'apr-1'),
      row(4, 'executing', 'U0APPROVE', 'apr-1'),
      row(5, 'proposed', 'U0APPROVE', 'chg-1', { target: 'endpoint:churn-endpoint' }),
      row(6, 'applied', 'U0REQUEST', 'chg-1', { target: 'endpoint:churn-endpoint' }),
      row(7, 'succeeded', 'U0REQUEST', 'chg-1', { target: 'endpoint:churn-endpoint' }),
      row(8, 'executed', 'U0APPROVE', 'apr-1', {
        outcome: 'executed',
        detail: 'Production now points at v3.',
      }),
      row(9, 'proposed', 'U0REQUEST', 'chg-2', { target: 'endpoint:churn-endpoint' }),
      row(10, 'cancelled', 'U0REQUEST', 'chg-2', { target: 'endpoint:churn-endpoint' }),
    ];
    const items = summariseAudit(rows, {
      requestTitle: (id) => (id === 'apr-1' ? 'Production → churn_model v3' : undefined),
      change: (id) =>
        id === 'chg-1'
          ? { title: 'Deploy to churn-endpoint', triggerId: 'approval:apr-1:0' }
          : id === 'chg-2'
            ? { title: 'Rollback of churn-endpoint' }
            : undefined,
    });
    expect(items.map((i) => [i.id, i.outcome, i.requester, i.approvers])).toEqual([
      ['chg-2', 'cancelled', 'U0REQUEST', []],
      ['apr-1', 'executed', 'U0REQUEST', ['U0APPROVE']],
    ]);
    const reply = buildAuditReply(items as AuditItem[], { now: NOW, subject: 'churn_model' });
    expect(checkBlocks(reply.blocks)).toEqual([]);
    expect(readable(reply.blocks)).toContain('*executed* · asked by <@U0REQUEST>, approved by <@U0APPROVE>');
  });
});
