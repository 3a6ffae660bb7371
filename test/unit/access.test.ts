import { describe, expect, it } from 'vitest';
import {
  type AccessDecision,
  autoApplies,
  channelAllowed,
  checkAccess,
  checkChannel,
  describeRule,
  isProtected,
  needsGroups,
} from '../../src/config/access.js';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy, parsePolicy } from '../../src/config/policy.js';
import { UserError } from '../../src/domain/errors.js';
import type { Subcommand } from '../../src/domain/vocabulary.js';
import { describeError } from '../../src/slack/blocks/errors.js';

/** The example policy: riley may change things, @ml-approvers too, churn-endpoint is protected. */
const example = loadPolicy(EXAMPLE_POLICY_PATH);

const RILEY = 'U0REQUEST';
const AVERY = 'U0APPROVE';
const VIC = 'U0VIEWER';
const APPROVERS = new Set(['S0APPROVERS', '@ml-approvers']);
const NONE = new Set<string>();

const allowed: AccessDecision = { ok: true };

/** A refusal put into words, as the user reads it (slack/blocks/errors.ts words the data). */
function worded(err: UserError) {
  const { text, hint } = describeError(err);
  return { ok: false, reason: text, ...(hint ? { hint } : {}) };
}

/** checkAccess, with a refusal in words. */
const accessOf = (...args: Parameters<typeof checkAccess>) => {
  const d = checkAccess(...args);
  return d.ok ? d : worded(new UserError('not_allowed', d.refusal));
};

/** checkChannel, with a refusal in words. */
const channelOf = (...args: Parameters<typeof checkChannel>) => {
  const d = checkChannel(...args);
  return d.ok ? d : worded(new UserError('channel_not_allowed', { variant: 'access', channels: d.channels }));
};
const denied = (reason: string | RegExp) =>
  expect.objectContaining({
    ok: false,
    reason: reason instanceof RegExp ? expect.stringMatching(reason) : reason,
  });

describe('checkAccess with the example policy', () => {
  it.each<{
    name: string;
    user: string;
    groups: Set<string>;
    sub: Subcommand;
    endpoint?: string;
    want: unknown;
  }>([
    {
      name: 'the requester deploys to the protected endpoint',
      user: RILEY,
      groups: NONE,
      sub: 'deploy',
      endpoint: 'churn-endpoint',
      want: allowed,
    },
    {
      name: 'an approver deploys through the group',
      user: AVERY,
      groups: APPROVERS,
      sub: 'deploy',
      endpoint: 'churn-endpoint',
      want: allowed,
    },
    {
      name: 'a viewer deploys',
      user: VIC,
      groups: NONE,
      sub: 'deploy',
      endpoint: 'churn-endpoint',
      want: denied('Only members of @ml-approvers or <@U0REQUEST> may deploy.'),
    },
    {
      name: 'an approver splits (not in access.split)',
      user: AVERY,
      groups: APPROVERS,
      sub: 'split',
      want: denied('Only <@U0REQUEST> may split.'),
    },
    {
      name: 'a viewer asks for status (no rule: open)',
      user: VIC,
      groups: NONE,
      sub: 'status',
      want: allowed,
    },
    { name: 'a viewer lists models (no rule: open)', user: VIC, groups: NONE, sub: 'models', want: allowed },
    {
      name: 'a viewer queries (everyone: true)',
      user: VIC,
      groups: NONE,
      sub: 'query',
      endpoint: 'churn-endpoint',
      want: allowed,
    },
    { name: 'a viewer asks for help', user: VIC, groups: NONE, sub: 'help', want: allowed },
    {
      name: 'group match by handle only',
      user: AVERY,
      groups: new Set(['@ml-approvers']),
      sub: 'promote',
      want: allowed,
    },
  ])('$name', ({ user, groups, sub, endpoint, want }) => {
    expect(accessOf(example, { userId: user }, groups, sub, endpoint ? { endpoint } : {})).toEqual(want);
  });

  it("matches a group named by id in the policy against the ids of the actor's groups", () => {
    const byId = parsePolicy(
      'defaults: { catalog: a, schema: b }\naccess: { promote: { groups: [S0APPROVERS] } }',
    );
    expect(accessOf(byId, { userId: AVERY }, APPROVERS, 'promote')).toEqual(allowed);
    expect(accessOf(byId, { userId: AVERY }, new Set(['@ml-approvers']), 'promote')).toMatchObject({
      ok: false,
    });
  });

  it('says how to get the right in its hint', () => {
    const decision = accessOf(example, { userId: VIC }, NONE, 'deploy');
    expect(decision).toMatchObject({
      hint: 'Ask one of them to run it, or ask an admin to add you to `access.deploy` in the policy file.',
    });
  });
});

describe('checkAccess on protected endpoints', () => {
  const policy = parsePolicy(`
defaults: { catalog: acme, schema: mlops }
access:
  deploy: { groups: ['@ml-engineers', '@ml-approvers'] }
  split: { everyone: true }
  rollback: { users: [U0REQUEST] }
  promote: { everyone: true }
protectedEndpoints:
  - name: churn-endpoint
    allow: { groups: [S0APPROVERS] }
  - name: confirm-only
`);
  const ENGINEERS = new Set(['@ml-engineers']);

  it('needs the endpoint allow list on top of the subcommand right', () => {
    expect(accessOf(policy, { userId: 'U1' }, ENGINEERS, 'deploy', { endpoint: 'churn-endpoint' })).toEqual(
      denied('churn-endpoint is protected: only members of <!subteam^S0APPROVERS> may change it.'),
    );
    expect(accessOf(policy, { userId: 'U1' }, ENGINEERS, 'deploy', { endpoint: 'other-endpoint' })).toEqual(
      allowed,
    );
    expect(accessOf(policy, { userId: 'U2' }, APPROVERS, 'split', { endpoint: 'churn-endpoint' })).toEqual(
      allowed,
    );
  });

  it('checks the subcommand right first, whatever the endpoint', () => {
    expect(accessOf(policy, { userId: 'U2' }, APPROVERS, 'rollback', { endpoint: 'churn-endpoint' })).toEqual(
      denied('Only <@U0REQUEST> may rollback.'),
    );
  });

  it('lets anyone with the subcommand right change an endpoint protected without an allow list', () => {
    expect(accessOf(policy, { userId: 'U9' }, NONE, 'split', { endpoint: 'confirm-only' })).toEqual(allowed);
  });

  it('does not restrict reads of a protected endpoint', () => {
    expect(accessOf(policy, { userId: 'U9' }, NONE, 'query', { endpoint: 'churn-endpoint' })).toEqual(
      allowed,
    );
  });
});

describe('checkAccess without rules', () => {
  const policy = parsePolicy('defaults: { catalog: acme, schema: mlops }\naccess: { promote: {} }');

  it.each<{ sub: Subcommand; want: unknown }>([
    { sub: 'deploy', want: denied(/^Nobody may deploy here: the policy has no `access.deploy` rule/) },
    { sub: 'promote', want: denied(/^Nobody may promote here: the policy gives that right to no one/) },
    { sub: 'status', want: allowed },
    { sub: 'query', want: allowed },
  ])('$sub', ({ sub, want }) => {
    expect(accessOf(policy, { userId: RILEY }, APPROVERS, sub)).toEqual(want);
  });
});

describe('describeRule', () => {
  it.each([
    { rule: { users: [], groups: [], everyone: true }, want: 'everyone' },
    { rule: { users: [], groups: [], everyone: false }, want: 'nobody' },
    { rule: { users: ['U1', 'U2'], groups: [], everyone: false }, want: '<@U1> or <@U2>' },
    {
      rule: { users: ['U1'], groups: ['@a', 'S0B'], everyone: false },
      want: 'members of @a or <!subteam^S0B> or <@U1>',
    },
  ])('says $want', ({ rule, want }) => {
    expect(describeRule(rule)).toBe(want);
  });
});

describe('channels', () => {
  it('answers only in the listed channels', () => {
    expect(channelAllowed(example, 'C0MLOPS')).toBe(true);
    expect(channelAllowed(example, 'C0RANDOM')).toBe(false);
    expect(channelOf(example, 'C0RANDOM')).toEqual({
      ok: false,
      reason: 'modelgate answers only in <#C0MLOPS>.',
      hint: 'Run the command there, or ask an admin to add this channel to `channels` in the policy file.',
    });
  });

  it('answers everywhere when the policy lists no channels', () => {
    const open = parsePolicy('defaults: { catalog: a, schema: b }');
    expect(channelAllowed(open, 'C0ANYWHERE')).toBe(true);
    expect(channelOf(open, 'C0ANYWHERE')).toEqual(allowed);
  });
});

describe('autoApplies and isProtected', () => {
  const policy = parsePolicy(`
defaults: { catalog: a, schema: b }
autoApply: [split, promote]
protectedEndpoints: [{ name: churn-endpoint }]
`);

  it.each<{ sub: Subcommand; endpoint?: string; want: boolean }>([
    { sub: 'split', endpoint: 'staging-endpoint', want: true },
    { sub: 'split', endpoint: 'churn-endpoint', want: false },
    { sub: 'promote', want: true },
    { sub: 'deploy', endpoint: 'staging-endpoint', want: false },
    { sub: 'status', want: false },
  ])('$sub on $endpoint → $want', ({ sub, endpoint, want }) => {
    expect(autoApplies(policy, sub, endpoint)).toBe(want);
  });

  it('knows which endpoints are protected', () => {
    expect(isProtected(policy, 'churn-endpoint')).toBe(true);
    expect(isProtected(policy, 'staging-endpoint')).toBe(false);
    expect(isProtected(policy, undefined)).toBe(false);
  });
});

describe('needsGroups', () => {
  it('is true only when a group could change the decision', () => {
    expect(needsGroups(example, 'status')).toBe(false);
    expect(needsGroups(example, 'query')).toBe(false);
    expect(needsGroups(example, 'split')).toBe(false);
    expect(needsGroups(example, 'split', { endpoint: 'churn-endpoint' })).toBe(true);
    expect(needsGroups(example, 'deploy')).toBe(true);
  });
});
