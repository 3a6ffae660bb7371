import { describe, expect, it } from 'vitest';
import {
  type SparkParameter,
  translateSparkSql,
  UnboundParameterError,
} from '../../src/sandbox/warehouse/spark-sql.js';
import { toDatabricksSqlError } from '../../src/sandbox/warehouse/sql-errors.js';

const params = (entries: Record<string, SparkParameter>) => new Map(Object.entries(entries));

describe('translating Spark SQL for the twin', () => {
  it.each([
    {
      name: 'backtick identifiers become double-quoted',
      sql: 'SELECT `window`.start FROM t',
      want: 'SELECT "window".start FROM t',
    },
    {
      name: 'a bare window struct is quoted',
      sql: 'SELECT window.start, window . end FROM t',
      want: 'SELECT "window".start, "window" . end FROM t',
    },
    {
      name: 'a column merely named like window is not',
      sql: 'SELECT window_cmp.start, windows FROM t',
      want: 'SELECT window_cmp.start, windows FROM t',
    },
    {
      name: "Unity Catalog's system catalog is read from the twin's uc_system",
      sql: 'SELECT s.system FROM system.serving.served_entities AS s',
      want: 'SELECT s.system FROM uc_system.serving.served_entities AS s',
    },
    { name: 'double-quoted strings become string literals', sql: 'SELECT "a\'b"', want: "SELECT 'a''b'" },
    {
      name: 'backslash escapes in strings are decoded',
      sql: "SELECT 'it\\'s', 'a\\nb'",
      want: "SELECT 'it''s', 'a\nb'",
    },
    { name: 'casts with :: are kept', sql: 'SELECT 1::DOUBLE', want: 'SELECT 1::DOUBLE' },
    {
      name: 'markers inside strings are text',
      sql: "SELECT ':not_a_param' AS x",
      want: "SELECT ':not_a_param' AS x",
    },
    {
      name: 'markers inside comments are left alone',
      sql: 'SELECT 1 -- :nope\n/* :nope */',
      want: 'SELECT 1 -- :nope\n/* :nope */',
    },
    {
      name: 'the :table column value is text',
      sql: "WHERE column_name = ':table'",
      want: "WHERE column_name = ':table'",
    },
    { name: 'backticks may hold doubled backticks', sql: 'SELECT `a``b`', want: 'SELECT "a`b"' },
  ])('$name', ({ sql, want }) => {
    expect(translateSparkSql(sql, new Map()).sql).toBe(want);
  });

  it('binds each marker as a typed DuckDB parameter', () => {
    const out = translateSparkSql(
      'SELECT * FROM t WHERE a = :name AND b > :since AND c = :n AND d = :n',
      params({
        name: { type: 'STRING', value: "x' OR 1=1" },
        since: { type: 'TIMESTAMP', value: '2026-01-01T00:00:00.000Z' },
        n: { type: 'INTEGER', value: '7' },
      }),
    );
    expect(out.sql).toBe(
      'SELECT * FROM t WHERE a = CAST($p_name AS VARCHAR) AND b > CAST($p_since AS TIMESTAMP) AND c = CAST($p_n AS INTEGER) AND d = CAST($p_n AS INTEGER)',
    );
    expect(out.values).toEqual({ p_name: "x' OR 1=1", p_since: '2026-01-01T00:00:00.000Z', p_n: '7' });
  });

  it('turns a NULL parameter (no type, no value) into NULL', () => {
    expect(translateSparkSql('SELECT :x', params({ x: {} })).sql).toBe('SELECT NULL');
  });

  it('refuses a marker that has no parameter', () => {
    expect(() => translateSparkSql('SELECT :missing', new Map())).toThrow(UnboundParameterError);
  });

  it('refuses an unterminated string', () => {
    expect(() => translateSparkSql("SELECT 'oops", new Map())).toThrow(SyntaxError);
  });
});

describe("mapping DuckDB errors to Databricks' shape", () => {
  it.each([
    {
      duck: 'Catalog Error: Table with name nope does not exist!\nDid you mean "x"?',
      want: { errorClass: 'TABLE_OR_VIEW_NOT_FOUND', sqlState: '42P01' },
    },
    {
      duck: 'Binder Error: Referenced column "nope" not found in FROM clause!',
      want: { errorClass: 'UNRESOLVED_COLUMN.WITH_SUGGESTION', sqlState: '42703' },
    },
    {
      duck: 'Parser Error: syntax error at or near "SELEC"',
      want: { errorClass: 'PARSE_SYNTAX_ERROR', sqlState: '42601' },
    },
    {
      duck: "Conversion Error: Could not convert string 'x' to INT32",
      want: { errorClass: 'CAST_INVALID_INPUT', sqlState: '22018' },
    },
    { duck: 'Out of Memory Error: boom', want: { errorClass: 'INTERNAL_ERROR', sqlState: 'XX000' } },
  ])('maps "$duck" to $want.errorClass', ({ duck, want }) => {
    const mapped = toDatabricksSqlError(new Error(duck));
    expect(mapped).toMatchObject(want);
    expect(mapped.message).toMatch(
      new RegExp(`^\\[${want.errorClass.replace('.', '\\.')}\\] .* SQLSTATE: ${want.sqlState}$`),
    );
  });
});
