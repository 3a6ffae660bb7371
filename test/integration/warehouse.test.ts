import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksWarehouse, type WarehouseOptions } from '../../src/databricks/warehouse.js';
import { sqlDate, sqlWindow, type Warehouse, WarehouseError } from '../../src/domain/ports/warehouse.js';
import { tableName } from '../../src/domain/sql-identifiers.js';
import {
  DEMO_TABLES,
  DEMO_THRESHOLDS,
  seedDemoTables,
  type TimeWindow,
} from '../../src/sandbox/demo-tables.js';
import { openSandboxDuckDb, type SandboxDb } from '../../src/sandbox/duckdb.js';
import { startWarehouseTwin, type WarehouseTwin } from '../../src/sandbox/warehouse/index.js';
import { describeError } from '../../src/slack/blocks/errors.js';

const TOKEN = 'dapi-warehouse-test';
const NOW = new Date('2026-03-10T15:30:00Z');

let db: SandboxDb;
let twin: WarehouseTwin;
let warehouse: Warehouse;
let windows: TimeWindow[];
const opened: Warehouse[] = [];

const staticTokens = (token = TOKEN): TokenProvider => ({ token: async () => token });

/** A warehouse adapter pointed at the twin; closed after the file. */
function connect(overrides: Partial<WarehouseOptions> = {}): Warehouse {
  const w = createDatabricksWarehouse({
    host: twin.url,
    httpPath: twin.httpPath,
    ca: twin.ca,
    tokens: staticTokens(),
    ...overrides,
  });
  opened.push(w);
  return w;
}

async function failure(work: Promise<unknown>): Promise<WarehouseError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WarehouseError);
  return error as WarehouseError;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

beforeAll(async () => {
  db = await openSandboxDuckDb();
  ({ windows } = await seedDemoTables(db, { now: NOW }));
  twin = await startWarehouseTwin({ db, token: TOKEN });
  warehouse = connect();
});

afterAll(async () => {
  for (const w of opened) await w.close();
  await twin?.stop();
  await db?.close();
});

describe('parameters and result types', () => {
  it('binds named parameters of every type and returns them with their SQL types', async () => {
    const rows = await warehouse.query(
      `SELECT :text AS text, :int AS int, :big AS big, :double AS dbl, :flag AS flag,
              :at AS at, :day AS day, :nothing AS nothing`,
      {
        text: `it's "quoted" -- not a comment`,
        int: 42,
        big: 2n ** 40n,
        double: 0.19,
        flag: true,
        at: new Date('2026-03-01T12:34:56.789Z'),
        day: sqlDate('2026-02-28'),
        nothing: null,
      },
      z.object({
        text: z.string(),
        int: z.number(),
        big: z.number(),
        dbl: z.number(),
        flag: z.boolean(),
        at: z.date(),
        day: z.coerce.date(),
        nothing: z.null(),
      }),
    );
    expect(rows).toEqual([
      {
        text: `it's "quoted" -- not a comment`,
        int: 42,
        big: 2 ** 40,
        dbl: 0.19,
        flag: true,
        at: new Date('2026-03-01T12:34:56.789Z'),
        day: new Date('2026-02-28T00:00:00Z'),
        nothing: null,
      },
    ]);
  });

  it('treats a parameter value as data, never as SQL', async () => {
    const rows = await warehouse.query(
      `SELECT count(*) AS n FROM ${tableName(DEMO_TABLES.inference)} WHERE model_version = :version`,
      { version: "2' OR '1'='1" },
      z.object({ n: z.number() }),
    );
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('returns NULL cells as null', async () => {
    const rows = await warehouse.query(
      `SELECT churn FROM ${tableName(DEMO_TABLES.inference)} WHERE churn IS NULL LIMIT 3`,
      {},
      z.object({ churn: z.null() }),
    );
    expect(rows).toHaveLength(3);
  });

  it('returns struct columns as objects and timestamps as Date', async () => {
    const rows = await warehouse.query(
      `SELECT \`window\`, window.start AS start, f1_score, expected_loss
       FROM ${tableName(DEMO_TABLES.profile)}
       WHERE log_type = 'INPUT' AND column_name = ':table' AND slice_key IS NULL AND model_version = :model
       ORDER BY \`window\`.start DESC LIMIT 1`,
      { model: '*' },
      z.object({
        window: sqlWindow,
        start: z.date(),
        f1_score: z.object({
          macro: z.number(),
          weighted: z.number(),
          one_vs_all: z.record(z.string(), z.number()),
        }),
        expected_loss: z.number(),
      }),
    );
    const last = windows.at(-1)!;
    expect(rows[0]?.window).toEqual({ start: last.start, end: last.end });
    expect(rows[0]?.start).toBeInstanceOf(Date);
    expect(rows[0]?.start.toISOString()).toBe('2026-03-10T00:00:00.000Z');
    expect(Object.keys(rows[0]?.f1_score.one_vs_all ?? {}).sort()).toEqual(['No', 'Yes']);
  });

  it('reads the demo drift the reference design flags in the last week', async () => {
    const rows = await warehouse.query(
      `SELECT \`window\`.start AS ts,
              max(js_distance) FILTER (WHERE column_name = 'churn') AS js_churn,
              max(js_distance) FILTER (WHERE column_name = 'prediction') AS js_prediction
       FROM ${tableName(DEMO_TABLES.drift)}
       WHERE drift_type = 'CONSECUTIVE' AND slice_key IS NULL AND slice_value IS NULL
         AND column_name IN ('churn', 'prediction') AND model_version = :model AND granularity = :granularity
       GROUP BY \`window\`.start ORDER BY ts`,
      { model: '*', granularity: '1 day' },
      z.object({ ts: z.date(), js_churn: z.number(), js_prediction: z.number() }),
    );
    const flagged = rows
      .filter(
        (r) =>
          r.js_churn > DEMO_THRESHOLDS.jsDistanceAbove && r.js_prediction > DEMO_THRESHOLDS.jsDistanceAbove,
      )
      .map((r) => r.ts);
    expect(flagged).toEqual(windows.slice(-7).map((w) => w.start));
  });

  it('sees rows the workspace twin writes into the shared payload table', async () => {
    await db.run(
      `INSERT INTO ${DEMO_TABLES.payload} VALUES ($id, NULL, $at, 200, 12, '{}', '{}', 'churn-2', 'bot')`,
      {
        id: 'req-shared-1',
        at: NOW,
      },
    );
    const rows = await warehouse.query(
      `SELECT databricks_request_id, request_time, status_code FROM ${tableName(DEMO_TABLES.payload)} WHERE databricks_request_id = :id`,
      { id: 'req-shared-1' },
      z.object({ databricks_request_id: z.string(), request_time: z.date(), status_code: z.number() }),
    );
    expect(rows).toEqual([{ databricks_request_id: 'req-shared-1', request_time: NOW, status_code: 200 }]);
  });
});

describe('failures', () => {
  it('surfaces a SQL error as a sql_error with the Databricks error class, never as an empty result', async () => {
    const error = await failure(warehouse.query('SELECT * FROM acme.mlops.no_such_table', {}, z.object({})));
    expect(error.code).toBe('sql_error');
    expect(describeError(error).text).toMatch(/^\[TABLE_OR_VIEW_NOT_FOUND\]/);
    expect(error.details.sqlState).toBe('42P01');
    expect(describeError(error).hint).toBeTruthy();
  });

  it('reports a marker without a parameter as UNBOUND_SQL_PARAMETER', async () => {
    const error = await failure(warehouse.query('SELECT :missing AS x', {}, z.object({ x: z.unknown() })));
    expect(error.code).toBe('sql_error');
    expect(describeError(error).text).toMatch(/UNBOUND_SQL_PARAMETER.*missing/);
  });

  it('rejects rows that do not match the row schema as row_invalid', async () => {
    const error = await failure(warehouse.query('SELECT 1 AS n', {}, z.object({ n: z.string() })));
    expect(error.code).toBe('row_invalid');
    expect(describeError(error).text).toMatch(/Row 0 .*n/);
  });

  it('refuses a bad token with an auth error and drops it from the shared cache', async () => {
    const invalidated: string[] = [];
    const tokens: TokenProvider = { token: async () => 'dapi-wrong', invalidate: (t) => invalidated.push(t) };
    const before = twin.stats().unauthorized;
    const error = await failure(connect({ tokens }).query('SELECT 1 AS n', {}, z.object({ n: z.number() })));
    expect(error.code).toBe('auth');
    expect(invalidated).toEqual(['dapi-wrong']);
    expect(twin.stats().unauthorized).toBeGreaterThan(before);
  });

  it('reports a token provider that cannot produce a token as an auth error', async () => {
    const tokens: TokenProvider = {
      token: async () => {
        throw new Error('the workspace refused the OAuth client credentials (HTTP 401)');
      },
    };
    const error = await failure(connect({ tokens }).query('SELECT 1 AS n', {}, z.object({ n: z.number() })));
    expect(error.code).toBe('auth');
    expect(describeError(error).text).toMatch(/OAuth client credentials/);
  });

  it('retries once with a fresh token when the refused one was stale', async () => {
    let current = 'dapi-expired';
    const tokens: TokenProvider = {
      token: async () => current,
      invalidate: (t) => {
        if (t === current) current = TOKEN;
      },
    };
    await expect(
      connect({ tokens }).query('SELECT 1 AS n', {}, z.object({ n: z.number() })),
    ).resolves.toEqual([{ n: 1 }]);
  });

  it('reports a warehouse that is starting up as warehouse_starting, not as a timeout', async () => {
    twin.faults.warehouseStarting(1);
    const cold = connect();
    const error = await failure(cold.query('SELECT 1 AS n', {}, z.object({ n: z.number() })));
    expect(error.code).toBe('warehouse_starting');
    expect(describeError(error).hint).toMatch(/starting/);
    await expect(cold.query('SELECT 1 AS n', {}, z.object({ n: z.number() }))).resolves.toEqual([{ n: 1 }]);
  });

  it('cancels the statement on the warehouse when its deadline passes', async () => {
    twin.faults.slowStatements(60_000);
    const cancelsBefore = twin.stats().cancels;
    const error = await failure(
      warehouse.query('SELECT 1 AS n', {}, z.object({ n: z.number() }), { timeoutMs: 200 }),
    );
    expect(error.code).toBe('timeout');
    expect(twin.stats().cancels).toBe(cancelsBefore + 1);
  });

  it('cancels the statement on the warehouse when the caller aborts', async () => {
    twin.faults.slowStatements(60_000);
    const { statements, cancels } = twin.stats();
    const controller = new AbortController();
    const pending = warehouse.query('SELECT 1 AS n', {}, z.object({ n: z.number() }), {
      signal: controller.signal,
    });
    await until(() => twin.stats().statements > statements);
    controller.abort();
    const error = await failure(pending);
    expect(error.code).toBe('cancelled');
    await until(() => twin.stats().cancels > cancels);
  });

  it('refuses identifiers that try to inject SQL before any query runs', async () => {
    const { statements } = twin.stats();
    const attempt = async () =>
      warehouse.query(
        `SELECT * FROM ${tableName('acme.mlops.churn_inference; DROP TABLE acme.mlops.churn_baseline')}`,
        {},
        z.object({}),
      );
    const error = await failure(attempt());
    expect(error.code).toBe('invalid_identifier');
    expect(twin.stats().statements).toBe(statements);
  });

  it('refuses a parameter name that is not an identifier before any query runs', async () => {
    const { statements } = twin.stats();
    const error = await failure(
      warehouse.query('SELECT 1 AS n', { 'x; --': 1 }, z.object({ n: z.number() })),
    );
    expect(error.code).toBe('invalid_parameter');
    expect(twin.stats().statements).toBe(statements);
  });
});

describe('sessions', () => {
  it('reuses one session for many queries and closes it on close', async () => {
    const before = twin.stats();
    const w = connect();
    await Promise.all([1, 2, 3].map((n) => w.query('SELECT :n AS n', { n }, z.object({ n: z.number() }))));
    await w.query('SELECT 4 AS n', {}, z.object({ n: z.number() }));
    expect(twin.stats().sessionsOpened).toBe(before.sessionsOpened + 1);
    await w.close();
    expect(twin.stats().sessionsOpen).toBe(before.sessionsOpen);
  });

  it('replaces a session that sat idle too long and closes the old one', async () => {
    const w = connect({ sessionIdleSeconds: 0.001 });
    await w.query('SELECT 1 AS n', {}, z.object({ n: z.number() }));
    const before = twin.stats();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await w.query('SELECT 2 AS n', {}, z.object({ n: z.number() }));
    await until(() => twin.stats().sessionsOpen === before.sessionsOpen);
    expect(twin.stats().sessionsOpened).toBe(before.sessionsOpened + 1);
  });

  it('opens a new session when the warehouse has forgotten the old one', async () => {
    const w = connect();
    await w.query('SELECT 1 AS n', {}, z.object({ n: z.number() }));
    const before = twin.stats().sessionsOpened;
    twin.faults.forgetSessions();
    await expect(w.query('SELECT 2 AS n', {}, z.object({ n: z.number() }))).resolves.toEqual([{ n: 2 }]);
    expect(twin.stats().sessionsOpened).toBe(before + 1);
  });
});
