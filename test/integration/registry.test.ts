import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DatabricksApiError } from '../../src/databricks/http.js';
import { createRegistryClient } from '../../src/databricks/registry.js';
import { aliasVersion, requireReady } from '../../src/domain/model-versions.js';
import type { ModelVersionInfo, Registry } from '../../src/domain/ports/registry.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import type { ModelVersion, VersionStatus } from '../../src/sandbox/workspace/state.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { userError } from '../support/errors.js';
import { startTwinWithClient } from '../support/workspace.js';

const MODEL_ROUTE = 'GET /api/2.1/unity-catalog/models/:full_name';
const LIST_ROUTE = 'GET /api/2.1/unity-catalog/models/:full_name/versions';
const PUT_ALIAS_ROUTE = 'PUT /api/2.1/unity-catalog/models/:full_name/aliases/:alias';

let env: Awaited<ReturnType<typeof startTwinWithClient>>;
let registry: Registry;

beforeEach(async () => {
  env = await startTwinWithClient({ state: seedDemoWorkspace() });
  registry = createRegistryClient(env.http);
});
afterEach(() => env.twin.stop());

const model = () => env.twin.state.models.get(DEMO.model)!;

function addVersion(version: number, status: VersionStatus = 'READY'): void {
  const v: ModelVersion = {
    version,
    status,
    source: `dbfs:/models/churn/${version}`,
    created_at: Date.parse('2026-03-01T00:00:00Z') + version,
    created_by: 'casey@acme.test',
    updated_at: Date.parse('2026-03-01T00:00:00Z') + version,
    updated_by: 'casey@acme.test',
  };
  model().versions.set(version, v);
}

const routeCount = (route: string) => env.twin.requests.filter((r) => r.route === route).length;

describe('reading a model', () => {
  it('returns the model with its aliases in their display spelling', async () => {
    const info = await registry.getModel(DEMO.model);
    expect(info).toMatchObject({ fullName: DEMO.model, owner: DEMO.users.owner });
    expect(info.aliases).toEqual([
      { alias: 'Challenger', version: 3 },
      { alias: 'Champion', version: 2 },
    ]);
    expect(aliasVersion(info, 'champion')).toBe(2);
    expect(env.twin.requests.at(-1)?.path).toContain('include_aliases=true');
  });

  it('explains a model that does not exist, and a catalog that does not exist', async () => {
    for (const name of ['acme.mlops.no_such_model', 'nocat.mlops.churn_model']) {
      const err = await userError(registry.getModel(name));
      expect(err.code).toBe('model_not_found');
      expect(describeError(err).text).toContain(name);
      expect(describeError(err).hint).toContain('catalog.schema.model');
    }
  });

  it('refuses a malformed name without calling the workspace', async () => {
    const err = await userError(registry.getModel('churn_model'));
    expect(err.code).toBe('invalid_model_name');
    expect(env.twin.requests).toHaveLength(0);
  });

  it('honours Retry-After on a throttled read', async () => {
    env.twin.faults.next(MODEL_ROUTE, { kind: 'status', status: 429, retryAfterSeconds: 1 });
    await expect(registry.getModel(DEMO.model)).resolves.toMatchObject({ fullName: DEMO.model });
    expect(env.attempts.map((a) => a.status)).toEqual([429, 200]);
    expect(env.sleeps[0]).toBeGreaterThanOrEqual(1000);
  });
});

describe('listing versions', () => {
  it('follows page tokens through an empty page and returns every version sorted, with aliases', async () => {
    addVersion(4);
    addVersion(5, 'PENDING_REGISTRATION');
    const versions = await registry.listVersions(DEMO.model);
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5]);
    expect(versions.map((v) => v.aliases)).toEqual([[], ['Champion'], ['Challenger'], [], []]);
    expect(versions[4]?.status).toBe('PENDING_REGISTRATION');
    // Pages of two, newest first, with an empty page after the first: [5,4], [], [3,2], [1].
    expect(routeCount(LIST_ROUTE)).toBe(4);
  });

  it('gets an empty page that still carries a token from the twin', async () => {
    const page = z.looseObject({
      model_versions: z.array(z.unknown()).optional(),
      next_page_token: z.string(),
    });
    const path = `/api/2.1/unity-catalog/models/${DEMO.model}/versions`;
    const first = await env.http.request({ method: 'GET', path, schema: page });
    const second = await env.http.request({
      method: 'GET',
      path,
      query: { page_token: first.next_page_token },
      schema: page,
    });
    expect(first.model_versions).toHaveLength(2);
    expect(second.model_versions ?? []).toHaveLength(0);
    expect(second.next_page_token).not.toBe('');
  });

  it('explains a model that does not exist', async () => {
    expect((await userError(registry.listVersions('acme.mlops.nope'))).code).toBe('model_not_found');
  });
});

describe('reading a version', () => {
  it('returns the version with its aliases, creator, source and run', async () => {
    const v = await registry.getVersion(DEMO.model, 2);
    expect(v).toMatchObject({
      modelName: DEMO.model,
      version: 2,
      status: 'READY',
      createdBy: DEMO.users.sam,
      aliases: ['Champion'],
      runId: 'c4b3a2918f7e4d6c5b4a39281706f5e4',
    });
    expect(v.source).toContain('/artifacts/model');
    expect(v.createdAt).toBeInstanceOf(Date);
  });

  it('tells a missing version from a missing model', async () => {
    const missingVersion = await userError(registry.getVersion(DEMO.model, 9));
    expect(missingVersion.code).toBe('version_not_found');
    expect(describeError(missingVersion).hint).toContain('/mlops versions');
    expect((await userError(registry.getVersion('acme.mlops.nope', 1))).code).toBe('model_not_found');
  });

  it('refuses a version number that is not a positive whole number', async () => {
    expect((await userError(registry.getVersion(DEMO.model, 0))).code).toBe('invalid_version');
  });
});

describe('resolving an alias', () => {
  it('resolves an alias whatever its case', async () => {
    const v = await registry.resolveAlias(DEMO.model, 'champion');
    expect(v).toMatchObject({ version: 2, aliases: ['Champion'] });
  });

  it('tells a missing alias from a missing model', async () => {
    const err = await userError(registry.resolveAlias(DEMO.model, 'Production'));
    expect(err.code).toBe('alias_not_found');
    expect(describeError(err).text).toContain('Production');
    expect((await userError(registry.resolveAlias('acme.mlops.nope', 'Champion'))).code).toBe(
      'model_not_found',
    );
  });

  it('refuses a reserved alias name', async () => {
    expect((await userError(registry.resolveAlias(DEMO.model, 'latest'))).code).toBe('invalid_alias_name');
  });
});

describe('setting an alias', () => {
  it('moves an alias so it points at exactly one version', async () => {
    await expect(registry.setAlias(DEMO.model, 'Champion', 3)).resolves.toEqual({
      alias: 'Champion',
      version: 3,
    });
    const info = await registry.getModel(DEMO.model);
    expect(info.aliases.filter((a) => a.alias.toLowerCase() === 'champion')).toEqual([
      { alias: 'Champion', version: 3 },
    ]);
    expect((await registry.getVersion(DEMO.model, 2)).aliases).toEqual([]);
    expect((await registry.getVersion(DEMO.model, 3)).aliases.sort()).toEqual(['Challenger', 'Champion']);
  });

  it('never lets a concurrent reader see the alias missing while it moves', async () => {
    const reads = Array.from({ length: 20 }, () => registry.resolveAlias(DEMO.model, 'Champion'));
    const moves = [
      registry.setAlias(DEMO.model, 'Champion', 3),
      registry.setAlias(DEMO.model, 'Champion', 1),
    ];
    const seen = (await Promise.all(reads)).map((v) => v.version);
    await Promise.all(moves);
    expect(seen.every((v) => [1, 2, 3].includes(v))).toBe(true);
    expect([...model().aliases.values()].filter((a) => a.alias_name === 'Champion')).toHaveLength(1);
  });

  it('creates a new alias', async () => {
    await registry.setAlias(DEMO.model, 'Production', 2);
    await expect(registry.resolveAlias(DEMO.model, 'production')).resolves.toMatchObject({ version: 2 });
  });

  it('refuses a version that is not READY before calling the workspace to move the alias', async () => {
    addVersion(4, 'PENDING_REGISTRATION');
    addVersion(5, 'FAILED_REGISTRATION');
    const pending = await userError(registry.setAlias(DEMO.model, 'Champion', 4));
    expect(pending.code).toBe('version_not_ready');
    expect(describeError(pending).text).toContain('PENDING_REGISTRATION');
    expect(describeError(pending).hint).toContain('wait');
    const failed = await userError(registry.setAlias(DEMO.model, 'Champion', 5));
    expect(describeError(failed).hint).toContain('register a new version');
    expect(routeCount(PUT_ALIAS_ROUTE)).toBe(0);
    expect(model().aliases.get('champion')?.version_num).toBe(2);
  });

  it('has the twin refuse an alias on a version that is not READY, as the workspace does', async () => {
    addVersion(4, 'PENDING_REGISTRATION');
    const err = await env.http
      .request({
        method: 'PUT',
        path: `/api/2.1/unity-catalog/models/${DEMO.model}/aliases/Champion`,
        body: { version_num: 4 },
        schema: z.unknown(),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabricksApiError);
    expect(err).toMatchObject({ status: 400, errorCode: 'INVALID_PARAMETER_VALUE' });
    expect(model().aliases.get('champion')?.version_num).toBe(2);
  });

  it('refuses an unknown version', async () => {
    expect((await userError(registry.setAlias(DEMO.model, 'Champion', 42))).code).toBe('version_not_found');
    const err = await env.http
      .request({
        method: 'PUT',
        path: `/api/2.1/unity-catalog/models/${DEMO.model}/aliases/Champion`,
        body: { version_num: 42 },
        schema: z.unknown(),
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, errorCode: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it('retries the alias PUT after a 503, since repeating it is harmless', async () => {
    env.twin.faults.next(PUT_ALIAS_ROUTE, { kind: 'status', status: 503 });
    await registry.setAlias(DEMO.model, 'Champion', 3);
    expect(env.twin.requests.filter((r) => r.route === PUT_ALIAS_ROUTE).map((r) => r.status)).toEqual([
      503, 200,
    ]);
  });
});

describe('deleting an alias', () => {
  it('removes the alias', async () => {
    await registry.deleteAlias(DEMO.model, 'challenger');
    expect((await userError(registry.resolveAlias(DEMO.model, 'Challenger'))).code).toBe('alias_not_found');
    expect((await registry.getModel(DEMO.model)).aliases).toEqual([{ alias: 'Champion', version: 2 }]);
  });

  it('explains an alias that does not exist', async () => {
    expect((await userError(registry.deleteAlias(DEMO.model, 'Production'))).code).toBe('alias_not_found');
    expect((await userError(registry.deleteAlias('acme.mlops.nope', 'Production'))).code).toBe(
      'model_not_found',
    );
  });
});

describe('requireReady', () => {
  const version = (status: string): ModelVersionInfo => ({
    modelName: DEMO.model,
    version: 7,
    status,
    createdAt: new Date(0),
    aliases: [],
  });

  it('lets a READY version through and stops any other status with a hint', () => {
    expect(() => requireReady(version('READY'))).not.toThrow();
    for (const status of ['PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'MODEL_VERSION_STATUS_UNKNOWN']) {
      expect(() => requireReady(version(status))).toThrow(
        expect.objectContaining({ code: 'version_not_ready' }),
      );
    }
  });
});

describe('listing models on the twin', () => {
  it('lists the models of a schema', async () => {
    const list = await env.http.request({
      method: 'GET',
      path: '/api/2.1/unity-catalog/models',
      query: { catalog_name: DEMO.catalog, schema_name: DEMO.schema },
      schema: z.looseObject({ registered_models: z.array(z.looseObject({ full_name: z.string() })) }),
    });
    expect(list.registered_models.map((m) => m.full_name)).toEqual([DEMO.model]);
  });
});
