/**
 * The TCLIService calls a SQL warehouse answers, backed by DuckDB: sessions, statements with named
 * parameters, status polling, Arrow results (inline, with direct results), cancel and close. Every other
 * call answers a Thrift error status "not implemented".
 *
 * Protocol facts this relies on are in /work/shared/reference/sql-warehouse-twin.md; the ones that bite:
 * answer protocol V8 (below it the driver silently drops named parameters); a failed statement must still
 * say `hasResultSet = true` or the driver returns an empty result instead of the error; handle GUIDs must
 * be RFC 4122 UUID bytes.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type {
  TCancelOperationReq,
  TCloseOperationReq,
  TCloseSessionReq,
  TExecuteStatementReq,
  TFetchResultsReq,
  TGetOperationStatusReq,
  TGetResultSetMetadataReq,
  THandleIdentifier,
  TOpenSessionReq,
  TSparkParameter,
} from '@databricks/sql/thrift/TCLIService_types.js';
import ttypes from '@databricks/sql/thrift/TCLIService_types.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { SandboxDb } from '../duckdb.js';
import { type ArrowResult, toArrowResult } from './arrow-results.js';
import { type SparkParameter, translateSparkSql } from './spark-sql.js';
import { type DatabricksSqlError, toDatabricksSqlError } from './sql-errors.js';

const { TOperationState, TStatusCode, TOperationType, TProtocolVersion, TSparkRowSetType } = ttypes;

/** Fault switches the tests flip; each counts down as it fires. */
export interface FaultState {
  startingSessions: number;
  slowStatements: { count: number; ms: number };
}

export interface TwinStats {
  sessionsOpened: number;
  sessionsOpen: number;
  statements: number;
  cancels: number;
  operationsOpen: number;
}

interface Session {
  id: string;
  guid: Buffer;
  statementTimeoutSeconds: number | undefined;
  operations: Set<string>;
}

interface Operation {
  id: string;
  sessionId: string;
  handle: { operationId: THandleIdentifier; operationType: number; hasResultSet: boolean };
  state: number;
  error?: DatabricksSqlError;
  result?: ArrowResult;
  cursor: number;
  delayed: boolean;
  done: Promise<void>;
  abort: AbortController;
  interrupt?: () => void;
}

export interface ServiceOptions {
  db: SandboxDb;
  warehouseId: string;
  faults: FaultState;
  /** How long ExecuteStatement waits for a result before answering "still running" (ms). */
  directResultsWaitMs: number;
}

const OK = { statusCode: TStatusCode.SUCCESS_STATUS };
const notImplemented = (call: string) => ({
  statusCode: TStatusCode.ERROR_STATUS,
  errorMessage: `${call} is not implemented by the SQL warehouse twin`,
  sqlState: '0A000',
});

/** Builds the handler object the generated TCLIService processor dispatches to, plus its counters. */
export function createWarehouseService(options: ServiceOptions): {
  handler: object;
  stats(): TwinStats;
  forgetSessions(): void;
  close(): Promise<void>;
} {
  const { db, faults } = options;
  const sessions = new Map<string, Session>();
  const operations = new Map<string, Operation>();
  const counters = { sessionsOpened: 0, statements: 0, cancels: 0 };
  // Each running statement holds its own DuckDB connection, so a cancel interrupts exactly that statement;
  // finished ones go back to a small pool.
  const idle: DuckDBConnection[] = [];

  const handler = {
    async OpenSession(req: TOpenSessionReq) {
      if (faults.startingSessions > 0) {
        faults.startingSessions--;
        // What a stopped classic/pro warehouse answers while it boots.
        return {
          status: {
            statusCode: TStatusCode.ERROR_STATUS,
            errorMessage: `SQL warehouse ${options.warehouseId} is not ready to accept connections (current state: STARTING)`,
          },
          serverProtocolVersion: TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8,
        };
      }
      const guid = uuidBytes();
      const timeout = Number(req.configuration?.STATEMENT_TIMEOUT);
      const session: Session = {
        id: guid.toString('hex'),
        guid,
        statementTimeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
        operations: new Set(),
      };
      sessions.set(session.id, session);
      counters.sessionsOpened++;
      return {
        status: OK,
        serverProtocolVersion: TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8,
        sessionHandle: { sessionId: { guid, secret: randomBytes(16) } },
        configuration: req.configuration ?? {},
        canUseMultipleCatalogs: true,
      };
    },

    async CloseSession(req: TCloseSessionReq) {
      const session = sessions.get(hex(req.sessionHandle.sessionId.guid));
      if (session) {
        for (const id of session.operations) closeOperation(id);
        sessions.delete(session.id);
      }
      return { status: OK };
    },

    async ExecuteStatement(req: TExecuteStatementReq) {
      const session = sessions.get(hex(req.sessionHandle.sessionId.guid));
      if (!session) return { status: invalidSession(req.sessionHandle.sessionId.guid) };
      counters.statements++;
      const op = startOperation(session, req.statement, req.parameters ?? []);
      // A statement held back by the slow fault answers "still running" at once, like a long query.
      if (!op.delayed) await within(op.done, options.directResultsWaitMs);
      const maxRows = req.getDirectResults ? toNumber(req.getDirectResults.maxRows) : undefined;
      if (maxRows === undefined || !isTerminal(op.state)) {
        return { status: OK, operationHandle: op.handle, directResults: { operationStatus: statusOf(op) } };
      }
      // Direct results: status, schema and the first rows in this one reply. When they are complete, the
      // operation is closed here too and the driver sends no CloseOperation.
      const resultSet = op.result ? fetch(op, maxRows) : undefined;
      const complete = !op.result || op.cursor >= op.result.rowCount;
      const reply = {
        status: OK,
        operationHandle: op.handle,
        directResults: {
          operationStatus: statusOf(op),
          resultSetMetadata: op.result ? metadataOf(op.result) : undefined,
          resultSet,
          closeOperation: complete ? { status: OK } : undefined,
        },
      };
      if (complete) closeOperation(op.id);
      return reply;
    },

    async GetOperationStatus(req: TGetOperationStatusReq) {
      const op = operations.get(hex(req.operationHandle.operationId.guid));
      if (!op) return { status: invalidOperation(req.operationHandle.operationId.guid) };
      return statusOf(op);
    },

    async GetResultSetMetadata(req: TGetResultSetMetadataReq) {
      const op = operations.get(hex(req.operationHandle.operationId.guid));
      if (!op) return { status: invalidOperation(req.operationHandle.operationId.guid) };
      if (!op.result)
        return {
          status: { statusCode: TStatusCode.ERROR_STATUS, errorMessage: 'The statement has no result yet' },
        };
      return metadataOf(op.result);
    },

    async FetchResults(req: TFetchResultsReq) {
      const op = operations.get(hex(req.operationHandle.operationId.guid));
      if (!op) return { status: invalidOperation(req.operationHandle.operationId.guid) };
      if (!op.result)
        return {
          status: { statusCode: TStatusCode.ERROR_STATUS, errorMessage: 'The statement has no result' },
        };
      return fetch(op, toNumber(req.maxRows) ?? 100_000);
    },

    async CancelOperation(req: TCancelOperationReq) {
      const op = operations.get(hex(req.operationHandle.operationId.guid));
      if (op && !isTerminal(op.state)) {
        counters.cancels++;
        op.state = TOperationState.CANCELED_STATE;
        op.abort.abort();
        op.interrupt?.();
      }
      return { status: OK };
    },

    async CloseOperation(req: TCloseOperationReq) {
      closeOperation(hex(req.operationHandle.operationId.guid));
      return { status: OK };
    },

    async GetInfo(_req: unknown) {
      return { status: notImplemented('GetInfo'), infoValue: { stringValue: '' } };
    },
  };

  // The rest of TCLIService: a clean Thrift error status rather than a dropped connection. One declared
  // parameter each, so the generated processor treats them as promise-returning.
  for (const call of [
    'GetTypeInfo',
    'GetCatalogs',
    'GetSchemas',
    'GetTables',
    'GetTableTypes',
    'GetColumns',
    'GetFunctions',
    'GetPrimaryKeys',
    'GetCrossReference',
    'GetDelegationToken',
    'CancelDelegationToken',
    'RenewDelegationToken',
  ]) {
    Object.assign(handler, { [call]: async (_req: unknown) => ({ status: notImplemented(call) }) });
  }

  function startOperation(session: Session, statement: string, parameters: TSparkParameter[]): Operation {
    const guid = uuidBytes();
    const abort = new AbortController();
    const op: Operation = {
      id: guid.toString('hex'),
      sessionId: session.id,
      // A failed statement must still claim a result set, or the driver never asks for its status.
      handle: {
        operationId: { guid, secret: randomBytes(16) },
        operationType: TOperationType.EXECUTE_STATEMENT,
        hasResultSet: true,
      },
      state: TOperationState.RUNNING_STATE,
      cursor: 0,
      delayed: false,
      abort,
      done: Promise.resolve(),
    };
    operations.set(op.id, op);
    session.operations.add(op.id);
    const delayMs = faults.slowStatements.count > 0 ? faults.slowStatements.ms : 0;
    if (delayMs > 0) faults.slowStatements.count--;
    op.delayed = delayMs > 0;
    op.done = run(op, session, statement, parameters, delayMs);
    return op;
  }

  async function run(
    op: Operation,
    session: Session,
    statement: string,
    parameters: TSparkParameter[],
    delayMs: number,
  ): Promise<void> {
    let timedOut = false;
    const timer =
      session.statementTimeoutSeconds === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            op.abort.abort();
            op.interrupt?.();
          }, session.statementTimeoutSeconds * 1000);
    let connection: DuckDBConnection | undefined;
    try {
      const params = new Map<string, SparkParameter>();
      for (const p of parameters) {
        if (p.name === undefined || p.name === null) {
          throw new Error('Parser Error: positional parameters are not supported; use named :markers');
        }
        params.set(p.name, { type: p.type ?? undefined, value: p.value?.stringValue ?? undefined });
      }
      const translated = translateSparkSql(statement, params);
      if (delayMs > 0) await sleep(delayMs, op.abort.signal);
      if (op.abort.signal.aborted) throw new Error('INTERRUPT');
      connection = idle.pop() ?? (await db.connect());
      const conn = connection;
      op.interrupt = () => conn.interrupt();
      const result = await conn.run(translated.sql, translated.values);
      const columns = await result.getColumnsJS();
      if (op.state !== TOperationState.RUNNING_STATE) return;
      op.result = toArrowResult(result.columnNames(), result.columnTypes(), columns);
      op.state = TOperationState.FINISHED_STATE;
    } catch (e) {
      if (op.state === TOperationState.CANCELED_STATE || op.state === TOperationState.CLOSED_STATE) return;
      if (timedOut) {
        op.state = TOperationState.TIMEDOUT_STATE;
        op.error = {
          errorClass: 'STATEMENT_TIMEOUT',
          sqlState: '57KD0',
          message: `[STATEMENT_TIMEOUT] The statement ran longer than STATEMENT_TIMEOUT (${session.statementTimeoutSeconds} s) and was cancelled. SQLSTATE: 57KD0`,
        };
        return;
      }
      op.state = TOperationState.ERROR_STATE;
      op.error = toDatabricksSqlError(e);
    } finally {
      clearTimeout(timer);
      op.interrupt = undefined;
      if (connection && idle.length < 8) idle.push(connection);
      else connection?.closeSync();
    }
  }

  function statusOf(op: Operation) {
    return {
      status: OK,
      operationState: op.state,
      hasResultSet: true,
      sqlState: op.error?.sqlState,
      errorMessage: op.error
        ? `org.apache.hive.service.cli.HiveSQLException: Error running query: ${op.error.message}`
        : undefined,
      displayMessage: op.error?.message,
    };
  }

  function metadataOf(result: ArrowResult) {
    return {
      status: OK,
      schema: result.schema,
      resultFormat: TSparkRowSetType.ARROW_BASED_SET,
      lz4Compressed: false,
      arrowSchema: result.arrowSchema,
    };
  }

  function fetch(op: Operation, maxRows: number) {
    const result = op.result!;
    const from = op.cursor;
    const to = Math.min(result.rowCount, from + Math.max(1, maxRows));
    op.cursor = to;
    return {
      status: OK,
      hasMoreRows: to < result.rowCount,
      results: {
        startRowOffset: from,
        rows: [],
        arrowBatches: to > from ? [{ batch: result.batch(from, to), rowCount: to - from }] : [],
      },
    };
  }

  function closeOperation(id: string): void {
    const op = operations.get(id);
    if (!op) return;
    if (!isTerminal(op.state)) {
      op.state = TOperationState.CLOSED_STATE;
      op.abort.abort();
      op.interrupt?.();
    }
    operations.delete(id);
    sessions.get(op.sessionId)?.operations.delete(id);
  }

  return {
    handler,
    stats: () => ({
      sessionsOpened: counters.sessionsOpened,
      sessionsOpen: sessions.size,
      statements: counters.statements,
      cancels: counters.cancels,
      operationsOpen: operations.size,
    }),
    forgetSessions() {
      for (const id of [...operations.keys()]) closeOperation(id);
      sessions.clear();
    },
    async close() {
      const running = [...operations.values()];
      for (const op of running) closeOperation(op.id);
      await Promise.allSettled(running.map((op) => op.done));
      sessions.clear();
      for (const connection of idle.splice(0)) connection.closeSync();
    },
  };
}

function isTerminal(state: number): boolean {
  return (
    state !== TOperationState.RUNNING_STATE &&
    state !== TOperationState.PENDING_STATE &&
    state !== TOperationState.INITIALIZED_STATE
  );
}

function invalidSession(guid: Buffer) {
  return {
    statusCode: TStatusCode.INVALID_HANDLE_STATUS,
    errorMessage: `Invalid SessionHandle: SessionHandle [${uuidText(guid)}]`,
  };
}

function invalidOperation(guid: Buffer) {
  return {
    statusCode: TStatusCode.INVALID_HANDLE_STATUS,
    errorMessage: `Invalid OperationHandle: OperationHandle [${uuidText(guid)}]`,
  };
}

/** RFC 4122 bytes: the driver stringifies handle GUIDs with `uuid` and rejects anything else. */
function uuidBytes(): Buffer {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
}

function uuidText(guid: Buffer): string {
  const h = hex(guid);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function hex(guid: Buffer | undefined | null): string {
  return guid ? Buffer.from(guid).toString('hex') : '';
}

function toNumber(
  value: { toNumber(allowImprecise?: boolean): number } | number | undefined | null,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'number' ? value : value.toNumber(true);
}

/** Waits for `promise` at most `ms`, without leaving a timer behind. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
