/**
 * The doctor's look at the database: can it be opened, is it at the schema this modelgate knows,
 * and which replica leads the scheduled jobs (holder, term, how long ago it renewed). Read-only:
 * it neither migrates nor locks. Async, like the stores, so the Postgres store answers the same way.
 */
import type { DatabaseSettings } from '../../config/database.js';
import { MIGRATIONS } from '../../storage/migrations.js';
import { type CheckResult, fail, ok, skip } from '../report.js';
import { openStoreReader, type StoreReader, storeWhere } from './store-reader.js';

const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;

/** What to do when the store cannot be opened, by engine and by what the driver said. */
function unreachableFix(d: DatabaseSettings, e: unknown): string {
  if (d.kind === 'sqlite') {
    return 'point MODELGATE_DB at the store file the bot writes (back up and restore <db>, <db>-wal and <db>.identity together)';
  }
  const code = (e as { code?: string }).code;
  if (code === '28P01' || code === '28000') {
    return 'check the user and password in MODELGATE_DATABASE_URL (or PGUSER/PGPASSWORD); on Databricks Apps the password is a Lakebase credential the bot mints itself';
  }
  if (code === '3D000')
    return 'create the database first (CREATE DATABASE …), or name an existing one in the URL';
  return 'check that the Postgres server in MODELGATE_DATABASE_URL (or PGHOST/PGPORT) is up and reachable from here';
}

/**
 * Up to three lines (reachable, migrated, leader), on SQLite or Postgres; none for a SQLite store
 * not created yet (the 'Change store' line says so).
 *
 * @example await databaseChecks({ kind: 'sqlite', path: '/data/modelgate.db' }, Date.now()) // [ok 'Database', ok 'Database schema', ok 'Scheduler leader']
 */
export async function databaseChecks(d: DatabaseSettings, now: number): Promise<CheckResult[]> {
  let db: StoreReader | undefined;
  try {
    try {
      db = await openStoreReader(d);
      if (!db) return [];
    } catch (e) {
      return [
        fail('Database', `cannot read ${storeWhere(d)}: ${(e as Error).message}`, unreachableFix(d, e)),
      ];
    }
    const results: CheckResult[] = [ok('Database', `${db.where} opens (${db.kind})`)];
    const tables = await db.tables();
    const known = MIGRATIONS.length;
    const version = tables.has('schema_version')
      ? ((await db.rows<{ v: number | null }>('SELECT max(version) AS v FROM schema_version'))[0]?.v ?? 0)
      : 0;
    if (version > known) {
      results.push(
        fail(
          'Database schema',
          `version ${version}, but this modelgate knows versions up to ${known}: a newer modelgate wrote it`,
          'run that newer modelgate (or a later one); the store is never migrated down',
        ),
      );
    } else if (version < known) {
      results.push(
        ok(
          'Database schema',
          `version ${version} of ${known}: the next start migrates it (${MIGRATIONS.slice(version)
            .map((m) => m.name)
            .join('; ')})`,
        ),
      );
    } else {
      results.push(ok('Database schema', `version ${version}, as this modelgate expects`));
    }
    results.push(await leaderLine(db, tables, now));
    return results;
  } finally {
    await db?.close();
  }
}

async function leaderLine(db: StoreReader, tables: Set<string>, now: number): Promise<CheckResult> {
  const NAME = 'Scheduler leader';
  if (!tables.has('leadership')) return skip(NAME, 'no replica has led the scheduled jobs yet');
  const [row] = await db.rows<{
    holder: string;
    term: number | string;
    expires_at: number | string;
    renewed_at: number | string;
    since: number | string;
  }>("SELECT holder, term, expires_at, renewed_at, since FROM leadership WHERE name = 'scheduler'");
  if (!row) return skip(NAME, 'no replica has led the scheduled jobs yet');
  const expiresAt = Number(row.expires_at);
  const renewedAgo = now - Number(row.renewed_at);
  if (expiresAt > now) {
    return ok(
      NAME,
      `${row.holder} leads (term ${row.term}, since ${new Date(Number(row.since)).toISOString()}), renewed ${seconds(renewedAgo)} ago`,
    );
  }
  return skip(
    NAME,
    `nobody leads now: ${row.holder}'s lease (term ${row.term}) ran out ${seconds(now - expiresAt)} ago, last renewed ${seconds(renewedAgo)} ago; a running replica takes it within seconds, so if the bot is up, its replicas cannot reach the database`,
  );
}
