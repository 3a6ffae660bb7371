/**
 * A local Databricks SQL warehouse: the Thrift TCLIService protocol `@databricks/sql` speaks, as HTTPS
 * POSTs to `/sql/1.0/warehouses/<id>`, answered from the sandbox DuckDB. The production warehouse adapter
 * runs against it unchanged; only host, port, token and trusted CA differ.
 *
 * Unimplemented Thrift calls answer a Thrift error status "not implemented"; unknown paths answer 404.
 */
import { createServer, type Server } from 'node:https';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import TCLIService from '@databricks/sql/thrift/TCLIService.js';
import { generate } from 'selfsigned';
import type { SandboxDb } from '../duckdb.js';
import { createWarehouseService, type FaultState, type TwinStats } from './thrift-service.js';

// The Thrift runtime the driver depends on (no type declarations ship with it): only the two classes
// that turn a request body into a protocol reader and a reply into bytes.
interface ThriftTransport {
  commitPosition(): void;
  rollbackPosition(): void;
}
interface ThriftRuntime {
  TBufferedTransport: {
    new (buffer: undefined, onFlush: (reply: Buffer) => void): ThriftTransport;
    receiver(onData: (transport: ThriftTransport) => void, seqId: number): (data: Buffer) => void;
  };
  TBinaryProtocol: new (transport: ThriftTransport) => object;
}
const thrift = createRequire(import.meta.url)('thrift') as ThriftRuntime;

export interface WarehouseTwinOptions {
  db: SandboxDb;
  /** The bearer token callers must present. */
  token: string;
  /** 0 (default) picks a free port. */
  port?: number;
  warehouseId?: string;
  /** How long ExecuteStatement waits for a result before answering "still running" (default 2000 ms). */
  directResultsWaitMs?: number;
}

export interface WarehouseTwinFaults {
  /** The next `sessions` OpenSession calls answer as a stopped warehouse that is starting up. */
  warehouseStarting(sessions?: number): void;
  /** The next `statements` statements stay RUNNING for `ms` before they execute (or until cancelled). */
  slowStatements(ms: number, statements?: number): void;
  /** Drops every session, as a warehouse does when it stops; the next call on an old session fails. */
  forgetSessions(): void;
  reset(): void;
}

export interface WarehouseTwin {
  /** Always 127.0.0.1. */
  host: string;
  port: number;
  httpPath: string;
  /** PEM of the self-signed certificate made at start-up; pass it as the adapter's `ca`. */
  ca: string;
  /** `https://127.0.0.1:<port>`, the value for DATABRICKS_HOST. */
  url: string;
  faults: WarehouseTwinFaults;
  /** Counters: sessions opened and still open, statements, cancels, open operations, HTTP requests, TLS connections. */
  stats(): TwinStats & { requests: number; unauthorized: number; connections: number };
  stop(): Promise<void>;
}

/**
 * Starts the SQL warehouse twin on 127.0.0.1.
 *
 * @example
 * const twin = await startWarehouseTwin({ db, token: 'dapi-test' });
 * const warehouse = createDatabricksWarehouse({ host: twin.url, httpPath: twin.httpPath, ca: twin.ca, tokens });
 */
export async function startWarehouseTwin(options: WarehouseTwinOptions): Promise<WarehouseTwin> {
  const warehouseId = options.warehouseId ?? 'sandbox0000000001';
  const httpPath = `/sql/1.0/warehouses/${warehouseId}`;
  const faults: FaultState = { startingSessions: 0, slowStatements: { count: 0, ms: 0 } };
  const service = createWarehouseService({
    db: options.db,
    warehouseId,
    faults,
    directResultsWaitMs: options.directResultsWaitMs ?? 2000,
  });
  const processor = new TCLIService.Processor(service.handler);
  const counters = { requests: 0, unauthorized: 0, connections: 0 };

  // A CA-capable certificate for both loopback names, so the driver can keep verification on and
  // trust it through `customCaCert`.
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 7 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });

  const server: Server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    // With telemetry on, the driver asks for its feature flags first; an empty list keeps it quiet.
    if (req.method === 'GET' && path?.startsWith('/api/2.0/connector-service/feature-flags/')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"flags":[],"ttl_seconds":900}');
      return;
    }
    if (req.method !== 'POST' || path !== httpPath) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`No SQL warehouse at ${req.method} ${path}`);
      return;
    }
    const auth = req.headers.authorization;
    if (auth !== `Bearer ${options.token}`) {
      counters.unauthorized++;
      // Databricks answers a missing token with 401 and a wrong one with 403 before any Thrift is read.
      res
        .writeHead(auth ? 403 : 401, { 'content-type': 'text/plain' })
        .end(auth ? 'Invalid access token.' : 'Unauthorized');
      req.resume();
      return;
    }
    counters.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const receive = thrift.TBufferedTransport.receiver((input) => {
        const output = new thrift.TBinaryProtocol(
          new thrift.TBufferedTransport(undefined, (reply) => {
            // Always HTTP 200: the driver reads errors from the Thrift status, and never retries some calls.
            res.writeHead(200, { 'content-type': 'application/x-thrift' }).end(reply);
          }),
        );
        try {
          processor.process(new thrift.TBinaryProtocol(input), output);
          input.commitPosition();
        } catch (e) {
          res
            .writeHead(400, { 'content-type': 'text/plain' })
            .end(`Malformed Thrift request: ${(e as Error).message}`);
        }
      }, 0);
      receive(Buffer.concat(chunks));
    });
  });
  server.on('secureConnection', () => {
    counters.connections++;
  });
  // The driver keeps sockets alive between calls; a shorter server timeout resets them mid-request.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    httpPath,
    ca: pems.cert,
    url: `https://127.0.0.1:${port}`,
    faults: {
      warehouseStarting(sessions = 1) {
        faults.startingSessions = sessions;
      },
      slowStatements(ms, statements = 1) {
        faults.slowStatements = { count: statements, ms };
      },
      forgetSessions() {
        service.forgetSessions();
      },
      reset() {
        faults.startingSessions = 0;
        faults.slowStatements = { count: 0, ms: 0 };
      },
    },
    stats: () => ({ ...service.stats(), ...counters }),
    async stop() {
      await service.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
