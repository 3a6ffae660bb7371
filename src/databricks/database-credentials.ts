/**
 * The Postgres password of a Lakebase database: a short-lived OAuth credential (at most an hour)
 * minted with the app's own workspace token (reference databricks-round2 §7). Provisioned
 * instances: POST /api/2.0/database/credentials; Autoscaling endpoints: POST
 * /api/2.0/postgres/credentials. The credential is checked only when a connection logs in, so one
 * is cached and replaced after `refreshAfterMs` (50 min), well before it expires; `password()` is
 * what a pg pool takes as its `password` function.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { LakebaseTarget } from '../config/env.js';
import { DatabricksApiError, DatabricksTransportError } from '../domain/ports/databricks-errors.js';
import { type Clock, systemClock } from '../lib/clock.js';
import type { DatabricksHttp } from './http.js';

/** Refresh this long after minting: ten minutes before the hour a credential lasts. */
export const DEFAULT_REFRESH_AFTER_MS = 50 * 60_000;
/** Never use a credential closer than this to its expiry, whatever the refresh schedule says. */
const EXPIRY_MARGIN_MS = 2 * 60_000;

/** The workspace refused or could not mint a database credential: which database, why, what to do. */
export class DatabaseCredentialError extends Error {
  override readonly name = 'DatabaseCredentialError';
  constructor(
    readonly target: LakebaseTarget,
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`could not get a Postgres password for Lakebase ${describeTarget(target)}: ${reason}. Fix: ${fix}`);
  }
}

export interface DatabaseCredentials {
  /** A credential valid for at least a few minutes more; mints one when the cached one is due. */
  password(): Promise<string>;
  /** How many credentials were minted (tests, the doctor). */
  minted(): number;
}

export interface DatabaseCredentialOptions {
  http: DatabricksHttp;
  target: LakebaseTarget;
  clock?: Clock;
  refreshAfterMs?: number;
  /** Told when a refresh failed while the cached credential is still usable. */
  onRefreshError?: (e: DatabaseCredentialError) => void;
}

const provisionedSchema = z.looseObject({ token: z.string().min(1), expiration_time: z.string().optional() });
const autoscalingSchema = z.looseObject({ token: z.string().min(1), expire_time: z.string().optional() });

/** @example describeTarget({ kind: 'provisioned', instance: 'modelgate' }) // 'instance "modelgate"' */
export function describeTarget(t: LakebaseTarget): string {
  return t.kind === 'provisioned' ? `instance "${t.instance}"` : `endpoint "${t.endpoint}"`;
}

/**
 * @example
 * const credentials = createDatabaseCredentials({ http, target: { kind: 'provisioned', instance: 'modelgate' } });
 * new pg.Pool({ ..., password: credentials.password });
 */
export function createDatabaseCredentials(o: DatabaseCredentialOptions): DatabaseCredentials {
  const { http, target } = o;
  const clock = o.clock ?? systemClock;
  const refreshAfterMs = o.refreshAfterMs ?? DEFAULT_REFRESH_AFTER_MS;
  let cached: { token: string; refreshAt: number; expiresAt: number } | undefined;
  let inFlight: Promise<string> | undefined;
  let minted = 0;

  async function mint(): Promise<{ token: string; expiresAt: number | undefined }> {
    if (target.kind === 'provisioned') {
      const r = await http.request({
        method: 'POST',
        path: '/api/2.0/database/credentials',
        body: { instance_names: [target.instance], request_id: randomUUID() },
        schema: provisionedSchema,
        // Each call mints a fresh credential and changes nothing else: repeating one is harmless.
        idempotent: true,
      });
      return { token: r.token, expiresAt: parseTime(r.expiration_time) };
    }
    const r = await http.request({
      method: 'POST',
      path: '/api/2.0/postgres/credentials',
      body: { endpoint: target.endpoint, ttl: '3600s' },
      schema: autoscalingSchema,
      // As above: a fresh credential, nothing else changes.
      idempotent: true,
    });
    return { token: r.token, expiresAt: parseTime(r.expire_time) };
  }

  async function refresh(): Promise<string> {
    const at = clock.now();
    let got: { token: string; expiresAt: number | undefined };
    try {
      got = await mint();
    } catch (e) {
      throw explain(target, e);
    }
    minted++;
    // Without an expiry in the answer, assume the hour the API promises at most.
    const expiresAt = got.expiresAt ?? at + 60 * 60_000;
    cached = {
      token: got.token,
      expiresAt,
      refreshAt: Math.min(at + refreshAfterMs, expiresAt - EXPIRY_MARGIN_MS),
    };
    return got.token;
  }

  return {
    minted: () => minted,
    async password() {
      const now = clock.now();
      if (cached && now < cached.refreshAt) return cached.token;
      // One mint for every connection waiting on it.
      inFlight ??= refresh().finally(() => {
        inFlight = undefined;
      });
      try {
        return await inFlight;
      } catch (e) {
        // A credential that still has minutes left beats no connection at all.
        if (cached && clock.now() < cached.expiresAt - EXPIRY_MARGIN_MS / 4) {
          o.onRefreshError?.(e as DatabaseCredentialError);
          return cached.token;
        }
        throw e;
      }
    },
  };
}

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** Turns the workspace's answer into what went wrong and what to do about it. */
function explain(target: LakebaseTarget, e: unknown): DatabaseCredentialError {
  const what = target.kind === 'provisioned' ? 'MODELGATE_LAKEBASE_INSTANCE' : 'MODELGATE_LAKEBASE_ENDPOINT';
  if (e instanceof DatabricksApiError) {
    const said = `${e.status} ${e.errorCode}: ${e.message}`;
    if (e.status === 401 || e.status === 403) {
      return new DatabaseCredentialError(
        target,
        `the workspace refused the app's credentials (${said})`,
        "give the app's service principal CAN_CONNECT_AND_CREATE on the database (add it as an app resource), and check DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET",
      );
    }
    if (e.status === 404) {
      return new DatabaseCredentialError(
        target,
        `the workspace has no such database (${said})`,
        `set ${what} to the name the Lakebase page shows`,
      );
    }
    return new DatabaseCredentialError(
      target,
      `the workspace answered ${said}`,
      'try again later; if it persists, check the Lakebase instance is running',
    );
  }
  if (e instanceof DatabricksTransportError) {
    return new DatabaseCredentialError(
      target,
      `the workspace could not be reached (${e.message})`,
      'check DATABRICKS_HOST and the network between the app and the workspace',
    );
  }
  return new DatabaseCredentialError(target, (e as Error).message, 'see the log for details');
}
