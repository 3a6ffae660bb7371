import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createApprovalStore } from '../../src/approvals/store.js';
import { createChangeStore } from '../../src/changes/store.js';
import { systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { openDatabase, type StoreDatabase } from '../../src/storage/database.js';
import { StoreStartError, StoreUnavailableError } from '../../src/storage/errors.js';
import { MIGRATIONS, SchemaTooNewError } from '../../src/storage/migrations.js';
import { openPostgres } from '../../src/storage/postgres.js';
import { createStoreStatus } from '../../src/storage/status.js';
import { createPostgresDatabase, openPostgresAt, postgresUrl } from '../support/backends.js';

const available = postgresUrl() !== '';
const opened: StoreDatabase[] = [];
const keep = (db: StoreDatabase) => {
  opened.push(db);
  return db;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close().catch(() => {})));
});

/** Tables and columns, as each backend lists them (the `rowid` identity columns are Postgres's only). */
async function columnsOf(db: StoreDatabase): Promise<Record<string, string[]>> {
  const rows =
    db.kind === 'postgres'
      ? (
          await sql<{
            t: string;
            c: string;
          }>`SELECT table_name AS t, column_name AS c FROM information_schema.columns
            WHERE table_schema = 'public' AND column_name <> 'rowid' ORDER BY table_name, ordinal_position`.execute(
            db.kysely,
          )
        ).rows
      : (
          await sql<{
            t: string;
            c: string;
          }>`SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p
            WHERE m.type = 'table' AND m.name <> 'sqlite_sequence' ORDER BY m.name, p.cid`.execute(db.kysely)
        ).rows;
  const out: Record<string, string[]> = {};
  for (const r of rows) {
    out[r.t] ??= [];
    out[r.t]?.push(r.c);
  }
  return out;
}

describe.skipIf(!available)('the store on Postgres', () => {
  it('migrates an empty database to the same tables and columns as SQLite', async () => {
    const pgDb = keep(await openPostgresAt(await createPostgresDatabase()));
    const lite = keep(openDatabase(':memory:'));
    expect(await columnsOf(pgDb)).toEqual(await columnsOf(lite));
    const version = await sql<{ v: number }>`SELECT version AS v FROM schema_version`.execute(pgDb.kysely);
    expect(version.rows).toEqual([{ v: MIGRATIONS.length }]);
  });

  it('runs every migration forward from every earlier version to the latest', async () => {
    const lite = keep(openDatabase(':memory:'));
    const latest = await columnsOf(lite);
    for (let k = 1; k < MIGRATIONS.length; k++) {
      const url = await createPostgresDatabase('step');
      // A database a release with the first k migrations left, then this release's start.
      await (await openPostgresAt(url, { migrations: MIGRATIONS.slice(0, k) })).close();
      const db = keep(await openPostgresAt(url));
      expect(await columnsOf(db)).toEqual(latest);
      const version = await sql<{ v: number }>`SELECT version AS v FROM schema_version`.execute(db.kysely);
      expect(version.rows).toEqual([{ v: MIGRATIONS.length }]);
    }
  });

  it('migrates once when two processes start on one new database at the same moment', async () => {
    const url = await createPostgresDatabase();
    const script = `
      import { openPostgres } from './src/storage/postgres.ts';
      import { silentLogger } from './src/lib/logger.ts';
      import { systemClock } from './src/lib/clock.ts';
      const db = await openPostgres({ connectionString: process.argv[1], logger: silentLogger, clock: systemClock });
      await db.close();
      process.stdout.write('ok');`;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, url], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
      });
    expect(await Promise.all([run(), run()])).toEqual(['ok', 'ok']);
    const db = keep(await openPostgresAt(url));
    const version = await sql<{ v: number }>`SELECT version AS v FROM schema_version`.execute(db.kysely);
    expect(version.rows).toEqual([{ v: MIGRATIONS.length }]);
    const lite = keep(openDatabase(':memory:'));
    expect(await columnsOf(db)).toEqual(await columnsOf(lite));
  }, 60_000);

  it('refuses a database a newer modelgate migrated, and leaves it as it was', async () => {
    const url = await createPostgresDatabase();
    const db = keep(await openPostgresAt(url));
    await sql`UPDATE schema_version SET version = ${MIGRATIONS.length + 1}`.execute(db.kysely);
    const e = await openPostgresAt(url).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SchemaTooNewError);
    expect((e as Error).message).toContain(`schema version ${MIGRATIONS.length + 1}`);
    expect((e as Error).message).toContain('never migrated down');
    const version = await sql<{ v: number }>`SELECT version AS v FROM schema_version`.execute(db.kysely);
    expect(version.rows).toEqual([{ v: MIGRATIONS.length + 1 }]);
  });

  it('fails at once, naming the fault, when the server refuses the login', async () => {
    const started = Date.now();
    const bad = new URL(await createPostgresDatabase());
    bad.username = 'nobody_here';
    const e = await openPostgresAt(bad.toString(), { connect: { timeoutMs: 10_000 } }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(StoreStartError);
    expect((e as StoreStartError).fault).toBe('bad_credentials');
    expect((e as Error).message).toContain('PGUSER');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails at once, naming the fault, when the database does not exist', async () => {
    const url = new URL(postgresUrl());
    url.pathname = '/no_such_database';
    const e = await openPostgresAt(url.toString(), { connect: { timeoutMs: 10_000 } }).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(StoreStartError);
    expect((e as StoreStartError).fault).toBe('database_missing');
    expect((e as Error).message).toContain('createdb');
  });

  it('retries an unreachable server with backoff, logging each attempt, then names the fault', async () => {
    const warnings: string[] = [];
    const status = createStoreStatus('postgres', Date.now);
    const e = await openPostgres({
      connectionString: 'postgres://app@127.0.0.1:1/modelgate',
      logger: { ...silentLogger, warn: (m: string) => warnings.push(m) },
      clock: systemClock,
      status,
      connect: { timeoutMs: 400, initialDelayMs: 50, maxDelayMs: 100 },
    }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StoreStartError);
    expect((e as StoreStartError).fault).toBe('unreachable');
    expect(warnings.length).toBeGreaterThan(2);
    expect(warnings[0]).toContain('attempt 1');
    expect(status.current().state).toBe('unreachable');
  });

  it('lets exactly one of two replicas win the same click', async () => {
    const url = await createPostgresDatabase();
    const a = keep(await openPostgresAt(url));
    const b = keep(await openPostgresAt(url));
    const requestsA = createApprovalStore(a, Date.now);
    const requestsB = createApprovalStore(b, Date.now);
    const { request } = await requestsA.create({
      gate: 'production',
      requester: 'U1',
      channel: 'C1',
      target: 'alias:m@production',
      plan: { kind: 'retrain' } as never,
      required: 2,
      approvers: { users: ['U2', 'U3'], groups: [] },
      expiresAt: Date.now() + 60_000,
    });
    // Two different approvers at once: both votes count and the request is approved exactly once.
    const [va, vb] = await Promise.all([
      requestsA.vote(request.id, 'U2', true, Date.now()),
      requestsB.vote(request.id, 'U3', true, Date.now()),
    ]);
    expect([va.decision.kind, vb.decision.kind].sort()).toEqual(['moved', 'voted']);
    expect((await requestsA.get(request.id))?.status).toBe('approved');
    // Then both replicas try to start the execution: one gets it.
    const starts = await Promise.all([
      requestsA.startExecution(request.id, 'U2'),
      requestsB.startExecution(request.id, 'U3'),
    ]);
    expect(starts.filter((s) => s !== undefined)).toHaveLength(1);
  });

  it('judges leases by the database clock: a replica 10 minutes fast does not take a live one', async () => {
    const url = await createPostgresDatabase();
    const a = keep(await openPostgresAt(url));
    const b = keep(await openPostgresAt(url));
    const honest = createChangeStore(a, systemClock, { instance: 'replica-a', leaseMs: 30_000 });
    const fast = { ...systemClock, now: () => Date.now() + 10 * 60_000 };
    const skewed = createChangeStore(b, fast, { instance: 'replica-b', leaseMs: 30_000 });
    const { change } = await honest.createProposal({
      requester: 'U1',
      channel: 'C1',
      input: { subcommand: 'promote', dryRun: false } as never,
      plan: {
        kind: 'alias',
        subcommand: 'promote',
        fingerprint: 'f',
        model: 'm',
        alias: 'a',
        toVersion: 2,
      } as never,
    });
    expect((await honest.transition(change.id, 'proposed', 'applying')).won).toBe(true);
    const claim = await skewed.claim(change.id);
    expect(claim.won).toBe(false);
    expect((await honest.get(change.id))?.owner).toBe('replica-a');
  });

  it('answers StoreUnavailableError when the database goes away while running, and works again after', async () => {
    const url = await createPostgresDatabase('lost');
    const status = createStoreStatus('postgres', Date.now);
    const db = keep(await openPostgresAt(url, { status }));
    const store = createChangeStore(db);
    expect(await store.get('x')).toBeUndefined();
    const admin = new pg.Client({ connectionString: postgresUrl() });
    await admin.connect();
    const name = new URL(url).pathname.slice(1);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
    const e = await store.get('x').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StoreUnavailableError);
    expect((e as StoreUnavailableError).code).toBe('store_unavailable');
    expect(status.current().state).toBe('unreachable');
    await admin.query(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS true`);
    await admin.end();
    expect(await store.get('x')).toBeUndefined();
    expect(status.current().state).toBe('ready');
  });
});
