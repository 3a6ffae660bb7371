import { describe, expect, it } from 'vitest';
import {
  bindingFor,
  checkApprover,
  gateCovers,
  gateForChange,
  retrainTargetFor,
} from '../../src/approvals/gate.js';
import { ConfigError } from '../../src/config/databricks-connection.js';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy, type PolicyIssue, parsePolicy } from '../../src/config/policy.js';
import type { Gate } from '../../src/config/policy-gates.js';
import { parseDuration } from '../../src/config/policy-gates.js';
import type { AliasPlan, EndpointPlan, Plan } from '../../src/domain/change.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { userError } from '../support/errors.js';

const defaults = { catalog: 'acme', schema: 'mlops' };
const MODEL = 'acme.mlops.churn_model';

const alias = (name: string): AliasPlan => ({
  kind: 'alias',
  subcommand: 'promote',
  model: MODEL,
  alias: name,
  fromVersion: 2,
  toVersion: 3,
  fingerprint: '2',
});
const endpoint = (name: string, subcommand: EndpointPlan['subcommand'] = 'rollback'): EndpointPlan => ({
  kind: 'endpoint',
  subcommand,
  endpoint: name,
  create: false,
  after: { servedVersions: [], traffic: [] },
  fingerprint: 'x',
});
const gate = (over: Partial<Gate> = {}): Gate => ({
  approvers: { users: ['U0APPROVE'], groups: [] },
  approvals: 1,
  expiresAfter: 86_400_000,
  ...over,
});

function issuesOf(text: string): PolicyIssue[] {
  try {
    parsePolicy(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const base = 'defaults: { catalog: acme, schema: mlops }\n';

describe('which gate a change falls under', () => {
  const policy = {
    gates: {
      production: gate(),
      retrain: gate(),
      'risky-rollbacks': gate({ subcommands: ['rollback'], endpoints: ['churn-endpoint'] }),
      champions: gate({ aliases: ['Champion'] }),
    },
  };
  const cases: Array<{
    name: string;
    subcommand: 'deploy' | 'split' | 'promote' | 'rollback';
    plan: Plan;
    want: string | undefined;
  }> = [
    {
      name: 'a move of Production needs the production gate',
      subcommand: 'promote',
      plan: alias('Production'),
      want: 'production',
    },
    {
      name: 'Production is matched whatever its case',
      subcommand: 'promote',
      plan: alias('production'),
      want: 'production',
    },
    {
      name: 'a move of Champion falls under the gate listing that alias',
      subcommand: 'promote',
      plan: alias('Champion'),
      want: 'champions',
    },
    {
      name: 'a move of Challenger is not gated',
      subcommand: 'promote',
      plan: alias('Challenger'),
      want: undefined,
    },
    {
      name: 'a rollback of the listed endpoint is gated',
      subcommand: 'rollback',
      plan: endpoint('churn-endpoint'),
      want: 'risky-rollbacks',
    },
    {
      name: 'a rollback of another endpoint is not',
      subcommand: 'rollback',
      plan: endpoint('staging'),
      want: undefined,
    },
    {
      name: 'a deploy to the listed endpoint is not: the gate lists rollback only',
      subcommand: 'deploy',
      plan: endpoint('churn-endpoint', 'deploy'),
      want: undefined,
    },
  ];
  it.each(cases)('$name', ({ subcommand, plan, want }) => {
    expect(gateForChange(policy, subcommand, plan)?.name).toBe(want);
  });

  it('still gates Production when the policy has no production gate, so the request can be refused', () => {
    expect(gateForChange({}, 'promote', alias('Production'))).toEqual({
      name: 'production',
      gate: undefined,
    });
  });

  it('covers every change of the listed endpoints when a gate names no subcommand', () => {
    const g = gate({ endpoints: ['churn-endpoint'] });
    expect(gateCovers(g, 'split', endpoint('churn-endpoint', 'split'))).toBe(true);
    expect(gateCovers(g, 'promote', alias('Champion'))).toBe(false);
  });
});

describe('who may approve', () => {
  const approvers = { users: ['U0SAM'], groups: ['@ml-approvers'] };
  const cases = [
    {
      name: 'a member of an approver group',
      user: 'U0APPROVE',
      groups: ['@ml-approvers', 'S0APPROVERS'],
      want: 'ok',
    },
    { name: 'a listed user', user: 'U0SAM', groups: [], want: 'ok' },
    {
      name: 'the requester, even in the group',
      user: 'U0REQUEST',
      groups: ['@ml-approvers'],
      want: 'self_approval',
    },
    { name: 'anyone else', user: 'U0VIEWER', groups: [], want: 'not_approver' },
    {
      name: 'a group matched by its handle in another case',
      user: 'U0APPROVE',
      groups: ['@ML-Approvers'],
      want: 'ok',
    },
  ];
  it.each(cases)('$name: $want', ({ user, groups, want }) => {
    const check = checkApprover(approvers, { userId: user }, new Set(groups), 'U0REQUEST');
    expect(check.ok ? 'ok' : check.reason).toBe(want);
  });

  it('says who the approvers are when it refuses', () => {
    const check = checkApprover(approvers, { userId: 'U0VIEWER' }, new Set(), 'U0REQUEST');
    expect(check.ok).toBe(false);
    if (!check.ok)
      expect(check.text).toBe(
        'Only members of @ml-approvers or <@U0SAM> may approve or reject this request.',
      );
  });
});

describe('bindings and retraining targets', () => {
  const policy = loadPolicy(EXAMPLE_POLICY_PATH);

  it('binds Production of the demo model to churn-endpoint in the example policy', () => {
    expect(bindingFor(policy, MODEL, 'production', defaults)?.endpoint).toBe('churn-endpoint');
    expect(bindingFor(policy, MODEL, 'Champion', defaults)).toBeUndefined();
  });

  it('resolves a model to the job the policy names for it', () => {
    expect(retrainTargetFor(policy, 'churn_model', defaults)).toEqual({
      model: MODEL,
      jobId: 1001,
      parameters: { model_name: MODEL },
    });
  });

  it('resolves a monitor to its model and its retrainJob', () => {
    const withMonitor = { ...policy, monitors: { churn: { model: 'churn_model', retrainJob: 2002 } } };
    expect(retrainTargetFor(withMonitor, 'churn', defaults)).toMatchObject({
      model: MODEL,
      jobId: 2002,
      monitor: 'churn',
    });
  });

  it("falls back to the model's retraining job for a monitor without retrainJob", () => {
    const withMonitor = { ...policy, monitors: { watch: { model: 'churn_model' } } };
    expect(retrainTargetFor(withMonitor, 'watch', defaults)).toMatchObject({ jobId: 1001, monitor: 'watch' });
  });

  it('refuses a name with no retraining job, listing what can be retrained', async () => {
    const err = await userError(
      Promise.resolve().then(() => retrainTargetFor(policy, 'fraud_model', defaults)),
    );
    expect(err.code).toBe('no_retraining_job');
    expect(describeError(err).hint).toContain('churn_model');
  });
});

describe('the approval keys of the policy file', () => {
  it('reads gates with their defaults: one approval, 24 hours', () => {
    const policy = parsePolicy(
      `${base}gates:\n  production:\n    approvers: { groups: ["@ml-approvers"] }\n`,
    );
    expect(policy.gates?.production).toEqual({
      approvers: { users: [], groups: ['@ml-approvers'] },
      approvals: 1,
      expiresAfter: 86_400_000,
    });
  });

  it.each([
    ['90m', 5_400_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('reports every problem of the approval keys at once, each with its key path, line and fix', () => {
    const issues = issuesOf(
      `${base}approvalChannel: "#approvals"
gates:
  production:
    approvers: { users: [U0APPROVE] }
    expiresAfter: soon
  retrain:
    approvers: { groups: ["@ml-approvers"] }
    aprovals: 1
bindings:
  - { model: churn_model, endpoint: "churn endpoint" }
retraining:
  churn_model: { job: "1001" }
`,
    );
    const byKey = Object.fromEntries(issues.map((i) => [i.key, i]));
    expect(Object.keys(byKey).sort()).toEqual(
      [
        'approvalChannel',
        'bindings[0].endpoint',
        'gates.production.expiresAfter',
        'gates.retrain.aprovals',
        'retraining.churn_model.job',
      ].sort(),
    );
    expect(byKey.approvalChannel?.problem).toContain('is a channel name, not a channel id');
    expect(byKey['gates.production.expiresAfter']?.fix).toContain('90m, 24h');
    expect(byKey['gates.retrain.aprovals']?.problem).toContain('did you mean approvals?');
    for (const i of issues) expect(i.line).toBeGreaterThan(0);
  });

  it('refuses gates that could never be approved or that gate nothing', () => {
    const issues = issuesOf(
      `${base}gates:
  production:
    approvers: { users: [U0APPROVE] }
    approvals: 2
  prodution:
    approvers: { groups: ["@ml-approvers"] }
  retrain:
    approvers: {}
`,
    );
    const byKey = Object.fromEntries(issues.map((i) => [i.key, i]));
    expect(byKey['gates.production.approvals']?.problem).toBe(
      'asks for 2 approvals but lists only 1 approver(s)',
    );
    expect(byKey['gates.prodution']?.fix).toContain('rename it to production or retrain');
    expect(byKey['gates.retrain.approvers']?.problem).toContain('names no approver');
  });
});
