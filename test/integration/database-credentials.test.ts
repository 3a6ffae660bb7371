import { afterEach, describe, expect, it } from 'vitest';
import { createOAuthM2M } from '../../src/databricks/auth.js';
import {
  createDatabaseCredentials,
  DatabaseCredentialError,
} from '../../src/databricks/database-credentials.js';
import { createDatabricksHttp } from '../../src/databricks/http.js';
import { simulatedClock } from '../../src/lib/clock.js';
import type { WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { emptyState } from '../../src/sandbox/workspace/state.js';
import { startTwinWithClient } from '../support/workspace.js';

const PROVISIONED = 'POST /api/2.0/database/credentials';
const AUTOSCALING = 'POST /api/2.0/postgres/credentials';
const ENDPOINT = 'projects/modelgate/branches/production/endpoints/primary';
const MIN = 60_000;

/** The workspace twin knowing one instance and one endpoint, its clock shared with the client. */
async function setUp() {
  const clock = simulatedClock(Date.parse('2026-12-01T09:00:00Z'));
  const state = emptyState();
  state.database_instances = new Set(['modelgate']);
  state.postgres_endpoints = new Set([ENDPOINT]);
  return { ...(await startTwinWithClient({ clock, state }, { clock })), clock };
}
const minted = (twin: WorkspaceTwin, route: string) =>
  twin.requests.filter((r) => r.route === route && r.status === 200).length;

describe('Lakebase Postgres passwords from the workspace', () => {
  let twin: WorkspaceTwin | undefined;
  afterEach(async () => {
    await twin?.stop();
    twin = undefined;
  });

  it('mints a credential for a Provisioned instance once, and every connection meanwhile gets it', async () => {
    const env = await setUp();
    twin = env.twin;
    const credentials = createDatabaseCredentials({
      http: env.http,
      target: { kind: 'provisioned', instance: 'modelgate' },
      clock: env.clock,
    });
    const [a, b, c] = await Promise.all([
      credentials.password(),
      credentials.password(),
      credentials.password(),
    ]);
    expect(a).toMatch(/^lakebase-/);
    expect([b, c]).toEqual([a, a]);
    env.clock.advance(49 * MIN);
    expect(await credentials.password()).toBe(a);
    expect(minted(env.twin, PROVISIONED)).toBe(1);
  });

  it('replaces the credential 50 minutes after minting it, before its hour runs out', async () => {
    const env = await setUp();
    twin = env.twin;
    const credentials = createDatabaseCredentials({
      http: env.http,
      target: { kind: 'provisioned', instance: 'modelgate' },
      clock: env.clock,
    });
    const first = await credentials.password();
    env.clock.advance(50 * MIN);
    const second = await credentials.password();
    expect(second).not.toBe(first);
    expect(credentials.minted()).toBe(2);
    env.clock.advance(50 * MIN);
    expect(await credentials.password()).not.toBe(second);
    expect(minted(env.twin, PROVISIONED)).toBe(3);
  });

  it('mints for an Autoscaling endpoint, asking for the full hour', async () => {
    const env = await setUp();
    twin = env.twin;
    const credentials = createDatabaseCredentials({
      http: env.http,
      target: { kind: 'autoscaling', endpoint: ENDPOINT },
      clock: env.clock,
    });
    expect(await credentials.password()).toMatch(/^lakebase-/);
    expect(minted(env.twin, AUTOSCALING)).toBe(1);
  });

  it("mints with the app's own workspace OAuth token (the service principal's client credentials)", async () => {
    const env = await setUp();
    twin = env.twin;
    const clients = { 'app-sp-client': 'app-sp-secret' };
    const { twin: oauthTwin, clock } = await startTwinWithClient({
      clock: env.clock,
      state: env.twin.state,
      oauthClients: clients,
    });
    try {
      const tokens = createOAuthM2M({
        host: oauthTwin.url,
        clientId: 'app-sp-client',
        clientSecret: 'app-sp-secret',
        clock,
      });
      const http = createDatabricksHttp({ host: oauthTwin.url, tokens, clock });
      const credentials = createDatabaseCredentials({
        http,
        target: { kind: 'provisioned', instance: 'modelgate' },
        clock,
      });
      expect(await credentials.password()).toMatch(/^lakebase-/);
      expect(oauthTwin.tokenRequests()).toBe(1);
    } finally {
      await oauthTwin.stop();
    }
  });

  it('says which grant is missing when the workspace refuses the service principal', async () => {
    const env = await setUp();
    twin = env.twin;
    env.twin.faults.next(PROVISIONED, {
      kind: 'status',
      status: 403,
      message: 'User does not have permission',
    });
    const credentials = createDatabaseCredentials({
      http: env.http,
      target: { kind: 'provisioned', instance: 'modelgate' },
      clock: env.clock,
    });
    const err = await credentials.password().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseCredentialError);
    expect((err as Error).message).toMatch(/Lakebase instance "modelgate".*403.*CAN_CONNECT_AND_CREATE/);
  });

  it('names the setting to fix when the instance does not exist', async () => {
    const env = await setUp();
    twin = env.twin;
    const credentials = createDatabaseCredentials({
      http: env.http,
      target: { kind: 'provisioned', instance: 'modelgte' },
      clock: env.clock,
    });
    await expect(credentials.password()).rejects.toThrow(/no such database.*MODELGATE_LAKEBASE_INSTANCE/);
  });

  it('keeps the cached credential while a refresh fails and it still has minutes left, then gives up clearly', async () => {
    const env = await setUp();
    twin = env.twin;
    const refused: string[] = [];
    const credentials = createDatabaseCredentials({
      http: env.http,
      target: { kind: 'provisioned', instance: 'modelgate' },
      clock: env.clock,
      onRefreshError: (e) => refused.push(e.reason),
    });
    const first = await credentials.password();
    env.clock.advance(50 * MIN);
    env.twin.faults.next(PROVISIONED, { kind: 'status', status: 403 }, 10);
    expect(await credentials.password()).toBe(first);
    expect(refused).toHaveLength(1);
    env.clock.advance(10 * MIN);
    await expect(credentials.password()).rejects.toThrow(DatabaseCredentialError);
  });

  it('retries a workspace that is briefly unavailable', async () => {
    const env = await setUp();
    twin = env.twin;
    env.twin.faults.next(PROVISIONED, { kind: 'status', status: 503 }, 2);
    const credentials = createDatabaseCredentials({
      http: env.http,
      target: { kind: 'provisioned', instance: 'modelgate' },
      clock: env.clock,
    });
    expect(await credentials.password()).toMatch(/^lakebase-/);
    expect(env.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
  });
});
