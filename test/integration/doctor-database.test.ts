import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseChecks } from '../../src/doctor/checks/database.js';
import { createLeadershipStore } from '../../src/leadership/store.js';
import { openDatabase } from '../../src/storage/database.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';
import { createPostgresDatabase, openPostgresAt, postgresUrl } from '../support/backends.js';

const T = Date.parse('2026-12-01T09:00:00Z');

describe('npm run doctor: the database', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-doctor-db-'));
    path = join(dir, 'modelgate.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('says nothing of a store that does not exist yet', async () => {
    expect(await databaseChecks({ kind: 'sqlite', path }, T)).toEqual([]);
  });

  it('reports a migrated store and the replica leading the scheduled jobs, renewed how long ago', async () => {
    const db = openDatabase(path);
    let now = T - 60_000;
    await createLeadershipStore(db, { nowMs: () => now }).create('scheduler', 'host-a:42:abc', 15_000);
    now = T - 3_000;
    await createLeadershipStore(db, { nowMs: () => now }).renew('scheduler', 'host-a:42:abc', 1, 15_000);
    await db.close();
    const results = await databaseChecks({ kind: 'sqlite', path }, T);
    expect(results).toEqual([
      { status: 'ok', name: 'Database', detail: `${path} opens (sqlite)` },
      {
        status: 'ok',
        name: 'Database schema',
        detail: `version ${MIGRATIONS.length}, as this modelgate expects`,
      },
      {
        status: 'ok',
        name: 'Scheduler leader',
        detail: 'host-a:42:abc leads (term 1, since 2026-12-01T08:59:00.000Z), renewed 3 s ago',
      },
    ]);
  });

  it('says nobody leads when the last lease ran out', async () => {
    const db = openDatabase(path);
    await createLeadershipStore(db, { nowMs: () => T - 60_000 }).create('scheduler', 'host-a:42:abc', 15_000);
    await db.close();
    const [, , leader] = await databaseChecks({ kind: 'sqlite', path }, T);
    expect(leader).toMatchObject({ status: 'skip', name: 'Scheduler leader' });
    expect(leader!.detail).toMatch(/nobody leads now: host-a:42:abc's lease \(term 1\) ran out 45 s ago/);
  });

  it('refuses a store a newer modelgate wrote, and says an older one is migrated at the next start', async () => {
    const db = openDatabase(path);
    db.sqlite!.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length + 1);
    const [, newer] = await databaseChecks({ kind: 'sqlite', path }, T);
    expect(newer).toMatchObject({
      status: 'fail',
      name: 'Database schema',
      detail: expect.stringContaining(`knows versions up to ${MIGRATIONS.length}`),
      fix: expect.stringContaining('never migrated down'),
    });
    db.sqlite!.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length - 1);
    await db.close();
    const [, older] = await databaseChecks({ kind: 'sqlite', path }, T);
    expect(older).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('the next start migrates it'),
    });
    expect(older!.detail).toContain(MIGRATIONS.at(-1)!.name);
  });

  it('fails, with the fix, on a file that is not a database', async () => {
    writeFileSync(path, 'not a database at all, just some text that is long enough to have a header');
    const results = await databaseChecks({ kind: 'sqlite', path }, T);
    expect(results).toEqual([
      expect.objectContaining({
        status: 'fail',
        name: 'Database',
        fix: expect.stringContaining('MODELGATE_DB'),
      }),
    ]);
  });
});

describe.skipIf(postgresUrl() === '')('npm run doctor: the database on Postgres', () => {
  it('reports a migrated Postgres store and who leads, read over one connection', async () => {
    const url = await createPostgresDatabase('doctor');
    const db = await openPostgresAt(url);
    try {
      let now = T - 60_000;
      await createLeadershipStore(db, { nowMs: () => now, clock: 'injected' }).create(
        'scheduler',
        'pod-b:7:xyz',
        15_000,
      );
      now = T - 2_000;
      await createLeadershipStore(db, { nowMs: () => now, clock: 'injected' }).renew(
        'scheduler',
        'pod-b:7:xyz',
        1,
        15_000,
      );
    } finally {
      await db.close();
    }
    const results = await databaseChecks({ kind: 'postgres', postgres: { connectionString: url } }, T);
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['Database', 'ok'],
      ['Database schema', 'ok'],
      ['Scheduler leader', 'ok'],
    ]);
    expect(results[0]?.detail).toContain('(postgres)');
    expect(results[1]?.detail).toBe(`version ${MIGRATIONS.length}, as this modelgate expects`);
    expect(results[2]?.detail).toMatch(/^pod-b:7:xyz leads \(term 1, .*renewed 2 s ago$/);
  });

  it('says a Postgres it cannot reach is unreachable, with the fix, and never shows the password', async () => {
    const results = await databaseChecks(
      { kind: 'postgres', postgres: { connectionString: 'postgres://app:s3cret@127.0.0.1:1/modelgate' } },
      T,
    );
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ name: 'Database', status: 'fail' });
    expect(results[0]?.detail).toContain('127.0.0.1:1/modelgate');
    expect(results[0]?.fix).toContain('is up and reachable');
    expect(JSON.stringify(results)).not.toContain('s3cret');
  });
});
