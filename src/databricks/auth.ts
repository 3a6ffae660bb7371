import { z } from 'zod';
import type { DatabricksAuth } from '../config/databricks-connection.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { fastFetch } from '../lib/http-client.js';

/** Supplies a bearer token for every Databricks call, REST and SQL alike (one cache for both). */
export interface TokenProvider {
  /** A valid access token; may refresh it first. */
  token(signal?: AbortSignal): Promise<string>;
  /** Drops a cached token the server refused, so the next call gets a fresh one. */
  invalidate?(token: string): void;
}

/** A personal access token: nothing to refresh. */
export function staticTokenProvider(token: string): TokenProvider {
  return { token: async () => token };
}

const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive(),
});

/** Raised when the OAuth token endpoint refuses the client credentials or cannot be reached. */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface OAuthM2MOptions {
  host: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof globalThis.fetch;
  clock?: Clock;
  /** Refresh this long before expiry, so no call carries a token about to lapse (the SDKs use 40 s). */
  refreshMarginMs?: number;
  timeoutMs?: number;
}

/**
 * OAuth machine-to-machine for a Databricks service principal: POST /oidc/v1/token with client
 * credentials, cache the token, refresh before expiry, and let only one refresh run at a time.
 *
 * @example const tokens = createOAuthM2M({ host, clientId, clientSecret }); await tokens.token();
 */
export function createOAuthM2M({
  host,
  clientId,
  clientSecret,
  fetch = fastFetch,
  clock = systemClock,
  refreshMarginMs = 40_000,
  timeoutMs = 30_000,
}: OAuthM2MOptions): TokenProvider & { refreshes(): number } {
  let cached: { token: string; expiresAt: number } | undefined;
  let inFlight: Promise<string> | undefined;
  let refreshCount = 0;

  async function refresh(): Promise<string> {
    refreshCount++;
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString(
      'base64',
    );
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${host}/oidc/v1/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: 'grant_type=client_credentials&scope=all-apis',
        signal: timeout,
      });
    } catch (e) {
      throw new OAuthError(`could not reach ${host}/oidc/v1/token: ${(e as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      // The body of a refused token request can echo the client id but never the secret; keep it short.
      throw new OAuthError(
        `the workspace refused the OAuth client credentials (HTTP ${res.status}): ${text.slice(0, 200)}`,
        res.status,
      );
    }
    const parsed = tokenResponseSchema.safeParse(JSON.parse(text || '{}'));
    if (!parsed.success) throw new OAuthError('the OAuth token response had no access_token/expires_in');
    cached = { token: parsed.data.access_token, expiresAt: clock.now() + parsed.data.expires_in * 1000 };
    return cached.token;
  }

  return {
    refreshes: () => refreshCount,
    async token() {
      if (cached && clock.now() < cached.expiresAt - refreshMarginMs) return cached.token;
      // One refresh for every caller waiting; a caller giving up must not abort it for the others.
      inFlight ??= refresh().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    invalidate(token) {
      if (cached?.token === token) cached = undefined;
    },
  };
}

/** The token provider for a resolved connection's credentials. */
export function createTokenProvider(
  host: string,
  auth: DatabricksAuth,
  options: Omit<OAuthM2MOptions, 'host' | 'clientId' | 'clientSecret'> = {},
): TokenProvider {
  return auth.kind === 'pat'
    ? staticTokenProvider(auth.token)
    : createOAuthM2M({ host, clientId: auth.clientId, clientSecret: auth.clientSecret, ...options });
}
