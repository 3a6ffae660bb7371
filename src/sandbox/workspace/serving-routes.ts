import { randomUUID } from 'node:crypto';
import type { InferenceRecord, TwinContext } from './context.js';
import { churnScore, recordsOf, TrafficPicker } from './invocations.js';
import { fail, type Router, type TwinRequest } from './router.js';
import type {
  Endpoint,
  EndpointConfig,
  InferenceTableConfig,
  ServedEntity,
  WorkloadSize,
  WorkspaceState,
} from './state.js';

/**
 * Model Serving in the workspace twin (reference §2): same routes, JSON and error texts as
 * Databricks for the calls modelgate makes. Rollouts are timestamps settled lazily against the
 * twin's clock, so a simulated clock drives them.
 *
 * Ways to make a rollout fail, for tests and the demo:
 * - `failNextRollout(state, endpoint, reason)`;
 * - a model version whose comment contains `[fails-to-build]` (optionally followed by `: reason`).
 */

const BASE = '/api/2.0/serving-endpoints';
const NAME_RE = /^[A-Za-z0-9_-]{1,63}$/;
const MAX_SERVED_ENTITIES = 10;
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const WORKLOAD_SIZES: readonly WorkloadSize[] = ['Small', 'Medium', 'Large'];
const SANDBOX_USER = 'modelgate-sandbox@example.com';
const FAILS_TO_BUILD = /\[fails-to-build\](?::\s*(.+))?/i;

const plannedFailures = new WeakMap<WorkspaceState, Map<string, string>>();
const pickers = new WeakMap<Endpoint, TrafficPicker>();

/**
 * Makes the next rollout of an endpoint fail with this reason (the one in progress, if any).
 * The endpoint then keeps its previous config, reports UPDATE_FAILED, and the new served entities
 * show DEPLOYMENT_FAILED with the reason as deployment_state_message.
 *
 * @example failNextRollout(twin.state, 'churn', 'Container build failed: No module named sklearn');
 */
export function failNextRollout(state: WorkspaceState, endpoint: string, reason: string): void {
  const ep = state.endpoints.get(endpoint);
  if (ep?.pending && !ep.pending.failure) {
    ep.pending.failure = reason;
    return;
  }
  const planned = plannedFailures.get(state) ?? new Map<string, string>();
  planned.set(endpoint, reason);
  plannedFailures.set(state, planned);
}

type UpdateState = 'NOT_UPDATING' | 'IN_PROGRESS' | 'UPDATE_FAILED';

/** Applies a rollout whose time has come; a failed one stays visible as pending_config. */
function settle(ep: Endpoint, now: number): void {
  const p = ep.pending;
  if (!p || now < p.settles_at) return;
  if (p.failure) {
    ep.last_failure = p.failure;
    return;
  }
  ep.config = p.config;
  ep.pending = undefined;
  ep.last_failure = undefined;
  ep.last_updated_timestamp = p.settles_at;
}

function updateStateOf(ep: Endpoint, now: number): UpdateState {
  if (!ep.pending) return 'NOT_UPDATING';
  if (now < ep.pending.settles_at) return 'IN_PROGRESS';
  return ep.pending.failure ? 'UPDATE_FAILED' : 'NOT_UPDATING';
}

const sameEntity = (a: ServedEntity, b: ServedEntity) =>
  a.name === b.name &&
  a.entity_name.toLowerCase() === b.entity_name.toLowerCase() &&
  a.entity_version === b.entity_version;

function renderEntity(e: ServedEntity, created: number, deployment: string, message: string) {
  const state = { deployment, deployment_state_message: message };
  const common = {
    name: e.name,
    workload_size: e.workload_size,
    workload_type: 'CPU',
    scale_to_zero_enabled: e.scale_to_zero_enabled,
    creator: SANDBOX_USER,
    creation_timestamp: created,
    state,
  };
  return {
    entity: { ...common, entity_name: e.entity_name, entity_version: e.entity_version },
    // GET mirrors served_entities as the deprecated served_models, like Databricks.
    model: { ...common, model_name: e.entity_name, model_version: e.entity_version },
  };
}

function renderConfig(
  config: EndpointConfig,
  created: number,
  stateOf: (e: ServedEntity) => { deployment: string; message: string },
) {
  const rendered = config.served_entities.map((e) => {
    const s = stateOf(e);
    return renderEntity(e, created, s.deployment, s.message);
  });
  return {
    config_version: config.config_version,
    served_entities: rendered.map((r) => r.entity),
    served_models: rendered.map((r) => r.model),
    traffic_config: { routes: config.traffic_config.routes.map((r) => ({ ...r })) },
  };
}

function renderEndpoint(ep: Endpoint, now: number, stagger = false) {
  settle(ep, now);
  const update = updateStateOf(ep, now);
  const live = ep.config;
  const json: Record<string, unknown> = {
    name: ep.name,
    id: ep.id,
    creator: ep.creator,
    creation_timestamp: ep.creation_timestamp,
    last_updated_timestamp: ep.last_updated_timestamp,
    state: { ready: live ? 'READY' : 'NOT_READY', config_update: update },
    permission_level: 'CAN_MANAGE',
    route_optimized: false,
  };
  if (live) {
    json.config = renderConfig(live, ep.last_updated_timestamp, () => ({
      deployment: 'DEPLOYMENT_READY',
      message: '',
    }));
  }
  const p = ep.pending;
  if (p) {
    const wasLive = (e: ServedEntity) => live?.served_entities.some((l) => sameEntity(l, e)) ?? false;
    const fresh = p.config.served_entities.filter((e) => !wasLive(e));
    // Staggered: the i-th new version of n is ready after (i+1)/(n+1) of the rollout, as
    // several new versions of a real rollout become ready one by one.
    const readyEarly = (e: ServedEntity) =>
      stagger &&
      now - p.started_at >= ((fresh.indexOf(e) + 1) * (p.settles_at - p.started_at)) / (fresh.length + 1);
    json.pending_config = {
      start_time: p.started_at,
      ...renderConfig(p.config, p.started_at, (e) => {
        if (wasLive(e)) return { deployment: 'DEPLOYMENT_READY', message: '' };
        if (update === 'UPDATE_FAILED') return { deployment: 'DEPLOYMENT_FAILED', message: p.failure ?? '' };
        if (readyEarly(e)) return { deployment: 'DEPLOYMENT_READY', message: '' };
        return {
          deployment: 'DEPLOYMENT_CREATING',
          message: 'Served entity creation is in progress. Check the build logs for details.',
        };
      }),
    };
  }
  if (ep.ai_gateway) json.ai_gateway = ep.ai_gateway;
  if (ep.tags.length > 0) json.tags = ep.tags;
  return json;
}

function renderSummary(ep: Endpoint, now: number) {
  settle(ep, now);
  const summary: Record<string, unknown> = {
    name: ep.name,
    id: ep.id,
    creator: ep.creator,
    creation_timestamp: ep.creation_timestamp,
    last_updated_timestamp: ep.last_updated_timestamp,
    state: { ready: ep.config ? 'READY' : 'NOT_READY', config_update: updateStateOf(ep, now) },
  };
  if (ep.config) {
    summary.config = {
      served_entities: ep.config.served_entities.map((e) => ({
        name: e.name,
        entity_name: e.entity_name,
        entity_version: e.entity_version,
      })),
    };
  }
  if (ep.tags.length > 0) summary.tags = ep.tags;
  return summary;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const invalid = (message: string): never => fail(400, 'INVALID_PARAMETER_VALUE', message);

/** Checks a config body the way Databricks does; returns it without a version number. */
function parseConfig(raw: unknown, ctx: TwinContext): Omit<EndpointConfig, 'config_version'> {
  if (!isObject(raw)) return invalid("The endpoint 'config' is required.");
  if (raw.served_models !== undefined) {
    invalid("'served_models' is deprecated and no longer accepted. Specify the models in 'served_entities'.");
  }
  if (raw.auto_capture_config !== undefined) {
    invalid(
      'Legacy inference tables (auto_capture_config) can no longer be enabled. Use AI Gateway inference tables instead.',
    );
  }
  const list = raw.served_entities;
  if (!Array.isArray(list) || list.length === 0) {
    return invalid("The endpoint config must contain at least one served entity in 'served_entities'.");
  }
  if (list.length > MAX_SERVED_ENTITIES) {
    invalid(
      `The number of served entities (${list.length}) exceeds the limit of ${MAX_SERVED_ENTITIES} served entities per endpoint.`,
    );
  }
  const entities = list.map((item): ServedEntity => {
    if (!isObject(item)) return invalid('Each served entity must be an object.');
    if (item.external_model !== undefined) invalid('External models are not supported in this workspace.');
    const entityName = item.entity_name;
    if (typeof entityName !== 'string' || entityName === '') return invalid("'entity_name' is required.");
    const version = item.entity_version;
    if (typeof version !== 'string') {
      return fail(
        400,
        'MALFORMED_REQUEST',
        `Invalid value for 'entity_version': expected a string, got ${JSON.stringify(version)}.`,
      );
    }
    const name = item.name ?? `${entityName.replace(/\./g, '_')}-${version}`;
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      invalid(
        `Served entity name '${String(name)}' is invalid. Names must be 1-63 characters long and contain only alphanumeric characters, '-' and '_'.`,
      );
    }
    const size = item.workload_size ?? 'Small';
    if (!WORKLOAD_SIZES.includes(size as WorkloadSize)) {
      invalid(`Invalid workload_size '${String(size)}'. Valid values are: ${WORKLOAD_SIZES.join(', ')}.`);
    }
    const scaleToZero = item.scale_to_zero_enabled ?? false;
    if (typeof scaleToZero !== 'boolean') invalid("'scale_to_zero_enabled' must be a boolean.");

    const model = ctx.state.models.get(entityName.toLowerCase());
    if (!model) {
      invalid(
        `Model '${entityName}' does not exist in Unity Catalog, or you do not have permission to access it.`,
      );
    }
    const mv = /^\d+$/.test(version) ? model?.versions.get(Number(version)) : undefined;
    if (!mv) invalid(`Version '${version}' of model '${entityName}' does not exist.`);
    if (mv && mv.status !== 'READY') {
      invalid(
        `Model version '${version}' of '${entityName}' is not ready to be served: its status is ${mv.status}. Only versions in status READY can be served.`,
      );
    }
    return {
      name: name as string,
      entity_name: entityName,
      entity_version: version,
      workload_size: size as WorkloadSize,
      scale_to_zero_enabled: scaleToZero as boolean,
    };
  });

  const names = new Set<string>();
  const pairs = new Set<string>();
  for (const e of entities) {
    if (names.has(e.name)) {
      invalid(`Served entity names must be unique within an endpoint; '${e.name}' is used more than once.`);
    }
    const pair = `${e.entity_name.toLowerCase()}@${e.entity_version}`;
    if (pairs.has(pair)) {
      invalid(
        `Served entity with entity_name '${e.entity_name}' and entity_version '${e.entity_version}' is specified more than once.`,
      );
    }
    names.add(e.name);
    pairs.add(pair);
  }

  const traffic = raw.traffic_config;
  if (traffic === undefined || (isObject(traffic) && traffic.routes === undefined)) {
    if (entities.length > 1) {
      invalid("'traffic_config' must be specified when the endpoint has more than one served entity.");
    }
    return {
      served_entities: entities,
      traffic_config: { routes: [{ served_model_name: entities[0]!.name, traffic_percentage: 100 }] },
    };
  }
  if (!isObject(traffic) || !Array.isArray(traffic.routes))
    return invalid("'traffic_config.routes' must be a list.");
  const routes = traffic.routes.map((r) => {
    if (!isObject(r)) return invalid('Each traffic route must be an object.');
    const target = r.served_model_name ?? r.served_entity_name;
    if (typeof target !== 'string' || !names.has(target)) {
      return invalid(
        `The traffic config route '${String(target)}' does not match any served entity. Valid served entity names are: ${[...names].join(', ')}.`,
      );
    }
    const pct = r.traffic_percentage;
    if (typeof pct !== 'number' || !Number.isInteger(pct) || pct < 0 || pct > 100) {
      return invalid(`The traffic percentage for '${target}' must be an integer between 0 and 100.`);
    }
    return { served_model_name: target, traffic_percentage: pct };
  });
  const routed = new Set<string>();
  for (const r of routes) {
    if (routed.has(r.served_model_name))
      invalid(`Served entity '${r.served_model_name}' has more than one route.`);
    routed.add(r.served_model_name);
  }
  const total = routes.reduce((s, r) => s + r.traffic_percentage, 0);
  if (total !== 100) {
    invalid(`The sum of traffic percentages across all routes must be 100, but got ${total}.`);
  }
  return { served_entities: entities, traffic_config: { routes } };
}

function parseInferenceTable(raw: unknown, endpoint: string): InferenceTableConfig {
  if (!isObject(raw) || typeof raw.enabled !== 'boolean') {
    return invalid("'inference_table_config.enabled' is required and must be a boolean.");
  }
  if (!raw.enabled) return { enabled: false };
  const catalog = raw.catalog_name;
  const schema = raw.schema_name;
  if (typeof catalog !== 'string' || catalog === '' || typeof schema !== 'string' || schema === '') {
    return invalid("'catalog_name' and 'schema_name' are required to enable the inference table.");
  }
  const prefix = raw.table_name_prefix ?? endpoint.replace(/-/g, '_');
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_]{1,63}$/.test(prefix)) {
    return invalid(
      `'table_name_prefix' '${String(prefix)}' is invalid. It must be at most 63 characters of letters, digits and '_'.`,
    );
  }
  return { enabled: true, catalog_name: catalog, schema_name: schema, table_name_prefix: prefix };
}

/** Why a rollout of `config` onto `ep` will fail, if it will: planned by a test, or a broken version. */
function failureFor(ctx: TwinContext, endpoint: string, config: EndpointConfig, live?: EndpointConfig) {
  const planned = plannedFailures.get(ctx.state)?.get(endpoint);
  if (planned !== undefined) {
    plannedFailures.get(ctx.state)?.delete(endpoint);
    return planned;
  }
  for (const e of config.served_entities) {
    if (live?.served_entities.some((l) => sameEntity(l, e))) continue;
    const comment = ctx.state.models
      .get(e.entity_name.toLowerCase())
      ?.versions.get(Number(e.entity_version))?.comment;
    const m = comment ? FAILS_TO_BUILD.exec(comment) : null;
    if (m) {
      return `Container image build failed for served entity '${e.name}': ${m[1]?.trim() || 'pip could not install the model dependencies'}. See the build logs for details.`;
    }
  }
  return undefined;
}

function startRollout(ctx: TwinContext, ep: Endpoint, parsed: Omit<EndpointConfig, 'config_version'>): void {
  const now = ctx.clock.now();
  const version = Math.max(ep.config?.config_version ?? 0, ep.pending?.config.config_version ?? 0) + 1;
  const config: EndpointConfig = { ...parsed, config_version: version };
  const failure = failureFor(ctx, ep.name, config, ep.config);
  ep.pending = {
    config,
    started_at: now,
    settles_at: now + ctx.rolloutDelayMs,
    ...(failure !== undefined ? { failure } : {}),
  };
  ep.last_updated_timestamp = now;
}

function endpointOr404(ctx: TwinContext, name: string): Endpoint {
  const ep = ctx.state.endpoints.get(name);
  if (!ep) return fail(404, 'RESOURCE_DOES_NOT_EXIST', `Endpoint with name '${name}' does not exist.`);
  settle(ep, ctx.clock.now());
  return ep;
}

async function invoke(ctx: TwinContext, req: TwinRequest, onlyServed?: string) {
  const name = req.params.name!;
  const declared = Number(req.headers['content-length']);
  const size = Number.isFinite(declared) ? declared : Buffer.byteLength(JSON.stringify(req.body ?? null));
  if (size > MAX_REQUEST_BYTES) {
    fail(400, 'BAD_REQUEST', `Request size ${size} bytes exceeds the maximum allowed payload size of 16 MB.`);
  }
  const ep = endpointOr404(ctx, name);
  const live = ep.config;
  if (!live) {
    return fail(
      503,
      'TEMPORARILY_UNAVAILABLE',
      `Endpoint '${name}' is not ready: its first configuration is still being deployed or failed to deploy.`,
    );
  }
  const started = ctx.clock.now();
  const records = recordsOf(req.body);
  let served = onlyServed;
  if (served === undefined) {
    const picker = pickers.get(ep) ?? new TrafficPicker();
    pickers.set(ep, picker);
    served = picker.pick(live);
  }
  const entity = live.served_entities.find((e) => e.name === served);
  if (!entity)
    return fail(404, 'RESOURCE_DOES_NOT_EXIST', `Served entity '${served}' does not exist on '${name}'.`);
  const mv = ctx.state.models
    .get(entity.entity_name.toLowerCase())
    ?.versions.get(Number(entity.entity_version));
  const bias = mv?.behaviour?.bias ?? 0;
  // The fault knob: every request whose running share crosses errorRate answers 500 (deterministic).
  const errorRate = mv?.behaviour?.errorRate ?? 0;
  const counts = answered.get(ep) ?? new Map<string, number>();
  answered.set(ep, counts);
  const served_n = (counts.get(entity.name) ?? 0) + 1;
  counts.set(entity.name, served_n);
  const failing = errorRate > 0 && Math.floor(served_n * errorRate) > Math.floor((served_n - 1) * errorRate);
  const predictions = failing ? [] : records.map((r) => churnScore(r, bias));
  const response = failing
    ? { error_code: 'INTERNAL_ERROR', message: `Model ${entity.name} failed to score the request.` }
    : { predictions };
  const body = req.body as Record<string, unknown>;
  const record: InferenceRecord = {
    endpoint: name,
    servedEntity: entity.name,
    entityName: entity.entity_name,
    entityVersion: entity.entity_version,
    request: req.body,
    response,
    statusCode: failing ? 500 : 200,
    // A deterministic stand-in for model latency, plus the version's latency knob.
    executionMs: 3 + records.length + (mv?.behaviour?.latencyMs ?? 0),
    at: new Date(started),
    requestId: randomUUID(),
    ...(typeof body.client_request_id === 'string' ? { clientRequestId: body.client_request_id } : {}),
  };
  try {
    await ctx.onInference?.(record);
  } catch {
    // Payload logging is best effort in Databricks too: a logging failure does not fail the query.
  }
  if (failing) fail(500, 'INTERNAL_ERROR', `Model ${entity.name} failed to score the request.`);
  return {
    body: response,
    headers: { 'served-model-name': entity.name },
  };
}

/** Requests answered per served entity name, for the deterministic error-rate knob. */
const answered = new WeakMap<Endpoint, Map<string, number>>();

/** Model Serving routes of the workspace twin. */
export function registerServingRoutes(router: Router, ctx: TwinContext): void {
  const now = () => ctx.clock.now();

  router.add('GET', BASE, () => {
    const endpoints = [...ctx.state.endpoints.values()].map((ep) => renderSummary(ep, now()));
    // Proto JSON leaves out an empty list.
    return { body: endpoints.length > 0 ? { endpoints } : {} };
  });

  // The query schema in OpenAPI form, from the served model version's input signature
  // (docs: GET /api/2.0/serving-endpoints/{name}/openapi; the exact document is a guess).
  router.add('GET', `${BASE}/:name/openapi`, (req) => {
    const ep = endpointOr404(ctx, req.params.name!);
    const entity = ep.config?.served_entities[0];
    const model = entity ? ctx.state.models.get(entity.entity_name) : undefined;
    const signature = model?.versions.get(Number(entity?.entity_version))?.signature;
    if (!entity || !signature) {
      return fail(
        400,
        'INVALID_PARAMETER_VALUE',
        `Endpoint ${ep.name} serves no model with an input signature.`,
      );
    }
    const openApiType = (t: string) =>
      t === 'double'
        ? { type: 'number', format: 'double' }
        : t === 'long' || t === 'integer'
          ? { type: 'integer', format: t === 'long' ? 'int64' : 'int32' }
          : { type: t };
    const record = {
      type: 'object',
      properties: Object.fromEntries(
        signature.map((c) => [
          c.name,
          { ...openApiType(c.type), ...(c.example !== undefined ? { example: c.example } : {}) },
        ]),
      ),
      required: signature.map((c) => c.name),
    };
    const doc = {
      openapi: '3.1.0',
      info: {
        title: `Databricks Model Serving endpoint ${ep.name}`,
        version: String(ep.config?.config_version ?? 1),
      },
      paths: {
        [`/serving-endpoints/${ep.name}/invocations`]: {
          post: {
            requestBody: {
              content: {
                'application/json': {
                  schema: {
                    oneOf: [
                      { type: 'object', properties: { dataframe_records: { type: 'array', items: record } } },
                      {
                        type: 'object',
                        properties: {
                          dataframe_split: {
                            type: 'object',
                            properties: {
                              columns: { type: 'array', items: { enum: signature.map((c) => c.name) } },
                              data: { type: 'array', items: { type: 'array' } },
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
    return { body: doc };
  });

  router.add('GET', `${BASE}/:name`, (req) => ({
    body: renderEndpoint(endpointOr404(ctx, req.params.name!), now(), ctx.rolloutStagger),
  }));

  router.add('POST', BASE, (req) => {
    const body = req.body;
    if (!isObject(body)) return invalid('The request body must be a JSON object.');
    const name = body.name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      return invalid(
        `Endpoint name '${String(name ?? '')}' is invalid. Names must be 1-63 characters long and contain only alphanumeric characters, '-' and '_'.`,
      );
    }
    if (ctx.state.endpoints.has(name)) {
      fail(409, 'RESOURCE_ALREADY_EXISTS', `Endpoint with name '${name}' already exists.`);
    }
    const parsed = parseConfig(body.config, ctx);
    let inferenceTable: InferenceTableConfig | undefined;
    if (isObject(body.ai_gateway) && body.ai_gateway.inference_table_config !== undefined) {
      inferenceTable = parseInferenceTable(body.ai_gateway.inference_table_config, name);
    }
    const tags = Array.isArray(body.tags)
      ? body.tags.filter(isObject).map((t) => ({
          key: String(t.key),
          ...(t.value !== undefined ? { value: String(t.value) } : {}),
        }))
      : [];
    const t = now();
    ctx.state.counters.endpoint++;
    const ep: Endpoint = {
      name,
      id: randomUUID().replace(/-/g, ''),
      creator: SANDBOX_USER,
      creation_timestamp: t,
      last_updated_timestamp: t,
      tags,
      ...(isObject(body.ai_gateway)
        ? {
            ai_gateway: {
              ...body.ai_gateway,
              ...(inferenceTable ? { inference_table_config: inferenceTable } : {}),
            },
          }
        : {}),
    };
    startRollout(ctx, ep, parsed);
    ctx.state.endpoints.set(name, ep);
    return { body: renderEndpoint(ep, now(), ctx.rolloutStagger) };
  });

  router.add('PUT', `${BASE}/:name/config`, (req) => {
    const ep = endpointOr404(ctx, req.params.name!);
    if (updateStateOf(ep, now()) === 'IN_PROGRESS') {
      fail(
        409,
        'RESOURCE_CONFLICT',
        `Endpoint ${ep.name} is currently updating. Please wait until the current update finishes before updating the endpoint again.`,
      );
    }
    startRollout(ctx, ep, parseConfig(req.body, ctx));
    return { body: renderEndpoint(ep, now(), ctx.rolloutStagger) };
  });

  router.add('PUT', `${BASE}/:name/ai-gateway`, (req) => {
    const ep = endpointOr404(ctx, req.params.name!);
    const body = req.body;
    if (!isObject(body)) return invalid('The request body must be a JSON object.');
    const gateway: Record<string, unknown> = { ...body };
    if (body.inference_table_config !== undefined) {
      const next = parseInferenceTable(body.inference_table_config, ep.name);
      const prev = ep.ai_gateway?.inference_table_config;
      const moved =
        prev?.catalog_name !== next.catalog_name ||
        prev?.schema_name !== next.schema_name ||
        prev?.table_name_prefix !== next.table_name_prefix;
      if (prev?.enabled && next.enabled && moved) {
        invalid(
          'Inference table is already enabled for this endpoint. Disable it first before changing the catalog, schema or table name prefix.',
        );
      }
      // A disabled config keeps the last location, like Databricks shows it.
      gateway.inference_table_config = next.enabled ? next : { ...prev, enabled: false };
    }
    ep.ai_gateway = gateway;
    ep.last_updated_timestamp = now();
    return { body: gateway };
  });

  router.add('DELETE', `${BASE}/:name`, (req) => {
    const ep = endpointOr404(ctx, req.params.name!);
    ctx.state.endpoints.delete(ep.name);
    return { body: {} };
  });

  router.add('POST', '/serving-endpoints/:name/invocations', (req) => invoke(ctx, req));
  router.add('POST', '/serving-endpoints/:name/served-models/:served/invocations', (req) =>
    invoke(ctx, req, req.params.served),
  );
}
