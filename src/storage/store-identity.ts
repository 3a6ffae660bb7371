/**
 * Telling a new store from one that lost its history. In WAL mode every transaction since the last
 * checkpoint lives only in the `-wal` file beside the database; lose that file (a volume that kept
 * the database but not its WAL, a careless cleanup, a file replaced by an empty one) and SQLite
 * opens what is left without complaint: a brand-new store's file then holds no tables at all, an
 * older one silently goes back to its last checkpoint. Both look like a store, and the record would
 * restart as if nothing had happened.
 *
 * So the record is tied to a marker outside it:
 * - the database holds one `store_identity` row: a random id written with the table, and `opened`,
 *   a count every start bumps in the same transaction as the migrations;
 * - the marker file `<db>.identity` beside it holds the id and the count as of the latest start,
 *   written (fsynced, then renamed into place) after that start's bump committed.
 * At the next start the database must carry the marker's id and at least its count. A file with no
 * tables, without its identity row, with another id, or with a lower count has lost writes the bot
 * made (at least the bump of the latest start), and is refused. A store with no marker (new, or from
 * before markers) is taken as it is and gets one. What this cannot see: writes lost after a
 * checkpoint that already moved the latest bump into the main file.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { z } from 'zod';

/** The marker beside the database file. */
export const markerPathOf = (dbPath: string): string => `${dbPath}.identity`;

const markerSchema = z.object({
  store: z.string().min(1),
  opened: z.number().int().nonnegative(),
  /** When the start that wrote it opened the store (ISO), for the message. */
  at: z.string(),
});

/** What the marker says: which store this path holds, and how many starts it has seen. */
export type StoreMarker = z.infer<typeof markerSchema>;

/** What went missing, for the message and for tests. */
export type HistoryLoss =
  | { kind: 'empty' }
  | { kind: 'identity_gone' }
  | { kind: 'other_store'; found: string }
  | { kind: 'behind'; opened: number }
  | { kind: 'marker_unreadable' };

/** A store whose record is not all there: refused at start, with what to do. */
export class StoreHistoryLostError extends Error {
  override readonly name = 'StoreHistoryLostError';
  constructor(
    readonly file: string,
    readonly loss: HistoryLoss,
    readonly marker: StoreMarker | undefined,
  ) {
    super(`${describeLoss(file, loss, marker)} ${fixFor(file, loss)}`);
  }
}

function describeLoss(file: string, loss: HistoryLoss, m: StoreMarker | undefined): string {
  const known = m ? `store ${m.store}, last opened ${m.at} (start ${m.opened})` : 'its store';
  switch (loss.kind) {
    case 'empty':
      return `modelgate will not start: ${file} holds no tables, but ${markerPathOf(file)} says it held ${known}. Its history is gone: most likely its -wal file was deleted or the file was replaced by an empty one.`;
    case 'identity_gone':
      return `modelgate will not start: ${file} has tables but has lost its store_identity row (${known}), so rows are missing from it: most likely its -wal file was deleted or the file was damaged.`;
    case 'other_store':
      return `modelgate will not start: ${file} holds store ${loss.found}, but ${markerPathOf(file)} says this path held ${known}: another store's file was put in its place.`;
    case 'behind':
      return `modelgate will not start: ${file} was last opened at start ${loss.opened}, but ${markerPathOf(file)} records ${known}: the writes since are missing, most likely because its -wal file was deleted or an older copy was restored.`;
    case 'marker_unreadable':
      return `modelgate will not start: the marker ${markerPathOf(file)} beside ${file} cannot be read, so the store cannot be checked for lost history.`;
  }
}

function fixFor(file: string, loss: HistoryLoss): string {
  const marker = markerPathOf(file);
  if (loss.kind === 'marker_unreadable') {
    return `Fix: if ${file} is known to be complete, delete ${marker} and start again (a new marker is written); otherwise restore both from a backup.`;
  }
  return `Fix: stop every modelgate using it, then restore ${file} together with ${file}-wal from a backup or the disk they were on, and start again. To start over with an empty record on purpose, move ${file}, ${file}-wal and ${marker} aside first; the audit log they held is then no longer modelgate's.`;
}

/** Reads the marker; undefined when there is none. Throws StoreHistoryLostError when it is garbage. */
export function readMarker(dbPath: string): StoreMarker | undefined {
  let text: string;
  try {
    text = readFileSync(markerPathOf(dbPath), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return markerSchema.parse(JSON.parse(text));
  } catch {
    throw new StoreHistoryLostError(dbPath, { kind: 'marker_unreadable' }, undefined);
  }
}

/** Writes the marker durably: a temporary file, fsynced, renamed over the old one. */
export function writeMarker(dbPath: string, marker: StoreMarker): void {
  const target = markerPathOf(dbPath);
  const temp = `${target}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(marker)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, target);
}

const hasTable = (db: Database.Database, name: string): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

interface IdentityRow {
  id: string;
  opened: number;
}

/**
 * Checks the database against its marker, before any migration touches it (inside migrate's
 * transaction, so two starts take turns). Throws StoreHistoryLostError when history is missing.
 *
 * @example checkStoreHistory(db, path, readMarker(path)); // throws on a file that lost its WAL
 */
export function checkStoreHistory(
  db: Database.Database,
  file: string,
  marker: StoreMarker | undefined,
): void {
  const tables = (
    db
      .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .get() as {
      n: number;
    }
  ).n;
  const identity = hasTable(db, 'store_identity')
    ? (db.prepare('SELECT id, opened FROM store_identity LIMIT 1').get() as IdentityRow | undefined)
    : undefined;
  // The row is written with its table, so a table without it has lost rows, marker or not.
  if (hasTable(db, 'store_identity') && !identity) {
    throw new StoreHistoryLostError(file, { kind: 'identity_gone' }, marker);
  }
  if (!marker) return;
  if (tables === 0) throw new StoreHistoryLostError(file, { kind: 'empty' }, marker);
  if (!identity) throw new StoreHistoryLostError(file, { kind: 'identity_gone' }, marker);
  if (identity.id !== marker.store) {
    throw new StoreHistoryLostError(file, { kind: 'other_store', found: identity.id }, marker);
  }
  if (identity.opened < marker.opened) {
    throw new StoreHistoryLostError(file, { kind: 'behind', opened: identity.opened }, marker);
  }
}

/**
 * Counts this start in the database (after the migrations, in their transaction) and returns the
 * marker to write once that has committed.
 */
export function recordOpening(db: Database.Database, now: Date): StoreMarker {
  const row = db.prepare('UPDATE store_identity SET opened = opened + 1 RETURNING id, opened').get() as
    | IdentityRow
    | undefined;
  if (!row) throw new Error('store_identity has no row after migrating: this is a bug');
  return { store: row.id, opened: row.opened, at: now.toISOString() };
}
