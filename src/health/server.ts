/**
 * /healthz on the wire: the handler Bolt's HTTP receiver mounts as a custom route (HTTP mode, the
 * bot's own port), and a small server of its own for Socket Mode, which has no HTTP listener
 * (MODELGATE_HEALTH_PORT, or DATABRICKS_APP_PORT inside a Databricks App).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildHealthReport, type HealthInputs } from './report.js';

export const HEALTH_PATH = '/healthz';

/**
 * Answers one /healthz request from the inputs of the moment; a probe that throws answers 503.
 *
 * @example new HTTPReceiver({ customRoutes: [{ path: HEALTH_PATH, method: ['GET'], handler: healthHandler(inputs) }] })
 */
export function healthHandler(
  inputs: () => Promise<HealthInputs>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    inputs().then(
      (i) => {
        const { status, body } = buildHealthReport(i);
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      },
      (e: unknown) => {
        res.writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ ok: false, error: `health probe failed: ${(e as Error).message}` }));
      },
    );
  };
}

export interface HealthServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * A server that answers GET /healthz and 404 to anything else.
 *
 * @example const health = await startHealthServer({ port: 8080, host: '0.0.0.0', handler }); health.url
 */
export async function startHealthServer(o: {
  port: number;
  host: string;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://health').pathname;
    if (path !== HEALTH_PATH) {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    o.handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown =
    o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shown}:${port}${HEALTH_PATH}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
