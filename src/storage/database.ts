/**
 * The process's one SQLite connection (better-sqlite3) to the database file at MODELGATE_DB. The
 * composition root opens it once and hands it to every store; the stores neither open files nor
 * migrate, and the owner closes it once at shutdown.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';

/** The open connection the stores take. */
export type SqliteDatabase = Database.Database;

/**
 * Opens (creating it and its folder if needed) the database at `path` and migrates it to the latest
 * schema; `:memory:` gives a throwaway one. Throws a SchemaTooNewError, changing no table, when a newer
 * modelgate wrote the file.
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
    migrate(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
