import { describe, expect, it } from 'vitest';
import type { AliasPlan, EndpointPlan } from '../../src/domain/change.js';
import type { Endpoint, EndpointConfig, ServedVersion } from '../../src/domain/ports/serving.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';
import { buildProgressMessage, formatElapsed, type ProgressView } from '../../src/slack/blocks/progress.js';

const MODEL = 'acme.mlops.churn_model';
const HOST = 'https://adb-1.2.azuredatabricks.net';

const version = (v: number, extra: Partial<ServedVersion> = {}): ServedVersion => ({
  name: `churn_model-${v}`,
  modelName: MODEL,
  modelVersion: String(v),
  workloadSize: 'Small',
  scaleToZero: true,
  ...extra,
});
const config = (split: Record<number, number>, extra: Partial<ServedVersion> = {}): EndpointConfig => ({
  servedVersions: Object.keys(split).map((v) => version(Number(v), extra)),
  traffic: Object.entries(split).map(([v, percent]) => ({ servedName: `churn_model-${v}`, percent })),
});

const deploy: EndpointPlan = {
  kind: 'endpoint',
  subcommand: 'deploy',
  endpoint: 'churn-endpoint',
  create: false,
  before: config({ 2: 100 }),
  after: config({ 3: 100 }),
  fingerprint: 'fp',
};
const split: EndpointPlan = { ...deploy, subcommand: 'split', after: config({ 2: 90, 3: 10 }) };
const promote: AliasPlan = {
  kind: 'alias',
  subcommand: 'promote',
  model: MODEL,
  alias: 'Champion',
  fromVersion: 2,
  toVersion: 3,
  fingerprint: '2',
};

const rollingOut: Endpoint = {
  name: 'churn-endpoint',
  ready: true,
  updating: true,
  updateState: 'IN_PROGRESS',
  current: config({ 2: 100 }, { state: 'DEPLOYMENT_READY' }),
  pending: {
    servedVersions: [version(3, { state: 'DEPLOYMENT_CREATING' })],
    traffic: [{ servedName: 'churn_model-3', percent: 100 }],
  },
};
const failedRollout: Endpoint = {
  ...rollingOut,
  updating: false,
  updateState: 'UPDATE_FAILED',
  failureReason: 'churn_model-3: Container image build failed',
};

const base = (over: Partial<ProgressView>): ProgressView => ({
  changeId: 'k3v9x0a1b2',
  plan: deploy,
  phase: 'starting',
  requester: 'U0REQUEST',
  appliedBy: 'U0REQUEST',
  startedAt: 0,
  now: 134_000,
  workspaceHost: HOST,
  ...over,
});

const textOf = (m: ReturnType<typeof buildProgressMessage>) => JSON.stringify(m.blocks);

describe('the progress message', () => {
  const cases: Array<{
    name: string;
    view: ProgressView;
    want: { text: RegExp; shows: string[]; hides?: string[] };
  }> = [
    {
      name: 'says the change is being sent',
      view: base({}),
      want: {
        text: /^Deploy to churn-endpoint: sending to Databricks/,
        shows: ['Sending the change', 'churn_model v3 100%'],
      },
    },
    {
      name: 'lists the pending versions with their deployment state while rolling out',
      view: base({ phase: 'rolling_out', endpoint: rollingOut }),
      want: {
        text: /rolling out/,
        shows: ['*Pending:*', 'churn_model v3 (`churn_model-3`): creating', '*Before:* churn_model v2 100%'],
        hides: ['churn_model v2 (`'],
      },
    },
    {
      name: 'ends with the summary when ready',
      view: base({ phase: 'succeeded', summary: 'churn-endpoint serves churn_model v3 100%.' }),
      want: { text: /done — churn-endpoint serves churn_model v3 100%/, shows: [':white_check_mark:'] },
    },
    {
      name: "gives Databricks' reason and what still serves when the rollout failed",
      view: base({ phase: 'failed', reason: failedRollout.failureReason!, endpoint: failedRollout }),
      want: {
        text: /failed — churn_model-3: Container image build failed/,
        shows: [
          '*Reason:* churn_model-3: Container image build failed',
          '*Still serving:* churn_model v2 100%',
        ],
      },
    },
    {
      name: 'says what to check when it stopped following',
      view: base({
        phase: 'timed_out',
        reason: 'The rollout on churn-endpoint had not finished when the bot stopped waiting.',
        hint: 'Check `/mlops status churn-endpoint`.',
      }),
      want: { text: /stopped following/, shows: [':warning:', '/mlops status churn-endpoint'] },
    },
    {
      name: 'carries the correlation id of an internal error and nothing else of it',
      view: base({
        phase: 'failed',
        reason: 'The bot hit an internal error while applying this change.',
        correlationId: 'ab12cd34',
      }),
      want: { text: /internal error/, shows: ['Reference: `ab12cd34`'] },
    },
    {
      name: 'shows the traffic split of a split',
      view: base({ plan: split, phase: 'succeeded', summary: 'ok' }),
      want: { text: /^Traffic split on churn-endpoint/, shows: ['churn_model v2 90% · churn_model v3 10%'] },
    },
    {
      name: 'shows an alias move with a link to the model version',
      view: base({
        plan: promote,
        phase: 'succeeded',
        summary: 'Champion now points at churn_model v3 (was v2).',
      }),
      want: {
        text: /^Champion → churn_model v3: done/,
        shows: ['v2 → v3', `${HOST}/explore/data/models/acme/mlops/churn_model/version/3`],
        hides: ['Still serving'],
      },
    },
  ];

  for (const { name, view, want } of cases) {
    it(name, () => {
      const message = buildProgressMessage(view);
      expect(message.text).toMatch(want.text);
      for (const s of want.shows) expect(textOf(message)).toContain(JSON.stringify(s).slice(1, -1));
      for (const s of want.hides ?? []) expect(textOf(message)).not.toContain(s);
      expect(checkBlocks(message.blocks)).toEqual([]);
    });
  }

  it('names who asked, who applied, how long it took, the change id and links the endpoint page', () => {
    const context = textOf(
      buildProgressMessage(base({ appliedBy: 'U0APPROVE', phase: 'succeeded', summary: 'ok' })),
    );
    expect(context).toContain('Requested by <@U0REQUEST>');
    expect(context).toContain('applied by <@U0APPROVE>');
    expect(context).toContain('took 2m 14s');
    expect(context).toContain('change `k3v9x0a1b2`');
    expect(context).toContain(`<${HOST}/ml/endpoints/churn-endpoint|endpoint page>`);
  });

  it('escapes markup in reasons and stays within Block Kit limits with a huge one', () => {
    const message = buildProgressMessage(
      base({ phase: 'failed', reason: `<!channel> ${'x'.repeat(10_000)}`, hint: 'y'.repeat(5000) }),
    );
    expect(textOf(message)).not.toContain('<!channel>');
    expect(textOf(message)).toContain('&lt;!channel&gt;');
    expect(message.text.length).toBeLessThanOrEqual(3000);
    expect(checkBlocks(message.blocks)).toEqual([]);
  });

  it('says the endpoint has never been ready when a creation failed', () => {
    const created = { ...deploy, create: true, before: undefined } as EndpointPlan;
    const never: Endpoint = {
      name: 'churn-endpoint',
      ready: false,
      updating: false,
      updateState: 'UPDATE_FAILED',
    };
    const message = buildProgressMessage(
      base({ plan: created, phase: 'failed', reason: 'r', endpoint: never }),
    );
    expect(textOf(message)).toContain('*Before:* no endpoint');
    expect(textOf(message)).toContain('nothing (the endpoint has never been ready)');
  });
});

describe('formatElapsed', () => {
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [134_000, '2m 14s'],
    [3_780_000, '1h 3m'],
  ])('shows %i ms as %s', (ms, want) => {
    expect(formatElapsed(ms)).toBe(want);
  });
});

describe('the one message of a change', () => {
  const phases: ProgressView['phase'][] = ['starting', 'rolling_out', 'succeeded', 'failed', 'timed_out'];

  it.each(phases)('keeps the plan’s before/after table while %s', (phase) => {
    const message = buildProgressMessage(base({ phase, endpoint: rollingOut, reason: 'r', summary: 's' }));
    expect(textOf(message)).toMatch(/what +now +after/);
    expect(textOf(message)).toContain('churn_model v2');
    expect(checkBlocks(message.blocks)).toEqual([]);
  });

  it('shows the start as a date token while running, so an unchanged state renders the same', () => {
    const early = buildProgressMessage(base({ phase: 'rolling_out', endpoint: rollingOut, now: 10_000 }));
    const later = buildProgressMessage(base({ phase: 'rolling_out', endpoint: rollingOut, now: 900_000 }));
    expect(later).toEqual(early);
    expect(textOf(early)).toContain('<!date^0^{time}|');
  });

  it.each([
    {
      name: 'offers "Promote v3 to Production" after a move to Champion',
      view: base({
        plan: promote,
        phase: 'succeeded',
        next: { kind: 'promote', model: MODEL, version: 3, alias: 'Production' },
      }),
      want: 'Promote v3 to Production',
    },
    {
      name: 'offers "Roll back" after a failed rollout',
      view: base({ phase: 'failed', reason: 'r', next: { kind: 'rollback', endpoint: 'churn-endpoint' } }),
      want: 'Roll back',
    },
  ])('$name, with a button carrying only the change id', ({ view, want }) => {
    const actions = buildProgressMessage(view).blocks.find((b) => b.type === 'actions') as
      | { elements: Array<{ action_id: string; value: string; text: { text: string } }> }
      | undefined;
    expect(actions?.elements).toEqual([
      expect.objectContaining({
        action_id: 'change-next-step',
        value: 'k3v9x0a1b2',
        text: expect.objectContaining({ text: want }),
      }),
    ]);
  });

  it('shows no next-step button while the change runs', () => {
    const running = buildProgressMessage(
      base({ phase: 'rolling_out', next: { kind: 'rollback', endpoint: 'churn-endpoint' } }),
    );
    expect(running.blocks.some((b) => b.type === 'actions')).toBe(false);
  });
});
