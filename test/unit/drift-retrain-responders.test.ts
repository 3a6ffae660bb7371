import { beforeEach, describe, expect, it } from 'vitest';
import { checkResponder, respondersOf } from '../../src/config/access.js';
import { ConfigError } from '../../src/config/databricks-connection.js';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy, type PolicyIssue, parsePolicy } from '../../src/config/policy.js';
import { UserError } from '../../src/domain/errors.js';
import type { AlertView } from '../../src/drift/alert-view.js';
import { activeClaim, retrainRequestView, STALE_REQUESTING_MS } from '../../src/drift/retrain-episode.js';
import { createDriftRetrainStore, type DriftRetrainStore } from '../../src/drift/retrain-store.js';
import { createDriftStateStore, type DriftStateStore } from '../../src/drift/state-store.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { describeEachBackend } from '../support/backends.js';

const view: AlertView = {
  monitor: 'churn',
  rule: 'drift',
  ruleText: 'x',
  model: 'acme.mlops.churn_model',
  modelId: '*',
  terms: [],
  windows: [],
  counts: { rule: 0, perRule: {}, total: 0, windows: 0, history: 30 },
  trends: [],
  retrain: true,
  checkedAt: 0,
};

describeEachBackend('one retraining claim per model per alert episode', (backend) => {
  let retrains: DriftRetrainStore;
  let state: DriftStateStore;
  const key = { monitor: 'churn', modelId: '*' };
  const open = async (rule: string) =>
    (
      await state.createAlert({
        ...key,
        rule,
        channel: 'C0MLOPS',
        windows: [1],
        view: { ...view, rule },
        at: 1,
      })
    ).alert;

  beforeEach(async () => {
    const db = await backend.open({ shared: true });
    retrains = createDriftRetrainStore(db);
    state = createDriftStateStore(db);
  });

  it('lets one of two processes claim a new episode, and one take over a generation it read', async () => {
    // Two connections to one store: two processes (replicas on Postgres), truly at once there.
    const other = createDriftRetrainStore(await backend.connect());
    const claims = [
      () => retrains.claim({ ...key, by: 'U1', at: 10, seen: undefined }),
      () => other.claim({ ...key, by: 'U2', at: 11, seen: undefined }),
    ];
    const raced =
      backend.kind === 'postgres'
        ? await Promise.all(claims.map((c) => c()))
        : [await claims[0]!(), await claims[1]!()];
    expect(raced.filter((c) => c !== undefined)).toHaveLength(1);
    const takeOvers = [
      () => retrains.claim({ ...key, by: 'U3', at: 12, seen: 1 }),
      () => other.claim({ ...key, by: 'U4', at: 13, seen: 1 }),
    ];
    const taken =
      backend.kind === 'postgres'
        ? await Promise.all(takeOvers.map((c) => c()))
        : [await takeOvers[0]!(), await takeOvers[1]!()];
    expect(taken.filter((c) => c !== undefined).map((c) => c?.generation)).toEqual([2]);
    expect(await other.current('churn', '*')).toMatchObject({ generation: 2, state: 'requesting' });
  });

  it('lets one of two clicks claim the Retrain, whichever comes first', async () => {
    const [a, b] = await Promise.all([
      retrains.claim({ ...key, by: 'U1', at: 10, seen: undefined }),
      retrains.claim({ ...key, by: 'U2', at: 11, seen: undefined }),
    ]);
    expect([a?.requestedBy, b?.requestedBy].filter(Boolean)).toEqual(['U1']);
    expect(await retrains.current('churn', '*')).toMatchObject({ generation: 1, state: 'requesting' });
    // A click that read generation 1 before another took it over loses too.
    expect(await retrains.claim({ ...key, by: 'U3', at: 12, seen: 1 })).toMatchObject({ generation: 2 });
    expect(await retrains.claim({ ...key, by: 'U4', at: 13, seen: 1 })).toBeUndefined();
  });

  it('settles a claim once, and only for the generation that holds it', async () => {
    const claim = (await retrains.claim({ ...key, by: 'U1', at: 10, seen: undefined }))!;
    expect(
      await retrains.settle(claim, { state: 'requested', request: { id: 'ar_1', channel: 'C0APPROVALS' } }),
    ).toBe(true);
    expect(await retrains.settle(claim, { state: 'failed' })).toBe(false);
    expect(await retrains.current('churn', '*')).toMatchObject({
      state: 'requested',
      request: { id: 'ar_1', channel: 'C0APPROVALS' },
    });
  });

  it('keeps the episode while any covered alert is open, and ends it when they all close', async () => {
    const perf = await open('performance');
    const drift = await open('drift');
    const claim = (await retrains.claim({ ...key, by: 'U1', at: 10, seen: undefined }))!;
    await retrains.cover(perf.id, claim);
    await retrains.cover(drift.id, claim);
    await retrains.cover(drift.id, claim);
    await retrains.settle(claim, { state: 'requested', request: { id: 'ar_1' } });
    expect(await retrains.covered(claim)).toHaveLength(2);
    expect(await activeClaim({ retrains, state }, 'churn', '*', 20)).toMatchObject({ generation: 1 });
    await state.closeAlert(perf.id, 30);
    expect(await activeClaim({ retrains, state }, 'churn', '*', 31)).toMatchObject({ generation: 1 });
    await state.closeAlert(drift.id, 40);
    expect(await activeClaim({ retrains, state }, 'churn', '*', 41)).toBeUndefined();
    // A new episode claims again; the old alerts no longer show its request.
    const next = await retrains.claim({ ...key, by: 'U2', at: 50, seen: 1 });
    expect(next).toMatchObject({ generation: 2, requestedBy: 'U2' });
    expect(await retrains.forAlert(perf.id)).toBeUndefined();
  });

  it('frees the Retrain again after a failed request, or a request that died with its process', async () => {
    const alert = await open('drift');
    const claim = (await retrains.claim({ ...key, by: 'U1', at: 10, seen: undefined }))!;
    await retrains.cover(alert.id, claim);
    expect(await activeClaim({ retrains, state }, 'churn', '*', 11)).toBeDefined();
    expect(await activeClaim({ retrains, state }, 'churn', '*', 11 + STALE_REQUESTING_MS)).toBeUndefined();
    expect(retrainRequestView(claim, 11 + STALE_REQUESTING_MS)).toBeUndefined();
    await retrains.settle(claim, { state: 'failed' });
    expect(await activeClaim({ retrains, state }, 'churn', '*', 12)).toBeUndefined();
  });
});

function issuesOf(yaml: string): PolicyIssue[] {
  try {
    parsePolicy(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('who may Snooze and Acknowledge: the monitor’s responders', () => {
  const policy = loadPolicy(EXAMPLE_POLICY_PATH);
  const { responders: _, ...churn } = policy.monitors!.churn!;
  const withoutResponders = { ...policy, monitors: { churn } };

  it('reads the monitor’s responders, else the retrain gate’s approvers, else nobody', () => {
    expect(respondersOf(policy, 'churn')).toEqual({
      rule: { users: ['U0REQUEST'], groups: ['@ml-approvers'], everyone: false },
      source: 'monitor',
    });
    expect(respondersOf(withoutResponders, 'churn')).toEqual({
      rule: { users: [], groups: ['@ml-approvers'], everyone: false },
      source: 'retrain_gate',
    });
    expect(respondersOf({ ...withoutResponders, gates: {} }, 'churn').source).toBe('none');
  });

  const cases = [
    { name: 'a listed user', p: policy, user: 'U0REQUEST', groups: [], want: true },
    {
      name: 'a member of a listed group',
      p: policy,
      user: 'U0APPROVE',
      groups: ['@ml-approvers'],
      want: true,
    },
    { name: 'anyone else', p: policy, user: 'U0VIEWER', groups: [], want: false },
    { name: 'the requester, by default', p: withoutResponders, user: 'U0REQUEST', groups: [], want: false },
    {
      name: 'an approver, by default',
      p: withoutResponders,
      user: 'U0APPROVE',
      groups: ['@ml-approvers'],
      want: true,
    },
  ];
  for (const c of cases) {
    it(`${c.want ? 'lets in' : 'refuses'} ${c.name}`, () => {
      const decision = checkResponder(c.p, 'churn', { userId: c.user }, new Set(c.groups), 'snooze');
      expect(decision.ok).toBe(c.want);
    });
  }

  it('words a refusal with the right, who has it and where it is set', () => {
    const refused = (p: typeof policy) => {
      const d = checkResponder(p, 'churn', { userId: 'U0VIEWER' }, new Set(), 'acknowledge');
      if (d.ok) throw new Error('expected a refusal');
      return describeError(new UserError('not_a_responder', d.refusal));
    };
    expect(refused(policy)).toEqual({
      text: 'Only members of @ml-approvers or <@U0REQUEST> may acknowledge alerts of churn: the right comes from `monitors.churn.responders`. Nothing was changed.',
      hint: 'Ask one of them, or ask an admin to add you to `monitors.churn.responders` in the policy file.',
    });
    expect(refused(withoutResponders).text).toMatch(
      /the approvers of the `retrain` gate \(`monitors\.churn\.responders` is not set\)/,
    );
    expect(refused({ ...withoutResponders, gates: {} }).text).toMatch(
      /^Nobody may acknowledge alerts of churn/,
    );
  });

  it('refuses a responders entry that names nobody, saying how to fix it', () => {
    const issues = issuesOf(`defaults: { catalog: acme, schema: mlops }
monitors:
  churn:
    model: churn_model
    table: acme.mlops.churn_inference
    schedule: "0 13 * * *"
    channel: C0MLOPS
    responders: {}
    rules:
      performance:
        all:
          - { metric: f1_score.macro, direction: below, threshold: 0.5 }
`);
    expect(issues).toEqual([
      expect.objectContaining({
        key: 'monitors.churn.responders',
        problem: expect.stringMatching(/names nobody/),
        fix: expect.stringMatching(/everyone: true; leave the key out to use the retrain gate’s approvers/),
      }),
    ]);
  });
});
