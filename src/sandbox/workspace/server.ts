import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from '../../lib/clock.js';
import type { InferenceRecord, TwinContext } from './context.js';
import { registerDatabaseRoutes } from './database-routes.js';
import { registerDeploymentJobRoutes } from './deployment-jobs-routes.js';
import { FaultInjector } from './faults.js';
import { registerJobRoutes } from './jobs-routes.js';
import { registerMlflowRoutes } from './mlflow-routes.js';
import { registerMonitorRoutes } from './monitors-routes.js';
import { PAGE_SIZE, registerRegistryRoutes } from './registry-routes.js';
import { Router, TwinApiError, type TwinRequest } from './router.js';
import { registerServingRoutes } from './serving-routes.js';
import { emptyState, type WorkspaceState } from './state.js';

export type { InferenceRecord, TwinContext } from './context.js';

export interface WorkspaceTwinOptions {
  port?: number;
  /** Personal access token the twin accepts. */
  token?: string;
  /** OAuth M2M clients the twin accepts at /oidc/v1/token: client id → secret. */
  oauthClients?: Record<string, string>;
  /** Lifetime of the OAuth tokens it issues. */
  oauthTokenTtlSeconds?: number;
  clock?: Clock;
  /** How long a serving rollout stays IN_PROGRESS. */
  rolloutDelayMs?: number;
  /** New served versions of a rollout become ready one by one over its length. */
  rolloutStagger?: boolean;
  /** How long a job run stays QUEUED, then RUNNING. */
  jobQueueMs?: number;
  jobRunMs?: number;
  /**
   * Most items a Unity Catalog list page holds (default 2, so every client loop meets several
   * pages). Databricks itself pages at max_results, up to 1000; benches that want its cost of
   * listing set this to the max_results the bot asks for (100).
   */
  listPageSize?: number;
  /** Called after every successful invocation (the sandbox writes it to DuckDB). */
  onInference?: (record: InferenceRecord) => void | Promise<void>;
  /** Does a batch-scoring run's work when it ends (the sandbox: sandbox/batch-scorer.ts over DuckDB). */
  onBatchScore?: TwinContext['onBatchScore'];
  /** Starting state; defaults to empty. Use seedDemoWorkspace() for the demo. */
  state?: WorkspaceState;
}

export interface RequestRecord {
  method: string;
  path: string;
  route?: string;
  status: number;
  at: number;
}

export interface WorkspaceTwin {
  url: string;
  port: number;
  token: string;
  state: WorkspaceState;
  faults: FaultInjector;
  /** Every request answered, in order (for tests and benches counting calls). */
  requests: RequestRecord[];
  /** How many OAuth tokens were issued. */
  tokenRequests(): number;
  /** Tunables tests may change while the twin runs. */
  settings: Pick<TwinContext, 'rolloutDelayMs' | 'rolloutStagger' | 'jobQueueMs' | 'jobRunMs'>;
  stop(): Promise<void>;
}

/**
 * Starts a loopback HTTP server that behaves like a Databricks workspace for the calls modelgate
 * makes: Model Serving, Unity Catalog models, Jobs, monitors and OAuth M2M. The production client
 * runs against it unchanged; only host and token differ.
 *
 * @example const twin = await startWorkspaceTwin({ state: seedDemoWorkspace() }); twin.url;
 */
export async function startWorkspaceTwin(options: WorkspaceTwinOptions = {}): Promise<WorkspaceTwin> {
  const token = options.token ?? `dapi-sandbox-${randomUUID().slice(0, 8)}`;
  const clock = options.clock ?? systemClock;
  const ttl = options.oauthTokenTtlSeconds ?? 3600;
  const issued = new Map<string, number>();
  let tokenRequests = 0;
  let baseUrl = '';
  const ctx: TwinContext = {
    state: options.state ?? emptyState(),
    clock,
    rolloutDelayMs: options.rolloutDelayMs ?? 2_000,
    ...(options.rolloutStagger ? { rolloutStagger: true } : {}),
    jobQueueMs: options.jobQueueMs ?? 1_000,
    jobRunMs: options.jobRunMs ?? 3_000,
    listPageSize: options.listPageSize ?? PAGE_SIZE,
    baseUrl: () => baseUrl,
    ...(options.onInference ? { onInference: options.onInference } : {}),
    ...(options.onBatchScore ? { onBatchScore: options.onBatchScore } : {}),
  };
  const router = new Router();
  registerServingRoutes(router, ctx);
  registerRegistryRoutes(router, ctx);
  registerJobRoutes(router, ctx);
  registerDeploymentJobRoutes(router, ctx);
  registerMonitorRoutes(router, ctx);
  registerMlflowRoutes(router, ctx);
  registerDatabaseRoutes(router, ctx);
  const faults = new FaultInjector();
  const requests: RequestRecord[] = [];

  function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, route?: string) {
    // A handler may have set the request id already (invocations log it to the inference table).
    const requestId = (res.getHeader('x-request-id') as string | undefined) ?? randomUUID();
    res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
    res.end(body === undefined ? '' : JSON.stringify(body));
    requests.push({
      method: req.method ?? 'GET',
      path: req.url ?? '',
      status,
      at: clock.now(),
      ...(route ? { route } : {}),
    });
  }

  function authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer (.+)$/.exec(header)?.[1];
    if (!bearer) return false;
    if (bearer === token) return true;
    const expiresAt = issued.get(bearer);
    return expiresAt !== undefined && clock.now() < expiresAt;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://twin');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);

    if (method === 'POST' && url.pathname === '/oidc/v1/token') {
      tokenRequests++;
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const [id, secret] = basic
        ? Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent)
        : [];
      const form = new URLSearchParams(raw);
      if (!id || !secret || options.oauthClients?.[id] !== secret) {
        return send(req, res, 401, {
          error: 'invalid_client',
          error_description: 'Client authentication failed',
        });
      }
      if (form.get('grant_type') !== 'client_credentials') {
        return send(req, res, 400, { error: 'unsupported_grant_type' });
      }
      const access = `oauth-${randomUUID()}`;
      issued.set(access, clock.now() + ttl * 1000);
      return send(req, res, 200, {
        access_token: access,
        token_type: 'Bearer',
        expires_in: ttl,
        scope: form.get('scope') ?? 'all-apis',
      });
    }

    let match: ReturnType<Router['match']>;
    try {
      match = router.match(method, url.pathname);
    } catch (e) {
      if (!(e instanceof TwinApiError)) throw e;
      return send(req, res, e.status, { error_code: e.errorCode, message: e.message });
    }
    const routeKey = match ? `${method} ${match.route.pattern}` : undefined;

    if (!authorised(req)) {
      return send(req, res, 401, {
        error_code: 'UNAUTHENTICATED',
        message: 'Invalid access token.',
      });
    }
    if (!match || !routeKey) {
      return send(req, res, 404, {
        error_code: 'ENDPOINT_NOT_FOUND',
        message: `No API found for '${method} ${url.pathname}'`,
      });
    }

    const fault = faults.take(routeKey);
    if (fault?.kind === 'drop') {
      requests.push({ method, path: req.url ?? '', route: routeKey, status: 0, at: clock.now() });
      req.socket.destroy();
      return;
    }
    // Slow faults wait in real time even on a simulated clock: they exercise client timeouts.
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'html') {
      const reason =
        fault.status === 502 ? 'Bad Gateway' : fault.status === 504 ? 'Gateway Time-out' : 'Error';
      res.writeHead(fault.status, { 'content-type': 'text/html' });
      res.end(
        `<html>\r\n<head><title>${fault.status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${fault.status} ${reason}</h1></center>\r\n</body>\r\n</html>\r\n`,
      );
      requests.push({ method, path: req.url ?? '', route: routeKey, status: fault.status, at: clock.now() });
      return;
    }
    if (fault?.kind === 'status') {
      if (fault.retryAfterSeconds !== undefined)
        res.setHeader('retry-after', String(fault.retryAfterSeconds));
      const codes: Record<number, string> = {
        400: 'INVALID_PARAMETER_VALUE',
        403: 'PERMISSION_DENIED',
        404: 'RESOURCE_DOES_NOT_EXIST',
        409: 'RESOURCE_CONFLICT',
        429: 'REQUEST_LIMIT_EXCEEDED',
        501: 'NOT_IMPLEMENTED',
        500: 'INTERNAL_ERROR',
        502: 'BAD_GATEWAY',
        503: 'TEMPORARILY_UNAVAILABLE',
        504: 'DEADLINE_EXCEEDED',
      };
      return send(
        req,
        res,
        fault.status,
        {
          error_code: fault.errorCode ?? codes[fault.status] ?? 'UNKNOWN',
          message: fault.message ?? `Injected fault: HTTP ${fault.status}`,
        },
        routeKey,
      );
    }

    let body: unknown;
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(
          req,
          res,
          400,
          { error_code: 'MALFORMED_REQUEST', message: 'Malformed JSON body' },
          routeKey,
        );
      }
    }
    const twinReq: TwinRequest = {
      method,
      params: match.params,
      query: url.searchParams,
      body,
      headers: req.headers,
      route: routeKey,
    };
    try {
      const out = await match.route.handler(twinReq);
      // Applied already; only the answer waits (in real time, like 'slow').
      if (fault?.kind === 'late') await new Promise((r) => setTimeout(r, fault.ms));
      if (res.destroyed) {
        requests.push({ method, path: req.url ?? '', route: routeKey, status: 0, at: clock.now() });
        return;
      }
      for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
      send(req, res, out.status ?? 200, out.body ?? {}, routeKey);
    } catch (e) {
      if (e instanceof TwinApiError) {
        send(req, res, e.status, { error_code: e.errorCode, message: e.message }, routeKey);
      } else {
        send(req, res, 500, { error_code: 'INTERNAL_ERROR', message: (e as Error).message }, routeKey);
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(req, res, 500, { error_code: 'INTERNAL_ERROR', message: String(e) });
    });
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    port,
    token,
    state: ctx.state,
    faults,
    requests,
    tokenRequests: () => tokenRequests,
    settings: ctx,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
