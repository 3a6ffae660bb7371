/**
 * Typed errors for SQL warehouse reads, and the mapping from what `@databricks/sql` throws. The driver's
 * error classes are not exported from its package root (and its Thrift `StatusError` is not even an
 * `Error`), so the mapping goes by shape: `errorCode` + `response` for failed operations, `statusCode`
 * for HTTP refusals, `code` for sockets.
 */
import { UserError } from '../domain/errors.js';

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
 * A warehouse read that failed, with a stable `code` to branch on and a `hint` that says what to do.
 *
 * @example if (e instanceof WarehouseError && e.code === 'warehouse_starting') await retryLater();
 */
export class WarehouseError extends UserError {
  constructor(
    override readonly code: WarehouseErrorCode,
    message: string,
    hint?: string,
    readonly details: { sqlState?: string; cause?: unknown } = {},
  ) {
    super(code, message, hint);
    if (details.cause !== undefined) this.cause = details.cause;
  }
}

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

const STARTING_HINT =
  'The SQL warehouse was stopped and is starting up, which can take a few minutes. Try again shortly, or keep it running (auto-stop) while the bot is in use.';

export function startingError(cause: unknown): WarehouseError {
  return new WarehouseError('warehouse_starting', 'The SQL warehouse is starting up.', STARTING_HINT, {
    cause,
  });
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
    return new WarehouseError(
      'auth',
      `Could not get a Databricks token: ${message}`,
      'Check DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET for the service principal.',
      { cause: e },
    );
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
        `The query ran past the warehouse's statement timeout: ${text}`,
        'Narrow the query (fewer windows or columns), or raise the statement timeout in the configuration.',
        { sqlState, cause: e },
      );
    }
    if (shape.errorCode === 'CANCELED' || shape.errorCode === 'CLOSED') {
      return new WarehouseError(
        'cancelled',
        'The query was cancelled on the SQL warehouse.',
        'Run it again.',
        { sqlState, cause: e },
      );
    }
    return new WarehouseError(
      'sql_error',
      text,
      'Check the table and column names in the query; the SQLSTATE and error class say what the warehouse rejected.',
      { sqlState, cause: e },
    );
  }

  // The gateway refused the HTTP request before any Thrift was read.
  if (typeof shape.statusCode === 'number') {
    if (shape.statusCode === 401 || shape.statusCode === 403) {
      return new WarehouseError(
        'auth',
        `The SQL warehouse refused the token (HTTP ${shape.statusCode}).`,
        'Check that the token (or service principal) is valid and has CAN USE on the warehouse.',
        { cause: e },
      );
    }
    if (shape.statusCode === 503) return startingError(e);
    if (shape.statusCode === 404) {
      return new WarehouseError(
        'connection',
        `No SQL warehouse answers at ${httpPath} (HTTP 404).`,
        'Check DATABRICKS_WAREHOUSE_ID (or DATABRICKS_HTTP_PATH) against the warehouse’s Connection details.',
        { cause: e },
      );
    }
    return new WarehouseError(
      'connection',
      `The SQL warehouse answered HTTP ${shape.statusCode}.`,
      'The warehouse or its gateway is having trouble; try again in a minute.',
      { cause: e },
    );
  }

  if (/timed out/i.test(message) || shape.code === 'ETIMEDOUT') {
    return new WarehouseError(
      'timeout',
      'The SQL warehouse did not answer in time.',
      'Try again; if it keeps happening, check the warehouse.',
      { cause: e },
    );
  }
  if (
    typeof shape.code === 'string' ||
    /ECONNREFUSED|ENOTFOUND|ECONNRESET|certificate|socket hang up/i.test(message)
  ) {
    return new WarehouseError(
      'connection',
      `Could not reach the SQL warehouse: ${message}`,
      'Check DATABRICKS_HOST and the network path to the workspace.',
      { cause: e },
    );
  }
  // A Thrift status error (StatusError) or anything else the driver raised.
  return new WarehouseError(
    'sql_error',
    message || 'The SQL warehouse rejected the request.',
    'Check the query and the warehouse state.',
    {
      cause: e,
    },
  );
}
