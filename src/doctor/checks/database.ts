/**
 * The doctor's look at the database: can it be opened, is it at the schema this modelgate knows,
 * and which replica leads the scheduled jobs (holder, term, how long ago it renewed). Read-only:
 * it neither migrates nor locks. Async, like the stores, so the Postgres store answers the same way.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../storage/migrations.js';
import { type CheckResult, fail, ok, skip } from '../report.js';

const seconds = (ms: number) => `${Math.max(0, Math.round(ms / 1000))} s`;

/**
 * Up to three lines (reachable, migrated, leader); none for a store not created yet (the
 * 'Change store' line says so).
 *
 * @example await databaseChecks('/data/modelgate.db', Date.now()) // [ok 'Database', ok 'Database schema', ok 'Scheduler leader']
 */
export async function databaseChecks(dbPath: string, now: number): Promise<CheckResult[]> {
  if (dbPath === ':memory:' || dbPath === '' || !existsSync(dbPath)) return [];
  let db: Database.Database | undefined;
  try {
    try {
      db = new Database(dbPath, { readonly: true, fileMustExist: true });
      db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").get();
    } catch (e) {
      return [
        fail(
          'Database',
          `cannot read ${dbPath}: ${(e as Error).message}`,
          'point MODELGATE_DB at the store file the bot writes (back up and restore <db>, <db>-wal and <db>.identity together)',
        ),
      ];
    }
    const results: CheckResult[] = [ok('Database', `${dbPath} opens`)];
    const tables = new Set(
      (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
      ).map((t) => t.name),
    );
    const known = MIGRATIONS.length;
    const version = tables.has('schema_version')
      ? ((db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0)
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
    results.push(leaderLine(db, tables, now));
    return results;
  } finally {
    db?.close();
  }
}

function leaderLine(db: Database.Database, tables: Set<string>, now: number): CheckResult {
  const NAME = 'Scheduler leader';
  if (!tables.has('leadership')) return skip(NAME, 'no replica has led the scheduled jobs yet');
  const row = db
    .prepare("SELECT holder, term, expires_at, renewed_at, since FROM leadership WHERE name = 'scheduler'")
    .get() as
    | {
        holder: string;
        term: number | string;
        expires_at: number | string;
        renewed_at: number | string;
        since: number | string;
      }
    | undefined;
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
