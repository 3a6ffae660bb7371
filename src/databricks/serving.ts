import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import {
  DatabricksApiError,
  type DatabricksHttp,
  type DatabricksRequest,
  DatabricksTransportError,
  seg,
} from './http.js';

// ---------------------------------------------------------------------------------------------
// Domain types: what the rest of the app sees. No REST JSON leaves this file.
// ---------------------------------------------------------------------------------------------

export type WorkloadSize = 'Small' | 'Medium' | 'Large';
export type UpdateState =
  | 'NOT_UPDATING'
  | 'IN_PROGRESS'
  | 'UPDATE_FAILED'
  | 'UPDATE_CANCELED'
  | (string & {});

/** One model version deployed on an endpoint ("served entity" in Databricks' words). */
export interface ServedVersion {
  /** The served entity name that traffic routes and the `served-model-name` header refer to. */
  name: string;
  /** Unity Catalog full name, e.g. main.ml.churn_model. */
  modelName: string;
  modelVersion: string;
  workloadSize: WorkloadSize;
  scaleToZero: boolean;
  /** Deployment state, e.g. DEPLOYMENT_READY, DEPLOYMENT_CREATING, DEPLOYMENT_FAILED. */
  state?: string;
  /** Databricks' explanation of the deployment state (the reason when it failed). */
  stateMessage?: string;
}

export interface TrafficRoute {
  servedName: string;
  percent: number;
}

export interface EndpointConfig {
  servedVersions: ServedVersion[];
  traffic: TrafficRoute[];
  configVersion?: number;
}

export interface InferenceTable {
  enabled: boolean;
  catalog?: string;
  schema?: string;
  tablePrefix?: string;
  /** `<catalog>.<schema>.<prefix>_payload`, where requests and responses land. */
  payloadTable?: string;
}

export interface Endpoint {
  name: string;
  id?: string;
  /** The live config answers queries (READY). */
  ready: boolean;
  /** A rollout is running (`updateState === 'IN_PROGRESS'`). */
  updating: boolean;
  updateState: UpdateState;
  /** The live config; absent until the endpoint has deployed once. */
  current?: EndpointConfig;
  /** The config being rolled out, or the one that just failed to roll out. */
  pending?: EndpointConfig;
  /** Databricks' reason when `updateState` is UPDATE_FAILED or UPDATE_CANCELED. */
  failureReason?: string;
  creator?: string;
  createdAt?: Date;
  updatedAt?: Date;
  inferenceTable?: InferenceTable;
}

/** What the list call knows: no traffic split, served versions reduced to their names. */
export interface EndpointSummary {
  name: string;
  ready: boolean;
  updating: boolean;
  updateState: UpdateState;
  creator?: string;
  servedVersions: Array<Pick<ServedVersion, 'name' | 'modelName' | 'modelVersion'>>;
}

/** A served version as a caller asks for it; the name defaults to `servedNameFor(model, version)`. */
export interface ServedVersionInput {
  name?: string;
  modelName: string;
  modelVersion: string | number;
  workloadSize?: WorkloadSize;
  scaleToZero?: boolean;
}

export interface EndpointConfigInput {
  servedVersions: ServedVersionInput[];
  /** May be left out when there is a single served version (it then gets 100 %). */
  traffic?: TrafficRoute[];
}

export interface CreateEndpointInput {
  name: string;
  config: EndpointConfigInput;
  inferenceTable?: InferenceTableInput;
  tags?: Record<string, string>;
}

export type InferenceTableInput =
  | { enabled: true; catalog: string; schema: string; tablePrefix: string }
  | { enabled: false };

export type QueryInput =
  | { records: Array<Record<string, unknown>>; clientRequestId?: string }
  | { split: { columns: string[]; data: unknown[][]; index?: unknown[] }; clientRequestId?: string };

export interface QueryResult {
  predictions: unknown[];
  /** Served entity that answered (the `served-model-name` header); map it to a version with the config. */
  servedName?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** Model Serving as the app sees it. */
export interface Serving {
  list(options?: CallOptions): Promise<EndpointSummary[]>;
  get(name: string, options?: CallOptions): Promise<Endpoint>;
  /** Starts the first rollout; the endpoint comes back IN_PROGRESS. */
  create(input: CreateEndpointInput, options?: CallOptions): Promise<Endpoint>;
  /** Replaces the whole config (served versions and traffic); starts a rollout. */
  updateConfig(name: string, config: EndpointConfigInput, options?: CallOptions): Promise<Endpoint>;
  query(name: string, input: QueryInput, options?: CallOptions): Promise<QueryResult>;
  /** Turns AI-gateway inference tables on or off; other AI-gateway settings are kept. */
  setInferenceTable(name: string, table: InferenceTableInput, options?: CallOptions): Promise<InferenceTable>;
}

// ---------------------------------------------------------------------------------------------
// Limits and pure helpers
// ---------------------------------------------------------------------------------------------

export const MAX_SERVED_VERSIONS = 10;
export const MAX_QUERY_BYTES = 16 * 1024 * 1024;
const NAME_RE = /^[A-Za-z0-9_-]{1,63}$/;
const WORKLOAD_SIZES: readonly string[] = ['Small', 'Medium', 'Large'];

/**
 * The served entity name modelgate gives a model version: short model name, sanitised, `-<version>`.
 *
 * @example servedNameFor('main.ml.churn_model', 3) // 'churn_model-3'
 */
export function servedNameFor(modelFullName: string, version: string | number): string {
  const suffix = `-${String(version).replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const short = (modelFullName.split('.').pop() ?? '').replace(/[^A-Za-z0-9_-]/g, '_') || 'model';
  return `${short.slice(0, 63 - suffix.length)}${suffix}`;
}

/**
 * Checks a config before it is sent and returns it with every name and route explicit: names default
 * to `servedNameFor`, and a served version without a route gets a 0 % route (keeps it warm).
 * Throws UserError with a hint on anything Databricks would refuse.
 *
 * @example normaliseConfig({ servedVersions: [{ modelName: 'main.ml.churn', modelVersion: 3 }] })
 */
export function normaliseConfig(input: EndpointConfigInput): EndpointConfig {
  const versions = input.servedVersions;
  if (versions.length === 0) {
    throw new UserError('invalid_config', 'A config needs at least one served model version.');
  }
  if (versions.length > MAX_SERVED_VERSIONS) {
    throw new UserError(
      'too_many_versions',
      `An endpoint can serve at most ${MAX_SERVED_VERSIONS} versions; this config has ${versions.length}.`,
      'Drop the versions that get 0 % of the traffic.',
    );
  }
  const servedVersions: ServedVersion[] = versions.map((v) => {
    const modelVersion = String(v.modelVersion).trim();
    if (!/^\d+$/.test(modelVersion)) {
      throw new UserError(
        'invalid_version',
        `"${modelVersion}" is not a model version number.`,
        'Use the number shown in the registry, e.g. 3.',
      );
    }
    if (!v.modelName.trim()) throw new UserError('invalid_config', 'A served version needs a model name.');
    const name = v.name ?? servedNameFor(v.modelName, modelVersion);
    checkName(name, 'served version');
    return {
      name,
      modelName: v.modelName,
      modelVersion,
      workloadSize: v.workloadSize ?? 'Small',
      scaleToZero: v.scaleToZero ?? false,
    };
  });
  const names = new Set<string>();
  const pairs = new Set<string>();
  for (const v of servedVersions) {
    if (names.has(v.name)) {
      throw new UserError(
        'duplicate_served_name',
        `Two served versions are both called "${v.name}".`,
        'Give each served version its own name.',
      );
    }
    const pair = `${v.modelName.toLowerCase()}@${v.modelVersion}`;
    if (pairs.has(pair)) {
      throw new UserError(
        'duplicate_version',
        `Version ${v.modelVersion} of ${v.modelName} appears twice in the config.`,
        'List each model version once.',
      );
    }
    names.add(v.name);
    pairs.add(pair);
  }

  const only = servedVersions[0]!;
  const given =
    input.traffic ?? (servedVersions.length === 1 ? [{ servedName: only.name, percent: 100 }] : []);
  if (given.length === 0) {
    throw new UserError(
      'invalid_traffic',
      'With more than one served version the traffic split must be given.',
      `Say how to split it, e.g. ${servedVersions.map((v) => `${v.name}=${Math.floor(100 / servedVersions.length)}`).join(' ')} (adding up to 100).`,
    );
  }
  const routed = new Set<string>();
  for (const r of given) {
    if (!names.has(r.servedName)) {
      throw new UserError(
        'invalid_traffic',
        `The traffic split names "${r.servedName}", which is not a served version of this config.`,
        `Route traffic only to: ${[...names].join(', ')}.`,
      );
    }
    if (routed.has(r.servedName)) {
      throw new UserError(
        'invalid_traffic',
        `"${r.servedName}" has two traffic routes.`,
        'Give it one route.',
      );
    }
    if (!Number.isInteger(r.percent) || r.percent < 0 || r.percent > 100) {
      throw new UserError(
        'invalid_traffic',
        `${r.percent} % for "${r.servedName}" is not a whole percentage between 0 and 100.`,
      );
    }
    routed.add(r.servedName);
  }
  const total = given.reduce((s, r) => s + r.percent, 0);
  if (total !== 100) {
    throw new UserError(
      'invalid_traffic',
      `The traffic split adds up to ${total} %, not 100 %.`,
      'Adjust the percentages so they add up to exactly 100.',
    );
  }
  const traffic = [
    ...given.map((r) => ({ servedName: r.servedName, percent: r.percent })),
    ...servedVersions.filter((v) => !routed.has(v.name)).map((v) => ({ servedName: v.name, percent: 0 })),
  ];
  return { servedVersions, traffic };
}

function checkName(name: string, what: string): void {
  if (!NAME_RE.test(name)) {
    throw new UserError(
      'invalid_name',
      `"${name}" is not a valid ${what} name.`,
      'Use 1–63 letters, digits, "-" or "_".',
    );
  }
}

/** Whether two configs deploy the same versions with the same settings and split (order ignored). */
export function sameConfig(a: EndpointConfig, b: EndpointConfig): boolean {
  const versions = (c: EndpointConfig) =>
    c.servedVersions
      .map((v) =>
        [v.name, v.modelName.toLowerCase(), v.modelVersion, v.workloadSize, v.scaleToZero].join('|'),
      )
      .sort()
      .join(',');
  // A route of 0 % and no route at all mean the same thing.
  const routes = (c: EndpointConfig) =>
    c.traffic
      .filter((r) => r.percent > 0)
      .map((r) => `${r.servedName}=${r.percent}`)
      .sort()
      .join(',');
  return versions(a) === versions(b) && routes(a) === routes(b);
}

function toConfigJson(config: EndpointConfig) {
  return {
    served_entities: config.servedVersions.map((v) => ({
      name: v.name,
      entity_name: v.modelName,
      entity_version: v.modelVersion,
      workload_size: v.workloadSize,
      scale_to_zero_enabled: v.scaleToZero,
    })),
    traffic_config: {
      routes: config.traffic.map((r) => ({ served_model_name: r.servedName, traffic_percentage: r.percent })),
    },
  };
}

function toInferenceTableJson(t: InferenceTableInput) {
  if (!t.enabled) return { enabled: false };
  for (const [key, value] of [
    ['catalog', t.catalog],
    ['schema', t.schema],
  ] as const) {
    if (!value.trim()) throw new UserError('invalid_inference_table', `The inference table needs a ${key}.`);
  }
  if (!/^[A-Za-z0-9_]{1,63}$/.test(t.tablePrefix)) {
    throw new UserError(
      'invalid_inference_table',
      `"${t.tablePrefix}" is not a valid table name prefix.`,
      'Use 1–63 letters, digits or "_".',
    );
  }
  return { enabled: true, catalog_name: t.catalog, schema_name: t.schema, table_name_prefix: t.tablePrefix };
}

// ---------------------------------------------------------------------------------------------
// REST JSON schemas (loose: new fields and new enum values do no harm)
// ---------------------------------------------------------------------------------------------

const timestampSchema = z.number().optional();

const servedEntitySchema = z.looseObject({
  name: z.string(),
  entity_name: z.string().optional(),
  entity_version: z.union([z.string(), z.number()]).optional(),
  // Deprecated served_models carry these instead.
  model_name: z.string().optional(),
  model_version: z.union([z.string(), z.number()]).optional(),
  workload_size: z.string().optional(),
  max_provisioned_concurrency: z.number().optional(),
  scale_to_zero_enabled: z.boolean().optional(),
  state: z
    .looseObject({ deployment: z.string().optional(), deployment_state_message: z.string().optional() })
    .optional(),
});
type ServedEntityJson = z.infer<typeof servedEntitySchema>;

const configSchema = z.looseObject({
  config_version: z.number().optional(),
  served_entities: z.array(servedEntitySchema).optional(),
  served_models: z.array(servedEntitySchema).optional(),
  traffic_config: z
    .looseObject({
      routes: z
        .array(
          z.looseObject({
            served_model_name: z.string().optional(),
            served_entity_name: z.string().optional(),
            traffic_percentage: z.number().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});
type ConfigJson = z.infer<typeof configSchema>;

const inferenceTableSchema = z.looseObject({
  enabled: z.boolean().optional(),
  catalog_name: z.string().optional(),
  schema_name: z.string().optional(),
  table_name_prefix: z.string().optional(),
});
type InferenceTableJson = z.infer<typeof inferenceTableSchema>;

const aiGatewaySchema = z.looseObject({ inference_table_config: inferenceTableSchema.optional() });

const stateSchema = z
  .looseObject({ ready: z.string().optional(), config_update: z.string().optional() })
  .optional();

const endpointSchema = z.looseObject({
  name: z.string(),
  id: z.string().optional(),
  creator: z.string().optional(),
  creation_timestamp: timestampSchema,
  last_updated_timestamp: timestampSchema,
  state: stateSchema,
  config: configSchema.optional(),
  pending_config: configSchema.optional(),
  ai_gateway: aiGatewaySchema.optional(),
});
type EndpointJson = z.infer<typeof endpointSchema>;

// An empty list comes back as {}: proto JSON leaves out empty repeated fields.
const listSchema = z.looseObject({
  endpoints: z
    .array(
      z.looseObject({
        name: z.string(),
        creator: z.string().optional(),
        state: stateSchema,
        config: z.looseObject({ served_entities: z.array(servedEntitySchema).optional() }).optional(),
      }),
    )
    .optional()
    .default([]),
});

const queryResponseSchema = z.looseObject({
  predictions: z.array(z.unknown()),
});

// ---------------------------------------------------------------------------------------------
// JSON → domain
// ---------------------------------------------------------------------------------------------

/** "Unix time" in the docs: seconds or milliseconds depending on the API; tell them apart by size. */
function toDate(t: number | undefined): Date | undefined {
  if (t === undefined) return undefined;
  return new Date(t < 1e11 ? t * 1000 : t);
}

function toWorkloadSize(e: ServedEntityJson): WorkloadSize {
  if (e.workload_size && WORKLOAD_SIZES.includes(e.workload_size)) return e.workload_size as WorkloadSize;
  // Provisioned-concurrency entities have no size; pick the size with the same ceiling.
  const max = e.max_provisioned_concurrency;
  if (max === undefined || max <= 4) return 'Small';
  return max <= 16 ? 'Medium' : 'Large';
}

function toServedVersion(e: ServedEntityJson): ServedVersion {
  const v: ServedVersion = {
    name: e.name,
    modelName: e.entity_name ?? e.model_name ?? '',
    modelVersion: String(e.entity_version ?? e.model_version ?? ''),
    workloadSize: toWorkloadSize(e),
    scaleToZero: e.scale_to_zero_enabled ?? false,
  };
  if (e.state?.deployment) v.state = e.state.deployment;
  if (e.state?.deployment_state_message) v.stateMessage = e.state.deployment_state_message;
  return v;
}

function toConfig(c: ConfigJson): EndpointConfig {
  // GET can carry both arrays mirroring each other; served_entities is the current one.
  const entities = c.served_entities ?? c.served_models ?? [];
  const config: EndpointConfig = {
    servedVersions: entities.map(toServedVersion),
    traffic: (c.traffic_config?.routes ?? []).map((r) => ({
      servedName: r.served_model_name ?? r.served_entity_name ?? '',
      percent: r.traffic_percentage ?? 0,
    })),
  };
  if (c.config_version !== undefined) config.configVersion = c.config_version;
  return config;
}

function toInferenceTable(t: InferenceTableJson): InferenceTable {
  const table: InferenceTable = { enabled: t.enabled ?? false };
  if (t.catalog_name) table.catalog = t.catalog_name;
  if (t.schema_name) table.schema = t.schema_name;
  if (t.table_name_prefix) table.tablePrefix = t.table_name_prefix;
  if (t.catalog_name && t.schema_name && t.table_name_prefix) {
    table.payloadTable = `${t.catalog_name}.${t.schema_name}.${t.table_name_prefix}_payload`;
  }
  return table;
}

function failureReasonOf(updateState: string, current?: EndpointConfig, pending?: EndpointConfig) {
  if (updateState !== 'UPDATE_FAILED' && updateState !== 'UPDATE_CANCELED') return undefined;
  const all = [...(pending?.servedVersions ?? []), ...(current?.servedVersions ?? [])];
  const failed = all.find((v) => v.state === 'DEPLOYMENT_FAILED' && v.stateMessage);
  const any = failed ?? all.find((v) => v.state !== 'DEPLOYMENT_READY' && v.stateMessage);
  if (any?.stateMessage) return `${any.name}: ${any.stateMessage}`;
  return updateState === 'UPDATE_CANCELED'
    ? 'the update was canceled'
    : 'Databricks reports UPDATE_FAILED without a reason; see the build logs of the new served versions';
}

/** Maps the endpoint JSON of GET/POST/PUT to the domain type. */
export function toEndpoint(json: EndpointJson): Endpoint {
  const updateState = json.state?.config_update ?? 'NOT_UPDATING';
  const ep: Endpoint = {
    name: json.name,
    ready: json.state?.ready === 'READY',
    updating: updateState === 'IN_PROGRESS',
    updateState,
  };
  if (json.id) ep.id = json.id;
  if (json.config) ep.current = toConfig(json.config);
  if (json.pending_config) ep.pending = toConfig(json.pending_config);
  const reason = failureReasonOf(updateState, ep.current, ep.pending);
  if (reason) ep.failureReason = reason;
  if (json.creator) ep.creator = json.creator;
  const createdAt = toDate(json.creation_timestamp);
  if (createdAt) ep.createdAt = createdAt;
  const updatedAt = toDate(json.last_updated_timestamp);
  if (updatedAt) ep.updatedAt = updatedAt;
  const it = json.ai_gateway?.inference_table_config;
  if (it) ep.inferenceTable = toInferenceTable(it);
  return ep;
}

// ---------------------------------------------------------------------------------------------
// Errors → UserError where the user can act
// ---------------------------------------------------------------------------------------------

function notFound(name: string): UserError {
  return new UserError(
    'endpoint_not_found',
    `No serving endpoint called "${name}".`,
    'Run `/mlops status` to list the endpoints, or check the spelling.',
  );
}

export function rolloutInProgress(name: string): UserError {
  return new UserError(
    'rollout_in_progress',
    `A rollout is already in progress on ${name}.`,
    `Wait for it to finish (\`/mlops status ${name}\`), then try again.`,
  );
}

/** The user-facing form of the errors of endpoint-scoped calls; anything else is rethrown as is. */
function mapError(e: unknown, name: string, action: string): never {
  if (e instanceof DatabricksApiError) {
    if (e.status === 404) throw notFound(name);
    if (e.status === 403) {
      throw new UserError(
        'permission_denied',
        `Databricks refused to ${action} ${name}: ${e.message}`,
        'The bot’s principal needs CAN MANAGE (or CAN QUERY for queries) on the endpoint.',
      );
    }
    if (e.status === 400) {
      throw new UserError(
        'serving_rejected',
        `Databricks refused to ${action} ${name}: ${e.message}`,
        'Fix the request and try again.',
      );
    }
  }
  throw e;
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

/**
 * The production Model Serving client. Every call validates its input before sending and its
 * answer after receiving; errors a user can fix come back as UserError.
 *
 * @example
 * const serving = createServingClient(createDatabricksHttp({ host, tokens }));
 * await serving.updateConfig('churn', { servedVersions: [{ modelName: 'main.ml.churn', modelVersion: 4 }] });
 */
export function createServingClient(http: DatabricksHttp): Serving {
  const base = '/api/2.0/serving-endpoints';

  async function get(name: string, options: CallOptions = {}): Promise<Endpoint> {
    checkName(name, 'endpoint');
    try {
      const json = await http.request({
        method: 'GET',
        path: `${base}/${seg(name)}`,
        schema: endpointSchema,
        ...signalOf(options),
      });
      return toEndpoint(json);
    } catch (e) {
      return mapError(e, name, 'read');
    }
  }

  /** Where a config we asked for now lives on the endpoint: pending while rolling out, else current. */
  function holds(ep: Endpoint, config: EndpointConfig): boolean {
    return [ep.pending, ep.current].some((c) => c !== undefined && sameConfig(c, config));
  }

  return {
    async list(options = {}) {
      const json = await http.request({
        method: 'GET',
        path: base,
        schema: listSchema,
        ...signalOf(options),
      });
      return json.endpoints.map((e) => {
        const updateState = e.state?.config_update ?? 'NOT_UPDATING';
        const summary: EndpointSummary = {
          name: e.name,
          ready: e.state?.ready === 'READY',
          updating: updateState === 'IN_PROGRESS',
          updateState,
          servedVersions: (e.config?.served_entities ?? []).map((s) => {
            const v = toServedVersion(s);
            return { name: v.name, modelName: v.modelName, modelVersion: v.modelVersion };
          }),
        };
        if (e.creator) summary.creator = e.creator;
        return summary;
      });
    },

    get,

    async create(input, options = {}) {
      checkName(input.name, 'endpoint');
      const config = normaliseConfig(input.config);
      const body: Record<string, unknown> = { name: input.name, config: toConfigJson(config) };
      if (input.inferenceTable) {
        body.ai_gateway = { inference_table_config: toInferenceTableJson(input.inferenceTable) };
      }
      if (input.tags) body.tags = Object.entries(input.tags).map(([key, value]) => ({ key, value }));
      try {
        const json = await http.request({
          method: 'POST',
          path: base,
          body,
          schema: endpointSchema,
          ...signalOf(options),
        });
        return toEndpoint(json);
      } catch (e) {
        if (e instanceof DatabricksApiError && e.status === 409) {
          // Maybe our own earlier attempt (its answer was lost): same config means it is done.
          const existing = await get(input.name, options);
          if (holds(existing, config)) return existing;
          throw new UserError(
            'endpoint_exists',
            `An endpoint called "${input.name}" already exists with a different config.`,
            `Pick another name, or change it with \`/mlops deploy ${input.name} …\`.`,
          );
        }
        if (e instanceof DatabricksTransportError && e.kind !== 'aborted') {
          throw new UserError(
            'create_outcome_unknown',
            `Lost the answer while creating endpoint "${input.name}" (${e.message}); it may or may not exist now.`,
            `Check with \`/mlops status ${input.name}\`, or simply retry: an identical endpoint is recognised.`,
          );
        }
        if (e instanceof DatabricksApiError && e.status === 404) {
          throw new UserError('model_not_found', `Databricks refused to create ${input.name}: ${e.message}`);
        }
        return mapError(e, input.name, 'create');
      }
    },

    async updateConfig(name, input, options = {}) {
      checkName(name, 'endpoint');
      const config = normaliseConfig(input);
      try {
        const json = await http.request({
          method: 'PUT',
          path: `${base}/${seg(name)}/config`,
          body: toConfigJson(config),
          schema: endpointSchema,
          ...signalOf(options),
        });
        return toEndpoint(json);
      } catch (e) {
        if (e instanceof DatabricksApiError && e.status === 409) {
          // A retry answered 409 after the first attempt's answer was lost: that attempt was accepted.
          if (e.attempts > 1) {
            const ep = await get(name, options);
            if (ep.pending && sameConfig(ep.pending, config)) return ep;
          }
          throw rolloutInProgress(name);
        }
        return mapError(e, name, 'update');
      }
    },

    async query(name, input, options = {}) {
      checkName(name, 'endpoint');
      const body: Record<string, unknown> =
        'records' in input ? { dataframe_records: input.records } : { dataframe_split: input.split };
      if (input.clientRequestId) body.client_request_id = input.clientRequestId;
      const size = Buffer.byteLength(JSON.stringify(body));
      if (size > MAX_QUERY_BYTES) {
        throw new UserError(
          'payload_too_large',
          `The query is ${(size / 1024 / 1024).toFixed(1)} MB; Model Serving accepts at most 16 MB.`,
          'Send fewer records per query.',
        );
      }
      let header: string | undefined;
      const req: DatabricksRequest<z.infer<typeof queryResponseSchema>> = {
        method: 'POST',
        path: `/serving-endpoints/${seg(name)}/invocations`,
        body,
        schema: queryResponseSchema,
        onResponseHeaders: (h) => {
          header = h.get('served-model-name') ?? undefined;
        },
        ...signalOf(options),
      };
      try {
        const json = await http.request(req);
        const result: QueryResult = { predictions: json.predictions };
        if (header) result.servedName = header;
        return result;
      } catch (e) {
        if (e instanceof DatabricksApiError && e.status === 503) {
          throw new UserError(
            'endpoint_not_ready',
            `Endpoint ${name} is not ready to answer queries: ${e.message}`,
            `Check its state with \`/mlops status ${name}\` and try again once it is READY.`,
          );
        }
        return mapError(e, name, 'query');
      }
    },

    async setInferenceTable(name, table, options = {}) {
      checkName(name, 'endpoint');
      const inferenceTableConfig = toInferenceTableJson(table);
      // PUT replaces the whole AI-gateway config: resend what is there (rate limits, guardrails…).
      let current: Record<string, unknown> = {};
      try {
        const json = await http.request({
          method: 'GET',
          path: `${base}/${seg(name)}`,
          schema: endpointSchema,
          ...signalOf(options),
        });
        current = { ...(json.ai_gateway ?? {}) };
      } catch (e) {
        return mapError(e, name, 'read');
      }
      try {
        const json = await http.request({
          method: 'PUT',
          path: `${base}/${seg(name)}/ai-gateway`,
          body: { ...current, inference_table_config: inferenceTableConfig },
          schema: aiGatewaySchema,
          ...signalOf(options),
        });
        return toInferenceTable(json.inference_table_config ?? { enabled: false });
      } catch (e) {
        if (e instanceof DatabricksApiError && e.status === 400 && /already enabled/i.test(e.message)) {
          // Only the message tells this case apart (reference §0.1).
          throw new UserError(
            'inference_table_already_enabled',
            `Endpoint ${name} already logs to another inference table.`,
            'Disable the inference table first, then enable it with the new location.',
          );
        }
        return mapError(e, name, 'change the inference table of');
      }
    },
  };
}

function signalOf(options: CallOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}
