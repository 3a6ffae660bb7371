/**
 * Just enough Spark SQL → DuckDB translation for the bot's own queries: Spark's quoting rules and named
 * parameter markers. Anything else passes through unchanged and fails in DuckDB if it is not portable.
 *
 * - `` `ident` `` → `"ident"` (backticks quote identifiers in Spark, DuckDB uses double quotes)
 * - `"text"` → `'text'` (Spark reads double quotes as a string literal)
 * - `'it\'s'` → `'it''s'` (Spark strings take backslash escapes)
 * - `window.start` → `"window".start` (`window` is reserved in DuckDB, a plain name in Spark)
 * - `system.serving.x` → `uc_system.serving.x` (DuckDB reserves the catalog name `system`)
 * - `:name` → `CAST($name AS <type>)` with the type the driver sent; a NULL parameter becomes `NULL`
 * - `::`, comments and everything inside literals are left alone
 */

/** A named parameter as the driver sends it: Spark type name and string value, or neither for NULL. */
export interface SparkParameter {
  type?: string;
  value?: string;
}

export interface TranslatedSql {
  sql: string;
  /** Values to bind by name, as strings; the SQL casts each to its Spark type. */
  values: Record<string, string>;
}

/** Raised for a `:name` marker with no parameter; Databricks answers UNBOUND_SQL_PARAMETER. */
export class UnboundParameterError extends Error {
  constructor(readonly parameter: string) {
    super(`Found the unbound parameter: ${parameter}`);
  }
}

const SPARK_TO_DUCKDB: Record<string, string> = {
  STRING: 'VARCHAR',
  VARCHAR: 'VARCHAR',
  CHAR: 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
  TINYINT: 'TINYINT',
  SMALLINT: 'SMALLINT',
  INT: 'INTEGER',
  INTEGER: 'INTEGER',
  BIGINT: 'BIGINT',
  FLOAT: 'FLOAT',
  DOUBLE: 'DOUBLE',
  DECIMAL: 'DECIMAL(38, 10)',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
  TIMESTAMP_LTZ: 'TIMESTAMP',
  TIMESTAMP_NTZ: 'TIMESTAMP',
  'INTERVAL MONTH': 'INTERVAL',
  'INTERVAL DAY': 'INTERVAL',
};

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

/**
 * @example translateSparkSql('SELECT `window`.start FROM t WHERE id = :id', new Map([['id', { type: 'INTEGER', value: '7' }]]))
 *   // { sql: 'SELECT "window".start FROM t WHERE id = CAST($id AS INTEGER)', values: { id: '7' } }
 */
export function translateSparkSql(sql: string, params: ReadonlyMap<string, SparkParameter>): TranslatedSql {
  let out = '';
  const values: Record<string, string> = {};
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === "'" || c === '"') {
      const { text, end } = readSparkString(sql, i);
      out += `'${text.replaceAll("'", "''")}'`;
      i = end;
    } else if (c === '`') {
      const { text, end } = readBacktickIdentifier(sql, i);
      out += `"${text.replaceAll('"', '""')}"`;
      i = end;
    } else if (c === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (c === ':' && next !== undefined && IDENT_START.test(next)) {
      let end = i + 1;
      while (end < sql.length && IDENT_PART.test(sql[end]!)) end++;
      const name = sql.slice(i + 1, end);
      const param = params.get(name);
      if (!param) throw new UnboundParameterError(name);
      if (param.value === undefined || param.type === undefined) {
        out += 'NULL';
      } else {
        const duckType = SPARK_TO_DUCKDB[param.type.toUpperCase()] ?? 'VARCHAR';
        // DuckDB parameter names are case-insensitive identifiers; prefix them so they never clash.
        values[`p_${name}`] = param.value;
        out += `CAST($p_${name} AS ${duckType})`;
      }
      i = end;
    } else if (IDENT_START.test(c)) {
      let end = i + 1;
      while (end < sql.length && IDENT_PART.test(sql[end]!)) end++;
      const word = sql.slice(i, end);
      const dotted = /^\s*\./.test(sql.slice(end, end + 64));
      const lower = word.toLowerCase();
      out +=
        lower === 'window' && dotted
          ? `"${word}"`
          : lower === 'system' && dotted && !out.trimEnd().endsWith('.')
            ? 'uc_system'
            : word;
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return { sql: out, values };
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', '0': '\0', Z: '\x1a' };

function readSparkString(sql: string, start: number): { text: string; end: number } {
  const quote = sql[start]!;
  let text = '';
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '\\' && i + 1 < sql.length) {
      const e = sql[i + 1]!;
      text += ESCAPES[e] ?? e;
      i += 2;
    } else if (c === quote && sql[i + 1] === quote) {
      text += quote;
      i += 2;
    } else if (c === quote) {
      return { text, end: i + 1 };
    } else {
      text += c;
      i++;
    }
  }
  throw new SyntaxError('unterminated string literal');
}

function readBacktickIdentifier(sql: string, start: number): { text: string; end: number } {
  let text = '';
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '`' && sql[i + 1] === '`') {
      text += '`';
      i += 2;
    } else if (c === '`') {
      return { text, end: i + 1 };
    } else {
      text += c;
      i++;
    }
  }
  throw new SyntaxError('unterminated quoted identifier');
}
