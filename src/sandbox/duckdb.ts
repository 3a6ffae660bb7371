/**
 * The one embedded DuckDB the sandbox twins share: the workspace twin writes endpoint payloads into it
 * and the SQL warehouse twin reads them back, as on Databricks where both sides see the same Unity
 * Catalog tables.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBValue,
  listValue,
  mapValue,
  structValue,
  timestampValue,
} from '@duckdb/node-api';

/** Values a sandbox caller may bind; Dates bind as TIMESTAMP (UTC). */
export type SandboxValue = string | number | boolean | bigint | Date | null;
export type SandboxParams = Record<string, SandboxValue> | SandboxValue[];
/** A result row as plain JS: BIGINT as bigint, TIMESTAMP as Date, STRUCT as an object, LIST as an array. */
export type SandboxRow = Record<string, unknown>;

export interface SandboxDb {
  /** Runs one or more statements and discards any result. Parameters use DuckDB's `$name` or `?`. */
  run(sql: string, params?: SandboxParams): Promise<void>;
  /** Runs a query and returns its rows as plain objects. */
  all(sql: string, params?: SandboxParams): Promise<SandboxRow[]>;
  /** Bulk-inserts rows (plain objects keyed by column name) into `catalog.schema.table`. */
  insert(table: string, rows: readonly object[]): Promise<void>;
  /** A fresh connection, for a twin that must interrupt one running statement without touching others. */
  connect(): Promise<DuckDBConnection>;
  close(): Promise<void>;
}

/** The demo catalog and schema every part of the project uses. */
export const DEMO_CATALOG = 'acme';
export const DEMO_SCHEMA = 'mlops';

/** Columns of the AI-gateway payload table (`acme.mlops.churn_endpoint_payload`), shared with the workspace twin. */
export const PAYLOAD_TABLE_DDL = `CREATE TABLE IF NOT EXISTS acme.mlops.churn_endpoint_payload (
  databricks_request_id VARCHAR,
  client_request_id VARCHAR,
  request_time TIMESTAMP,
  status_code INTEGER,
  execution_duration_ms BIGINT,
  request VARCHAR,
  response VARCHAR,
  served_entity_id VARCHAR,
  requester VARCHAR
)`;

/**
 * Unity Catalog's `system` catalog as the twin holds it: DuckDB reserves the name, so it lives in
 * `uc_system` and the warehouse twin reads `system.` as `uc_system.` (spark-sql.ts).
 */
export const SYSTEM_CATALOG = 'uc_system';

/** `system.serving.served_entities`: one row per served entity of a config (its opaque id and name). */
export const SERVED_ENTITIES_DDL = `CREATE TABLE IF NOT EXISTS ${SYSTEM_CATALOG}.serving.served_entities (
  workspace_id VARCHAR,
  endpoint_name VARCHAR,
  served_entity_id VARCHAR,
  served_entity_name VARCHAR,
  entity_type VARCHAR,
  entity_name VARCHAR,
  entity_version VARCHAR,
  change_time TIMESTAMP
)`;

// Spark functions the bot's SQL may use that DuckDB lacks (or names differently). Created in the default
// catalog, which every connection searches.
const SPARK_MACROS = [
  'CREATE MACRO IF NOT EXISTS nvl(a, b) AS coalesce(a, b)',
  'CREATE MACRO IF NOT EXISTS percentile_approx(x, p) AS quantile_cont(x, p)',
  'CREATE MACRO IF NOT EXISTS try_divide(a, b) AS CASE WHEN b = 0 THEN NULL ELSE a / b END',
];

/**
 * Opens an in-memory DuckDB with the demo catalog `acme` attached, schema `acme.mlops` and the payload
 * table created. Timestamps are stored as TIMESTAMP and mean UTC (DuckDB without ICU has no session
 * time zone, so nothing shifts them).
 *
 * @example const db = await openSandboxDuckDb(); await seedDemoTables(db, { now: new Date() });
 */
export async function openSandboxDuckDb(): Promise<SandboxDb> {
  const instance = await DuckDBInstance.create(':memory:');
  const main = await instance.connect();
  // DuckDB refuses a catalog named like its default schema (`main`), so the demo catalog has its own name.
  await main.run(`ATTACH ':memory:' AS ${DEMO_CATALOG}`);
  await main.run(`CREATE SCHEMA IF NOT EXISTS ${DEMO_CATALOG}.${DEMO_SCHEMA}`);
  await main.run(PAYLOAD_TABLE_DDL);
  await main.run(`ATTACH ':memory:' AS ${SYSTEM_CATALOG}`);
  await main.run(`CREATE SCHEMA IF NOT EXISTS ${SYSTEM_CATALOG}.serving`);
  await main.run(SERVED_ENTITIES_DDL);
  for (const macro of SPARK_MACROS) await main.run(macro);

  const opened: DuckDBConnection[] = [];
  let closed = false;

  return {
    async run(sql, params) {
      await main.run(sql, toDuckParams(params));
    },
    async all(sql, params) {
      const reader = await main.runAndReadAll(sql, toDuckParams(params));
      return reader.getRowObjectsJS() as SandboxRow[];
    },
    async insert(table, rows) {
      if (rows.length === 0) return;
      const columns = (await main.runAndReadAll(`DESCRIBE ${table}`)).getRowObjectsJS() as {
        column_name: string;
        column_type: string;
      }[];
      // Bulk rows go through newline-delimited JSON: DuckDB parses it natively, which is an order of
      // magnitude faster than appending value by value from JS.
      const dir = await mkdtemp(join(tmpdir(), 'modelgate-duckdb-'));
      const file = join(dir, 'rows.ndjson');
      try {
        await writeFile(file, `${rows.map((r) => JSON.stringify(r, jsonReplacer)).join('\n')}\n`);
        const spec = columns
          .map((c) => `${quoteLiteral(c.column_name)}: ${quoteLiteral(c.column_type)}`)
          .join(', ');
        const list = columns.map((c) => `"${c.column_name.replaceAll('"', '""')}"`).join(', ');
        await main.run(
          `INSERT INTO ${table} (${list}) SELECT ${list} FROM read_json(${quoteLiteral(file)}, format = 'newline_delimited', columns = {${spec}})`,
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    async connect() {
      const connection = await instance.connect();
      opened.push(connection);
      return connection;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const connection of opened) connection.closeSync();
      main.closeSync();
      instance.closeSync();
    },
  };
}

function toDuckParams(
  params: SandboxParams | undefined,
): DuckDBValue[] | Record<string, DuckDBValue> | undefined {
  if (params === undefined) return undefined;
  if (Array.isArray(params)) return params.map(toDuckValue);
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, toDuckValue(v)]));
}

/** Converts plain JS (Date, nested objects and arrays) into DuckDB values. */
export function toDuckValue(value: unknown): DuckDBValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return timestampValue(BigInt(value.getTime()) * 1000n);
  if (Array.isArray(value)) return listValue(value.map(toDuckValue));
  if (value instanceof Map) {
    return mapValue([...value].map(([key, v]) => ({ key: toDuckValue(key), value: toDuckValue(v) })));
  }
  if (typeof value === 'object') {
    return structValue(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toDuckValue(v)])));
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value;
  throw new TypeError(`cannot bind a ${typeof value} to DuckDB`);
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}
