/**
 * The store on Postgres: one `pg` pool per process behind Kysely, migrated at start under an
 * advisory lock (migrations.ts). Several replicas share one database, so neither the SQLite
 * file's one-process lock nor its history marker applies here: replicas coordinate through
 * compare-and-set rows and leases judged by the database's clock (sql.ts `leaseNow`).
 *
 * Faults: at start-up an unreachable server is retried with backoff (lib/poll.ts, each attempt
 * logged, the status `connecting`), a refused login or a missing database fails at once, and each
 * ends in a StoreStartError naming it. While running, a lost connection turns every query into a
 * StoreUnavailableError (the Slack edge says nothing was changed) and the status `unreachable`,
 * until a query succeeds again.
 */
import type { CompiledQuery, DatabaseConnection, Driver } from 'kysely';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { poll } from '../lib/poll.js';
import type { StoreDatabase } from './database.js';
import { connectionFault, StoreStartError, StoreUnavailableError } from './errors.js';
import { MIGRATIONS, type Migration, migratePostgres } from './migrations.js';
import type { Queryable } from './sql.js';
import type { StoreStatus } from './status.js';

/** Where the server is and who to log in as; a URL, or its parts (the PG* variables). */
export interface PostgresConnectionSettings {
  connectionString?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  user?: string | undefined;
  database?: string | undefined;
  /** A fixed password, or a function asked at every new connection (a short-lived OAuth token). */
  password?: string | (() => Promise<string>) | undefined;
}

export interface OpenPostgresOptions extends PostgresConnectionSettings {
  logger: Logger;
  clock: Clock;
  status?: StoreStatus | undefined;
  signal?: AbortSignal | undefined;
  /** Connections in the pool (default 10). */
  max?: number | undefined;
  /** How long start-up keeps trying an unreachable server (default 60 s), and the backoff. */
  connect?: { timeoutMs?: number; initialDelayMs?: number; maxDelayMs?: number } | undefined;
  /** Tests give a shorter list; production always migrates to MIGRATIONS. */
  migrations?: readonly Migration[] | undefined;
}

const INT8_OID = 20;

/** `host:port/database` for messages: never the password. */
export function describePostgres(s: PostgresConnectionSettings): string {
  if (s.connectionString) {
    try {
      const u = new URL(s.connectionString);
      return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
    } catch {
      return 'the database URL';
    }
  }
  return `${s.host ?? 'localhost'}:${s.port ?? 5432}/${s.database ?? s.user ?? ''}`;
}

/**
 * A pool as modelgate needs it: int8 read as a number (epoch-ms times and counters fit in a double;
 * set on this pool only, never pg's global parsers), and an error handler, without which an idle
 * connection the server drops crashes the process.
 */
export function createPool(o: OpenPostgresOptions): pg.Pool {
  const pool = new pg.Pool({
    ...(o.connectionString !== undefined ? { connectionString: o.connectionString } : {}),
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(o.database !== undefined ? { database: o.database } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    max: o.max ?? 10,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID && format !== 'binary'
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', (e) => {
    o.logger.warn(`the database dropped an idle connection (${(e as { code?: string }).code ?? e.message})`);
  });
  return pool;
}

/**
 * Connects (retrying an unreachable server), migrates under the advisory lock and returns the store.
 * Throws StoreStartError (unreachable after the wait, bad credentials, no such database) or
 * SchemaTooNewError.
 *
 * @example const db = await openPostgres({ connectionString: process.env.MODELGATE_DATABASE_URL, logger, clock });
 */
export async function openPostgres(o: OpenPostgresOptions): Promise<StoreDatabase> {
  const where = describePostgres(o);
  const pool = createPool(o);
  const status = o.status;
  let attempt = 0;
  let lastError = '';
  try {
    const result = await poll<true, string>(
      async () => {
        attempt += 1;
        status?.set({
          state: 'connecting',
          attempt,
          since: o.clock.now(),
          ...(lastError ? { lastError } : {}),
        });
        let client: pg.PoolClient;
        try {
          client = await pool.connect();
        } catch (e) {
          const fault = connectionFault(e);
          if (fault !== 'unreachable') {
            throw fault ? new StoreStartError(fault, where, (e as Error).message) : e;
          }
          lastError = (e as Error).message || String((e as { code?: string }).code);
          o.logger.warn(
            `store: cannot reach Postgres at ${where} (attempt ${attempt}): ${lastError}; retrying`,
          );
          return { done: false, seen: lastError };
        }
        try {
          await migratePostgres(client, where, o.migrations ?? MIGRATIONS);
        } finally {
          client.release();
        }
        return { done: true, value: true };
      },
      {
        clock: o.clock,
        signal: o.signal,
        timeoutMs: o.connect?.timeoutMs ?? 60_000,
        initialDelayMs: o.connect?.initialDelayMs ?? 500,
        maxDelayMs: o.connect?.maxDelayMs ?? 5_000,
      },
    );
    if (result.status === 'timed_out') {
      throw new StoreStartError('unreachable', where, `${attempt} attempts, the last: ${result.seen}`);
    }
  } catch (e) {
    status?.set({ state: 'unreachable', error: (e as Error).message, since: o.clock.now() });
    await pool.end().catch(() => {});
    throw e;
  }
  status?.set({ state: 'ready', since: o.clock.now() });
  o.logger.info(`store: Postgres at ${where}, migrated`);
  return postgresStore(pool, where, o);
}

/** The store over a pool that is migrated already. */
function postgresStore(pool: pg.Pool, where: string, o: OpenPostgresOptions): StoreDatabase {
  const kysely: Queryable = new Kysely({ dialect: new GuardedPostgresDialect(pool, o) });
  let open = true;
  return {
    kind: 'postgres',
    kysely,
    sqlite: undefined,
    where,
    get open() {
      return open;
    },
    async close() {
      if (!open) return;
      open = false;
      await kysely.destroy();
    },
  };
}

/** PostgresDialect whose connection faults become StoreUnavailableError (and move the status). */
class GuardedPostgresDialect extends PostgresDialect {
  readonly #o: OpenPostgresOptions;
  constructor(pool: pg.Pool, o: OpenPostgresOptions) {
    super({ pool });
    this.#o = o;
  }
  override createDriver(): Driver {
    return guardDriver(super.createDriver(), this.#o);
  }
}

function guardDriver(inner: Driver, o: OpenPostgresOptions): Driver {
  const originals = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const orig = (c: DatabaseConnection): DatabaseConnection => originals.get(c) ?? c;
  /** `always`: a failure to get a connection at all means the store is unavailable, whatever the code. */
  const fail = (e: unknown, always = false): never => {
    const fault = connectionFault(e);
    if (!fault && !always) throw e;
    const cause = String((e as { code?: string }).code ?? (e as Error).message);
    if (o.status && o.status.current().state !== 'unreachable') {
      o.logger.error(`store: lost the database (${cause}); commands and clicks are refused until it returns`);
      o.status.set({ state: 'unreachable', error: cause, since: o.clock.now() });
    }
    throw new StoreUnavailableError(cause);
  };
  const recovered = (): void => {
    if (o.status && o.status.current().state === 'unreachable') {
      o.logger.info('store: the database is back');
      o.status.set({ state: 'ready', since: o.clock.now() });
    }
  };
  return {
    init: () => inner.init(),
    async acquireConnection() {
      const c = await inner.acquireConnection().catch((e: unknown) => fail(e, true));
      const wrapped: DatabaseConnection = {
        async executeQuery<R>(q: CompiledQuery) {
          const r = await c.executeQuery<R>(q).catch(fail);
          recovered();
          return r;
        },
        streamQuery: (q, chunkSize) => c.streamQuery(q, chunkSize),
      };
      originals.set(wrapped, c);
      return wrapped;
    },
    beginTransaction: (c, s) => inner.beginTransaction(orig(c), s).catch(fail),
    commitTransaction: (c) => inner.commitTransaction(orig(c)).catch(fail),
    // A rollback on a dead connection fails too; the error that made us roll back is the one to see.
    rollbackTransaction: (c) => inner.rollbackTransaction(orig(c)).catch(() => {}),
    releaseConnection: (c) => inner.releaseConnection(orig(c)),
    destroy: () => inner.destroy(),
  };
}
