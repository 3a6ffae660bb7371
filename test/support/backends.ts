/**
 * Every store test runs on both backends: `describeEachBackend('change store', (backend) => …)`
 * declares the suite once for SQLite and once for Postgres (the server test/support/postgres-global.ts
 * started). Each test file gets its own Postgres database, made at its first `open()`; every
 * `open()` empties its tables (cheaper than a database per test). Without a server the Postgres
 * suites are reported as skipped and the global setup has said once how to get PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, describe, inject } from 'vitest';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { openDatabase, type StoreDatabase } from '../../src/storage/database.js';
import { type OpenPostgresOptions, openPostgres } from '../../src/storage/postgres.js';

export type BackendKind = 'sqlite' | 'postgres';
export const BACKEND_KINDS: readonly BackendKind[] = ['sqlite', 'postgres'];

/** The test run's Postgres server (`postgres://app@127.0.0.1:<port>/postgres`), or '' when none runs. */
export const postgresUrl = (): string => inject('postgresUrl') ?? '';

export interface Backend {
  kind: BackendKind;
  /**
   * A migrated, empty store. SQLite: in memory, or a file when `shared` (so that `connect()` can
   * open a second connection to it). Postgres: this file's database, emptied.
   */
  open(options?: { shared?: boolean }): Promise<StoreDatabase>;
  /** Another connection to the store the last `open()` made: a second process or replica. */
  connect(options?: Partial<OpenPostgresOptions>): Promise<StoreDatabase>;
  /** Postgres: the URL of this file's database (for bot processes). SQLite: the file's path. */
  location(): string;
  /** Closes every connection opened since the last call (afterEach does it). */
  closeAll(): Promise<void>;
  /** Removes SQLite's temporary files (afterAll does it). */
  dispose(): void;
}

/** A database of its own on the run's server, for tests that need an untouched one. */
export async function createPostgresDatabase(prefix = 'test'): Promise<string> {
  const admin = new pg.Client({ connectionString: postgresUrl() });
  await admin.connect();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** The store on a Postgres URL, as the bot opens it (migrated under the lock). */
export function openPostgresAt(
  url: string,
  options: Partial<OpenPostgresOptions> = {},
): Promise<StoreDatabase> {
  return openPostgres({
    connectionString: url,
    logger: silentLogger,
    clock: systemClock,
    max: 4,
    connect: { timeoutMs: 5_000, initialDelayMs: 50, maxDelayMs: 500 },
    ...options,
  });
}

function createBackend(kind: BackendKind): Backend {
  const opened: StoreDatabase[] = [];
  let url: string | undefined;
  let file: string | undefined;
  let dir: string | undefined;
  const keep = (db: StoreDatabase) => {
    opened.push(db);
    return db;
  };
  return {
    kind,
    async open(options = {}) {
      if (kind === 'sqlite') {
        if (!options.shared) return keep(openDatabase(':memory:'));
        dir ??= mkdtempSync(join(tmpdir(), 'modelgate-store-'));
        file = join(dir, `${randomBytes(4).toString('hex')}.db`);
        return keep(openDatabase(file));
      }
      url ??= await createPostgresDatabase();
      const db = keep(await openPostgresAt(url));
      const tables = (
        await sql<{ tablename: string }>`SELECT tablename FROM pg_tables
          WHERE schemaname = 'public' AND tablename NOT IN ('schema_version', 'store_identity')`.execute(
          db.kysely,
        )
      ).rows.map((r) => r.tablename);
      if (tables.length > 0) {
        await sql`TRUNCATE ${sql.raw(tables.join(', '))} RESTART IDENTITY CASCADE`.execute(db.kysely);
      }
      return db;
    },
    async connect(options = {}) {
      if (kind === 'sqlite') {
        if (!file) throw new Error('connect() needs open({ shared: true }) first on SQLite');
        return keep(openDatabase(file));
      }
      if (!url) throw new Error('connect() needs open() first');
      return keep(await openPostgresAt(url, options));
    },
    location() {
      const where = kind === 'sqlite' ? file : url;
      if (!where) throw new Error('location() needs open() first');
      return where;
    },
    async closeAll() {
      const all = opened.splice(0);
      await Promise.all(all.map((db) => db.close().catch(() => {})));
    },
    dispose() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Declares `body` once per backend, as `<name> (sqlite)` and `<name> (postgres)`; the Postgres
 * one is skipped (and said so once by the global setup) when no server runs.
 *
 * @example describeEachBackend('change store', (backend) => { it('…', async () => { const db = await backend.open(); … }); });
 */
export function describeEachBackend(name: string, body: (backend: Backend) => void): void {
  for (const kind of BACKEND_KINDS) {
    describe.skipIf(kind === 'postgres' && postgresUrl() === '')(`${name} (${kind})`, () => {
      const backend = createBackend(kind);
      afterEach(() => backend.closeAll());
      afterAll(() => backend.dispose());
      body(backend);
    });
  }
}
