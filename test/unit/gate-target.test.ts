import { describe, expect, it } from 'vitest';
import { boundEndpointGate, gateForChange } from '../../src/approvals/gate.js';
import { ConfigError } from '../../src/config/databricks-connection.js';
import { loadPolicy, type PolicyIssue, parsePolicy } from '../../src/config/policy.js';
import type { Binding, Gate } from '../../src/config/policy-gates.js';
import type { EndpointPlan } from '../../src/domain/change.js';
import { UserError } from '../../src/domain/errors.js';
import type { MutatingSubcommand } from '../../src/domain/vocabulary.js';
import { describeError } from '../../src/slack/blocks/errors.js';

const fixture = (name: string) => new URL(`../fixtures/policy/${name}`, import.meta.url).pathname;

function issuesOf(fn: () => unknown): PolicyIssue[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const gate = (over: Partial<Gate> = {}): Gate => ({
  approvers: { users: ['U0APPROVE'], groups: [] },
  approvals: 1,
  expiresAfter: 86_400_000,
  ...over,
});
const endpoint = (name: string, subcommand: EndpointPlan['subcommand'], create = false): EndpointPlan => ({
  kind: 'endpoint',
  subcommand,
  endpoint: name,
  create,
  after: { servedVersions: [], traffic: [] },
  fingerprint: 'x',
});
const bind = (alias: string, endpointName: string, over: Partial<Binding> = {}): Binding => ({
  model: 'churn_model',
  alias,
  endpoint: endpointName,
  ...over,
});

describe('a binding sends the changes of its endpoint through the alias gate', () => {
  const policy = {
    gates: {
      production: gate(),
      retrain: gate(),
      'risky-rollbacks': gate({ subcommands: ['rollback'], endpoints: ['staging', 'canary'] }),
      champions: gate({ aliases: ['Champion'] }),
    },
    bindings: [
      bind('Production', 'churn-endpoint'),
      bind('Champion', 'champion-endpoint'),
      bind('Challenger', 'challenger-endpoint'),
      bind('Champion', 'both-endpoint'),
      bind('Production', 'both-endpoint', { model: 'fraud_model' }),
      bind('Production', 'canary', { ungatedBecause: 'shadow traffic only' }),
    ],
  };
  const cases: Array<{ name: string; subcommand: MutatingSubcommand; plan: EndpointPlan; want?: string }> = [
    {
      name: 'a deploy to the Production endpoint',
      subcommand: 'deploy',
      plan: endpoint('churn-endpoint', 'deploy'),
      want: 'production',
    },
    {
      name: 'a split of it',
      subcommand: 'split',
      plan: endpoint('churn-endpoint', 'split'),
      want: 'production',
    },
    {
      name: 'a rollback of it',
      subcommand: 'rollback',
      plan: endpoint('churn-endpoint', 'rollback'),
      want: 'production',
    },
    {
      name: 'a deploy that would create it',
      subcommand: 'deploy',
      plan: endpoint('churn-endpoint', 'deploy', true),
      want: 'production',
    },
    {
      name: 'a deploy to the endpoint bound to Champion',
      subcommand: 'deploy',
      plan: endpoint('champion-endpoint', 'deploy'),
      want: 'champions',
    },
    {
      name: 'a deploy to the endpoint of an ungated alias',
      subcommand: 'deploy',
      plan: endpoint('challenger-endpoint', 'deploy'),
    },
    {
      name: 'an endpoint bound to Champion and Production: Production first',
      subcommand: 'split',
      plan: endpoint('both-endpoint', 'split'),
      want: 'production',
    },
    {
      name: 'a deploy to an endpoint opted out explicitly',
      subcommand: 'deploy',
      plan: endpoint('canary', 'deploy'),
    },
    {
      name: 'a rollback of it: the custom gate naming it still applies',
      subcommand: 'rollback',
      plan: endpoint('canary', 'rollback'),
      want: 'risky-rollbacks',
    },
    { name: 'a deploy to an unbound endpoint', subcommand: 'deploy', plan: endpoint('staging', 'deploy') },
  ];
  it.each(cases)('$name: $want', ({ subcommand, plan, want }) => {
    expect(gateForChange(policy, subcommand, plan)?.name).toBe(want);
  });

  it('stays gated when the policy has no production gate, so the request is refused rather than let through', () => {
    const ref = gateForChange(
      { bindings: [bind('Production', 'churn-endpoint')] },
      'deploy',
      endpoint('churn-endpoint', 'deploy'),
    );
    expect(ref).toEqual({ name: 'production', gate: undefined });
  });

  it('says which binding lends the gate', () => {
    expect(boundEndpointGate(policy, 'both-endpoint')?.binding.model).toBe('fraud_model');
  });
});

describe('a policy that would leave a Production endpoint ungated does not load', () => {
  it('says which binding lacks a gate and how to fix it, along with every other problem', () => {
    const issues = issuesOf(() => loadPolicy(fixture('ungated-production-endpoint.yml')));
    expect(issues.map((i) => i.key).sort()).toEqual(['bindings[0]', 'channels[0]']);
    const binding = issues.find((i) => i.key === 'bindings[0]')!;
    expect(binding.problem).toBe(
      'binds Production of churn_model to churn-endpoint, but there is no production gate, so one person could deploy, split or roll back churn-endpoint on their own',
    );
    expect(binding.fix).toBe(
      'add gates.production with its approvers, or, to let churn-endpoint change without approval on purpose, add ungatedBecause: "<why>" to this binding',
    );
    expect(binding.line).toBe(11);
  });

  it('refuses a custom gate naming an endpoint the production gate already covers', () => {
    const issues = issuesOf(() => loadPolicy(fixture('gate-shadowed-by-production.yml')));
    expect(issues).toEqual([
      {
        key: 'gates.risky-rollbacks.endpoints[1]',
        problem:
          'churn-endpoint is bound to Production of churn_model, so its changes always go through the production gate and this gate would never apply to it',
        fix: 'remove churn-endpoint here; to ask more of its changes, raise gates.production.approvals',
        line: expect.any(Number),
      },
    ]);
  });

  it.each([
    ['true', 'should be the reason, as text, but is true'],
    ['""', 'gives no reason for letting the endpoint change without approval'],
  ])('wants a reason for an opt-out, not ungatedBecause: %s', (value, problem) => {
    const issues = issuesOf(() =>
      parsePolicy(
        `defaults: { catalog: acme, schema: mlops }\nbindings:\n  - { model: churn_model, endpoint: churn-endpoint, ungatedBecause: ${value} }\n`,
      ),
    );
    expect(issues.map((i) => [i.key, i.problem])).toEqual([['bindings[0].ungatedBecause', problem]]);
    expect(issues[0]?.fix).toContain('ungatedBecause: "');
  });
});

describe('how long a plan stays good', () => {
  const base = 'defaults: { catalog: acme, schema: mlops }\n';

  it('reads planExpiresAfter as a duration, and leaves the 1 h default to the pipeline when absent', () => {
    expect(parsePolicy(`${base}planExpiresAfter: 90m\n`).planExpiresAfter).toBe(5_400_000);
    expect(parsePolicy(base).planExpiresAfter).toBeUndefined();
  });

  it('refuses a duration it cannot read, with the fix', () => {
    const issues = issuesOf(() => parsePolicy(`${base}planExpiresAfter: soon\n`));
    expect(issues.map((i) => [i.key, i.problem])).toEqual([['planExpiresAfter', '"soon" is not a duration']]);
    expect(issues[0]?.fix).toContain('90m, 24h');
  });

  it('tells the requester how old the plan is and what to run', () => {
    const words = describeError(
      new UserError('plan_expired', {
        subcommand: 'split',
        ageMs: 2.5 * 3_600_000,
        expiresAfterMs: 3_600_000,
      }),
    );
    expect(words).toEqual({
      text: 'This plan expired: it was made 2 h 30 min ago, and a plan is good for 1 h, so nothing was changed.',
      hint: 'Run `/mlops split` again for a fresh plan of what is live now.',
    });
  });
});
