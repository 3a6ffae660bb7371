import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp } from '../../src/databricks/http.js';
import { createServingClient } from '../../src/databricks/serving.js';
import { UserError } from '../../src/domain/errors.js';
import type { EndpointConfigInput, Serving } from '../../src/domain/ports/serving.js';
import { endpointUrl } from '../../src/domain/workspace-links.js';
import { simulatedClock } from '../../src/lib/clock.js';
import {
  type InferenceRecord,
  startWorkspaceTwin,
  type WorkspaceTwin,
} from '../../src/sandbox/workspace/server.js';
import {
  emptyState,
  type ModelVersion,
  type RegisteredModel,
  registeredModel,
} from '../../src/sandbox/workspace/state.js';
import { describeError } from '../../src/slack/blocks/errors.js';

const MODEL = 'main.ml.churn_model';
const ROLLOUT_MS = 10 * 60_000;
const ENDPOINTS = '/api/2.0/serving-endpoints';

const churnModel = (versions: Array<Partial<ModelVersion> & { version: number }>): RegisteredModel =>
  registeredModel(MODEL, versions);

const single = (version: number): EndpointConfigInput => ({
  servedVersions: [{ modelName: MODEL, modelVersion: version }],
});

const customer = { tenure: 2, monthly_charges: 95.5, contract: 'Month-to-month', senior_citizen: 1 };
const loyal = { tenure: 60, monthly_charges: 20, contract: 'Two year', senior_citizen: 0 };

async function caught(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

let twin: WorkspaceTwin;
let serving: Serving;
const clock = simulatedClock(Date.parse('2026-03-02T09:00:00Z'));
const inferences: InferenceRecord[] = [];

/** Lets every rollout started so far finish. */
const settle = () => clock.advance(ROLLOUT_MS + 1);

/** Sends a raw request to the twin, for bodies the client would never send. */
async function raw(method: string, path: string, body: unknown) {
  const res = await fetch(`${twin.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${twin.token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { error_code?: string; message?: string } };
}

async function liveEndpoint(name: string, config: EndpointConfigInput = single(3)) {
  await serving.create({ name, config });
  settle();
}

beforeAll(async () => {
  const state = emptyState();
  state.models.set(
    MODEL,
    churnModel([
      { version: 1 },
      { version: 2, behaviour: { bias: 1.5 } },
      { version: 3 },
      { version: 4, status: 'PENDING_REGISTRATION' },
      ...Array.from({ length: 8 }, (_, i) => ({ version: 10 + i })),
    ]),
  );
  twin = await startWorkspaceTwin({
    state,
    clock,
    rolloutDelayMs: ROLLOUT_MS,
    onInference: (r) => {
      inferences.push(r);
    },
  });
  serving = createServingClient(
    createDatabricksHttp({
      host: twin.url,
      tokens: staticTokenProvider(twin.token),
      clock,
      baseBackoffMs: 10,
    }),
  );
});

afterAll(async () => {
  await twin.stop();
});

describe('create', () => {
  it('creates an endpoint that rolls out explicitly named served entities with string versions', async () => {
    const ep = await serving.create({ name: 'churn-create', config: single(3) });
    expect(ep).toMatchObject({
      name: 'churn-create',
      ready: false,
      updating: true,
      updateState: 'IN_PROGRESS',
    });
    expect(ep.current).toBeUndefined();
    expect(ep.pending?.configVersion).toBe(1);
    expect(ep.pending?.servedVersions[0]).toMatchObject({
      name: 'churn_model-3',
      modelVersion: '3',
      state: 'DEPLOYMENT_CREATING',
    });
    expect(twin.state.endpoints.get('churn-create')?.pending?.config.served_entities[0]).toMatchObject({
      name: 'churn_model-3',
      entity_version: '3',
    });

    settle();
    const live = await serving.get('churn-create');
    expect(live).toMatchObject({ ready: true, updating: false, updateState: 'NOT_UPDATING' });
    expect(live.current?.traffic).toEqual([{ servedName: 'churn_model-3', percent: 100 }]);
    expect(live.pending).toBeUndefined();
  });

  it('returns the existing endpoint when the same create is repeated', async () => {
    await serving.create({ name: 'churn-repeat', config: single(3) });
    const again = await serving.create({ name: 'churn-repeat', config: single(3) });
    expect(again.pending?.configVersion).toBe(1);
    expect(twin.state.endpoints.get('churn-repeat')?.pending?.config.config_version).toBe(1);
  });

  it('creates an endpoint with an inference table and tags in one call', async () => {
    await serving.create({
      name: 'churn-born-logged',
      config: single(3),
      inferenceTable: { enabled: true, catalog: 'main', schema: 'ml', tablePrefix: 'churn_born' },
      tags: { team: 'retention' },
    });
    const ep = await serving.get('churn-born-logged');
    expect(ep.inferenceTable?.payloadTable).toBe('main.ml.churn_born_payload');
    expect(twin.state.endpoints.get('churn-born-logged')?.tags).toEqual([
      { key: 'team', value: 'retention' },
    ]);
  });

  it('refuses to create an endpoint whose name is taken by another config', async () => {
    await serving.create({ name: 'churn-taken', config: single(3) });
    const err = await caught(serving.create({ name: 'churn-taken', config: single(1) }));
    expect(err.code).toBe('endpoint_exists');
    expect(describeError(err).text).toBe(
      'An endpoint called "churn-taken" already exists with a different config.',
    );
  });

  it('does not retry a create whose connection dropped and says the outcome is unknown', async () => {
    twin.faults.next(`POST ${ENDPOINTS}`, { kind: 'drop' });
    const before = twin.requests.length;
    const err = await caught(serving.create({ name: 'churn-dropped', config: single(3) }));
    expect(err.code).toBe('create_outcome_unknown');
    expect(describeError(err).text).toMatch(
      /Lost the answer while creating endpoint "churn-dropped".*may or may not exist/,
    );
    expect(twin.requests.slice(before).filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('refuses a version that is not READY with Databricks’ reason', async () => {
    const err = await caught(serving.create({ name: 'churn-pending', config: single(4) }));
    expect(err.code).toBe('serving_rejected');
    expect(describeError(err).text).toMatch(
      /version '4' .* is not ready to be served: its status is PENDING_REGISTRATION/,
    );
  });

  it('refuses a model that does not exist', async () => {
    const err = await caught(
      serving.create({
        name: 'churn-nomodel',
        config: { servedVersions: [{ modelName: 'main.ml.nope', modelVersion: 1 }] },
      }),
    );
    expect(describeError(err).text).toMatch(/Model 'main.ml.nope' does not exist/);
  });

  it('refuses a version that does not exist', async () => {
    const err = await caught(serving.create({ name: 'churn-nover', config: single(99) }));
    expect(describeError(err).text).toMatch(/Version '99' of model 'main.ml.churn_model' does not exist/);
  });

  it('refuses an endpoint name Databricks would reject without sending anything', async () => {
    const before = twin.requests.length;
    const err = await caught(serving.create({ name: 'churn endpoint', config: single(3) }));
    expect(err.code).toBe('invalid_name');
    expect(describeError(err).hint).toMatch(/1–63 letters, digits/);
    expect(twin.requests.length).toBe(before);
  });
});

describe('list and get', () => {
  it('lists every endpoint with its live served versions', async () => {
    await liveEndpoint('churn-listed');
    const list = await serving.list();
    expect(list.find((e) => e.name === 'churn-listed')).toEqual({
      name: 'churn-listed',
      ready: true,
      updating: false,
      updateState: 'NOT_UPDATING',
      creator: 'modelgate-sandbox@example.com',
      // The list's last_updated_timestamp: the ledger's cheap sign that an endpoint changed.
      updatedAt: new Date(twin.state.endpoints.get('churn-listed')!.last_updated_timestamp),
      servedVersions: [{ name: 'churn_model-3', modelName: MODEL, modelVersion: '3' }],
    });
  });

  it('lists no endpoints as an empty list when the workspace answers {}', async () => {
    const empty = await startWorkspaceTwin({ clock });
    try {
      const client = createServingClient(
        createDatabricksHttp({ host: empty.url, tokens: staticTokenProvider(empty.token), clock }),
      );
      expect(await client.list()).toEqual([]);
    } finally {
      await empty.stop();
    }
  });

  it('says clearly that an endpoint does not exist', async () => {
    const err = await caught(serving.get('no-such-endpoint'));
    expect(err.code).toBe('endpoint_not_found');
    expect(describeError(err).text).toBe('No serving endpoint called "no-such-endpoint".');
  });

  it('retries a read that met a 503 and returns the endpoint', async () => {
    await liveEndpoint('churn-flaky');
    twin.faults.next(`GET ${ENDPOINTS}/:name`, { kind: 'status', status: 503 }, 2);
    const before = twin.requests.length;
    const ep = await serving.get('churn-flaky');
    expect(ep.ready).toBe(true);
    expect(twin.requests.slice(before).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('links to the endpoint page in the workspace', () => {
    expect(endpointUrl('https://adb-1.2.azuredatabricks.net/', 'churn')).toBe(
      'https://adb-1.2.azuredatabricks.net/ml/endpoints/churn',
    );
  });
});

describe('updateConfig', () => {
  it('rolls out a new config that splits traffic between two versions', async () => {
    await liveEndpoint('churn-split');
    const ep = await serving.updateConfig('churn-split', {
      servedVersions: [
        { modelName: MODEL, modelVersion: 3 },
        { modelName: MODEL, modelVersion: 1, workloadSize: 'Medium', scaleToZero: true },
      ],
      traffic: [
        { servedName: 'churn_model-3', percent: 80 },
        { servedName: 'churn_model-1', percent: 20 },
      ],
    });
    expect(ep).toMatchObject({ ready: true, updating: true, updateState: 'IN_PROGRESS' });
    expect(ep.current?.configVersion).toBe(1);
    expect(ep.pending?.configVersion).toBe(2);
    // The version already live stays ready; only the new one is being created.
    expect(ep.pending?.servedVersions.map((v) => [v.name, v.state])).toEqual([
      ['churn_model-3', 'DEPLOYMENT_READY'],
      ['churn_model-1', 'DEPLOYMENT_CREATING'],
    ]);
    settle();
    const live = await serving.get('churn-split');
    expect(live.current?.traffic).toEqual([
      { servedName: 'churn_model-3', percent: 80 },
      { servedName: 'churn_model-1', percent: 20 },
    ]);
    expect(live.current?.servedVersions[1]).toMatchObject({ workloadSize: 'Medium', scaleToZero: true });
  });

  it('refuses a second update during a rollout with rollout_in_progress', async () => {
    await liveEndpoint('churn-busy');
    await serving.updateConfig('churn-busy', single(1));
    const err = await caught(serving.updateConfig('churn-busy', single(2)));
    expect(err.code).toBe('rollout_in_progress');
    expect(describeError(err).text).toBe('A rollout is already in progress on churn-busy.');
  });

  it('does not send an update again when its answer timed out, so exactly one update reaches Databricks', async () => {
    await liveEndpoint('churn-retried');
    const before = (await serving.get('churn-retried')).current!.configVersion!;
    // Real time here: the twin applies the PUT at once but answers only after 300 ms, long after
    // the client gave up at 100 ms. Resending it would start a second config version.
    const impatient = createServingClient(
      createDatabricksHttp({
        host: twin.url,
        tokens: staticTokenProvider(twin.token),
        timeoutMs: 100,
        baseBackoffMs: 10,
      }),
    );
    twin.faults.next(`PUT ${ENDPOINTS}/:name/config`, { kind: 'late', ms: 300 });
    const err = await impatient.updateConfig('churn-retried', single(1)).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'DatabricksTransportError', kind: 'timeout' });
    const ep = await serving.get('churn-retried');
    expect(ep.pending?.servedVersions.map((v) => v.name)).toEqual(['churn_model-1']);
    expect(ep.pending?.configVersion).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(twin.requests.filter((r) => r.path === `${ENDPOINTS}/churn-retried/config`)).toHaveLength(1);
  });

  it('says clearly that the endpoint to update does not exist', async () => {
    const err = await caught(serving.updateConfig('no-such-endpoint', single(3)));
    expect(err.code).toBe('endpoint_not_found');
  });

  it('refuses more than 10 served versions before sending anything', async () => {
    const versions = [1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17];
    const err = await caught(
      serving.updateConfig('churn-split', {
        servedVersions: versions.map((v) => ({ modelName: MODEL, modelVersion: v })),
        traffic: [{ servedName: 'churn_model-1', percent: 100 }],
      }),
    );
    expect(err.code).toBe('too_many_versions');
  });
});

describe('the twin refuses configs the way Databricks does', () => {
  const entity = (version: string, name = `churn_model-${version}`) => ({
    name,
    entity_name: MODEL,
    entity_version: version,
    workload_size: 'Small',
    scale_to_zero_enabled: false,
  });
  const routes = (...r: Array<[string, number]>) => ({
    routes: r.map(([n, p]) => ({ served_model_name: n, traffic_percentage: p })),
  });
  const cases: Array<{ name: string; config: unknown; want: RegExp }> = [
    {
      name: 'the deprecated served_models',
      config: { served_models: [{ name: 'a', model_name: MODEL, model_version: '3' }] },
      want: /'served_models' is deprecated/,
    },
    {
      name: 'a route to no served entity',
      config: { served_entities: [entity('3')], traffic_config: routes(['churn_model-9', 100]) },
      want: /route 'churn_model-9' does not match any served entity/,
    },
    {
      name: 'routes not adding up to 100',
      config: {
        served_entities: [entity('3'), entity('1')],
        traffic_config: routes(['churn_model-3', 50], ['churn_model-1', 20]),
      },
      want: /must be 100, but got 70/,
    },
    {
      name: 'more than 10 served entities',
      config: {
        served_entities: ['1', '2', '3', '10', '11', '12', '13', '14', '15', '16', '17'].map((v) =>
          entity(v),
        ),
        traffic_config: routes(['churn_model-1', 100]),
      },
      want: /number of served entities \(11\) exceeds the limit of 10/,
    },
    {
      name: 'duplicate served entity names',
      config: {
        served_entities: [entity('3', 'arm'), entity('1', 'arm')],
        traffic_config: routes(['arm', 100]),
      },
      want: /'arm' is used more than once/,
    },
    {
      name: 'a numeric entity_version',
      config: { served_entities: [{ ...entity('3'), entity_version: 3 }] },
      want: /'entity_version': expected a string/,
    },
  ];
  it.each(cases.map((c, i) => ({ ...c, endpoint: `churn-raw-${i}` })))(
    'refuses $name with a 400',
    async ({ endpoint, config, want }) => {
      await liveEndpoint(endpoint);
      const res = await raw('PUT', `${ENDPOINTS}/${endpoint}/config`, config);
      expect(res.status).toBe(400);
      expect(res.json.message).toMatch(want);
    },
  );

  it('refuses a duplicate create with 409 RESOURCE_ALREADY_EXISTS', async () => {
    await liveEndpoint('churn-dup');
    const res = await raw('POST', ENDPOINTS, {
      name: 'churn-dup',
      config: { served_entities: [entity('3')] },
    });
    expect(res).toEqual({
      status: 409,
      json: {
        error_code: 'RESOURCE_ALREADY_EXISTS',
        message: "Endpoint with name 'churn-dup' already exists.",
      },
    });
  });

  it('deletes an endpoint', async () => {
    await liveEndpoint('churn-deleted');
    expect((await raw('DELETE', `${ENDPOINTS}/churn-deleted`, {})).status).toBe(200);
    expect((await caught(serving.get('churn-deleted'))).code).toBe('endpoint_not_found');
  });
});

describe('query', () => {
  it('answers with churn predictions and the served version, split by the traffic percentages', async () => {
    await liveEndpoint('churn-ab', {
      servedVersions: [
        { modelName: MODEL, modelVersion: 3 },
        { modelName: MODEL, modelVersion: 2 },
      ],
      traffic: [
        { servedName: 'churn_model-3', percent: 90 },
        { servedName: 'churn_model-2', percent: 10 },
      ],
    });
    const before = inferences.length;
    const answers = [];
    for (let i = 0; i < 10; i++)
      answers.push(await serving.query('churn-ab', { records: [customer, loyal] }));
    expect(answers.filter((a) => a.servedName === 'churn_model-3')).toHaveLength(9);
    expect(answers.filter((a) => a.servedName === 'churn_model-2')).toHaveLength(1);
    const first = answers[0]!;
    expect(first.predictions).toHaveLength(2);
    expect(first.predictions[0]).toMatchObject({ prediction: 'Yes' });
    expect(first.predictions[1]).toMatchObject({ prediction: 'No' });

    const logged = inferences.slice(before);
    expect(logged).toHaveLength(10);
    expect(logged.filter((r) => r.entityVersion === '2')).toHaveLength(1);
    expect(logged[0]).toMatchObject({ endpoint: 'churn-ab', entityName: MODEL, statusCode: 200 });
  });

  it('answers the same for dataframe_split as for dataframe_records', async () => {
    await liveEndpoint('churn-formats');
    const records = await serving.query('churn-formats', { records: [customer] });
    const columns = Object.keys(customer);
    const split = await serving.query('churn-formats', {
      split: { columns, data: [columns.map((c) => customer[c as keyof typeof customer])] },
    });
    expect(split).toEqual(records);
  });

  it('lets a version’s bias change its answers', async () => {
    await liveEndpoint('churn-v2', single(2));
    const biased = await serving.query('churn-v2', { records: [loyal] });
    const plain = await serving.query('churn-formats', { records: [loyal] });
    const p = (r: { predictions: unknown[] }) => (r.predictions[0] as { probability: number }).probability;
    expect(p(biased)).toBeGreaterThan(p(plain));
  });

  it('sends the served-model-name header with every answer', async () => {
    const res = await fetch(`${twin.url}/serving-endpoints/churn-formats/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${twin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_records: [customer] }),
    });
    expect(res.headers.get('served-model-name')).toBe('churn_model-3');
  });

  it('answers on one served version directly, bypassing the traffic split', async () => {
    const res = await fetch(
      `${twin.url}/serving-endpoints/churn-ab/served-models/churn_model-2/invocations`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${twin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_records: [customer] }),
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('served-model-name')).toBe('churn_model-2');
  });

  it('refuses a body without exactly one dataframe input', async () => {
    for (const body of [
      {},
      { dataframe_records: [customer], dataframe_split: { columns: [], data: [] } },
      { instances: [[1]] },
    ]) {
      const res = await raw('POST', '/serving-endpoints/churn-formats/invocations', body);
      expect(res.status).toBe(400);
    }
    const both = await raw('POST', '/serving-endpoints/churn-formats/invocations', {
      dataframe_records: [],
      inputs: [],
    });
    expect(both.json.message).toMatch(/exactly one of the input fields/);
  });

  it('reports a record missing a feature with the model’s schema error', async () => {
    const err = await caught(serving.query('churn-formats', { records: [{ tenure: 3 }] }));
    expect(err.code).toBe('serving_rejected');
    expect(describeError(err).text).toMatch(
      /Model is missing inputs \['monthly_charges', 'contract', 'senior_citizen'\]/,
    );
  });

  it('refuses a query over 16 MB before sending it', async () => {
    const before = twin.requests.length;
    const big = [{ ...customer, note: 'x'.repeat(17 * 1024 * 1024) }];
    const err = await caught(serving.query('churn-formats', { records: big }));
    expect(err.code).toBe('payload_too_large');
    expect(twin.requests.length).toBe(before);
  });

  it('answers 400 to a request over 16 MB sent anyway', async () => {
    const body = JSON.stringify({ dataframe_records: [{ ...customer, note: 'x'.repeat(17 * 1024 * 1024) }] });
    const res = await raw('POST', '/serving-endpoints/churn-formats/invocations', body);
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/exceeds the maximum allowed payload size of 16 MB/);
  });

  it('says an endpoint is not ready while its first config is still deploying', async () => {
    await serving.create({ name: 'churn-cold', config: single(3) });
    const err = await caught(serving.query('churn-cold', { records: [customer] }));
    expect(err.code).toBe('endpoint_not_ready');
    expect(describeError(err).text).toMatch(/^Endpoint churn-cold is not ready to answer queries/);
  });

  it('says clearly that the endpoint to query does not exist', async () => {
    expect((await caught(serving.query('no-such-endpoint', { records: [customer] }))).code).toBe(
      'endpoint_not_found',
    );
  });
});

describe('setInferenceTable', () => {
  it('turns on the inference table and keeps the other AI-gateway settings', async () => {
    await liveEndpoint('churn-logged');
    const rateLimits = [{ calls: 100, key: 'user', renewal_period: 'minute' }];
    await raw('PUT', `${ENDPOINTS}/churn-logged/ai-gateway`, { rate_limits: rateLimits });
    const table = await serving.setInferenceTable('churn-logged', {
      enabled: true,
      catalog: 'main',
      schema: 'ml',
      tablePrefix: 'churn',
    });
    expect(table).toEqual({
      enabled: true,
      catalog: 'main',
      schema: 'ml',
      tablePrefix: 'churn',
      payloadTable: 'main.ml.churn_payload',
    });
    expect((await serving.get('churn-logged')).inferenceTable?.payloadTable).toBe('main.ml.churn_payload');
    expect(twin.state.endpoints.get('churn-logged')?.ai_gateway).toMatchObject({ rate_limits: rateLimits });
  });

  it('asks to disable the inference table before moving it elsewhere', async () => {
    const err = await caught(
      serving.setInferenceTable('churn-logged', {
        enabled: true,
        catalog: 'main',
        schema: 'other',
        tablePrefix: 'churn',
      }),
    );
    expect(err.code).toBe('inference_table_already_enabled');
    expect(describeError(err).hint).toMatch(/Disable the inference table first/);
    await serving.setInferenceTable('churn-logged', { enabled: false });
    const moved = await serving.setInferenceTable('churn-logged', {
      enabled: true,
      catalog: 'main',
      schema: 'other',
      tablePrefix: 'churn',
    });
    expect(moved.payloadTable).toBe('main.other.churn_payload');
  });
});
