/**
 * The process's one store connection: SQLite (better-sqlite3) at MODELGATE_DB, or a Postgres pool
 * (storage/postgres.ts). Either way the stores get a `Database`: a Kysely over it, which engine it
 * is, and the lease clock. The composition root opens it once and hands it to every store; the
 * stores neither open, migrate nor close it, and the owner closes it once at shutdown.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.js';
import { migrate } from './migrations.js';
import {
  checkProcessLock,
  type LockHolder,
  type ProcessIdentity,
  type ProcessLock,
  StoreLockedError,
  takeProcessLock,
} from './process-lock.js';
import type { Queryable, StoreKind } from './sql.js';
import { CachedSqliteDialect } from './sqlite-dialect.js';
import { checkStoreHistory, readMarker, recordOpening, writeMarker } from './store-identity.js';

/** The raw better-sqlite3 connection (the process lock, the history marker, tools). */
export type SqliteDatabase = Database.Database;

/** The open store every store module takes: one per process. */
export interface StoreDatabase {
  readonly kind: StoreKind;
  /** The stores' queries and transactions (`db.kysely.transaction().execute(…)`). */
  readonly kysely: Queryable;
  /** SQLite only: the raw connection, for the process lock and for tests that look inside. */
  readonly sqlite: SqliteDatabase | undefined;
  /** False once closed: a late release at shutdown then does nothing. */
  readonly open: boolean;
  /** Where it is, for messages: the file, or `host:port/database` (never a password). */
  readonly where: string;
  close(): Promise<void>;
}

/**
 * The store over an open better-sqlite3 connection (already migrated). Closing it closes the
 * connection.
 *
 * @example const db = sqliteStore(new Database(':memory:'));
 */
export function sqliteStore(raw: SqliteDatabase): StoreDatabase {
  const kysely: Queryable = new Kysely({ dialect: new CachedSqliteDialect(raw) });
  return {
    kind: 'sqlite',
    kysely,
    sqlite: raw,
    where: raw.name,
    get open() {
      return raw.open;
    },
    async close() {
      if (!raw.open) return;
      await kysely.destroy();
      raw.close();
    },
  };
}

/**
 * Opens (creating it and its folder if needed) the database at `path` and migrates it to the latest
 * schema; `:memory:` gives a throwaway one. Throws a SchemaTooNewError, changing no table, when a newer
 * modelgate wrote the file, and a StoreHistoryLostError when the file has lost writes the bot made
 * (its WAL deleted, the file replaced): see store-identity.ts.
 *
 * @example
 * const db = openDatabase(config.dbPath);
 * const changes = createChangeStore(db, clock);
 * const drift = createDriftStateStore(db);
 * // at shutdown
 * await db.close();
 */
export function openDatabase(path: string): StoreDatabase {
  return sqliteStore(
    openWith(path, (db) => {
      migrate(db);
    }),
  );
}

/** Opens the file, sets the connection up, and runs `setUp` (migrations, the lock); closes it if that throws. */
function openWith(path: string, setUp: (db: SqliteDatabase) => void): SqliteDatabase {
  if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Another process (the doctor, a second connection of a test) may hold a write lock for a moment.
    db.pragma('busy_timeout = 5000');
    const file = path !== ':memory:' && path !== '';
    if (!file) {
      setUp(db);
      return db;
    }
    // The history check sees the file as it was found; the check, the set-up (migrations, the
    // lock) and this start's count commit together, and the marker follows once they have.
    const marker = readMarker(path);
    const opened = db
      .transaction(() => {
        checkStoreHistory(db, path, marker);
        setUp(db);
        return recordOpening(db, new Date());
      })
      .immediate();
    writeMarker(path, opened);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

export interface OwnedDatabaseOptions {
  me: ProcessIdentity;
  /** How long the holder keeps the store without a heartbeat. */
  leaseMs: number;
  /** How long to wait for a holder to go (its lease to run out) before giving up; 0: refuse at once. */
  waitMs: number;
  clock: Clock;
  /** Told once when the store is held and this process waits for it. */
  onWait?: (e: StoreLockedError) => void;
}

/**
 * Opens the store for the one live process it admits: checks that no other process holds it (a
 * live lease), migrates it and takes its lock, all in one IMMEDIATE transaction. While another
 * process holds it, waits up to `waitMs` (checking every half lease, at most every 2 s), then throws
 * the StoreLockedError that names the holder and what to do.
 *
 * @example
 * const { db, lock } = await openOwnedDatabase(config.dbPath, { me, leaseMs: 30_000, waitMs: 0, clock });
 * setInterval(() => lock.heartbeat(), 10_000);
 */
export async function openOwnedDatabase(
  path: string,
  o: OwnedDatabaseOptions,
): Promise<{ db: StoreDatabase; lock: ProcessLock }> {
  const settings = { leaseMs: o.leaseMs, now: () => o.clock.now() };
  const deadline = o.clock.now() + o.waitMs;
  let told = false;
  for (;;) {
    let lock: ProcessLock | undefined;
    try {
      const db = openWith(path, (db) => {
        lock = db
          .transaction((): ProcessLock => {
            const took: LockHolder | undefined = checkProcessLock(db, o.me, settings);
            migrate(db);
            return takeProcessLock(db, o.me, settings, took);
          })
          .immediate();
      });
      return { db: sqliteStore(db), lock: lock! };
    } catch (e) {
      if (!(e instanceof StoreLockedError) || o.clock.now() >= deadline) throw e;
      if (!told) o.onWait?.(e);
      told = true;
      const step = Math.min(2_000, Math.max(50, o.leaseMs / 2), deadline - o.clock.now());
      await o.clock.sleep(step);
    }
  }
}
