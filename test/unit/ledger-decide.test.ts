import { describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY_PATH } from '../../src/config/env.js';
import { loadPolicy } from '../../src/config/policy.js';
import type { EndpointConfig } from '../../src/domain/ports/serving.js';
import { type DecideInput, decideLedger } from '../../src/ledger/decide.js';
import { buildHistoryView, stateAt } from '../../src/ledger/history.js';
import { isGated, notifyChannelFor, watchSet } from '../../src/ledger/targets.js';
import type { BotChange, LedgerEntry, Observation, Snapshot, TargetState } from '../../src/ledger/types.js';
import { buildOutOfBandMessage } from '../../src/slack/blocks/ledger.js';

const MODEL = 'acme.mlops.churn_model';
const serving = (version: number, percent = 100): EndpointConfig => ({
  servedVersions: [
    {
      name: `churn_model-${version}`,
      modelName: MODEL,
      modelVersion: String(version),
      workloadSize: 'Small',
      scaleToZero: true,
    },
  ],
  traffic: [{ servedName: `churn_model-${version}`, percent }],
});
const ep = (version: number): TargetState => ({ kind: 'endpoint', config: serving(version) });
const alias = (version: number | null): TargetState => ({ kind: 'alias', version });

const EP_KEY = 'endpoint:churn-endpoint';
const AL_KEY = `alias:${MODEL}@production`;
const T0 = Date.parse('2026-12-03T10:00:00Z');
const NOW = T0 + 60_000;

const obsEndpoint = (state: TargetState, facts: Observation['facts'] = {}): Observation => ({
  key: EP_KEY,
  target: { kind: 'endpoint', endpoint: 'churn-endpoint' },
  state,
  facts,
});
const obsAlias = (state: TargetState, facts: Observation['facts'] = {}): Observation => ({
  key: AL_KEY,
  target: { kind: 'alias', model: MODEL, alias: 'Production' },
  state,
  facts,
});
const snap = (o: Observation, after: TargetState, seq = 1): Snapshot => ({
  seq,
  key: o.key,
  target: o.target,
  after,
  detectedAt: T0,
});
const bot = (key: string, after: TargetState, over: Partial<BotChange> = {}): BotChange => ({
  changeId: 'chg1',
  key,
  appliedAt: T0 + 10_000,
  appliedBy: 'U0REQUEST',
  after,
  ...over,
});

function input(over: Partial<DecideInput>): DecideInput {
  return {
    observations: [],
    snapshots: new Map(),
    botChanges: new Map(),
    claimed: new Set(),
    notifyChannel: () => 'C0APPROVALS',
    now: NOW,
    lookbackMs: 86_400_000,
    ...over,
  };
}

describe('decideLedger', () => {
  const cases: Array<{ name: string; input: DecideInput; want: Array<Record<string, unknown>> }> = [
    {
      name: 'records a first sighting as a baseline, never posted',
      input: input({ observations: [obsEndpoint(ep(3))] }),
      want: [{ key: EP_KEY, source: { kind: 'baseline' }, before: null, notify: undefined }],
    },
    {
      name: 'records nothing when the target holds what it held',
      input: input({
        observations: [obsEndpoint(ep(3))],
        snapshots: new Map([[EP_KEY, snap(obsEndpoint(ep(3)), ep(3))]]),
      }),
      want: [],
    },
    {
      name: 'matches a difference to the bot change that meant it, and does not post it',
      input: input({
        observations: [obsEndpoint(ep(4), { configVersion: 5 })],
        snapshots: new Map([[EP_KEY, snap(obsEndpoint(ep(3)), ep(3))]]),
        botChanges: new Map([[EP_KEY, [bot(EP_KEY, ep(4), { expectConfigVersion: 5 })]]]),
      }),
      want: [{ source: { kind: 'bot', changeId: 'chg1', appliedBy: 'U0REQUEST' }, notify: undefined }],
    },
    {
      name: 'calls a difference no bot change explains out-of-band, and posts it for a gated target',
      input: input({
        observations: [
          obsEndpoint(ep(4), { endpointCreator: 'sam@acme.com', endpointUpdatedAt: T0 + 5_000 }),
        ],
        snapshots: new Map([[EP_KEY, snap(obsEndpoint(ep(3)), ep(3))]]),
        botChanges: new Map([[EP_KEY, [bot(EP_KEY, ep(5))]]]),
      }),
      want: [
        {
          source: {
            kind: 'out_of_band',
            facts: { endpointCreator: 'sam@acme.com', endpointUpdatedAt: T0 + 5_000 },
          },
          notify: 'C0APPROVALS',
          at: T0 + 5_000,
          notBefore: T0,
        },
      ],
    },
    {
      name: 'does not post an out-of-band change of a target no gate covers',
      input: input({
        observations: [obsAlias(alias(4))],
        snapshots: new Map([[AL_KEY, snap(obsAlias(alias(3)), alias(3))]]),
        notifyChannel: () => undefined,
      }),
      want: [{ source: { kind: 'out_of_band', facts: {} }, notify: undefined, at: NOW }],
    },
    {
      name: 'does not let one bot change explain two differences',
      input: input({
        observations: [obsAlias(alias(4))],
        snapshots: new Map([[AL_KEY, snap(obsAlias(alias(3)), alias(3))]]),
        botChanges: new Map([[AL_KEY, [bot(AL_KEY, alias(4))]]]),
        claimed: new Set(['chg1']),
      }),
      want: [{ source: { kind: 'out_of_band', facts: {} } }],
    },
    {
      name: 'ignores a bot change older than the lookback before the last sighting',
      input: input({
        observations: [obsAlias(alias(4))],
        snapshots: new Map([[AL_KEY, snap(obsAlias(alias(3)), alias(3))]]),
        botChanges: new Map([[AL_KEY, [bot(AL_KEY, alias(4), { appliedAt: T0 - 2 * 86_400_000 })]]]),
      }),
      want: [{ source: { kind: 'out_of_band', facts: {} } }],
    },
    {
      name: 'records an alias that was removed as not set',
      input: input({
        observations: [obsAlias(alias(null))],
        snapshots: new Map([[AL_KEY, snap(obsAlias(alias(3)), alias(3))]]),
      }),
      want: [{ before: alias(3), after: alias(null), notify: 'C0APPROVALS' }],
    },
    {
      name: 'calls a new alias of a model already followed a change from "not set", not a baseline',
      input: input({
        observations: [obsAlias(alias(5))],
        snapshots: new Map([
          [
            `alias:${MODEL}@champion`,
            {
              seq: 7,
              key: `alias:${MODEL}@champion`,
              target: { kind: 'alias', model: MODEL, alias: 'Champion' },
              after: alias(2),
              detectedAt: T0,
            },
          ],
        ]),
      }),
      want: [
        { before: alias(null), after: alias(5), source: { kind: 'out_of_band', facts: {} }, notBefore: T0 },
      ],
    },
    {
      name: 'ignores a bot change whose version number matches but whose content does not',
      input: input({
        observations: [obsEndpoint(ep(4), { configVersion: 5 })],
        snapshots: new Map([[EP_KEY, snap(obsEndpoint(ep(3)), ep(3))]]),
        botChanges: new Map([[EP_KEY, [bot(EP_KEY, ep(6), { expectConfigVersion: 5 })]]]),
      }),
      want: [{ source: { kind: 'out_of_band', facts: { configVersion: 5 } } }],
    },
  ];

  it.each(cases)('$name', ({ input: given, want }) => {
    const got = decideLedger(given);
    expect(got).toHaveLength(want.length);
    want.forEach((w, i) => {
      for (const [k, v] of Object.entries(w)) expect(got[i]?.[k as keyof (typeof got)[number]]).toEqual(v);
    });
  });
});

describe('ledger targets', () => {
  const policy = loadPolicy(EXAMPLE_POLICY_PATH);

  it('watches the endpoints and models the policy names, plus those the bot changed', () => {
    const watch = watchSet(policy, ['endpoint:fraud-endpoint', 'alias:acme.mlops.fraud_model@champion']);
    expect(watch.endpoints).toEqual(expect.arrayContaining(['churn-endpoint', 'fraud-endpoint']));
    expect(watch.models).toEqual(expect.arrayContaining([MODEL, 'acme.mlops.fraud_model']));
  });

  it('gates the Production alias and the endpoint bound to it, not Champion or other endpoints', () => {
    expect(isGated(policy, { kind: 'alias', model: MODEL, alias: 'production' })).toBe(true);
    expect(isGated(policy, { kind: 'endpoint', endpoint: 'churn-endpoint' })).toBe(true);
    expect(isGated(policy, { kind: 'alias', model: MODEL, alias: 'Champion' })).toBe(false);
    expect(isGated(policy, { kind: 'endpoint', endpoint: 'fraud-endpoint' })).toBe(false);
  });

  it('posts to the approval channel, else the first channel', () => {
    const target = { kind: 'endpoint', endpoint: 'churn-endpoint' } as const;
    expect(notifyChannelFor(policy, target)).toBe('C0APPROVALS');
    expect(notifyChannelFor({ ...policy, approvalChannel: undefined }, target)).toBe('C0MLOPS');
  });
});

const entry = (over: Partial<LedgerEntry>): LedgerEntry => ({
  seq: 1,
  key: EP_KEY,
  target: { kind: 'endpoint', endpoint: 'churn-endpoint' },
  before: null,
  after: ep(3),
  source: { kind: 'baseline' },
  at: T0,
  detectedAt: T0,
  postAttempts: 0,
  ...over,
});

describe('ledger history and words', () => {
  const entries = [
    entry({}),
    entry({
      seq: 2,
      before: ep(3),
      after: ep(4),
      at: T0 + 30 * 60_000,
      source: { kind: 'out_of_band', facts: {} },
    }),
  ];

  it('answers the state at a time from the last change at or before it, and nothing before the first', () => {
    expect(stateAt(entries, T0 + 10 * 60_000)).toEqual(ep(3));
    expect(stateAt(entries, T0 + 31 * 60_000)).toEqual(ep(4));
    expect(stateAt(entries, T0 - 1)).toBeUndefined();
    const view = buildHistoryView('churn-endpoint', [entries], T0 - 1, NOW);
    expect(view.targets[0]?.stateAt).toBeUndefined();
    expect(view.targets[0]?.entries.map((e) => e.seq)).toEqual([2, 1]);
  });

  it('words an out-of-band change as the issue asks', () => {
    const message = buildOutOfBandMessage(entries[1]!);
    expect(message.text).toBe(
      'churn-endpoint changed outside modelgate: churn_model v3 100% → churn_model v4 100%; not approved here',
    );
  });
});
