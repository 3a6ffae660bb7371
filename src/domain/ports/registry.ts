/**
 * The model registry port (Unity Catalog models, versions and aliases). The adapter is
 * databricks/registry.ts.
 */
export interface ModelAlias {
  /** Display spelling as stored, e.g. 'Champion'. Compare with `sameAlias`: aliases are case-insensitive. */
  alias: string;
  version: number;
}

export interface ModelInfo {
  fullName: string;
  owner?: string;
  comment?: string;
  aliases: ModelAlias[];
}

export type ModelVersionStatus = 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | (string & {});

export interface ModelVersionInfo {
  /** Full three-part name of the model. */
  modelName: string;
  version: number;
  status: ModelVersionStatus;
  createdAt: Date;
  createdBy?: string;
  source?: string;
  /** The MLflow run that produced the version. */
  runId?: string;
  comment?: string;
  /** Aliases pointing at this version, display spelling. */
  aliases: string[];
}

/** The Unity Catalog model registry as the bot sees it. Names are three-part `catalog.schema.model`. */
export interface Registry {
  getModel(fullName: string): Promise<ModelInfo>;
  /** The full names of the models in one catalog and schema, sorted (at most `max`, default 100): for the deploy modal and "did you mean". */
  listModels(catalog: string, schema: string, max?: number): Promise<string[]>;
  /** Every version, oldest first, each with the aliases pointing at it. */
  listVersions(fullName: string): Promise<ModelVersionInfo[]>;
  getVersion(fullName: string, version: number): Promise<ModelVersionInfo>;
  resolveAlias(fullName: string, alias: string): Promise<ModelVersionInfo>;
  /** Points the alias at a READY version, moving it if it pointed elsewhere. */
  setAlias(fullName: string, alias: string, version: number): Promise<ModelAlias>;
  deleteAlias(fullName: string, alias: string): Promise<void>;
}
