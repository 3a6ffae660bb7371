import { describe, expect, it } from 'vitest';
import { parseWarehouseHost, warehouseHttpPath } from '../../src/databricks/warehouse.js';
import { UserError } from '../../src/domain/errors.js';
import { sqlDate, WarehouseError } from '../../src/domain/ports/warehouse.js';
import { columnName, tableName } from '../../src/domain/sql-identifiers.js';
import { describeError } from '../../src/slack/blocks/errors.js';

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (e) {
    return e instanceof UserError ? e.code : 'not a UserError';
  }
  return undefined;
}

describe('tableName', () => {
  it.each([
    {
      name: 'acme.mlops.churn_inference_drift_metrics',
      want: '`acme`.`mlops`.`churn_inference_drift_metrics`',
    },
    { name: 'Main_1.ML.T2', want: '`Main_1`.`ML`.`T2`' },
    { name: '`my-catalog`.mlops.`churn table`', want: '`my-catalog`.`mlops`.`churn table`' },
  ])('quotes the three-part name $name', ({ name, want }) => {
    expect(tableName(name)).toBe(want);
  });

  it.each([
    'acme.mlops',
    'acme.mlops.t.extra',
    'acme..t',
    '.mlops.t',
    'acme.mlops.t;',
    'acme.mlops.t; DROP TABLE acme.mlops.t',
    'acme.mlops.t --',
    'acme.mlops.`t`` OR 1=1`',
    'acme.mlops.`a`b',
    'acme.mlops.`t',
    'acme.mlops.`  `',
    'acme.mlops.`a.b`',
    'acme.mlops.`t\n`',
    "acme.mlops.t'",
    'acme.mlops.t"',
    'acme.mlops.t/*x*/',
    'acme.mlops.t x',
    '',
  ])('refuses %j before any query runs', (name) => {
    expect(codeOf(() => tableName(name))).toBe('invalid_identifier');
  });

  it('raises a WarehouseError with a hint that shows the expected form', () => {
    try {
      tableName('churn');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WarehouseError);
      expect(describeError(e as WarehouseError).hint).toMatch(/catalog\.schema\.table/);
    }
  });
});

describe('columnName', () => {
  it('quotes a plain column name', () => {
    expect(columnName('model_version')).toBe('`model_version`');
  });

  it.each(['model_version; --', 'a.b', 'a`b', '', '`x` OR 1=1'])('refuses %j', (name) => {
    expect(codeOf(() => columnName(name))).toBe('invalid_identifier');
  });
});

describe('warehouseHttpPath', () => {
  it.each([
    { env: { DATABRICKS_WAREHOUSE_ID: 'abc123' }, want: '/sql/1.0/warehouses/abc123' },
    { env: { DATABRICKS_HTTP_PATH: '/sql/1.0/warehouses/xyz' }, want: '/sql/1.0/warehouses/xyz' },
    {
      env: { DATABRICKS_HTTP_PATH: '/sql/1.0/warehouses/xyz', DATABRICKS_WAREHOUSE_ID: 'abc123' },
      want: '/sql/1.0/warehouses/xyz',
    },
    {
      env: { DATABRICKS_HTTP_PATH: '  ', DATABRICKS_WAREHOUSE_ID: ' abc123 ' },
      want: '/sql/1.0/warehouses/abc123',
    },
  ])('derives $want from the environment passed in', ({ env, want }) => {
    expect(warehouseHttpPath(env)).toBe(want);
  });

  it.each([
    { env: {} },
    { env: { DATABRICKS_WAREHOUSE_ID: 'abc/../x' } },
    { env: { DATABRICKS_HTTP_PATH: 'sql/1.0/warehouses/x' } },
  ])('refuses a missing or malformed setting: $env', ({ env }) => {
    expect(codeOf(() => warehouseHttpPath(env))).toBe('invalid_config');
  });
});

describe('parseWarehouseHost', () => {
  it.each([
    {
      host: 'https://adb-123.4.azuredatabricks.net/',
      want: { hostname: 'adb-123.4.azuredatabricks.net', port: 443 },
    },
    { host: 'dbc-1a2b.cloud.databricks.com', want: { hostname: 'dbc-1a2b.cloud.databricks.com', port: 443 } },
    { host: 'https://127.0.0.1:8443', want: { hostname: '127.0.0.1', port: 8443 } },
    { host: 'localhost:9443', want: { hostname: 'localhost', port: 9443 } },
  ])('splits $host into a bare host name and a port', ({ host, want }) => {
    expect(parseWarehouseHost(host)).toEqual(want);
  });

  it('refuses a plain-HTTP host, since warehouses only speak HTTPS', () => {
    expect(codeOf(() => parseWarehouseHost('http://adb-123.azuredatabricks.net'))).toBe('invalid_config');
  });
});

describe('sqlDate', () => {
  it('binds the UTC calendar date of a Date', () => {
    expect(sqlDate(new Date('2026-03-10T23:59:59Z'))).toEqual({ kind: 'date', value: '2026-03-10' });
  });

  it('refuses text that is not yyyy-mm-dd', () => {
    expect(codeOf(() => sqlDate('10/03/2026'))).toBe('invalid_parameter');
  });
});
