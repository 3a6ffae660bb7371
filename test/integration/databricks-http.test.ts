import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createOAuthM2M, OAuthError, staticTokenProvider } from '../../src/databricks/auth.js';
import {
  createDatabricksHttp,
  DatabricksApiError,
  DatabricksTransportError,
  parseErrorResponse,
  toQueryString,
} from '../../src/databricks/http.js';
import { unavailableError } from '../../src/domain/ports/databricks-errors.js';
import { observeCalls, type RetryEvent } from '../../src/lib/call-observer.js';
import { simulatedClock } from '../../src/lib/clock.js';
import { startWorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { startTwinWithClient } from '../support/workspace.js';

const LIST = 'GET /api/2.0/serving-endpoints';
const RUN_NOW = 'POST /api/2.2/jobs/run-now';
const listSchema = z.looseObject({ endpoints: z.array(z.unknown()).optional() });
const list = { method: 'GET', path: '/api/2.0/serving-endpoints', schema: listSchema } as const;

describe('the Databricks HTTP layer against the workspace twin', () => {
  let env: Awaited<ReturnType<typeof startTwinWithClient>>;
  beforeAll(async () => {
    env = await startTwinWithClient();
  });
  afterAll(() => env.twin.stop());
  afterEach(() => {
    env.twin.faults.clear();
    env.attempts.length = 0;
    env.sleeps.length = 0;
  });

  it('honours Retry-After on a 429 before trying again', async () => {
    env.twin.faults.next(LIST, { kind: 'status', status: 429, retryAfterSeconds: 3 });
    await expect(env.http.request(list)).resolves.toBeDefined();
    expect(env.attempts.map((a) => a.status)).toEqual([429, 200]);
    expect(env.sleeps[0]).toBeGreaterThanOrEqual(3000);
  });

  it('retries a 503 on a read with growing waits', async () => {
    env.twin.faults.next(LIST, { kind: 'status', status: 503 }, 3);
    await env.http.request(list);
    expect(env.attempts.map((a) => a.status)).toEqual([503, 503, 503, 200]);
    expect(env.sleeps).toHaveLength(3);
    // Full back-off doubles each time; jitter keeps each wait within [half, full] of it.
    expect(env.sleeps[2]!).toBeGreaterThan(env.sleeps[0]!);
  });

  it('does not retry a POST that starts something without an idempotency token', async () => {
    env.twin.faults.next(RUN_NOW, { kind: 'status', status: 503 });
    const err = await env.http
      .request({ method: 'POST', path: '/api/2.2/jobs/run-now', body: { job_id: 1 }, schema: z.unknown() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabricksApiError);
    expect((err as DatabricksApiError).status).toBe(503);
    expect(env.twin.requests.filter((r) => r.route === RUN_NOW && r.status === 503)).toHaveLength(1);
    expect(env.attempts).toHaveLength(1);
  });

  it('gives up when the overall deadline would pass, saying how many attempts it made', async () => {
    env.twin.faults.next(LIST, { kind: 'status', status: 503 }, 50);
    const err = (await env.http
      .request({ ...list, deadlineMs: 5_000 })
      .catch((e: unknown) => e)) as DatabricksApiError;
    expect(err).toBeInstanceOf(DatabricksApiError);
    expect(err.attempts).toBeGreaterThan(1);
    expect(env.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
  });

  it('surfaces a dropped connection on a POST as a clear connection error, without retrying', async () => {
    env.twin.faults.next(RUN_NOW, { kind: 'drop' });
    const err = (await env.http
      .request({ method: 'POST', path: '/api/2.2/jobs/run-now', body: { job_id: 1 }, schema: z.unknown() })
      .catch((e: unknown) => e)) as DatabricksTransportError;
    expect(err).toBeInstanceOf(DatabricksTransportError);
    expect(err.kind).toBe('connection');
    expect(err.message).toMatch(/POST \/api\/2\.2\/jobs\/run-now: connection failed/);
    expect(env.attempts).toHaveLength(1);
  });

  it('retries a read after a dropped connection', async () => {
    env.twin.faults.next(LIST, { kind: 'drop' });
    await env.http.request(list);
    expect(env.attempts.map((a) => a.status)).toEqual(['connection', 200]);
  });

  it('retries a read that met an HTML gateway page, telling whoever waits on it, and then reads', async () => {
    env.twin.faults.next(LIST, { kind: 'html', status: 502 }, 2);
    const heard: Array<{ attempt: number; gateway: boolean }> = [];
    const observer = {
      retrying: (e: RetryEvent) =>
        heard.push({ attempt: e.attempt, gateway: (e.cause as DatabricksApiError).gateway }),
    };
    await expect(observeCalls(observer, () => env.http.request(list))).resolves.toBeDefined();
    expect(env.attempts.map((a) => a.status)).toEqual([502, 502, 200]);
    expect(heard).toEqual([
      { attempt: 1, gateway: true },
      { attempt: 2, gateway: true },
    ]);
  });

  it('reports an HTML page that outlasts the retries as Databricks unavailable', async () => {
    env.twin.faults.next(LIST, { kind: 'html', status: 502 }, 50);
    const err = await env.http.request({ ...list, deadlineMs: 3_000 }).catch((e: unknown) => e);
    expect(unavailableError(err)?.details).toMatchObject({ status: 502, gateway: true });
    expect(describeError(unavailableError(err)!).text).toMatch(
      /^Databricks was unavailable \(502 from a gateway\) after \d+ attempts\.$/,
    );
  });

  it('does not repeat a PUT whose connection dropped unless the call says it is harmless', async () => {
    const PUT_CONFIG = 'PUT /api/2.0/serving-endpoints/:name/config';
    const put = {
      method: 'PUT',
      path: '/api/2.0/serving-endpoints/x/config',
      body: {},
      schema: z.unknown(),
    } as const;
    env.twin.faults.next(PUT_CONFIG, { kind: 'drop' });
    const err = await env.http.request(put).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'connection' });
    expect(env.attempts).toHaveLength(1);
    env.twin.faults.next(PUT_CONFIG, { kind: 'drop' });
    await env.http.request({ ...put, idempotent: true }).catch(() => undefined);
    expect(env.attempts.map((a) => a.status)).toEqual(['connection', 'connection', 404]);
  });

  it('times a slow answer out per request', async () => {
    env.twin.faults.next(RUN_NOW, { kind: 'slow', ms: 400 });
    const err = (await env.http
      .request({
        method: 'POST',
        path: '/api/2.2/jobs/run-now',
        body: {},
        schema: z.unknown(),
        timeoutMs: 50,
      })
      .catch((e: unknown) => e)) as DatabricksTransportError;
    expect(err.kind).toBe('timeout');
    expect(err.message).toContain('no answer within 50 ms');
  });

  it('turns the error envelope into one typed error with status, code, message and request id', async () => {
    const err = (await env.http
      .request({ method: 'GET', path: '/api/2.0/no-such-api', schema: z.unknown() })
      .catch((e: unknown) => e)) as DatabricksApiError;
    expect(err).toMatchObject({ status: 404, errorCode: 'ENDPOINT_NOT_FOUND' });
    expect(err.message).toContain('/api/2.0/no-such-api');
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects a wrong token with UNAUTHENTICATED and does not retry it', async () => {
    const http = createDatabricksHttp({ host: env.twin.url, tokens: staticTokenProvider('dapi-wrong') });
    const err = (await http.request(list).catch((e: unknown) => e)) as DatabricksApiError;
    expect(err).toMatchObject({ status: 401, errorCode: 'UNAUTHENTICATED', attempts: 1 });
  });
});

describe('OAuth machine-to-machine', () => {
  it('makes one token request for many concurrent calls, then refreshes once the token nears expiry', async () => {
    const clock = simulatedClock(Date.parse('2026-01-01T00:00:00Z'));
    const twin = await startWorkspaceTwin({
      clock,
      oauthClients: { 'sp-1': 's3cret' },
      oauthTokenTtlSeconds: 3600,
    });
    try {
      const tokens = createOAuthM2M({ host: twin.url, clientId: 'sp-1', clientSecret: 's3cret', clock });
      const http = createDatabricksHttp({ host: twin.url, tokens, clock });
      await Promise.all(Array.from({ length: 20 }, () => http.request(list)));
      expect(twin.tokenRequests()).toBe(1);
      clock.advance(3600_000 - 30_000); // inside the 40 s refresh margin
      await Promise.all(Array.from({ length: 10 }, () => http.request(list)));
      expect(twin.tokenRequests()).toBe(2);
    } finally {
      await twin.stop();
    }
  });

  it('fetches a new token once when the workspace refuses a cached one', async () => {
    const clock = simulatedClock(Date.parse('2026-01-01T00:00:00Z'));
    // The twin issues hour-long tokens, but its clock jumps past expiry: the cached token is refused.
    const twin = await startWorkspaceTwin({
      clock,
      oauthClients: { 'sp-1': 's3cret' },
      oauthTokenTtlSeconds: 3600,
    });
    try {
      const clientClock = simulatedClock(clock.now());
      const tokens = createOAuthM2M({
        host: twin.url,
        clientId: 'sp-1',
        clientSecret: 's3cret',
        clock: clientClock,
      });
      const http = createDatabricksHttp({ host: twin.url, tokens, clock: clientClock });
      await http.request(list);
      clock.advance(2 * 3600_000);
      await http.request(list);
      expect(twin.tokenRequests()).toBe(2);
    } finally {
      await twin.stop();
    }
  });

  it('explains a refused client secret', async () => {
    const twin = await startWorkspaceTwin({ oauthClients: { 'sp-1': 's3cret' } });
    try {
      const tokens = createOAuthM2M({ host: twin.url, clientId: 'sp-1', clientSecret: 'wrong' });
      const err = await tokens.token().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OAuthError);
      expect((err as OAuthError).message).toContain('refused the OAuth client credentials (HTTP 401)');
      expect((err as OAuthError).message).not.toContain('wrong');
    } finally {
      await twin.stop();
    }
  });
});

describe('request encoding', () => {
  let server: ReturnType<typeof createServer>;
  let url: string;
  const seen: Array<{ method?: string; url?: string; body: string; type?: string }> = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, body, type: req.headers['content-type'] });
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true,"unknown_field":1}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends JSON bodies on PATCH as well as POST and PUT', async () => {
    const http = createDatabricksHttp({ host: url, tokens: staticTokenProvider('t') });
    for (const method of ['PATCH', 'POST', 'PUT'] as const) {
      await http.request({ method, path: '/x', body: { add_tags: [{ key: 'a' }] }, schema: z.unknown() });
    }
    expect(seen.map((s) => [s.method, s.body, s.type])).toEqual(
      ['PATCH', 'POST', 'PUT'].map((m) => [m, '{"add_tags":[{"key":"a"}]}', 'application/json']),
    );
  });

  it('flattens query objects with dots, repeats arrays and writes booleans as words', () => {
    expect(toQueryString({ include_aliases: true, a: { b: 1 }, ids: [1, 2], skip: undefined })).toBe(
      'include_aliases=true&a.b=1&ids=1&ids=2',
    );
  });

  it('keeps fields it does not know in loose schemas', async () => {
    const http = createDatabricksHttp({ host: url, tokens: staticTokenProvider('t') });
    const out = await http.request({ method: 'GET', path: '/y', schema: z.looseObject({ ok: z.boolean() }) });
    expect(out).toEqual({ ok: true, unknown_field: 1 });
  });

  it('reports an answer that does not match its schema as an invalid response, naming the field', async () => {
    const http = createDatabricksHttp({ host: url, tokens: staticTokenProvider('t') });
    const err = (await http
      .request({ method: 'GET', path: '/y', schema: z.object({ ok: z.string() }) })
      .catch((e: unknown) => e)) as DatabricksTransportError;
    expect(err.kind).toBe('invalid_response');
    expect(err.message).toContain('at ok');
  });

  it('refuses to build a client that would send a token over plain http to another host', () => {
    expect(() =>
      createDatabricksHttp({ host: 'http://adb-1.example.com', tokens: staticTokenProvider('t') }),
    ).toThrow(/plain http only to loopback/);
    expect(() =>
      createDatabricksHttp({ host: 'http://127.0.0.1:9', tokens: staticTokenProvider('t') }),
    ).not.toThrow();
  });

  it('parses an HTML gateway page into a status-derived error', () => {
    const err = parseErrorResponse(502, '<html>Bad gateway</html>', new Headers(), 'GET', '/p', 0);
    expect(err).toMatchObject({ status: 502, errorCode: 'BAD_GATEWAY', gateway: true });
    expect(err.message).toContain('gateway');
  });
});
