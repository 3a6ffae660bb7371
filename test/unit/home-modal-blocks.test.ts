import { describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../src/approvals/store.js';
import { exampleRecordOf, openApiDocumentOf } from '../../src/databricks/input-example.js';
import { homeEndpoint } from '../../src/home/service.js';
import type { HomeData } from '../../src/home/types.js';
import { checkBlocks } from '../../src/sandbox/slack/index.js';
import { ACTION_APPROVAL_APPROVE, ACTION_APPROVAL_REJECT } from '../../src/slack/blocks/action-ids.js';
import { buildHomeView, HOME_MAX_BLOCKS } from '../../src/slack/blocks/home.js';
import {
  buildDeployModal,
  buildOptions,
  buildQueryModal,
  buildRejectModal,
  decodeMetadata,
  encodeMetadata,
  MAX_OPTIONS,
  versionOptions,
} from '../../src/slack/blocks/modals.js';
import { modalRequestOf } from '../../src/slack/listeners/modals.js';
import { shown } from '../support/shown.js';

const NOW = Date.UTC(2026, 11, 3, 12, 0);

function request(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    id: 'apr_1',
    createdAt: NOW - 30 * 60_000,
    updatedAt: NOW,
    expiresAt: NOW + 86_400_000,
    gate: 'production',
    requester: 'U0REQUEST',
    channel: 'C0MLOPS',
    target: 'alias:acme.mlops.churn_model@production',
    plan: { kind: 'retrain', model: 'acme.mlops.churn_model' },
    required: 1,
    approvers: { users: [], groups: ['ml-approvers'] },
    status: 'pending',
    votes: [],
    attempts: 0,
    ...overrides,
  } as unknown as ApprovalRequest;
}

const base: HomeData = {
  userId: 'U0APPROVE',
  now: NOW,
  firstVisit: false,
  toApprove: [],
  myRequests: [],
  myChanges: [],
  endpoints: [],
  alerts: [],
};

const text = (data: Partial<HomeData>) =>
  shown({ text: '', blocks: buildHomeView({ ...base, ...data }).blocks });

describe('the App Home view', () => {
  const cases: Array<{ name: string; data: Partial<HomeData>; want: string[]; not?: string[] }> = [
    { name: 'a first visit', data: { firstVisit: true }, want: ['Getting started', '/mlops deploy'] },
    {
      name: 'a later visit',
      data: {},
      want: ['Nothing waits for you.', 'You have nothing open.'],
      not: ['Getting started'],
    },
    {
      name: 'endpoints with traffic',
      data: {
        endpoints: [
          {
            name: 'churn-endpoint',
            ready: true,
            updating: false,
            served: [
              { modelName: 'acme.mlops.churn_model', modelVersion: '2', percent: 90 },
              { modelName: 'acme.mlops.churn_model', modelVersion: '3', percent: 10 },
            ],
          },
          { name: 'new-endpoint', ready: false, updating: true, served: [] },
        ],
      },
      want: [
        '*churn-endpoint*: churn_model v2 90%, churn_model v3 10%',
        '*new-endpoint*: nothing served yet',
        'updating',
      ],
    },
    {
      name: 'Databricks unreadable',
      data: { endpointsUnavailable: true },
      want: ['Databricks could not be read just now'],
    },
    {
      name: 'an open alert',
      data: {
        alerts: [
          {
            id: 'al1',
            monitor: 'churn-drift',
            rule: 'psi > 0.2',
            modelId: 'acme.mlops.churn_model',
            status: 'open',
            channel: 'C0ALERTS',
            openedAt: NOW - 3_600_000,
            windows: [],
            view: {} as never,
            acknowledgedBy: 'U0APPROVE',
          },
        ],
      },
      want: ['*churn-drift* (churn_model): psi &gt; 0.2', '<#C0ALERTS>', 'on it: <@U0APPROVE>'],
    },
    {
      name: 'a click answer',
      data: { notice: 'You approved Production → churn_model v3.' },
      want: ['You approved'],
    },
    {
      name: 'own request',
      data: { myRequests: [request()] },
      want: ['*Retrain churn_model*: waiting for approval (0 of 1)'],
    },
  ];
  for (const c of cases) {
    it(`shows ${c.name}`, () => {
      const t = text(c.data);
      for (const w of c.want) expect(t).toContain(w);
      for (const n of c.not ?? []) expect(t).not.toContain(n);
    });
  }

  it('puts Approve (with a confirm) and Reject on what waits for the user, valued with the request id', () => {
    const view = buildHomeView({ ...base, toApprove: [request()] });
    const actions = view.blocks.find((b) => b.type === 'actions') as {
      elements: Array<{ action_id: string; value: string; confirm?: unknown }>;
    };
    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([
      [ACTION_APPROVAL_APPROVE, 'apr_1'],
      [ACTION_APPROVAL_REJECT, 'apr_1'],
    ]);
    expect(actions.elements[0]?.confirm).toBeDefined();
    expect(checkBlocks(view.blocks)).toEqual([]);
  });

  it('stays within 100 blocks however much waits, and counts the rest', () => {
    const many = Array.from({ length: 60 }, (_, i) => request({ id: `apr_${i}` }));
    const view = buildHomeView({ ...base, toApprove: many, alerts: [] });
    expect(view.blocks.length).toBeLessThanOrEqual(HOME_MAX_BLOCKS);
    expect(shown({ text: '', blocks: view.blocks })).toContain('…and 52 more');
  });

  it('escapes names that look like mentions', () => {
    const t = text({ endpoints: [{ name: '<!channel>', ready: true, updating: false, served: [] }] });
    expect(t).toContain('&lt;!channel&gt;');
  });

  it('takes traffic from what the bot last knew, and 100% for a single served version', () => {
    const summary = {
      name: 'e',
      ready: true,
      updating: false,
      updateState: 'NOT_UPDATING',
      servedVersions: [
        { name: 's2', modelName: 'm', modelVersion: '2' },
        { name: 's3', modelName: 'm', modelVersion: '3' },
      ],
    };
    expect(
      homeEndpoint(summary, {
        servedVersions: [],
        traffic: [
          { servedName: 's2', percent: 80 },
          { servedName: 's3', percent: 20 },
        ],
      }).served.map((s) => s.percent),
    ).toEqual([80, 20]);
    expect(homeEndpoint(summary).served.map((s) => s.percent)).toEqual([undefined, undefined]);
    expect(
      homeEndpoint({ ...summary, servedVersions: [summary.servedVersions[0]!] }).served[0]?.percent,
    ).toBe(100);
  });
});

describe('the modals', () => {
  const meta = { channel: 'C0MLOPS', responseUrl: 'http://127.0.0.1:1/response/ab' };

  it('prefills the query modal with the example record, and says where it came from', () => {
    const view = buildQueryModal({ endpoint: 'churn-endpoint', example: { tenure: 12 }, metadata: meta });
    expect(JSON.stringify(view.blocks)).toContain(
      JSON.stringify(JSON.stringify([{ tenure: 12 }], null, 2)).slice(1, -1),
    );
    expect(shown({ text: '', blocks: view.blocks })).toContain('input schema');
    expect(decodeMetadata(view.private_metadata)).toEqual({ ...meta, endpoint: 'churn-endpoint' });
    expect(view.submit?.text).toBe('Send');
    const empty = buildQueryModal({ endpoint: 'x', metadata: meta });
    expect(JSON.stringify(empty.blocks)).not.toContain('initial_value');
  });

  it('asks the reason of a Reject and carries the request id', () => {
    const view = buildRejectModal({
      title: 'Production → churn_model v3',
      requestId: 'apr_1',
      metadata: meta,
    });
    expect(shown({ text: '', blocks: view.blocks })).toContain('Production → churn_model v3');
    expect(decodeMetadata(view.private_metadata).requestId).toBe('apr_1');
    expect(checkBlocks(view.blocks)).toEqual([]);
  });

  it('builds the deploy form with three external selects and the default endpoint picked', () => {
    const view = buildDeployModal({ defaultEndpoint: 'churn-endpoint', metadata: meta });
    const elements = view.blocks
      .filter((b) => b.type === 'input')
      .map(
        (b) =>
          (b as { element: { type: string; min_query_length: number; initial_option?: { value: string } } })
            .element,
      );
    expect(elements.map((e) => e.type)).toEqual(['external_select', 'external_select', 'external_select']);
    expect(elements.every((e) => e.min_query_length === 0)).toBe(true);
    expect(elements[2]?.initial_option?.value).toBe('churn-endpoint');
    for (const t of [view.title.text, view.submit?.text ?? '', view.close.text])
      expect(t.length).toBeLessThanOrEqual(24);
  });

  it('shows versions newest first with their aliases, and filters options by what was typed', () => {
    const v = (version: number, aliases: string[], status = 'READY') => ({
      modelName: 'm',
      version,
      status,
      createdAt: new Date(0),
      aliases,
    });
    expect(
      versionOptions([
        v(1, []),
        v(3, ['Challenger']),
        v(2, ['Champion', 'Production']),
        v(4, [], 'PENDING_REGISTRATION'),
      ]).map((o) => o.label),
    ).toEqual(['v4 (not ready)', 'v3 · Challenger', 'v2 · Champion, Production', 'v1']);
    const items = Array.from({ length: 150 }, (_, i) => ({ label: `model_${i}`, value: `a.b.model_${i}` }));
    expect(buildOptions(items, '').options).toHaveLength(MAX_OPTIONS);
    expect(buildOptions(items, 'MODEL_14').options.map((o) => o.value)).toEqual([
      'a.b.model_14',
      ...Array.from({ length: 10 }, (_, i) => `a.b.model_14${i}`),
    ]);
  });

  it('reads unreadable metadata as no channel', () => {
    expect(decodeMetadata('not json')).toEqual({ channel: '' });
    expect(decodeMetadata(encodeMetadata({ channel: 'C1' }))).toEqual({ channel: 'C1' });
  });

  const requests: Array<{ text: string; want: ReturnType<typeof modalRequestOf> }> = [
    { text: 'deploy', want: { kind: 'deploy' } },
    { text: '  DEPLOY  ', want: { kind: 'deploy' } },
    { text: 'deploy churn_model 3', want: undefined },
    { text: 'query churn-endpoint', want: { kind: 'query', endpoint: 'churn-endpoint' } },
    { text: 'query churn-endpoint tenure=2', want: undefined },
    { text: 'query', want: undefined },
    { text: 'query --dry-run', want: undefined },
    { text: 'status', want: undefined },
  ];
  for (const r of requests) {
    it(`opens ${r.want ? `the ${r.want.kind} modal` : 'no modal'} for "/mlops ${r.text.trim()}"`, () => {
      expect(modalRequestOf(r.text)).toEqual(r.want);
    });
  }
});

describe('an example record from the OpenAPI query schema', () => {
  const doc = {
    paths: {
      '/serving-endpoints/e/invocations': {
        post: {
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { properties: { dataframe_split: { type: 'object' } } },
                    {
                      properties: {
                        dataframe_records: {
                          type: 'array',
                          items: {
                            type: 'object',
                            properties: {
                              tenure: { type: 'integer', example: 12 },
                              charges: { type: 'number' },
                              plan: { type: 'string', enum: ['a', 'b'] },
                              senior: { type: ['boolean', 'null'] },
                            },
                          },
                        },
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      },
    },
  };
  it('takes examples where given and a value of the type elsewhere', () => {
    expect(exampleRecordOf(doc)).toEqual({ tenure: 12, charges: 0, plan: 'a', senior: false });
  });
  it('reads the document wrapped in contents as the API reference shows it', () => {
    expect(exampleRecordOf(openApiDocumentOf({ contents: JSON.stringify(doc) }))).toEqual({
      tenure: 12,
      charges: 0,
      plan: 'a',
      senior: false,
    });
  });
  it('gives nothing for a schema without records', () => {
    expect(exampleRecordOf({ openapi: '3.1.0', paths: {} })).toBeUndefined();
    expect(exampleRecordOf(openApiDocumentOf({ contents: 'not json' }))).toBeUndefined();
  });
});
