/**
 * Turns DuckDB's error text into the shape Databricks SQL gives: `[ERROR_CLASS] message SQLSTATE: xxxxx`,
 * so what the bot shows (and any code matching on error classes) looks the same against the twin.
 */
import { UnboundParameterError } from './spark-sql.js';

export interface DatabricksSqlError {
  errorClass: string;
  sqlState: string;
  /** What the driver shows (`displayMessage`). */
  message: string;
}

interface Rule {
  match: RegExp;
  build(m: RegExpMatchArray): Omit<DatabricksSqlError, 'message'> & { text: string };
}

const RULES: Rule[] = [
  {
    match: /^Catalog Error: Table with name (\S+) does not exist/,
    build: (m) => ({
      errorClass: 'TABLE_OR_VIEW_NOT_FOUND',
      sqlState: '42P01',
      text: `The table or view \`${m[1]}\` cannot be found. Verify the spelling and correctness of the schema and catalog.`,
    }),
  },
  {
    match: /^Catalog Error: (?:Schema|Catalog) with name (\S+) does not exist/,
    build: (m) => ({
      errorClass: 'SCHEMA_NOT_FOUND',
      sqlState: '42704',
      text: `The schema \`${m[1]}\` cannot be found. Verify the spelling and correctness of the schema and catalog.`,
    }),
  },
  {
    match: /^Catalog Error: (?:Scalar |Aggregate |Table )?Function with name (\S+) does not exist/,
    build: (m) => ({
      errorClass: 'UNRESOLVED_ROUTINE',
      sqlState: '42883',
      text: `Cannot resolve routine \`${m[1]}\` on search path [\`system\`.\`builtin\`, \`system\`.\`session\`].`,
    }),
  },
  {
    match:
      /^Binder Error: (?:Referenced column|Values list "\w+" does not have a column named) "?([^"\s]+)"? not found/,
    build: (m) => ({
      errorClass: 'UNRESOLVED_COLUMN.WITH_SUGGESTION',
      sqlState: '42703',
      text: `A column, variable, or function parameter with name \`${m[1]}\` cannot be resolved.`,
    }),
  },
  {
    match: /^Parser Error: syntax error at or near "([^"]*)"/,
    build: (m) => ({
      errorClass: 'PARSE_SYNTAX_ERROR',
      sqlState: '42601',
      text: `Syntax error at or near '${m[1]}'.`,
    }),
  },
  {
    match: /^Parser Error: syntax error at end of input/,
    build: () => ({
      errorClass: 'PARSE_SYNTAX_ERROR',
      sqlState: '42601',
      text: 'Syntax error at or near end of input.',
    }),
  },
  {
    match: /^Conversion Error: (.*)$/m,
    build: (m) => ({ errorClass: 'CAST_INVALID_INPUT', sqlState: '22018', text: `${m[1]}` }),
  },
  {
    match: /^Binder Error: (.*)$/m,
    build: (m) => ({ errorClass: 'DATATYPE_MISMATCH', sqlState: '42K09', text: `${m[1]}` }),
  },
];

/** Maps an error raised while translating or running a statement to a Databricks-like SQL error. */
export function toDatabricksSqlError(error: unknown): DatabricksSqlError {
  if (error instanceof UnboundParameterError) {
    return format({
      errorClass: 'UNBOUND_SQL_PARAMETER',
      sqlState: '42P02',
      text: `Found the unbound parameter: ${error.parameter}. Please, fix \`args\` and provide a mapping of the parameter to a SQL literal.`,
    });
  }
  if (error instanceof SyntaxError) {
    return format({
      errorClass: 'PARSE_SYNTAX_ERROR',
      sqlState: '42601',
      text: `Syntax error: ${error.message}.`,
    });
  }
  const raw = error instanceof Error ? error.message : String(error);
  for (const rule of RULES) {
    const m = raw.match(rule.match);
    if (m) return format(rule.build(m));
  }
  // Keep DuckDB's first line: it is the useful part, and the class says where it came from.
  const firstLine = raw.split('\n')[0] ?? raw;
  return format({
    errorClass: 'INTERNAL_ERROR',
    sqlState: 'XX000',
    text: `SQL warehouse twin (DuckDB): ${firstLine}`,
  });
}

function format(e: Omit<DatabricksSqlError, 'message'> & { text: string }): DatabricksSqlError {
  return {
    errorClass: e.errorClass,
    sqlState: e.sqlState,
    message: `[${e.errorClass}] ${e.text} SQLSTATE: ${e.sqlState}`,
  };
}
