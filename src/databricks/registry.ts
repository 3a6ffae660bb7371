import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import { parseAliasName, parseModelName } from '../domain/model-names.js';
import { requireReady } from '../domain/model-versions.js';
import type { ModelAlias, ModelInfo, ModelVersionInfo, Registry } from '../domain/ports/registry.js';
import { DatabricksApiError, type DatabricksHttp, seg } from './http.js';

const aliasSchema = z.looseObject({
  alias_name: z.string(),
  version_num: z.coerce.number().int(),
});

const modelSchema = z.looseObject({
  full_name: z.string().optional(),
  name: z.string(),
  catalog_name: z.string(),
  schema_name: z.string(),
  owner: z.string().nullish(),
  comment: z.string().nullish(),
  aliases: z.array(aliasSchema).nullish(),
});

const versionSchema = z.looseObject({
  model_name: z.string(),
  catalog_name: z.string(),
  schema_name: z.string(),
  version: z.coerce.number().int(),
  status: z.string(),
  created_at: z.coerce.number(),
  created_by: z.string().nullish(),
  source: z.string().nullish(),
  run_id: z.string().nullish(),
  comment: z.string().nullish(),
  aliases: z.array(aliasSchema).nullish(),
});

const modelListSchema = z.looseObject({
  registered_models: z.array(modelSchema).nullish(),
  next_page_token: z.string().nullish(),
});

const versionListSchema = z.looseObject({
  model_versions: z.array(versionSchema).nullish(),
  next_page_token: z.string().nullish(),
});

type VersionJson = z.infer<typeof versionSchema>;

const BASE = '/api/2.1/unity-catalog/models';

/** Stop a server that keeps handing out tokens from making us loop forever. */
const MAX_PAGES = 1000;

function toVersion(v: VersionJson): ModelVersionInfo {
  return {
    modelName: `${v.catalog_name}.${v.schema_name}.${v.model_name}`,
    version: v.version,
    status: v.status,
    createdAt: new Date(v.created_at),
    aliases: (v.aliases ?? []).map((a) => a.alias_name),
    ...(v.created_by ? { createdBy: v.created_by } : {}),
    ...(v.source ? { source: v.source } : {}),
    ...(v.run_id ? { runId: v.run_id } : {}),
    ...(v.comment ? { comment: v.comment } : {}),
  };
}

function checkVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new UserError('invalid_version', { value: String(version), source: 'registry' });
  }
}

const isNotFound = (e: unknown): e is DatabricksApiError =>
  e instanceof DatabricksApiError && e.status === 404;

/**
 * The Unity Catalog registry over `/api/2.1/unity-catalog/models`. A missing model, version or
 * alias becomes a UserError; when a 404 could mean either the model or the thing inside it, one
 * extra read of the model tells them apart (error codes are the same for both).
 *
 * @example
 * const registry = createRegistryClient(http);
 * const champion = await registry.resolveAlias('acme.mlops.churn_model', 'Champion');
 */
export function createRegistryClient(http: DatabricksHttp): Registry {
  const modelPath = (fullName: string) => `${BASE}/${seg(fullName)}`;

  async function getModel(input: string): Promise<ModelInfo> {
    const { fullName } = parseModelName(input);
    try {
      const m = await http.request({
        method: 'GET',
        path: modelPath(fullName),
        query: { include_aliases: true },
        schema: modelSchema,
      });
      return {
        fullName: m.full_name ?? `${m.catalog_name}.${m.schema_name}.${m.name}`,
        aliases: (m.aliases ?? [])
          .map((a) => ({ alias: a.alias_name, version: a.version_num }))
          .sort((a, b) => a.alias.localeCompare(b.alias)),
        ...(m.owner ? { owner: m.owner } : {}),
        ...(m.comment ? { comment: m.comment } : {}),
      };
    } catch (e) {
      if (isNotFound(e)) {
        throw new UserError('model_not_found', { variant: 'registry', model: fullName });
      }
      throw e;
    }
  }

  /** Rethrows a 404 as "model missing" or as the given error once we know the model exists. */
  async function explainNotFound(e: unknown, fullName: string, inner: () => UserError): Promise<never> {
    if (!isNotFound(e)) throw e;
    await getModel(fullName);
    throw inner();
  }

  async function getVersion(input: string, version: number): Promise<ModelVersionInfo> {
    const { fullName } = parseModelName(input);
    checkVersion(version);
    try {
      const v = await http.request({
        method: 'GET',
        path: `${modelPath(fullName)}/versions/${seg(version)}`,
        query: { include_aliases: true },
        schema: versionSchema,
      });
      return toVersion(v);
    } catch (e) {
      return explainNotFound(
        e,
        fullName,
        () => new UserError('version_not_found', { model: fullName, version, suggestListing: true }),
      );
    }
  }

  async function listVersions(input: string): Promise<ModelVersionInfo[]> {
    // List items never carry aliases, so take them from the model; this also reports a missing model.
    const model = await getModel(input);
    const fullName = parseModelName(input).fullName;
    const versions: ModelVersionInfo[] = [];
    let pageToken: string | undefined;
    for (let page = 0; ; page++) {
      if (page >= MAX_PAGES)
        throw new Error(`listing versions of ${fullName} did not end after ${MAX_PAGES} pages`);
      const res = await http.request({
        method: 'GET',
        path: `${modelPath(fullName)}/versions`,
        query: { max_results: 100, page_token: pageToken },
        schema: versionListSchema,
      });
      for (const v of res.model_versions ?? []) versions.push(toVersion(v));
      // A page may be empty and still carry a token: only a missing token ends the list.
      if (!res.next_page_token) break;
      pageToken = res.next_page_token;
    }
    for (const v of versions) {
      v.aliases = model.aliases.filter((a) => a.version === v.version).map((a) => a.alias);
    }
    return versions.sort((a, b) => a.version - b.version);
  }

  async function resolveAlias(input: string, aliasInput: string): Promise<ModelVersionInfo> {
    const { fullName } = parseModelName(input);
    const alias = parseAliasName(aliasInput);
    try {
      const v = await http.request({
        method: 'GET',
        path: `${modelPath(fullName)}/aliases/${seg(alias)}`,
        query: { include_aliases: true },
        schema: versionSchema,
      });
      return toVersion(v);
    } catch (e) {
      return explainNotFound(e, fullName, () => new UserError('alias_not_found', { model: fullName, alias }));
    }
  }

  function permissionHint(e: unknown, fullName: string): never {
    if (e instanceof DatabricksApiError && e.status === 403) {
      throw new UserError('alias_permission_denied', { model: fullName, databricksMessage: e.message });
    }
    throw e;
  }

  async function setAlias(input: string, aliasInput: string, version: number): Promise<ModelAlias> {
    const { fullName } = parseModelName(input);
    const alias = parseAliasName(aliasInput);
    requireReady(await getVersion(fullName, version));
    try {
      const res = await http.request({
        method: 'PUT',
        path: `${modelPath(fullName)}/aliases/${seg(alias)}`,
        body: { version_num: version },
        // Same body, same result: pointing an alias at a version twice leaves it there (reference §0.2).
        idempotent: true,
        schema: aliasSchema,
      });
      return { alias: res.alias_name, version: res.version_num };
    } catch (e) {
      if (isNotFound(e)) {
        // The version vanished between our check and the PUT.
        return explainNotFound(
          e,
          fullName,
          () => new UserError('version_not_found', { model: fullName, version, suggestListing: false }),
        );
      }
      return permissionHint(e, fullName);
    }
  }

  async function deleteAlias(input: string, aliasInput: string): Promise<void> {
    const { fullName } = parseModelName(input);
    const alias = parseAliasName(aliasInput);
    try {
      await http.request({
        method: 'DELETE',
        path: `${modelPath(fullName)}/aliases/${seg(alias)}`,
        // Deleting twice is harmless: a 404 on the retry means the first attempt did it (below).
        idempotent: true,
        schema: z.unknown(),
      });
    } catch (e) {
      // A 404 on a retry means our first attempt already deleted it.
      if (isNotFound(e) && e.attempts > 1) return;
      if (isNotFound(e)) {
        return explainNotFound(
          e,
          fullName,
          () => new UserError('alias_not_found', { model: fullName, alias }),
        );
      }
      permissionHint(e, fullName);
    }
  }

  /** Up to `max` names (default 100, a few pages): the deploy modal's select and "did you mean". */
  async function listModels(catalog: string, schema: string, max = 100): Promise<string[]> {
    const names: string[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 5 && names.length < max; page++) {
      const res = await http.request({
        method: 'GET',
        path: BASE,
        query: { catalog_name: catalog, schema_name: schema, max_results: 100, page_token: pageToken },
        schema: modelListSchema,
      });
      for (const m of res.registered_models ?? [])
        names.push(m.full_name ?? `${m.catalog_name}.${m.schema_name}.${m.name}`);
      if (!res.next_page_token) break;
      pageToken = res.next_page_token;
    }
    return names.sort().slice(0, max);
  }

  return { getModel, listModels, listVersions, getVersion, resolveAlias, setAlias, deleteAlias };
}
