import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFastFetch, fastFetch } from '../../src/lib/http-client.js';

/** What the loopback server received, per request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void> = {
  '/json': (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-request-id', 'req-1');
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.end('{"ok":true}');
  },
  '/echo': (req, res, body) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'] ?? null, body }));
  },
  '/empty': (_req, res) => {
    res.statusCode = 204;
    res.end();
  },
  '/missing': (_req, res) => {
    res.statusCode = 404;
    res.setHeader('content-type', 'application/json');
    res.end('{"error_code":"RESOURCE_DOES_NOT_EXIST"}');
  },
  '/moved': (_req, res) => {
    res.statusCode = 302;
    res.setHeader('location', '/json');
    res.end();
  },
  '/bytes': (_req, res) => {
    res.setHeader('content-type', 'image/png');
    res.end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]));
  },
  '/slow': (_req, res) => {
    setTimeout(() => res.end('late'), 2_000).unref();
  },
};

let base: string;
const seen: Seen[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) route(req, res, body);
    else {
      res.statusCode = 500;
      res.end('no route');
    }
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** What a caller of fetch can observe of a response. */
async function observe(res: Response) {
  return {
    status: res.status,
    ok: res.ok,
    statusText: res.statusText,
    contentType: res.headers.get('content-type'),
    requestId: res.headers.get('x-request-id'),
    cookies: res.headers.getSetCookie(),
    body: Buffer.from(await res.arrayBuffer()).toString('hex'),
  };
}

describe('fastFetch answers as the global fetch does', () => {
  const cases: Array<[string, string, RequestInit | undefined]> = [
    ['a JSON GET with headers and two cookies', '/json', undefined],
    [
      'a POST with a string body',
      '/echo',
      { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } },
    ],
    [
      'a POST with headers given as a Headers object',
      '/echo',
      {
        method: 'post',
        body: 'x=1',
        headers: new Headers({ 'content-type': 'application/x-www-form-urlencoded' }),
      },
    ],
    ['a POST with a byte body', '/echo', { method: 'POST', body: new TextEncoder().encode('bytes') }],
    [
      'a form-data body (handed to the global fetch)',
      '/echo',
      {
        method: 'POST',
        body: (() => {
          const f = new FormData();
          f.set('k', 'v');
          return f;
        })(),
      },
    ],
    ['a 204 without a body', '/empty', undefined],
    ['a 404 with an error envelope', '/missing', undefined],
    ['a redirect, followed', '/moved', undefined],
    ['a redirect, not followed', '/moved', { redirect: 'manual' }],
    ['binary bytes', '/bytes', undefined],
  ];

  it.each(cases)('%s', async (_name, path, init) => {
    const ours = await observe(await fastFetch(`${base}${path}`, init));
    const theirs = await observe(await fetch(`${base}${path}`, init));
    if (init?.body instanceof FormData) {
      // Each multipart body has its own boundary; compare what the server understood instead.
      expect(JSON.parse(Buffer.from(ours.body, 'hex').toString()).type).toMatch(
        /^multipart\/form-data; boundary=/,
      );
      expect(ours.status).toBe(theirs.status);
      return;
    }
    expect(ours).toEqual(theirs);
  });

  it('sends the method, headers and body the caller gave', async () => {
    seen.length = 0;
    await fastFetch(new URL(`${base}/echo?x=1`), {
      method: 'PATCH',
      headers: [
        ['authorization', 'Bearer t'],
        ['content-type', 'application/json'],
      ],
      body: '{"b":2}',
    });
    expect(seen[0]).toMatchObject({
      method: 'PATCH',
      url: '/echo?x=1',
      body: '{"b":2}',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
    });
  });

  it("refuses a redirect when told redirect: 'error', as fetch does", async () => {
    await expect(fastFetch(`${base}/moved`, { redirect: 'error' })).rejects.toThrow(TypeError);
    await expect(fetch(`${base}/moved`, { redirect: 'error' })).rejects.toThrow(TypeError);
  });

  it("rejects with the signal's reason when the caller aborts", async () => {
    const reason = new Error('caller gave up');
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 50);
    await expect(fastFetch(`${base}/slow`, { signal: controller.signal })).rejects.toBe(reason);
    await expect(fastFetch(`${base}/json`, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it('reports a refused connection as "fetch failed" with the cause, as fetch does', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await fastFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect(((error as TypeError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('gives up on a call without a signal once the answer is overdue, as "fetch failed"', async () => {
    const quick = createFastFetch({ timeoutMs: 150 });
    const error = await quick(`${base}/slow`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(((error as TypeError).cause as { code?: string }).code).toBe('UND_ERR_HEADERS_TIMEOUT');
  });

  it("leaves a call that brings a signal to that signal's deadline", async () => {
    const quick = createFastFetch({ timeoutMs: 50 });
    const reason = new Error('caller deadline');
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 300);
    // Had the 50 ms timer applied, this would reject with "fetch failed" before the abort.
    await expect(quick(`${base}/slow`, { signal: controller.signal })).rejects.toBe(reason);
  });
});
