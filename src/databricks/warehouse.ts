/**
 * Reads from a Databricks SQL warehouse with `@databricks/sql` (the only importer of the driver). The rest
 * of the bot sees the small `Warehouse` interface: parameterised SQL in, rows checked by a zod schema out,
 * typed `WarehouseError`s on failure.
 *
 * - Values only ever travel as named parameters; table and column names go through `tableName` /
 *   `columnName` (warehouse-identifiers.ts), which refuse anything but plain identifiers.
 * - One session is opened lazily, reused by every query, replaced when idle or lost, and closed by `close()`.
 * - Every statement has a server-side timeout (the session's STATEMENT_TIMEOUT) and a client-side deadline;
 *   when the caller gives up, the statement is cancelled on the warehouse.
 * - Auth shares the REST client's TokenProvider, so one token cache serves both.
 * - Driver telemetry is off unless the configuration turns it on; driver log lines go to `onLog` or nowhere.
 * - The driver (about 20 MB resident with its Thrift and Arrow code) is loaded on the first query, so a
 *   bot with no warehouse, or one that has not queried yet, does not carry it.
 */
import type { DBSQLClient, LogLevel } from '@databricks/sql';
import { z } from 'zod';
import { UserError } from '../domain/errors.js';
import {
  type ParamValue,
  type QueryOptions,
  type Warehouse,
  WarehouseError,
} from '../domain/ports/warehouse.js';
import type { TokenProvider } from './auth.js';
import {
  SESSION_LOST_PATTERNS,
  startingError,
  TokenProviderError,
  toWarehouseError,
} from './warehouse-errors.js';

export const warehouseOptionsSchema = z
  .object({
    /** Workspace URL or host name, e.g. https://adb-123.4.azuredatabricks.net or 127.0.0.1:8443. */
    host: z.string().min(1, 'DATABRICKS_HOST is empty'),
    /** The warehouse's HTTP path, e.g. /sql/1.0/warehouses/abc123 (see `warehouseHttpPath`). */
    httpPath: z.string().regex(/^\/\S+$/, 'the HTTP path must start with / (e.g. /sql/1.0/warehouses/<id>)'),
    tokens: z.custom<TokenProvider>(
      (v) => typeof v === 'object' && v !== null && typeof (v as TokenProvider).token === 'function',
      'tokens must be a TokenProvider',
    ),
    /** Extra CA to trust (PEM), e.g. the sandbox twin's self-signed certificate. */
    ca: z.union([z.string(), z.instanceof(Buffer)]).optional(),
    /** Server-side limit for every statement (the session's STATEMENT_TIMEOUT). */
    statementTimeoutSeconds: z.number().int().min(1).max(172_800).default(300),
    /** Driver telemetry to Databricks; off unless turned on. */
    telemetry: z.boolean().default(false),
    /** A session idle longer than this is replaced before the next query (servers expire idle sessions). */
    sessionIdleSeconds: z.number().positive().default(600),
    userAgentEntry: z.string().default('modelgate'),
    onLog: z.custom<(level: string, message: string) => void>((v) => typeof v === 'function').optional(),
  })
  .strict();
export type WarehouseOptions = z.input<typeof warehouseOptionsSchema>;

/**
 * The warehouse HTTP path from DATABRICKS_HTTP_PATH, or built from DATABRICKS_WAREHOUSE_ID.
 *
 * @example warehouseHttpPath({ DATABRICKS_WAREHOUSE_ID: 'abc123' }) // '/sql/1.0/warehouses/abc123'
 */
export function warehouseHttpPath(env: Readonly<Record<string, string | undefined>>): string {
  const path = env.DATABRICKS_HTTP_PATH?.trim();
  if (path) {
    if (!path.startsWith('/')) {
      throw new UserError('invalid_config', { variant: 'http_path', value: path });
    }
    return path;
  }
  const id = env.DATABRICKS_WAREHOUSE_ID?.trim();
  if (id) {
    if (!/^[A-Za-z0-9]+$/.test(id)) {
      throw new UserError('invalid_config', { variant: 'warehouse_id', value: id });
    }
    return `/sql/1.0/warehouses/${id}`;
  }
  throw new UserError('invalid_config', { variant: 'no_warehouse_configured' });
}

/** Splits DATABRICKS_HOST into what the driver wants: a bare host name and a port (it always uses HTTPS). */
export function parseWarehouseHost(host: string): { hostname: string; port: number } {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(host) ? host : `https://${host}`);
  } catch {
    throw new UserError('invalid_config', { variant: 'host_not_url', value: host });
  }
  if (url.protocol !== 'https:') {
    throw new UserError('invalid_config', { variant: 'host_not_https', value: host });
  }
  return { hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : 443 };
}

type Driver = typeof import('@databricks/sql');
let driverModule: Promise<Driver> | undefined;

/** The driver, imported once on first use. */
function loadDriver(): Promise<Driver> {
  driverModule ??= import('@databricks/sql');
  return driverModule;
}

type SqlSession = Awaited<ReturnType<DBSQLClient['openSession']>>;
type SqlOperation = Awaited<ReturnType<SqlSession['executeStatement']>>;

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type DriverParam = string | number | bigint | boolean | Date | null | InstanceType<Driver['DBSQLParameter']>;

function toDriverParams(
  params: Record<string, ParamValue>,
  { DBSQLParameter, DBSQLParameterType }: Driver,
): Record<string, DriverParam> {
  const out: Record<string, DriverParam> = {};
  for (const [name, value] of Object.entries(params)) {
    if (!PARAM_NAME.test(name)) {
      throw new WarehouseError('invalid_parameter', { variant: 'name', name });
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new WarehouseError('invalid_parameter', { variant: 'not_finite', name, value });
    }
    if (value instanceof Date && Number.isNaN(value.getTime())) {
      throw new WarehouseError('invalid_parameter', { variant: 'invalid_date', name });
    }
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      if (value.kind !== 'date') {
        throw new WarehouseError('invalid_parameter', { variant: 'unsupported_type', name });
      }
      out[name] = new DBSQLParameter({ type: DBSQLParameterType.DATE, value: value.value });
    } else {
      out[name] = value;
    }
  }
  return out;
}

interface OpenSession {
  session: SqlSession;
  lastUsed: number;
  active: number;
}

/**
 * The production SQL warehouse adapter.
 *
 * @example
 * const warehouse = createDatabricksWarehouse({ host: env.DATABRICKS_HOST, httpPath: warehouseHttpPath(env), tokens });
 * const rows = await warehouse.query(`SELECT \`window\`.start AS ts FROM ${tableName(t)} WHERE model_version = :m`, { m: '*' }, rowSchema);
 */
export function createDatabricksWarehouse(options: WarehouseOptions): Warehouse {
  const config = warehouseOptionsSchema.parse(options);
  const { hostname, port } = parseWarehouseHost(config.host);
  const log = config.onLog ?? (() => {});
  const { tokens, httpPath } = config;
  let lastToken: string | undefined;

  let client: Promise<DBSQLClient> | undefined;
  let open: OpenSession | undefined;
  let opening: Promise<OpenSession> | undefined;
  let closed = false;

  function connect(): Promise<DBSQLClient> {
    client ??= (async () => {
      const { DBSQLClient, auth } = await loadDriver();
      const c = new DBSQLClient({
        logger: { log: (level: LogLevel, message: string) => log(level, message) },
      });
      // Without a listener, an async socket error on the client would be thrown as an uncaught 'error'.
      c.on('error', (e: Error) => log('error', `SQL warehouse connection error: ${e.message}`));
      await c.connect({
        host: hostname,
        port,
        path: httpPath,
        authType: 'token-provider',
        tokenProvider: {
          getName: () => 'modelgate',
          async getToken() {
            let token: string;
            try {
              token = await tokens.token();
            } catch (e) {
              throw new TokenProviderError((e as Error).message ?? String(e));
            }
            lastToken = token;
            // The driver caches a token until 5 minutes before it expires. Saying it expires in a minute
            // makes the driver ask on every request, so the bot's TokenProvider stays the one cache.
            return new auth.Token(token, { expiresAt: new Date(Date.now() + 60_000) });
          },
        },
        customCaCert: config.ca,
        telemetryEnabled: config.telemetry,
        userAgentEntry: config.userAgentEntry,
      });
      return c;
    })();
    client.catch(() => {
      client = undefined;
    });
    return client;
  }

  async function openSession(): Promise<OpenSession> {
    const c = await connect();
    const open = () =>
      c.openSession({ configuration: { STATEMENT_TIMEOUT: String(config.statementTimeoutSeconds) } });
    try {
      return { session: await open(), lastUsed: Date.now(), active: 0 };
    } catch (e) {
      const mapped = toWarehouseError(e, httpPath);
      // A refused token may just be stale: drop it from the shared cache and try once with a fresh one.
      if (mapped.code === 'auth' && lastToken && tokens.invalidate) {
        const refused = lastToken;
        tokens.invalidate(refused);
        if ((await tokens.token().catch(() => refused)) !== refused) {
          return { session: await open(), lastUsed: Date.now(), active: 0 };
        }
      }
      throw mapped;
    }
  }

  /** The shared session: reused while fresh, replaced when idle too long, opened once for concurrent callers. */
  async function session(): Promise<OpenSession> {
    if (open && open.active === 0 && Date.now() - open.lastUsed > config.sessionIdleSeconds * 1000)
      discard(open);
    if (open) return open;
    opening ??= openSession()
      .then((s) => {
        open = s;
        return s;
      })
      .finally(() => {
        opening = undefined;
      });
    return opening;
  }

  function discard(s: OpenSession): void {
    if (open === s) open = undefined;
    s.session
      .close()
      .catch((e: unknown) => log('warn', `closing a SQL session failed: ${(e as Error).message}`));
  }

  async function execute(
    sql: string,
    params: Record<string, DriverParam>,
    stop: Promise<never>,
  ): Promise<{ operation: SqlOperation; holder: OpenSession }> {
    for (let attempt = 0; ; attempt++) {
      const holder = await race(session(), stop);
      holder.active++;
      const pending = holder.session.executeStatement(sql, { namedParameters: params });
      try {
        return { operation: await race(pending, stop), holder };
      } catch (e) {
        holder.active--;
        if (e instanceof Abort) {
          // The statement may already be running: cancel it as soon as its handle arrives.
          pending.then((op) => op.cancel().finally(() => op.close())).catch(() => {});
          throw e;
        }
        const text = (e as { message?: string }).message ?? '';
        if (SESSION_LOST_PATTERNS.some((p) => p.test(text))) {
          discard(holder);
          if (attempt === 0) continue;
          // A fresh session lost at once: a classic warehouse still booting behaves like this.
          throw startingError(e);
        }
        throw e;
      }
    }
  }

  return {
    async query<T>(
      sql: string,
      params: Record<string, ParamValue>,
      rowSchema: z.ZodType<T>,
      opts: QueryOptions = {},
    ) {
      if (closed) {
        throw new WarehouseError('connection', { variant: 'closed' });
      }
      const driverParams = toDriverParams(params, await loadDriver());
      const timeoutMs = opts.timeoutMs ?? config.statementTimeoutSeconds * 1000 + 10_000;
      const { stop, dispose } = deadline(timeoutMs, opts.signal);
      let operation: SqlOperation | undefined;
      let holder: OpenSession | undefined;
      let rows: object[];
      try {
        ({ operation, holder } = await execute(sql, driverParams, stop));
        const op = operation;
        try {
          rows = await race(op.fetchAll(), stop);
        } catch (e) {
          // Giving up must reach the warehouse, or the statement keeps running (and billing) there.
          if (e instanceof Abort) await bounded(op.cancel(), 5_000).catch(() => {});
          throw e;
        }
      } catch (e) {
        if (e instanceof Abort) {
          throw e.reason === 'timeout'
            ? new WarehouseError('timeout', {
                variant: 'deadline',
                seconds: Math.round(timeoutMs / 100) / 10,
              })
            : new WarehouseError('cancelled', { variant: 'by_caller' });
        }
        throw toWarehouseError(e, httpPath);
      } finally {
        dispose();
        if (holder) {
          holder.active--;
          holder.lastUsed = Date.now();
        }
        await operation
          ?.close()
          .catch((e: unknown) => log('warn', `closing a SQL operation failed: ${(e as Error).message}`));
      }
      const parsed = z.array(rowSchema).safeParse(rows);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const [row, ...path] = issue?.path ?? [];
        throw new WarehouseError(
          'row_invalid',
          { row: String(row), path: path.join('.'), issue: issue?.message ?? '' },
          parsed.error,
        );
      }
      return parsed.data;
    },

    async close() {
      if (closed) return;
      closed = true;
      await opening?.catch(() => {});
      const s = open;
      open = undefined;
      if (s)
        await s.session
          .close()
          .catch((e: unknown) => log('warn', `closing a SQL session failed: ${(e as Error).message}`));
      const c = client && (await client.catch(() => undefined));
      client = undefined;
      if (c)
        await c
          .close()
          .catch((e: unknown) => log('warn', `closing the SQL client failed: ${(e as Error).message}`));
    },
  };
}

/** Why a query stopped waiting: the caller's signal or its deadline. */
class Abort extends Error {
  constructor(readonly reason: 'timeout' | 'cancelled') {
    super(reason);
  }
}

function deadline(ms: number, signal: AbortSignal | undefined): { stop: Promise<never>; dispose(): void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    if (signal?.aborted) return reject(new Abort('cancelled'));
    timer = setTimeout(() => reject(new Abort('timeout')), ms);
    onAbort = () => reject(new Abort('cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  stop.catch(() => {});
  return {
    stop,
    dispose() {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Waits for `work` unless `stop` rejects first; a late failure of `work` is swallowed. */
function race<T>(work: Promise<T>, stop: Promise<never>): Promise<T> {
  work.catch(() => {});
  return Promise.race([work, stop]);
}

function bounded<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]).finally(() => clearTimeout(timer));
}
