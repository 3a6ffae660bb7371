import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/databricks-connection.js';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import {
  closest,
  formatKeyPath,
  groupRefsIn,
  loadPolicy,
  type PolicyIssue,
  parsePolicy,
  policyTargets,
} from '../../src/config/policy.js';

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

const issuesIn = (name: string) => issuesOf(() => loadPolicy(fixture(name)));

describe('loadPolicy', () => {
  it('loads the example policy the sandbox and the tests use', () => {
    const policy = loadPolicy(EXAMPLE_POLICY_PATH);
    expect(policy.defaults).toEqual({ catalog: 'acme', schema: 'mlops', endpoint: 'churn-endpoint' });
    expect(policy.channels).toEqual(['C0MLOPS']);
    expect(policy.access.deploy).toEqual({
      users: ['U0REQUEST'],
      groups: ['@ml-approvers'],
      everyone: false,
    });
    expect(policy.access.query?.everyone).toBe(true);
    expect(policy.protectedEndpoints.map((p) => p.name)).toEqual(['churn-endpoint']);
  });

  it('accepts user ids, Grid ids, group handles and group ids, and lower-cases handles', () => {
    const policy = loadPolicy(fixture('valid.yml'));
    expect(policy.access.split?.users).toEqual(['U0REQUEST', 'W0GRIDUSER']);
    expect(policy.access.promote?.groups).toEqual(['S0APPROVERS']);
    expect(policy.access.rollback?.groups).toEqual(['@ml-approvers']);
    expect(policy.autoApply).toEqual(['split']);
    expect(policy.protectedEndpoints[1]).toEqual({ name: 'fraud-endpoint' });
  });

  it('fills in the defaults of a minimal policy: no rules, no auto-apply, no protected endpoints', () => {
    const policy = loadPolicy(fixture('minimal.yml'));
    expect(policy).toEqual({
      defaults: { catalog: 'acme', schema: 'mlops' },
      access: {},
      autoApply: [],
      protectedEndpoints: [],
    });
  });

  it('names a missing file under MODELGATE_CONFIG and says how to start one', () => {
    const [issue] = issuesOf(() => loadPolicy('/nowhere/modelgate.yml'));
    expect(issue).toMatchObject({
      key: 'MODELGATE_CONFIG',
      problem: expect.stringContaining('does not exist'),
    });
    expect(issue?.fix).toContain('modelgate.example.yml');
  });

  it('reads through the injected reader, so tests need no files', () => {
    const policy = loadPolicy('any.yml', () => 'defaults: { catalog: main, schema: ml }');
    expect(policy.defaults).toEqual({ catalog: 'main', schema: 'ml' });
  });
});

describe('policy problems', () => {
  it('reports a user name where a member id belongs, with its key path, line and fix', () => {
    expect(issuesIn('bad-user-id.yml')).toEqual([
      {
        key: 'access.deploy.users[1]',
        problem: '"riley" is not a Slack user id (U… or W…)',
        fix: "use the member id from the user's profile (⋮ → Copy member ID)",
        line: 6,
      },
    ]);
  });

  it('catches typos in keys at every level and suggests the right spelling', () => {
    const issues = issuesIn('typo-key.yml');
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'acess', fix: 'rename it to access', line: 4 }),
        expect.objectContaining({ key: 'protectedEndpoints[0].alow', fix: 'rename it to allow', line: 8 }),
      ]),
    );
    expect(issues).toHaveLength(2);
  });

  it('refuses access rules for subcommands that do not exist', () => {
    const issues = issuesIn('unknown-subcommand.yml');
    expect(issues.map((i) => i.key)).toEqual(['access.deply', 'access.approve']);
    expect(issues[0]?.problem).toContain('did you mean deploy?');
    // `approve` is now close to the `approvals` subcommand, so the fix suggests it.
    expect(issues[1]?.problem).toContain('did you mean approvals?');
  });

  it('reports every problem of a file at once', () => {
    const issues = issuesIn('many-problems.yml');
    expect(issues.map((i) => i.key).sort()).toEqual(
      [
        'autoApply[0]',
        'channels[0]',
        'defaults.catalog',
        'access.deploy.groups[0]',
        'access.split.users',
      ].sort(),
    );
    const byKey = Object.fromEntries(issues.map((i) => [i.key, i]));
    expect(byKey['channels[0]']?.problem).toBe('"#mlops" is a channel name, not a channel id');
    expect(byKey['access.deploy.groups[0]']?.fix).toBe('move it under `users:`');
    expect(byKey['access.split.users']?.fix).toBe('write it as a list, e.g. [U0REQUEST]');
    expect(byKey['autoApply[0]']?.fix).toBe('did you mean deploy?');
    expect(byKey['defaults.catalog']?.problem).toContain('holds a dot');
  });

  it('reports cron and time-zone problems in the same pass as the others, and says what 0 approvals lacks', () => {
    const issues = issuesIn('schedule-and-other-problems.yml');
    const byKey = Object.fromEntries(issues.map((i) => [i.key, i]));
    expect(Object.keys(byKey).sort()).toEqual(
      [
        'channels[0]',
        'gates.production.approvals',
        'monitors.churn.schedule',
        'monitors.churn.timezone',
      ].sort(),
    );
    expect(byKey['monitors.churn.schedule']?.problem).toBe('"0 25 * * *" is not a valid cron expression');
    expect(byKey['monitors.churn.timezone']?.problem).toContain('"Mars/Olympus" is not an IANA time zone');
    expect(byKey['gates.production.approvals']?.problem).toBe('0 is too small: needs at least 1 approval');
    expect(byKey['gates.production.approvals']?.problem).not.toContain('list');
    expect(byKey['gates.production.approvals']?.fix).toBe('write at least 1');
  });

  it('gives the line and column of a YAML syntax error', () => {
    const issues = issuesIn('bad-yaml.txt');
    expect(issues.length).toBeGreaterThan(0);
    for (const issue of issues) {
      expect(issue.key).toMatch(/^line \d+, column \d+$/);
      expect(issue.problem).toMatch(/^YAML syntax: /);
      expect(issue.line).toBeGreaterThanOrEqual(6);
    }
    expect(issues[0]?.fix).toBe('close the [ or { that was opened before this line');
  });

  it('explains that a group handle must be quoted in YAML', () => {
    const [issue] = issuesIn('unquoted-handle.txt');
    expect(issue).toMatchObject({ key: 'line 4, column 22', line: 4 });
    expect(issue?.fix).toContain('"@ml-approvers"');
  });

  it('refuses an endpoint listed twice as protected', () => {
    expect(issuesIn('duplicate-protected.yml')).toEqual([
      expect.objectContaining({
        key: 'protectedEndpoints[1].name',
        problem: '"churn-endpoint" is listed twice',
      }),
    ]);
  });

  it('refuses an empty channel list, which would silence the bot everywhere', () => {
    expect(issuesIn('empty-channels.yml')).toEqual([
      expect.objectContaining({ key: 'channels', problem: 'is an empty list' }),
    ]);
  });

  it('says an empty file is empty and points at the example', () => {
    const [issue] = issuesIn('empty.yml');
    expect(issue?.problem).toBe('is empty');
    expect(issue?.fix).toContain('modelgate.example.yml');
  });

  it('says what is missing when a required section is absent', () => {
    expect(issuesOf(() => parsePolicy('channels: [C0MLOPS]'))).toEqual([
      expect.objectContaining({ key: 'defaults', problem: 'is missing (a mapping expected)' }),
    ]);
  });

  it.each([
    { value: "'ml-approvers'", want: 'write the handle with its @ and in quotes: "@ml-approvers"' },
    { value: 'U0APPROVE', want: 'move it under `users:`' },
  ])('tells how to write a group reference given $value', ({ value, want }) => {
    const [issue] = issuesOf(() =>
      parsePolicy(`defaults: { catalog: a, schema: b }\naccess: { deploy: { groups: [${value}] } }`),
    );
    expect(issue?.fix).toBe(want);
  });

  it.each([
    { value: "'@riley'", want: 'is a name, not a Slack user id' },
    { value: 'S0APPROVERS', want: 'is a user group, not a Slack user id' },
  ])('tells a user id apart from $value', ({ value, want }) => {
    const [issue] = issuesOf(() =>
      parsePolicy(`defaults: { catalog: a, schema: b }\naccess: { deploy: { users: [${value}] } }`),
    );
    expect(issue?.problem).toContain(want);
  });
});

describe('policy helpers', () => {
  it('formats key paths the way people write them', () => {
    expect(formatKeyPath(['access', 'deploy', 'users', 1])).toBe('access.deploy.users[1]');
    expect(formatKeyPath(['protectedEndpoints', 0, 'name'])).toBe('protectedEndpoints[0].name');
    expect(formatKeyPath([])).toBe('(top level)');
  });

  it('suggests the closest key only when it is a near miss', () => {
    expect(closest('protectedEndpoint', ['defaults', 'protectedEndpoints'])).toBe('protectedEndpoints');
    expect(closest('gates', ['defaults', 'channels', 'access'])).toBeUndefined();
  });

  it('lists the endpoints and user groups a policy names, each once', () => {
    const policy = loadPolicy(fixture('valid.yml'));
    expect(policyTargets(policy)).toEqual({ endpoints: ['churn-endpoint', 'fraud-endpoint'], models: [] });
    expect(groupRefsIn(policy).sort()).toEqual(['@ml-approvers', 'S0APPROVERS'].sort());
  });

  it('lists the models monitors, retraining and bindings name, as full names, each once', () => {
    const policy = loadPolicy(fixture('monitor-problems.yml'));
    policy.bindings = [{ model: 'acme.mlops.churn_model', alias: 'Production', endpoint: 'bound-endpoint' }];
    expect(policyTargets(policy)).toEqual({
      endpoints: ['churn-endpoint', 'bound-endpoint'],
      models: ['acme.mlops.churn_model', 'acme.mlops.fraud_model'],
    });
  });

  it('keeps the example file free of tabs so copies of it stay valid YAML', () => {
    expect(readFileSync(EXAMPLE_POLICY_PATH, 'utf8')).not.toContain('\t');
  });
});
