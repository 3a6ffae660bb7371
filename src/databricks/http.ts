import type { z } from 'zod';
import { isLoopbackHost } from '../config/databricks-connection.js';
import {
  DatabricksApiError,
  type DatabricksError,
  DatabricksTransportError,
  type HttpMethod,
  isUnavailable,
  type TransportFailure,
} from '../domain/ports/databricks-errors.js';
import { reportRetry } from '../lib/call-observer.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { fastFetch } from '../lib/http-client.js';
import { redactDeep, redactSecrets } from './redact.js';

export {
  DatabricksApiError,
  type DatabricksError,
  DatabricksTransportError,
  type HttpMethod,
  isUnavailable,
  type TransportFailure,
} from '../domain/ports/databricks-errors.js';

import type { TokenProvider } from './auth.js';

export type QueryValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | QueryValue[]
  | { [k: string]: QueryValue };

export interface DatabricksRequest<T> {
  method: HttpMethod;
  /** Path with every user-supplied segment passed through `seg()`. */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Schema of a successful response; objects should be loose so new API fields do no harm. */
  schema: z.ZodType<T>;
  /**
   * Whether repeating the call after an unknown outcome (time-out, dropped connection, 5xx) is
   * harmless in effect (reference §0.2). Defaults to true for GET only: every PUT, PATCH, DELETE
   * and POST says so itself, with the reason next to it (a PUT of a serving config is NOT: each
   * one starts a new config version). A 429 is refused before any work, so it is retried anyway.
   */
  idempotent?: boolean;
  timeoutMs?: number;
  /** Overall budget for all attempts, waits included. */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** Sees the headers of the successful answer (e.g. `served-model-name` on invocations). */
  onResponseHeaders?: (headers: Headers) => void;
}

/** Encodes one path segment; UC dotted names keep their dots. */
export const seg = (s: string | number): string => encodeURIComponent(String(s));

/**
 * Flattens a query object the way Databricks expects: nested keys with dots, arrays as repeated
 * keys, booleans as true/false, undefined and null left out.
 *
 * @example toQueryString({ include_aliases: true, a: { b: 1 } }) // 'include_aliases=true&a.b=1'
 */
export function toQueryString(query: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  const add = (key: string, value: QueryValue): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) for (const v of value) add(key, v);
    else if (typeof value === 'object') for (const [k, v] of Object.entries(value)) add(`${key}.${k}`, v);
    else params.append(key, String(value));
  };
  for (const [k, v] of Object.entries(query)) add(k, v);
  return params.toString();
}

/** Parses `Retry-After` (integer seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Turns an error response of any shape (envelope, legacy {error}, HTML page) into one error. */
export function parseErrorResponse(
  status: number,
  text: string,
  headers: Headers,
  method: HttpMethod,
  path: string,
  now: number,
): DatabricksApiError {
  let code = defaultCodeFor(status);
  let message = text.trim().slice(0, 300) || `HTTP ${status}`;
  let details: unknown;
  let gateway = false;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body.error_code === 'string') code = body.error_code;
    if (typeof body.message === 'string') message = body.message;
    else if (typeof body.error === 'string') message = body.error;
    else if (typeof body.detail === 'string') message = body.detail;
    details = body.details;
  } catch {
    // Proxies answer with HTML; keep the status-derived code and a short text.
    if (/<html|<!doctype/i.test(text)) {
      gateway = true;
      message = `HTTP ${status} from a gateway in front of the workspace`;
    }
  }
  // Messages may echo what the call carried (a signed URL, a header): no secret gets further.
  message = redactSecrets(message);
  details = redactDeep(details);
  const requestId = headers.get('x-request-id') ?? headers.get('x-databricks-request-id') ?? undefined;
  return new DatabricksApiError(
    status,
    code,
    message,
    requestId,
    method,
    path,
    parseRetryAfter(headers.get('retry-after'), now),
    details,
    1,
    gateway,
  );
}

function defaultCodeFor(status: number): string {
  const codes: Record<number, string> = {
    400: 'BAD_REQUEST',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    409: 'RESOURCE_CONFLICT',
    429: 'TOO_MANY_REQUESTS',
    500: 'INTERNAL_ERROR',
    501: 'NOT_IMPLEMENTED',
    502: 'BAD_GATEWAY',
    503: 'TEMPORARILY_UNAVAILABLE',
    504: 'DEADLINE_EXCEEDED',
  };
  return codes[status] ?? 'UNKNOWN';
}

export interface RequestLog {
  method: HttpMethod;
  path: string;
  status: number | TransportFailure;
  attempt: number;
  ms: number;
  requestId?: string;
}

export interface DatabricksHttpOptions {
  /** Workspace base URL as resolved by config.ts (https, or http only on loopback). */
  host: string;
  tokens: TokenProvider;
  fetch?: typeof globalThis.fetch;
  clock?: Clock;
  random?: () => number;
  timeoutMs?: number;
  deadlineMs?: number;
  /** First back-off wait; doubles each attempt up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called once per attempt; never receives headers or bodies, so it cannot leak a token. */
  onRequest?: (log: RequestLog) => void;
}

export interface DatabricksHttp {
  readonly host: string;
  request<T>(req: DatabricksRequest<T>): Promise<T>;
}

/**
 * The one HTTP layer every Databricks REST call goes through: auth, JSON, timeouts, the error
 * envelope, and retries with exponential back-off and jitter on 429, 503 and connection errors,
 * honouring Retry-After within an overall deadline, and only where a repeat is harmless.
 *
 * @example
 * const http = createDatabricksHttp({ host, tokens });
 * const ep = await http.request({ method: 'GET', path: `/api/2.0/serving-endpoints/${seg(name)}`, schema });
 */
export function createDatabricksHttp(options: DatabricksHttpOptions): DatabricksHttp {
  const {
    host,
    tokens,
    fetch = fastFetch,
    clock = systemClock,
    random = Math.random,
    timeoutMs = 30_000,
    deadlineMs = 120_000,
    baseBackoffMs = 500,
    maxBackoffMs = 10_000,
    onRequest,
  } = options;
  const base = new URL(host);
  // Tokens never travel in clear: plain http only to this machine (the twins).
  if (base.protocol !== 'https:' && !(base.protocol === 'http:' && isLoopbackHost(base.hostname))) {
    throw new Error(
      `refusing ${base.protocol}// to ${base.hostname}: use https:// (plain http only to loopback)`,
    );
  }

  async function once<T>(req: DatabricksRequest<T>, attempt: number, token: string): Promise<T> {
    const qs = req.query ? toQueryString(req.query) : '';
    const url = `${host}${req.path}${qs ? `?${qs}` : ''}`;
    // One controller per attempt, fed by the timeout and the caller's signal; both hooks are removed
    // when the attempt ends, so a long-lived caller signal does not collect a listener per request.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, req.timeoutMs ?? timeoutMs);
    const onCallerAbort = () => controller.abort(req.signal?.reason);
    if (req.signal?.aborted) onCallerAbort();
    else req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const signal = controller.signal;
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'user-agent': 'modelgate/0.1',
    };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const started = clock.now();
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: req.method,
        headers,
        body: req.body === undefined ? null : JSON.stringify(req.body),
        signal,
      });
      text = await res.text();
    } catch (e) {
      const kind: TransportFailure = req.signal?.aborted ? 'aborted' : timedOut ? 'timeout' : 'connection';
      onRequest?.({ method: req.method, path: req.path, status: kind, attempt, ms: clock.now() - started });
      const what =
        kind === 'timeout'
          ? `no answer within ${req.timeoutMs ?? timeoutMs} ms`
          : kind === 'aborted'
            ? 'the caller gave up'
            : `connection failed (${causeText(e)})`;
      throw new DatabricksTransportError(kind, `${req.method} ${req.path}: ${what}`, req.method, req.path);
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
    const requestId = res.headers.get('x-request-id') ?? undefined;
    onRequest?.({
      method: req.method,
      path: req.path,
      status: res.status,
      attempt,
      ms: clock.now() - started,
      ...(requestId ? { requestId } : {}),
    });
    if (!res.ok) throw parseErrorResponse(res.status, text, res.headers, req.method, req.path, clock.now());
    req.onResponseHeaders?.(res.headers);
    let json: unknown = {};
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        throw new DatabricksTransportError(
          'invalid_response',
          `${req.method} ${req.path}: the answer was not JSON`,
          req.method,
          req.path,
        );
      }
    }
    const parsed = req.schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first?.path.length ? first.path.join('.') : 'body';
      throw new DatabricksTransportError(
        'invalid_response',
        `${req.method} ${req.path}: unexpected answer at ${where}: ${first?.message ?? 'invalid'}`,
        req.method,
        req.path,
      );
    }
    return parsed.data;
  }

  return {
    host,
    async request<T>(req: DatabricksRequest<T>): Promise<T> {
      const idempotent = req.idempotent ?? req.method === 'GET';
      const deadline = clock.now() + (req.deadlineMs ?? deadlineMs);
      let refreshedAuth = false;
      for (let attempt = 1; ; attempt++) {
        const token = await tokens.token(req.signal);
        try {
          return await once(req, attempt, token);
        } catch (e) {
          const err = e as DatabricksError;
          err.attempts = attempt;
          // An expired OAuth token: drop it and try once more with a fresh one.
          if (
            err instanceof DatabricksApiError &&
            err.status === 401 &&
            tokens.invalidate &&
            !refreshedAuth
          ) {
            refreshedAuth = true;
            tokens.invalidate(token);
            continue;
          }
          if (!isRetryable(err, idempotent)) throw err;
          const backoff = Math.min(maxBackoffMs, baseBackoffMs * 2 ** (attempt - 1));
          const jittered = backoff / 2 + (random() * backoff) / 2;
          const floor = err instanceof DatabricksApiError ? (err.retryAfterMs ?? 0) : 0;
          const wait = Math.max(floor, jittered);
          if (clock.now() + wait > deadline) throw err;
          // Whoever waits on this call (a Slack command) may tell its user that the bot is retrying.
          reportRetry({ attempt, waitMs: wait, cause: err });
          await clock.sleep(wait, req.signal);
        }
      }
    },
  };
}

/**
 * 429 is refused before any work, so any call may repeat it; 5xx gateway answers and lost
 * connections leave the outcome unknown, so only calls that are harmless to repeat are retried.
 * A 500 in Databricks' own envelope is a server bug, not an outage: it is not repeated.
 */
function isRetryable(err: DatabricksError, idempotent: boolean): boolean {
  if (err instanceof DatabricksApiError) {
    if (err.status === 429) return true;
    return idempotent && isUnavailable(err);
  }
  return idempotent && (err.kind === 'connection' || err.kind === 'timeout');
}

function causeText(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}
