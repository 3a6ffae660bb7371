/**
 * A `fetch` for the bot's own outgoing calls (Slack Web API, response_url, Databricks REST) built
 * on undici's `request`. Node's global fetch spends about 1 ms of CPU per call on this kind of
 * machine (WHATWG streams and a signal per request), undici's request about a fifth of that; the
 * bot makes thousands of these calls on the same event loop that must acknowledge Slack within
 * milliseconds (`npm run bench approvals`).
 *
 * It answers with a real `Response`, so callers (Bolt, @slack/web-api, our Databricks client) keep
 * the fetch API. Whatever it does not handle itself goes to the global fetch unchanged: a `Request`
 * object, a body that is not a string or bytes (FormData, streams, Blobs), and a redirect to follow.
 */
import { STATUS_CODES } from 'node:http';
import { request } from 'undici';

type FetchInput = Parameters<typeof fetch>[0];
type FetchInit = NonNullable<Parameters<typeof fetch>[1]>;

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

function plainBody(body: FetchInit['body']): string | Uint8Array | undefined | false {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return false;
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.set(name, value);
  }
  return headers;
}

/** The headers of `init` as undici takes them: a Headers object or pairs become a plain record. */
function headerRecord(headers: FetchInit['headers']): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  if (headers instanceof Headers || Array.isArray(headers)) return Object.fromEntries(headers);
  return headers as Record<string, string>;
}

export interface FastFetchOptions {
  /**
   * For calls that bring no signal of their own (Bolt's response_url replies, Web API calls without
   * a timeout): how long to wait for the answer's headers, and then between chunks of its body.
   * Without it such a call could hold a slot of the bot's slow lane for undici's 5 minutes.
   */
  timeoutMs: number;
}

/**
 * @example const quick = createFastFetch({ timeoutMs: 5_000 });
 */
export function createFastFetch(options: FastFetchOptions): typeof fetch {
  return (input, init) => fastFetchWith(options, input, init);
}

async function fastFetchWith(
  options: FastFetchOptions,
  input: FetchInput,
  init: FetchInit = {},
): Promise<Response> {
  const body = plainBody(init.body);
  if (input instanceof Request || body === false) return fetch(input, init);
  const url = input instanceof URL ? input.href : input;
  const signal = init.signal ?? undefined;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      method: (init.method ?? 'GET').toUpperCase() as 'GET',
      headers: headerRecord(init.headers),
      ...(body !== undefined ? { body } : {}),
      // A caller's signal is its deadline; otherwise undici's own timers, which cost nothing per call.
      ...(signal ? { signal } : { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs }),
    });
  } catch (e) {
    // As fetch does: an abort rejects with the signal's reason, anything else is "fetch failed".
    if (signal?.aborted) throw signal.reason;
    throw new TypeError('fetch failed', { cause: e });
  }
  const status = res.statusCode;
  if (status >= 300 && status < 400 && res.headers.location !== undefined && init.redirect !== 'manual') {
    await res.body.dump();
    if (init.redirect === 'error') {
      throw new TypeError('fetch failed', { cause: new Error(`redirect to ${res.headers.location}`) });
    }
    return fetch(input, init);
  }
  let bytes: ArrayBuffer;
  try {
    bytes = await res.body.arrayBuffer();
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw new TypeError('fetch failed', { cause: e });
  }
  return new Response(NULL_BODY_STATUS.has(status) ? null : bytes, {
    status,
    statusText: STATUS_CODES[status] ?? '',
    headers: toHeaders(res.headers),
  });
}

/**
 * The bot's fetch: 30 s for calls without a signal of their own.
 *
 * @example const client = new WebClient(token, { fetch: fastFetch });
 */
export const fastFetch: typeof fetch = createFastFetch({ timeoutMs: 30_000 });
