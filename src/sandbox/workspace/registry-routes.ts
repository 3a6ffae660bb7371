import { createHash } from 'node:crypto';
import type { TwinContext } from './context.js';
import { settleRuns } from './jobs-routes.js';
import { fail, type Router, type TwinRequest } from './router.js';
import { fullModelName, type ModelVersion, type RegisteredModel, type WorkspaceState } from './state.js';

/**
 * Unity Catalog models (`/api/2.1/unity-catalog/models`), reference §3. Lists come in pages of
 * PAGE_SIZE (or the twin's listPageSize) at most, newest version first, and the second page of a long list is always empty but carries
 * a token, so clients must loop until the token is absent and sort for themselves.
 */
export const PAGE_SIZE = 2;

const BASE = '/api/2.1/unity-catalog/models';
const METASTORE_ID = '6f1c2a9e-0b3d-4e5f-8a7b-1c2d3e4f5a6b';

/** A stable UUID-shaped id derived from a name, so ids survive restarts of the twin. */
export function stableId(name: string): string {
  const h = createHash('sha1').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

interface PageToken {
  offset: number;
  /** The next page is the empty one. */
  empty?: boolean;
}

const encodeToken = (t: PageToken): string => Buffer.from(JSON.stringify(t)).toString('base64url');

function decodeToken(raw: string | null): PageToken {
  if (!raw) return { offset: 0 };
  try {
    const t = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as PageToken;
    if (Number.isInteger(t.offset) && t.offset >= 0) return t;
  } catch {
    // fall through to the error below
  }
  return fail(400, 'INVALID_PARAMETER_VALUE', `Invalid page_token: '${raw}'`);
}

/** One page of `items`, inserting an empty page (with a token) after the first one. */
export function paginate<T>(
  items: T[],
  req: TwinRequest,
  pageSize = PAGE_SIZE,
): { page: T[]; next_page_token?: string } {
  const raw = req.query.get('max_results');
  const max = raw === null ? 0 : Number(raw);
  if (!Number.isInteger(max) || max < 0 || max > 1000) {
    fail(400, 'INVALID_PARAMETER_VALUE', 'max_results must be between 0 and 1000');
  }
  const size = max === 0 ? pageSize : Math.min(max, pageSize);
  const token = decodeToken(req.query.get('page_token'));
  if (token.empty) return { page: [], next_page_token: encodeToken({ offset: token.offset }) };
  const page = items.slice(token.offset, token.offset + size);
  const next = token.offset + size;
  if (next >= items.length) return { page };
  return { page, next_page_token: encodeToken({ offset: next, empty: token.offset === 0 }) };
}

function splitName(fullName: string): [string, string, string] {
  const parts = fullName.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    fail(400, 'INVALID_PARAMETER_VALUE', `Invalid registered model full name '${fullName}'.`);
  }
  return parts as [string, string, string];
}

/** Finds a model, answering like UC when the catalog, schema or model is missing. */
export function findModel(state: WorkspaceState, fullName: string): RegisteredModel {
  const [catalog, schema] = splitName(fullName.toLowerCase());
  const model = state.models.get(fullName.toLowerCase());
  if (model) return model;
  const models = [...state.models.values()];
  if (!models.some((m) => m.catalog_name === catalog)) {
    fail(404, 'RESOURCE_DOES_NOT_EXIST', `Catalog '${catalog}' does not exist.`);
  }
  if (!models.some((m) => m.catalog_name === catalog && m.schema_name === schema)) {
    fail(404, 'RESOURCE_DOES_NOT_EXIST', `Schema '${catalog}.${schema}' does not exist.`);
  }
  return fail(404, 'RESOURCE_DOES_NOT_EXIST', `Routine or Model '${fullName}' does not exist.`);
}

function parseVersion(raw: unknown): number {
  const n =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    fail(400, 'INVALID_PARAMETER_VALUE', `Invalid version number: '${raw}'.`);
  return n;
}

function findVersion(model: RegisteredModel, version: number): ModelVersion {
  const v = model.versions.get(version);
  if (!v) {
    fail(
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Routine or Model '${fullModelName(model)}' version '${version}' does not exist.`,
    );
  }
  return v;
}

const includeAliases = (req: TwinRequest): boolean => req.query.get('include_aliases') === 'true';

function aliasList(model: RegisteredModel, version?: number) {
  return [...model.aliases.values()]
    .filter((a) => version === undefined || a.version_num === version)
    .map((a) => ({ alias_name: a.alias_name, version_num: a.version_num }));
}

/** RegisteredModelInfo as UC returns it; `aliases` only when asked for with include_aliases=true. */
export function modelJson(model: RegisteredModel, withAliases: boolean) {
  const full = fullModelName(model);
  return {
    full_name: full,
    name: model.name,
    catalog_name: model.catalog_name,
    schema_name: model.schema_name,
    owner: model.owner,
    ...(model.comment ? { comment: model.comment } : {}),
    created_at: model.created_at,
    created_by: model.created_by,
    updated_at: model.updated_at,
    updated_by: model.updated_by,
    metastore_id: METASTORE_ID,
    storage_location: `s3://acme-uc/metastore/models/${stableId(full)}`,
    securable_type: 'FUNCTION',
    browse_only: false,
    ...(withAliases ? { aliases: aliasList(model) } : {}),
  };
}

/** ModelVersionInfo as UC returns it; `aliases` only when asked for with include_aliases=true. */
export function versionJson(model: RegisteredModel, v: ModelVersion, withAliases: boolean) {
  const full = fullModelName(model);
  return {
    model_name: model.name,
    catalog_name: model.catalog_name,
    schema_name: model.schema_name,
    version: v.version,
    status: v.status,
    source: v.source,
    ...(v.run_id ? { run_id: v.run_id } : {}),
    ...(v.comment ? { comment: v.comment } : {}),
    created_at: v.created_at,
    created_by: v.created_by,
    updated_at: v.updated_at,
    updated_by: v.updated_by,
    id: stableId(`${full}/${v.version}`),
    metastore_id: METASTORE_ID,
    storage_location: `s3://acme-uc/metastore/models/${stableId(full)}/versions/${v.version}`,
    ...(withAliases ? { aliases: aliasList(model, v.version) } : {}),
  };
}

function checkAliasName(alias: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(alias) || alias.length > 255) {
    fail(400, 'INVALID_PARAMETER_VALUE', `Invalid alias name '${alias}'.`);
  }
  if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
    fail(400, 'INVALID_PARAMETER_VALUE', `Alias name '${alias}' is reserved.`);
  }
}

function findAlias(model: RegisteredModel, alias: string) {
  const a = model.aliases.get(alias.toLowerCase());
  if (!a)
    fail(
      404,
      'RESOURCE_DOES_NOT_EXIST',
      `Alias '${alias}' does not exist on model '${fullModelName(model)}'.`,
    );
  return a;
}

/** Registers the Unity Catalog model routes on the twin. */
export function registerRegistryRoutes(router: Router, ctx: TwinContext): void {
  // Job runs register versions when they settle; settle them before answering any registry read.
  const state = (): WorkspaceState => {
    settleRuns(ctx);
    return ctx.state;
  };

  router.add('GET', BASE, (req) => {
    const catalog = req.query.get('catalog_name')?.toLowerCase();
    const schema = req.query.get('schema_name')?.toLowerCase();
    const models = [...state().models.values()]
      .filter((m) => (!catalog || m.catalog_name === catalog) && (!schema || m.schema_name === schema))
      .sort((a, b) => fullModelName(a).localeCompare(fullModelName(b)));
    const { page, next_page_token } = paginate(models, req, ctx.listPageSize);
    return {
      body: {
        registered_models: page.map((m) => modelJson(m, false)),
        ...(next_page_token ? { next_page_token } : {}),
      },
    };
  });

  router.add('GET', `${BASE}/:full_name`, (req) => {
    const model = findModel(state(), req.params.full_name!);
    return { body: modelJson(model, includeAliases(req)) };
  });

  router.add('GET', `${BASE}/:full_name/versions`, (req) => {
    const model = findModel(state(), req.params.full_name!);
    // Newest first: the API promises no order, and clients must sort.
    const versions = [...model.versions.values()].sort((a, b) => b.version - a.version);
    const { page, next_page_token } = paginate(versions, req, ctx.listPageSize);
    return {
      body: {
        // List items never carry aliases, whatever the query says.
        model_versions: page.map((v) => versionJson(model, v, false)),
        ...(next_page_token ? { next_page_token } : {}),
      },
    };
  });

  router.add('GET', `${BASE}/:full_name/versions/:version`, (req) => {
    const model = findModel(state(), req.params.full_name!);
    const v = findVersion(model, parseVersion(req.params.version));
    return { body: versionJson(model, v, includeAliases(req)) };
  });

  router.add('GET', `${BASE}/:full_name/aliases/:alias`, (req) => {
    const model = findModel(state(), req.params.full_name!);
    const a = findAlias(model, req.params.alias!);
    return { body: versionJson(model, findVersion(model, a.version_num), includeAliases(req)) };
  });

  router.add('PUT', `${BASE}/:full_name/aliases/:alias`, (req) => {
    const model = findModel(state(), req.params.full_name!);
    const alias = req.params.alias!;
    checkAliasName(alias);
    const body = (req.body ?? {}) as { version_num?: unknown };
    if (body.version_num === undefined)
      fail(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: version_num');
    const v = findVersion(model, parseVersion(body.version_num));
    if (v.status !== 'READY') {
      fail(
        400,
        'INVALID_PARAMETER_VALUE',
        `Model version '${fullModelName(model)}' version '${v.version}' is in status ${v.status}; an alias can only point at a READY version.`,
      );
    }
    // One entry per alias (case-insensitive key): setting it replaces where it pointed, in one step.
    const key = alias.toLowerCase();
    const display = model.aliases.get(key)?.alias_name ?? alias;
    model.aliases.set(key, { alias_name: display, version_num: v.version });
    model.updated_at = ctx.clock.now();
    return {
      body: {
        alias_name: display,
        version_num: v.version,
        id: stableId(`${fullModelName(model)}@${key}`),
        catalog_name: model.catalog_name,
        schema_name: model.schema_name,
        model_name: model.name,
      },
    };
  });

  router.add('DELETE', `${BASE}/:full_name/aliases/:alias`, (req) => {
    const model = findModel(state(), req.params.full_name!);
    findAlias(model, req.params.alias!);
    model.aliases.delete(req.params.alias!.toLowerCase());
    model.updated_at = ctx.clock.now();
    return { body: {} };
  });
}
