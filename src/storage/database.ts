/**
 * The process's one SQLite connection (better-sqlite3) to the database file at MODELGATE_DB. The
 * composition root opens it once and hands it to every store; the stores neither open files nor
 * migrate, and the owner closes it once at shutdown.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
import { checkStoreHistory, readMarker, recordOpening, writeMarker } from './store-identity.js';

/** The open connection the stores take. */
export type SqliteDatabase = Database.Database;

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
 * db.close();
 */
export function openDatabase(path: string): SqliteDatabase {
  if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Another process (a second replica, the doctor) may hold a write lock for a moment.
    db.pragma('busy_timeout = 5000');
    const file = path !== ':memory:' && path !== '';
    if (!file) {
      migrate(db);
      return db;
    }
    // The history check sees the file as it was found; the check, the migrations and this start's
    // count commit together, and the marker follows once they have.
    const marker = readMarker(path);
    const opened = db
      .transaction(() => {
        checkStoreHistory(db, path, marker);
        migrate(db);
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
