import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../src/storage/database.js';
import { markerPathOf, StoreHistoryLostError, type StoreMarker } from '../../src/storage/store-identity.js';

const WRITER = fileURLToPath(new URL('../support/store-writer.ts', import.meta.url));

let dir: string;
let path: string;
const open: SqliteDatabase[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-history-'));
  path = join(dir, 'modelgate.db');
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const openDb = (p = path): SqliteDatabase => {
  const db = openDatabase(p).sqlite!;
  open.push(db);
  return db;
};
const marker = (p = path): StoreMarker => JSON.parse(readFileSync(markerPathOf(p), 'utf8'));
const auditActors = (db: SqliteDatabase) =>
  (db.prepare('SELECT actor FROM audit ORDER BY seq').all() as Array<{ actor: string }>).map((r) => r.actor);

/** Runs the writer on `p` until it has written, then kills it with SIGKILL: nothing is checkpointed. */
async function writeThenCrash(p: string, actor: string): Promise<void> {
  // node itself with tsx's loader, not the tsx CLI: SIGKILL must reach the writer, not a wrapper
  // that leaves it running.
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, p, actor], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr?.on('data', (d) => {
    err += String(d);
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      if (String(d).includes('written')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the writer exited (${code}) before writing: ${err}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** What a lost WAL leaves: the main file only. */
function loseWal(p: string): void {
  expect(existsSync(`${p}-wal`)).toBe(true);
  rmSync(`${p}-wal`);
  rmSync(`${p}-shm`, { force: true });
}

function refusal(fn: () => unknown): StoreHistoryLostError {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreHistoryLostError) return e;
    throw e;
  }
  throw new Error('expected the store to be refused');
}

describe('a store that lost its history', () => {
  it('opens a new store, writes its marker beside it, and counts every start', () => {
    openDb().close();
    const first = marker();
    expect(first).toMatchObject({ opened: 1 });
    expect(first.store).toMatch(/^[0-9a-f]{32}$/);
    openDb().close();
    expect(marker()).toMatchObject({ store: first.store, opened: 2 });
  });

  it('refuses a new store whose WAL was lost after a crash, instead of starting empty', async () => {
    await writeThenCrash(path, 'U0FIRST');
    // Everything the crashed process wrote lived in the WAL only.
    loseWal(path);
    const e = refusal(() => openDb());
    expect(e.loss).toEqual({ kind: 'empty' });
    expect(e.message).toContain(`${path} holds no tables`);
    expect(e.message).toContain('-wal file was deleted');
    expect(e.message).toContain(`restore ${path} together with ${path}-wal`);
    // Refused before anything was created: the file is still as it was found.
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()).toEqual({
      n: 0,
    });
    raw.close();
  });

  it('refuses a store that lost the writes of its latest run, and keeps the older ones', async () => {
    const db = openDb();
    db.prepare(
      "INSERT INTO audit (at, actor, action, target) VALUES (1, 'U0EARLIER', 'proposed', 'endpoint:x')",
    ).run();
    db.close(); // a clean stop checkpoints everything into the main file
    await writeThenCrash(path, 'U0LATEST');
    loseWal(path);
    const e = refusal(() => openDb());
    expect(e.loss).toEqual({ kind: 'behind', opened: 1 });
    expect(e.message).toMatch(
      /last opened at start 1, but .*records store [0-9a-f]+, last opened .* \(start 2\)/,
    );
    const raw = new Database(path, { readonly: true });
    expect(auditActors(raw)).toEqual(['U0EARLIER']);
    raw.close();
  });

  it('opens a store after a crash when its WAL is still there, with every write', async () => {
    await writeThenCrash(path, 'U0FIRST');
    const db = openDb();
    expect(auditActors(db)).toEqual(['U0FIRST']);
    expect(marker().opened).toBe(2);
  });

  it('refuses a store whose file was replaced by an empty one', () => {
    openDb().close();
    rmSync(path);
    writeFileSync(path, '');
    expect(refusal(() => openDb()).loss).toEqual({ kind: 'empty' });
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get()).toEqual({
      n: 0,
    });
    raw.close();
  });

  it("refuses another store's file put in its place", () => {
    openDb().close();
    const other = join(dir, 'other.db');
    openDb(other).close();
    copyFileSync(other, path);
    const e = refusal(() => openDb());
    expect(e.loss).toEqual({ kind: 'other_store', found: marker(other).store });
  });

  it('refuses a file that kept its tables but lost its identity row, with or without a marker', () => {
    openDb().close();
    const raw = new Database(path);
    raw.exec('DELETE FROM store_identity');
    raw.close();
    expect(refusal(() => openDb()).loss).toEqual({ kind: 'identity_gone' });
    rmSync(markerPathOf(path));
    expect(refusal(() => openDb()).loss).toEqual({ kind: 'identity_gone' });
  });

  it('takes a complete store whose marker was lost, and writes the marker again', () => {
    const db = openDb();
    db.prepare(
      "INSERT INTO audit (at, actor, action, target) VALUES (1, 'U0KEPT', 'proposed', 'endpoint:x')",
    ).run();
    db.close();
    const { store } = marker();
    rmSync(markerPathOf(path));
    expect(auditActors(openDb())).toEqual(['U0KEPT']);
    expect(marker()).toMatchObject({ store, opened: 2 });
  });

  it('says what to do when the marker itself is unreadable', () => {
    openDb().close();
    writeFileSync(markerPathOf(path), 'not json');
    const e = refusal(() => openDb());
    expect(e.loss).toEqual({ kind: 'marker_unreadable' });
    expect(e.message).toContain(`delete ${markerPathOf(path)}`);
  });

  it('keeps no marker for a throwaway in-memory store', () => {
    openDb(':memory:').close();
    expect(existsSync(markerPathOf(':memory:'))).toBe(false);
  });
});
