import { z } from 'zod';
import { checkName, MAX_QUERY_BYTES, normaliseConfig, sameConfig } from '../domain/endpoint-config.js';
import { UserError } from '../domain/errors.js';
import type {
  CallOptions,
  Endpoint,
  EndpointConfig,
  EndpointSummary,
  InferenceTable,
  InferenceTableInput,
  QueryResult,
  ServedVersion,
  Serving,
  WorkloadSize,
} from '../domain/ports/serving.js';
import {
  DatabricksApiError,
  type DatabricksHttp,
  type DatabricksRequest,
  DatabricksTransportError,
  seg,
} from './http.js';
import { exampleRecordOf, openApiDocumentOf } from './input-example.js';

// ---------------------------------------------------------------------------------------------
// Limits and pure helpers
// ---------------------------------------------------------------------------------------------

const WORKLOAD_SIZES: readonly string[] = ['Small', 'Medium', 'Large'];

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
    if (!value.trim()) throw new UserError('invalid_inference_table', { variant: 'missing_part', part: key });
  }
  if (!/^[A-Za-z0-9_]{1,63}$/.test(t.tablePrefix)) {
    throw new UserError('invalid_inference_table', { variant: 'prefix', prefix: t.tablePrefix });
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
        last_updated_timestamp: timestampSchema,
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

const notFound = (endpoint: string) => new UserError('endpoint_not_found', { endpoint });

/** The error of a config change refused because another rollout is running. */
export const rolloutInProgress = (endpoint: string) => new UserError('rollout_in_progress', { endpoint });

/** The user-facing form of the errors of endpoint-scoped calls; anything else is rethrown as is. */
function mapError(e: unknown, name: string, action: string): never {
  if (e instanceof DatabricksApiError) {
    if (e.status === 404) throw notFound(name);
    if (e.status === 403) {
      throw new UserError('permission_denied', { endpoint: name, action, databricksMessage: e.message });
    }
    if (e.status === 400) {
      throw new UserError('serving_rejected', { endpoint: name, action, databricksMessage: e.message });
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
        const updatedAt = toDate(e.last_updated_timestamp);
        if (updatedAt) summary.updatedAt = updatedAt;
        return summary;
      });
    },

    get,

    async inputExample(name, options = {}) {
      checkName(name, 'endpoint');
      try {
        const json = await http.request({
          method: 'GET',
          path: `${base}/${seg(name)}/openapi`,
          schema: z.unknown(),
          ...signalOf(options),
        });
        return exampleRecordOf(openApiDocumentOf(json));
      } catch (e) {
        // No signature (or no such route for this kind of endpoint): the modal starts empty.
        if (e instanceof DatabricksApiError && e.status >= 400 && e.status < 500 && e.status !== 404)
          return undefined;
        return mapError(e, name, 'read');
      }
    },

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
          // Not repeated on a lost answer: the outcome is read instead (409 → GET and compare).
          idempotent: false,
          schema: endpointSchema,
          ...signalOf(options),
        });
        return toEndpoint(json);
      } catch (e) {
        if (e instanceof DatabricksApiError && e.status === 409) {
          // Maybe our own earlier attempt (its answer was lost): same config means it is done.
          const existing = await get(input.name, options);
          if (holds(existing, config)) return existing;
          throw new UserError('endpoint_exists', { endpoint: input.name });
        }
        if (e instanceof DatabricksTransportError && e.kind !== 'aborted') {
          throw new UserError('create_outcome_unknown', {
            endpoint: input.name,
            transportMessage: e.message,
          });
        }
        if (e instanceof DatabricksApiError && e.status === 404) {
          throw new UserError('model_not_found', {
            variant: 'create',
            endpoint: input.name,
            databricksMessage: e.message,
          });
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
          // NOT idempotent in effect: each PUT that lands starts a new config version, so a resend
          // after a lost answer could be a second update. changes/apply.ts reads the endpoint instead.
          idempotent: false,
          schema: endpointSchema,
          ...signalOf(options),
        });
        return toEndpoint(json);
      } catch (e) {
        // The PUT is repeated only after a 429 (refused before any work), so a 409 is always
        // another update in flight, never an earlier attempt of ours.
        if (e instanceof DatabricksApiError && e.status === 409) throw rolloutInProgress(name);
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
        throw new UserError('payload_too_large', { bytes: size, maxBytes: MAX_QUERY_BYTES });
      }
      let header: string | undefined;
      const req: DatabricksRequest<z.infer<typeof queryResponseSchema>> = {
        method: 'POST',
        path: `/serving-endpoints/${seg(name)}/invocations`,
        body,
        // Side-effect free for the model, but every attempt is billed and logged in the inference
        // table, so a lost answer is reported rather than repeated (429 is still retried).
        idempotent: false,
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
          throw new UserError('endpoint_not_ready', { endpoint: name, databricksMessage: e.message });
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
          // A full replacement applied directly (no config version): the same body twice is the same state.
          idempotent: true,
          schema: aiGatewaySchema,
          ...signalOf(options),
        });
        return toInferenceTable(json.inference_table_config ?? { enabled: false });
      } catch (e) {
        if (e instanceof DatabricksApiError && e.status === 400 && /already enabled/i.test(e.message)) {
          // Only the message tells this case apart (reference §0.1).
          throw new UserError('inference_table_already_enabled', { endpoint: name });
        }
        return mapError(e, name, 'change the inference table of');
      }
    },
  };
}

function signalOf(options: CallOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}
