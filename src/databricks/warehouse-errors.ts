/**
 * The mapping to typed SQL warehouse errors (WarehouseError, in domain/ports/warehouse.ts) from what `@databricks/sql` throws. The driver's
 * error classes are not exported from its package root (and its Thrift `StatusError` is not even an
 * `Error`), so the mapping goes by shape: `errorCode` + `response` for failed operations, `statusCode`
 * for HTTP refusals, `code` for sockets.
 */
import { WarehouseError } from '../domain/ports/warehouse.js';

// Texts Databricks gives while a stopped warehouse boots: OpenSession refused outright, or accepted and
// then every operation on it rejected (classic/pro warehouses).
const STARTING_PATTERNS = [
  /is not ready to accept connections \(current state: STARTING\)/i,
  /Couldn't create directory \/local_disk0\//,
  /^Hive driver: 503 when connecting to resource/,
  /TEMPORARILY_UNAVAILABLE/,
];

/** The session the server no longer knows: drop it and open another. */
export const SESSION_LOST_PATTERNS = [
  /Invalid SessionHandle/i,
  /Session handle: SessionHandle \[[^\]]*\] has not been initialized or had already closed/,
];

/** The error of a query sent while a stopped warehouse boots. */
export function startingError(cause: unknown): WarehouseError {
  return new WarehouseError('warehouse_starting', {}, cause);
}

function messageOf(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e && typeof e.message === 'string') return e.message;
  return String(e);
}

/** An error from the bot's own token provider (OAuth refused, secret wrong, …). */
export class TokenProviderError extends Error {
  override readonly name = 'TokenProviderError';
}

/** Maps anything the driver (or the token provider) throws to a WarehouseError. */
export function toWarehouseError(e: unknown, httpPath: string): WarehouseError {
  if (e instanceof WarehouseError) return e;
  const message = messageOf(e);
  if (e instanceof TokenProviderError) {
    return new WarehouseError('auth', { variant: 'token_provider', causeMessage: message }, e);
  }
  if (STARTING_PATTERNS.some((p) => p.test(message))) return startingError(e);

  const shape = (e ?? {}) as {
    errorCode?: unknown;
    response?: { displayMessage?: string; errorMessage?: string; sqlState?: string } | null;
    statusCode?: unknown;
    code?: unknown;
  };

  // A statement that reached the warehouse and ended badly (OperationStateError).
  if (
    typeof shape.errorCode === 'string' &&
    ['CANCELED', 'CLOSED', 'ERROR', 'TIMEOUT', 'UNKNOWN'].includes(shape.errorCode)
  ) {
    const text = shape.response?.displayMessage ?? shape.response?.errorMessage ?? message;
    const sqlState = shape.response?.sqlState ?? undefined;
    if (STARTING_PATTERNS.some((p) => p.test(text))) return startingError(e);
    if (shape.errorCode === 'TIMEOUT') {
      return new WarehouseError(
        'timeout',
        { variant: 'statement_timeout', warehouseMessage: text, sqlState },
        e,
      );
    }
    if (shape.errorCode === 'CANCELED' || shape.errorCode === 'CLOSED') {
      return new WarehouseError('cancelled', { variant: 'on_warehouse', sqlState }, e);
    }
    return new WarehouseError('sql_error', { variant: 'statement', warehouseMessage: text, sqlState }, e);
  }

  // The gateway refused the HTTP request before any Thrift was read.
  if (typeof shape.statusCode === 'number') {
    if (shape.statusCode === 401 || shape.statusCode === 403) {
      return new WarehouseError('auth', { variant: 'refused', status: shape.statusCode }, e);
    }
    if (shape.statusCode === 503) return startingError(e);
    if (shape.statusCode === 404) {
      return new WarehouseError('connection', { variant: 'no_warehouse_at', httpPath }, e);
    }
    return new WarehouseError('connection', { variant: 'http_status', status: shape.statusCode }, e);
  }

  if (/timed out/i.test(message) || shape.code === 'ETIMEDOUT') {
    return new WarehouseError('timeout', { variant: 'no_answer' }, e);
  }
  if (
    typeof shape.code === 'string' ||
    /ECONNREFUSED|ENOTFOUND|ECONNRESET|certificate|socket hang up/i.test(message)
  ) {
    return new WarehouseError('connection', { variant: 'unreachable', causeMessage: message }, e);
  }
  // A Thrift status error (StatusError) or anything else the driver raised.
  return new WarehouseError('sql_error', { variant: 'driver', driverMessage: message }, e);
}
