import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallLog, type RecordedCall } from './call-log.js';
import { FaultQueue, type SlackFault } from './faults.js';
import { acceptedScopes, callMethod, SUPPORTED_METHODS } from './methods.js';
import { parseApiRequest, parseUploadBody, readBody } from './request-body.js';
import { ResponseUrls, type ResponseUrlTarget } from './response-urls.js';
import { createDefaultSlackSeed, DEFAULT_BOT_SCOPES, type SlackSeed } from './seed.js';
import { type SlackChangeListener, SlackState, type TwinFile, type TwinMessage } from './state.js';

/**
 * An extra route on the twin's server (the sandbox console): answers and returns true when it handles
 * the request, false to let the twin go on (and answer 404 `unknown_route`).
 */
export type TwinRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

/** An extra token the twin accepts, acting as `userId` with these scopes. */
/** A value, or a promise of one. */
type Awaitable<T> = T | Promise<T>;

export interface TokenGrant {
  token: string;
  userId: string;
  scopes: readonly string[];
}

export interface SlackTwinOptions {
  /** Defaults to 0 (a free port). The twin binds 127.0.0.1 only. */
  port?: number;
  /** Defaults to createDefaultSlackSeed(). */
  seed?: SlackSeed;
  /** Defaults to 'xoxb-sandbox-bot-token'. */
  botToken?: string;
  /** Scopes granted to the bot token; defaults to DEFAULT_BOT_SCOPES (the manifest's). */
  scopes?: readonly string[];
  /** More tokens, e.g. a user token for the console. */
  tokens?: readonly TokenGrant[];
  /** Clock for message ts, call times and response_url expiry; defaults to Date.now. */
  now?: () => number;
}

export interface SlackTwin {
  /** Base URL, e.g. http://127.0.0.1:1234 */
  readonly url: string;
  /** `${url}/api/`: pass as `slackApiUrl` to WebClient / Bolt's `clientOptions`. */
  readonly apiUrl: string;
  readonly botToken: string;
  /** The workspace model (users, channels, messages, files) with `subscribe`. */
  readonly state: SlackState;
  /** Every recorded request in order; only those of `method` when given. */
  calls(method?: string): RecordedCall[];
  lastCall(method: string): RecordedCall | undefined;
  /** Requests for methods or routes the twin does not know; a test asserts this stays empty. */
  unknownCalls(): RecordedCall[];
  clearCalls(): void;
  /** Every message of a channel in ts order, thread replies and ephemerals (`ephemeral_to`) included. */
  messages(channel: string): TwinMessage[];
  /** A stored file with its bytes. */
  file(id: string): TwinFile | undefined;
  /**
   * Resolves with the first truthy result of `check`, evaluated now and after every recorded call or state
   * change; rejects after `timeoutMs` (default 5000) listing the calls received so far.
   */
  /**
   * Resolves with the first truthy value of `check`, evaluated on every Slack call and change. An
   * async check (one that reads the bot's store) is also evaluated every 25 ms.
   */
  waitFor<T>(check: () => Awaitable<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
  /** The first recorded call (earlier ones included) of `method` matching `predicate`. */
  waitForCall(
    method: string,
    predicate?: (call: RecordedCall) => boolean,
    timeoutMs?: number,
  ): Promise<RecordedCall>;
  /** Makes the next `times` (default 1) requests of `method` (or `upload` / `response_url`) fail with `fault`. */
  failNext(method: string, fault: SlackFault, times?: number): void;
  clearFaults(): void;
  /** Replaces the scopes of a token (the bot token by default). */
  setScopes(scopes: readonly string[], token?: string): void;
  /** A fresh `${url}/response/<id>` for a command or action payload. */
  createResponseUrl(target: ResponseUrlTarget): string;
  subscribe(listener: SlackChangeListener): () => void;
  /** Serves extra routes (the console) on the twin's address; returns the function that removes them. */
  use(route: TwinRoute): () => void;
  stop(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const DEFAULT_BOT_TOKEN = 'xoxb-sandbox-bot-token';

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': JSON_TYPE, ...headers });
  res.end(JSON.stringify(body));
}

function faultResponse(res: ServerResponse, fault: SlackFault): { status: number; response: unknown } {
  if ('error' in fault) {
    const body = { ok: false, error: fault.error, ...fault.extra };
    sendJson(res, 200, body);
    return { status: 200, response: body };
  }
  if (fault.status === 429) {
    const retryAfter = 'retryAfter' in fault && fault.retryAfter !== undefined ? fault.retryAfter : 1;
    const body = { ok: false, error: 'ratelimited' };
    sendJson(res, 429, body, { 'retry-after': String(retryAfter) });
    return { status: 429, response: body };
  }
  const text = `twin fault: HTTP ${fault.status}`;
  res.writeHead(fault.status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
  return { status: fault.status, response: text };
}

/**
 * Starts the Slack Web API twin on 127.0.0.1. The real `@slack/web-api` client (and Bolt) talks to it unchanged.
 *
 * @example
 * const twin = await startSlackTwin();
 * const client = new webApi.WebClient(twin.botToken, { slackApiUrl: twin.apiUrl, retryConfig: { retries: 0 } });
 * await client.chat.postMessage({ channel: MLOPS_CHANNEL_ID, text: 'hello' });
 * twin.messages(MLOPS_CHANNEL_ID)[0]?.text; // 'hello'
 * await twin.stop();
 */
export async function startSlackTwin(options: SlackTwinOptions = {}): Promise<SlackTwin> {
  const now = options.now ?? Date.now;
  const state = new SlackState(options.seed ?? createDefaultSlackSeed(), { now });
  const botToken = options.botToken ?? DEFAULT_BOT_TOKEN;
  const grants = new Map<string, TokenGrant>();
  grants.set(botToken, {
    token: botToken,
    userId: state.bot.userId,
    scopes: [...(options.scopes ?? DEFAULT_BOT_SCOPES)],
  });
  for (const grant of options.tokens ?? []) grants.set(grant.token, { ...grant, scopes: [...grant.scopes] });
  const log = new CallLog();
  const faults = new FaultQueue();
  const responseUrls = new ResponseUrls(state, now);
  const eventStreams = new Set<ServerResponse>();
  const extraRoutes = new Set<TwinRoute>();
  let baseUrl = '';

  const record = (call: Omit<RecordedCall, 'at'> & { at?: number }): void => {
    log.record({ ...call, at: call.at ?? now() });
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, url: URL, at: number) {
    const body = await readBody(req);
    let parsed: Awaited<ReturnType<typeof parseApiRequest>>;
    try {
      parsed = await parseApiRequest(req, body, url.searchParams);
    } catch {
      const response = { ok: false, error: 'invalid_json' };
      sendJson(res, 200, response);
      record({ method, args: { raw: body.toString('utf8') }, at, status: 200, response });
      return;
    }
    const { args, token } = parsed;
    const base = { method, args, at, ...(token ? { token } : {}) };
    if (!SUPPORTED_METHODS.includes(method)) {
      const response = { ok: false, error: 'unknown_method', req_method: method };
      sendJson(res, 200, response);
      record({ ...base, status: 200, response, unknown: true });
      return;
    }
    const fault = faults.take(method);
    if (fault) {
      record({ ...base, ...faultResponse(res, fault), fault });
      return;
    }
    const grant = token ? grants.get(token) : undefined;
    if (!grant) {
      const response = { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
      sendJson(res, 200, response);
      record({ ...base, status: 200, response });
      return;
    }
    const ctx = {
      state,
      actor: grant.userId,
      scopes: grant.scopes,
      uploadUrl: (fileId: string) => `${baseUrl}/upload/v1/${fileId}`,
    };
    const response = callMethod(method, args, ctx) ?? { ok: false, error: 'unknown_method' };
    sendJson(res, 200, response, {
      'x-oauth-scopes': grant.scopes.join(','),
      'x-accepted-oauth-scopes': acceptedScopes(method, args, ctx).join(','),
    });
    record({ ...base, status: 200, response });
  }

  async function handleUpload(req: IncomingMessage, res: ServerResponse, fileId: string, at: number) {
    const bytes = await parseUploadBody(req, await readBody(req));
    const args = { file_id: fileId, size: bytes.length };
    const fault = faults.take('upload');
    if (fault) {
      record({ method: 'upload', args, at, ...faultResponse(res, fault), fault });
      return;
    }
    if (!state.storeFileBytes(fileId, bytes)) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('file_not_found');
      record({ method: 'upload', args, at, status: 404, response: 'file_not_found' });
      return;
    }
    const text = `OK - ${bytes.length}`;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
    record({ method: 'upload', args, at, status: 200, response: text });
  }

  async function handleResponseUrl(req: IncomingMessage, res: ServerResponse, id: string, at: number) {
    const raw = (await readBody(req)).toString('utf8');
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      payload = undefined;
    }
    const args =
      typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : { raw };
    const fault = faults.take('response_url');
    if (fault) {
      record({
        method: 'response_url',
        args,
        at,
        ...faultResponse(res, fault),
        fault,
        path: `/response/${id}`,
      });
      return;
    }
    const outcome = responseUrls.apply(id, payload);
    sendJson(res, outcome.status, outcome.body);
    record({
      method: 'response_url',
      args,
      at,
      status: outcome.status,
      response: outcome.body,
      path: `/response/${id}`,
    });
  }

  function handleFileBytes(res: ServerResponse, fileId: string): void {
    const file = state.files.get(fileId);
    if (!file?.bytes) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('file_not_found');
      return;
    }
    res.writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.bytes.length) });
    res.end(file.bytes);
  }

  function handleEvents(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    eventStreams.add(res);
    const unsubscribe = state.subscribe((change) => {
      res.write(`event: ${change.type}\ndata: ${JSON.stringify(change)}\n\n`);
    });
    req.on('close', () => {
      unsubscribe();
      eventStreams.delete(res);
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const verb = req.method ?? 'GET';
    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(path);
    if (api?.[1] && (verb === 'POST' || verb === 'GET')) return handleApi(req, res, api[1], url, at);
    const upload = /^\/upload\/v1\/([A-Za-z0-9]+)$/.exec(path);
    if (upload?.[1] && verb === 'POST') return handleUpload(req, res, upload[1], at);
    const response = /^\/response\/([a-f0-9]+)$/.exec(path);
    if (response?.[1] && verb === 'POST') return handleResponseUrl(req, res, response[1], at);
    const bytes = /^\/files\/([A-Za-z0-9]+)(?:\/[^/]*)?$/.exec(path);
    if (bytes?.[1] && verb === 'GET') return handleFileBytes(res, bytes[1]);
    if (path === '/console/events' && verb === 'GET') return handleEvents(req, res);
    for (const extra of [...extraRoutes]) if (await extra(req, res, url)) return;
    const body = await readBody(req);
    const answer = { ok: false, error: 'unknown_route' };
    sendJson(res, 404, answer);
    record({
      method: `${verb} ${path}`,
      args: body.length > 0 ? { raw: body.toString('utf8') } : {},
      at,
      status: 404,
      response: answer,
      unknown: true,
      path,
    });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const detail = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'twin_internal_error', detail });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  state.baseUrl = baseUrl;

  function waitFor<T>(check: () => Awaitable<T | undefined | null | false>, timeoutMs = 5000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cleanups: (() => void)[] = [];
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        for (const cleanup of cleanups) cleanup();
        fn();
      };
      const settle = (value: T | undefined | null | false): boolean => {
        if (value === undefined || value === null || value === false) return false;
        finish(() => resolve(value));
        return true;
      };
      const evaluate = (): boolean => {
        if (done) return true;
        try {
          const value = check();
          if (value instanceof Promise) {
            value.then(settle, (error: unknown) => finish(() => reject(error)));
            return false;
          }
          return settle(value as T | undefined | null | false);
        } catch (error) {
          finish(() => reject(error));
          return true;
        }
      };
      if (evaluate()) return;
      const timer = setTimeout(() => {
        const seen = log
          .all()
          .slice(-15)
          .map((c) => `${c.method} → ${c.status} ${JSON.stringify(c.response).slice(0, 120)}`);
        finish(() =>
          reject(
            new Error(
              `slack twin: condition not met within ${timeoutMs} ms. Last calls:\n  ${seen.join('\n  ') || '(none)'}`,
            ),
          ),
        );
      }, timeoutMs);
      cleanups.push(() => clearTimeout(timer));
      const poller = setInterval(() => void evaluate(), 25);
      cleanups.push(() => clearInterval(poller));
      cleanups.push(log.onRecord(() => void evaluate()));
      cleanups.push(state.subscribe(() => void evaluate()));
    });
  }

  return {
    url: baseUrl,
    apiUrl: `${baseUrl}/api/`,
    botToken,
    state,
    calls: (method) => log.all(method),
    lastCall: (method) => log.last(method),
    unknownCalls: () => log.unknown(),
    clearCalls: () => log.clear(),
    messages: (channel) => state.messages(channel),
    file: (id) => state.files.get(id),
    waitFor,
    waitForCall: (method, predicate = () => true, timeoutMs) =>
      waitFor(() => log.all(method).find(predicate), timeoutMs),
    failNext: (method, fault, times = 1) => faults.failNext(method, fault, times),
    clearFaults: () => faults.clear(),
    setScopes: (scopes, token = botToken) => {
      const grant = grants.get(token);
      if (!grant) throw new Error(`slack twin: unknown token ${token}`);
      grant.scopes = [...scopes];
    },
    createResponseUrl: (target) => {
      if (!state.channels.has(target.channel))
        throw new Error(`slack twin: unknown channel ${target.channel}`);
      return `${baseUrl}/response/${responseUrls.issue(target)}`;
    },
    subscribe: (listener) => state.subscribe(listener),
    use: (extra) => {
      extraRoutes.add(extra);
      return () => extraRoutes.delete(extra);
    },
    stop: async () => {
      for (const stream of eventStreams) stream.end();
      eventStreams.clear();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
