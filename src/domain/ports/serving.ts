/**
 * The Model Serving port: endpoints, their configs and queries, in the app's words. The adapter is
 * databricks/serving.ts; domain code and the Slack views see only this.
 */
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
  /** When a user last changed the endpoint (`last_updated_timestamp`); a cheap sign that it changed. */
  updatedAt?: Date;
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
  /**
   * One example record built from the endpoint's input signature (its query schema in OpenAPI
   * form), or undefined when Databricks has no signature for it.
   */
  inputExample(name: string, options?: CallOptions): Promise<Record<string, unknown> | undefined>;
  /** Turns AI-gateway inference tables on or off; other AI-gateway settings are kept. */
  setInferenceTable(name: string, table: InferenceTableInput, options?: CallOptions): Promise<InferenceTable>;
}
