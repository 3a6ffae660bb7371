/**
 * Kysely's SQLite dialect over the process's one better-sqlite3 connection, with two changes to
 * Kysely's own driver: transactions begin IMMEDIATE (a read-then-write transaction never meets
 * another process's writer halfway and fails with SQLITE_BUSY), and prepared statements are kept
 * (the stores run the same few statements thousands of times; Kysely's driver prepares every call).
 * One connection per process: better-sqlite3 waits for a busy file synchronously, so a second
 * connection of the same process must never open a transaction while the first holds one (it would
 * block the event loop the first needs to finish). Other processes simply take turns.
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  SqliteDialect,
  type TransactionSettings,
} from 'kysely';

const STATEMENT_CACHE_SIZE = 300;

class CachedSqliteConnection implements DatabaseConnection {
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  constructor(readonly raw: BetterSqlite3.Database) {}

  #prepare(text: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(text);
    if (statement) return statement;
    statement = this.raw.prepare(text);
    if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
      this.#statements.delete(this.#statements.keys().next().value!);
    }
    this.#statements.set(text, statement);
    return statement;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.#prepare(query.sql);
    const parameters = query.parameters as unknown[];
    if (statement.reader) return { rows: statement.all(...parameters) as R[] };
    const { changes, lastInsertRowid } = statement.run(...parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  // biome-ignore lint/correctness/useYield: the stores never stream; Kysely's interface asks for it
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('modelgate does not stream queries');
  }
}

/** One connection: whoever holds it (a transaction included) has it alone until it lets go. */
class CachedSqliteDriver implements Driver {
  readonly #connection: CachedSqliteConnection;
  #queue: Promise<void> = Promise.resolve();
  #unlock: (() => void) | undefined;

  constructor(raw: BetterSqlite3.Database) {
    this.#connection = new CachedSqliteConnection(raw);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#queue;
    let unlock!: () => void;
    this.#queue = new Promise((resolve) => {
      unlock = resolve;
    });
    await previous;
    this.#unlock = unlock;
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('BEGIN IMMEDIATE'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }

  async releaseConnection(): Promise<void> {
    const unlock = this.#unlock;
    this.#unlock = undefined;
    unlock?.();
  }

  async destroy(): Promise<void> {
    // The connection's owner (storage/database.ts) closes it: the process lock is released first.
  }
}

/**
 * The dialect the stores' Kysely uses on SQLite.
 *
 * @example new Kysely({ dialect: new CachedSqliteDialect(new Database(':memory:')) })
 */
export class CachedSqliteDialect extends SqliteDialect {
  readonly #raw: BetterSqlite3.Database;
  constructor(raw: BetterSqlite3.Database) {
    super({ database: raw });
    this.#raw = raw;
  }
  override createDriver(): Driver {
    return new CachedSqliteDriver(this.#raw);
  }
}
