import { describe, expect, it } from 'vitest';
import type { AuditItem } from '../../src/approvals/audit-trail.js';
import type { ChangeApprovalPlan } from '../../src/approvals/request-plan.js';
import type { ApprovalRequest } from '../../src/approvals/store.js';
import { UserError } from '../../src/domain/errors.js';
import { buildApprovalMessage, buildApprovalNotice } from '../../src/slack/blocks/approval.js';
import { buildAuditReply } from '../../src/slack/blocks/approval-audit.js';
import { describeExecution } from '../../src/slack/blocks/approval-outcome.js';
import { buildErrorReply } from '../../src/slack/blocks/error.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { escapeKeepingLinks, escapeMrkdwn, escapeOnce } from '../../src/slack/blocks/format.js';

const NOW = Date.parse('2026-03-02T09:00:00Z');
const HOST = 'https://adb-1.azuredatabricks.net';

/** Every piece of markup a person can type that Slack would turn live: want = how it must show. */
const MARKUP: Array<{ name: string; typed: string; want?: string }> = [
  { name: 'a channel broadcast', typed: '<!channel>', want: '&lt;!channel&gt;' },
  { name: 'a here broadcast', typed: '<!here>', want: '&lt;!here&gt;' },
  { name: 'an everyone broadcast', typed: '<!everyone>', want: '&lt;!everyone&gt;' },
  { name: 'a labelled broadcast', typed: '<!here|here>', want: '&lt;!here|here&gt;' },
  { name: 'a user group mention', typed: '<!subteam^S0123ABC>', want: '&lt;!subteam^S0123ABC&gt;' },
  {
    name: 'a labelled user group mention',
    typed: '<!subteam^S0123ABC|@oncall>',
    want: '&lt;!subteam^S0123ABC|@oncall&gt;',
  },
  {
    name: 'a labelled link',
    typed: '<https://evil.test/x|the runbook>',
    want: '&lt;https://evil.test/x|the runbook&gt;',
  },
  { name: 'a bare link', typed: '<https://evil.test/x>', want: '&lt;https://evil.test/x&gt;' },
  {
    name: 'a mailto link',
    typed: '<mailto:a@evil.test|mail me>',
    want: '&lt;mailto:a@evil.test|mail me&gt;',
  },
  { name: 'a user mention', typed: '<@U0VICTIM>', want: '&lt;@U0VICTIM&gt;' },
  { name: 'a channel link', typed: '<#C0SECRET|secret>', want: '&lt;#C0SECRET|secret&gt;' },
  { name: 'a date token', typed: '<!date^1392734382^{date}|x>', want: '&lt;!date^1392734382^{date}|x&gt;' },
  { name: 'a word in angle brackets', typed: '<endpoint>', want: '&lt;endpoint&gt;' },
  // Shown as typed or as its entities, depending on the surface; never as a raw token.
  { name: 'markup already escaped once', typed: '&lt;!here&gt;' },
];

/**
 * Everything Slack parses as mrkdwn in a message: the fallback text (notifications show it) and
 * every mrkdwn text in its blocks. plain_text (headers, buttons) is shown as typed, never parsed.
 */
function shown(m: { text?: string; blocks?: unknown }): string {
  const parts = [m.text ?? ''];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') parts.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(m.blocks);
  return parts.join('\n');
}

/** True when the output holds the typed markup live: a raw `<` … `>` token of it anywhere. */
function live(output: string, typed: string): boolean {
  const raw = typed.replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  return output.includes(raw);
}

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

const request = (over: Partial<ApprovalRequest>): ApprovalRequest => ({
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
  status: 'rejected',
  votes: [],
  attempts: 0,
  ...over,
});

const auditItem = (over: Partial<AuditItem>): AuditItem => ({
  id: 'apr-0123456789',
  kind: 'approval',
  title: 'Production → churn_model v3',
  target: 'alias:acme.mlops.churn_model@production',
  requester: 'U0REQUEST',
  approvers: [],
  askedAt: NOW - 60_000,
  at: NOW,
  outcome: 'rejected',
  rejectedBy: 'U0APPROVE',
  ...over,
});

/** Each place that interpolates what a user typed (or a service sent), with the typed text put in. */
const SURFACES: Array<{ name: string; render: (typed: string) => { text?: string; blocks?: unknown } }> = [
  {
    name: 'an error echoing a typed name',
    render: (typed) => buildErrorReply(new UserError('invalid_name', { name: typed, what: 'endpoint' })),
  },
  {
    name: 'an error echoing a typed option',
    render: (typed) =>
      buildErrorReply(
        new UserError('bad_input', {
          problems: [`Unknown option ${typed}.`],
          hint: 'Usage: `/mlops status`',
        }),
      ),
  },
  {
    name: 'an error nesting a coded error about a typed name',
    render: (typed) =>
      buildErrorReply(
        new UserError('bad_input', {
          problems: [
            { code: 'invalid_model_name', details: { input: typed, problem: { kind: 'parts', count: 1 } } },
          ],
          hint: 'Usage: `/mlops models <model>`',
        }),
      ),
  },
  {
    name: 'an error relaying a Databricks message',
    render: (typed) =>
      buildErrorReply(
        new UserError('serving_rejected', {
          action: 'update',
          endpoint: 'churn-endpoint',
          databricksMessage: typed,
        }),
      ),
  },
  {
    name: 'a click notice worded from an error',
    render: (typed) => {
      const words = describeError(new UserError('endpoint_not_found', { endpoint: typed }));
      return buildApprovalNotice(words.text, words.hint);
    },
  },
  {
    name: 'the approval request rejected with a typed reason',
    render: (typed) =>
      buildApprovalMessage(request({ status: 'rejected', decidedBy: 'U0APPROVE', reason: typed }), {
        now: NOW,
        workspaceHost: HOST,
      }),
  },
  {
    name: 'the approval request withdrawn with a typed reason',
    render: (typed) =>
      buildApprovalMessage(request({ status: 'rejected', decidedBy: 'U0REQUEST', reason: typed }), {
        now: NOW,
        workspaceHost: HOST,
      }),
  },
  {
    name: 'the approval request failed on a refusal about a typed name',
    render: (typed) => {
      const words = describeError(new UserError('endpoint_not_found', { endpoint: typed }));
      return buildApprovalMessage(
        request({
          status: 'failed',
          votes: [{ voter: 'U0APPROVE', at: NOW }],
          result: {
            kind: 'refused',
            ok: false,
            reason: words.text,
            ...(words.hint ? { hint: words.hint } : {}),
          },
        }),
        { now: NOW, workspaceHost: HOST },
      );
    },
  },
  {
    name: 'the approval request failed with a job run message',
    render: (typed) =>
      buildApprovalMessage(
        request({
          status: 'failed',
          votes: [{ voter: 'U0APPROVE', at: NOW }],
          result: {
            kind: 'run',
            ok: false,
            run: { runId: 42, jobName: 'churn-retrain', url: `${HOST}/jobs/7/runs/42` },
            result: { code: 'FAILED', message: typed },
          },
        }),
        { now: NOW, workspaceHost: HOST },
      ),
  },
  {
    name: '/mlops audit with a typed reject reason',
    render: (typed) => buildAuditReply([auditItem({ detail: typed })], { now: NOW }),
  },
  {
    name: '/mlops audit with a typed title',
    render: (typed) => buildAuditReply([auditItem({ title: typed })], { now: NOW, subject: typed }),
  },
];

describe('text a user typed never comes back live', () => {
  const table = SURFACES.flatMap((s) => MARKUP.map((m) => ({ surface: s.name, render: s.render, ...m })));
  it.each(table)('$surface: $name shows as text', ({ render, typed, want }) => {
    const out = shown(render(typed));
    expect(live(out, typed)).toBe(false);
    if (want) expect(out).toContain(want);
    // Nothing in what we send may open a broadcast, whatever the surface.
    expect(out).not.toMatch(/<!(?:here|channel|everyone|subteam)/);
  });

  it('keeps the mentions and links the bot itself puts in', () => {
    const m = buildApprovalMessage(
      request({ status: 'rejected', decidedBy: 'U0APPROVE', reason: '<!here>' }),
      {
        now: NOW,
        workspaceHost: HOST,
      },
    );
    expect(m.text).toContain('Rejected');
    expect(shown(m)).toContain('<@U0APPROVE>');
    const run = describeExecution({
      kind: 'run',
      ok: false,
      run: { runId: 42, jobName: 'churn-retrain', url: `${HOST}/jobs/7/runs/42` },
      result: { code: 'FAILED', message: '<https://evil.test|log in>' },
    });
    expect(escapeKeepingLinks(run)).toContain(`<${HOST}/jobs/7/runs/42|run 42>`);
    expect(escapeKeepingLinks(run)).toContain('&lt;https://evil.test|log in&gt;');
  });
});

describe('the escaping helpers', () => {
  it.each([
    { text: 'a <b> & c', escapeMrkdwn: 'a &lt;b&gt; &amp; c', escapeOnce: 'a &lt;b&gt; &amp; c' },
    {
      text: '&lt;!here&gt; &amp; co',
      escapeMrkdwn: '&amp;lt;!here&amp;gt; &amp;amp; co',
      escapeOnce: '&lt;!here&gt; &amp; co',
    },
    { text: 'R&D &copy;', escapeMrkdwn: 'R&amp;D &amp;copy;', escapeOnce: 'R&amp;D &amp;copy;' },
  ])('escapes $text', (c) => {
    expect(escapeMrkdwn(c.text)).toBe(c.escapeMrkdwn);
    expect(escapeOnce(c.text)).toBe(c.escapeOnce);
    expect(escapeOnce(escapeOnce(c.text))).toBe(escapeOnce(c.text));
  });

  it('never keeps a broadcast, even in our own text', () => {
    expect(escapeKeepingLinks('<!here> <!channel> <!everyone> <!subteam^S1> ask <@U1> in <#C2>')).toBe(
      '&lt;!here&gt; &lt;!channel&gt; &lt;!everyone&gt; &lt;!subteam^S1&gt; ask <@U1> in <#C2>',
    );
  });
});
