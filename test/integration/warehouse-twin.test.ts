// Protocol corners of the SQL warehouse twin that the adapter never reaches: other Thrift calls, other
// paths. These talk to the twin with the driver and node:https directly.
import { request } from 'node:https';
import { DBSQLClient } from '@databricks/sql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDatabricksWarehouse } from '../../src/databricks/warehouse.js';
import { WarehouseError } from '../../src/domain/ports/warehouse.js';
import { openSandboxDuckDb, type SandboxDb } from '../../src/sandbox/duckdb.js';
import { startWarehouseTwin, type WarehouseTwin } from '../../src/sandbox/warehouse/index.js';

const TOKEN = 'dapi-twin-test';
let db: SandboxDb;
let twin: WarehouseTwin;

beforeAll(async () => {
  db = await openSandboxDuckDb();
  twin = await startWarehouseTwin({ db, token: TOKEN, warehouseId: 'abc123' });
});

afterAll(async () => {
  await twin?.stop();
  await db?.close();
});

function get(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${twin.url}${path}`,
      { method, ca: twin.ca, headers: { authorization: `Bearer ${TOKEN}` } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the SQL warehouse twin', () => {
  it('listens on loopback only, at the warehouse HTTP path', () => {
    expect(twin.host).toBe('127.0.0.1');
    expect(twin.url).toBe(`https://127.0.0.1:${twin.port}`);
    expect(twin.httpPath).toBe('/sql/1.0/warehouses/abc123');
  });

  it('answers a path that is not the warehouse with 404', async () => {
    await expect(get('/sql/1.0/warehouses/other', 'POST')).resolves.toMatchObject({ status: 404 });
    await expect(get('/api/2.0/sql/warehouses')).resolves.toMatchObject({ status: 404 });
  });

  it('answers a Thrift call it does not implement with a clean "not implemented" status', async () => {
    const client = new DBSQLClient({ logger: { log: () => {} } });
    client.on('error', () => {});
    await client.connect({
      host: twin.host,
      port: twin.port,
      path: twin.httpPath,
      token: TOKEN,
      customCaCert: twin.ca,
      telemetryEnabled: false,
    });
    try {
      const session = await client.openSession();
      await expect(session.getCatalogs()).rejects.toMatchObject({
        message: 'GetCatalogs is not implemented by the SQL warehouse twin',
      });
      await session.close();
    } finally {
      await client.close();
    }
  });

  it('enforces the session statement timeout and reports it as a timeout', async () => {
    const warehouse = createDatabricksWarehouse({
      host: twin.url,
      httpPath: twin.httpPath,
      ca: twin.ca,
      tokens: { token: async () => TOKEN },
      statementTimeoutSeconds: 1,
    });
    try {
      twin.faults.slowStatements(60_000);
      const error = await warehouse
        .query('SELECT 1 AS n', {}, z.object({ n: z.number() }))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WarehouseError);
      expect(error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/STATEMENT_TIMEOUT/) });
    } finally {
      twin.faults.reset();
      await warehouse.close();
    }
  });
});
