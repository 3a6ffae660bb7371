/**
 * A read-only look into the store for the doctor, on either engine: the SQLite file opened
 * read-only, or one Postgres connection. It neither migrates nor locks, and it reads only what
 * the checks name, so the doctor can run beside live replicas.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DatabaseSettings } from '../../config/database.js';

/** Rows of one query; `?` placeholders, bound (numbered for Postgres). */
export interface StoreReader {
  /** For messages: the file, or host:port/database (never a password). */
  readonly where: string;
  readonly kind: DatabaseSettings['kind'];
  tables(): Promise<Set<string>>;
  rows<T>(query: string, ...params: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Where the store is, without opening it. */
export function storeWhere(d: DatabaseSettings): string {
  if (d.kind === 'sqlite') return d.path;
  const p = d.postgres;
  if (p.connectionString) {
    try {
      const u = new URL(p.connectionString);
      return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
    } catch {
      return 'the database URL';
    }
  }
  return `${p.host ?? 'localhost'}:${p.port ?? 5432}/${p.database ?? p.user ?? ''}`;
}

/**
 * Opens the store read-only; undefined for a SQLite store not created yet (the bot creates it at
 * its first start). Throws what the driver threw when the store cannot be reached.
 *
 * @example const r = await openStoreReader(config.database); const t = await r?.tables();
 */
export async function openStoreReader(d: DatabaseSettings): Promise<StoreReader | undefined> {
  if (d.kind === 'sqlite') {
    if (d.path === ':memory:' || d.path === '' || !existsSync(d.path)) return undefined;
    const db = new Database(d.path, { readonly: true, fileMustExist: true });
    try {
      db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").get();
    } catch (e) {
      db.close();
      throw e;
    }
    return {
      where: d.path,
      kind: 'sqlite',
      async tables() {
        const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
          name: string;
        }>;
        return new Set(names.map((t) => t.name));
      },
      async rows<T>(query: string, ...params: unknown[]) {
        return db.prepare(query).all(...params) as T[];
      },
      async close() {
        db.close();
      },
    };
  }
  const client = new pg.Client({
    ...d.postgres,
    connectionTimeoutMillis: 5_000,
    // int8 (epoch-ms times, counters) as numbers, on this client only.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as never,
    },
  });
  // An error after connect (the server going away) must not crash the doctor.
  client.on('error', () => {});
  await client.connect();
  return {
    where: storeWhere(d),
    kind: 'postgres',
    async tables() {
      const r = await client.query<{ name: string }>(
        'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()',
      );
      return new Set(r.rows.map((t) => t.name));
    },
    async rows<T>(query: string, ...params: unknown[]) {
      let n = 0;
      const r = await client.query(
        query.replace(/\?/g, () => `$${++n}`),
        params,
      );
      return r.rows as T[];
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}
