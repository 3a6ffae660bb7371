/**
 * The SQL warehouse port: parameterised SQL in, rows checked by a zod schema out, WarehouseErrors
 * on failure. The adapter is databricks/warehouse.ts (the only importer of @databricks/sql).
 */
import { z } from 'zod';
import { type ErrorDetails, UserError } from '../errors.js';

export type WarehouseErrorCode =
  | 'sql_error'
  | 'auth'
  | 'timeout'
  | 'cancelled'
  | 'warehouse_starting'
  | 'connection'
  | 'row_invalid'
  | 'invalid_identifier'
  | 'invalid_parameter';

/**
 * A warehouse read that failed, with a stable `code` to branch on and the SQL state when the
 * warehouse gave one (`details.sqlState`).
 *
 * @example if (e instanceof WarehouseError && e.code === 'warehouse_starting') await retryLater();
 */
export class WarehouseError<C extends WarehouseErrorCode = WarehouseErrorCode> extends UserError<C> {
  constructor(code: C, details: ErrorDetails<C>, cause?: unknown) {
    super(code, details);
    if (cause !== undefined) this.cause = cause;
  }
}

/** A DATE parameter (a plain `Date` binds as TIMESTAMP). */
export interface SqlDate {
  readonly kind: 'date';
  readonly value: string;
}

/** Values a query may bind: strings, numbers (INTEGER/BIGINT/DOUBLE by value), bigint, booleans, Dates (TIMESTAMP), `sqlDate()`, NULL. */
export type ParamValue = string | number | bigint | boolean | Date | SqlDate | null;

export interface QueryOptions {
  /** Abort to give up; the statement is cancelled on the warehouse. */
  signal?: AbortSignal;
  /** Client-side deadline; defaults to the statement timeout plus a little grace. */
  timeoutMs?: number;
}

/** The domain view of a SQL warehouse. */
export interface Warehouse {
  query<T>(
    sql: string,
    params: Record<string, ParamValue>,
    rowSchema: z.ZodType<T>,
    opts?: QueryOptions,
  ): Promise<T[]>;
  close(): Promise<void>;
}

/**
 * Binds a calendar date as a DATE parameter.
 *
 * @example warehouse.query('SELECT * FROM t WHERE d >= :since', { since: sqlDate('2026-01-31') }, rowSchema)
 */
export function sqlDate(value: Date | string): SqlDate {
  const text = typeof value === 'string' ? value : value.toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    throw new WarehouseError('invalid_parameter', { variant: 'date_text', value: text });
  }
  return { kind: 'date', value: text };
}

/** Zod helpers for result rows: the driver returns timestamps as Date and structs as objects. */
export const sqlTimestamp = z.coerce.date();
export const sqlWindow = z.object({ start: sqlTimestamp, end: sqlTimestamp });
