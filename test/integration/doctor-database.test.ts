import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseChecks } from '../../src/doctor/checks/database.js';
import { createLeadershipStore } from '../../src/leadership/store.js';
import { openDatabase } from '../../src/storage/database.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';

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
    expect(await databaseChecks(path, T)).toEqual([]);
  });

  it('reports a migrated store and the replica leading the scheduled jobs, renewed how long ago', async () => {
    const db = openDatabase(path);
    let now = T - 60_000;
    await createLeadershipStore(db, { nowMs: () => now }).create('scheduler', 'host-a:42:abc', 15_000);
    now = T - 3_000;
    await createLeadershipStore(db, { nowMs: () => now }).renew('scheduler', 'host-a:42:abc', 1, 15_000);
    await db.close();
    const results = await databaseChecks(path, T);
    expect(results).toEqual([
      { status: 'ok', name: 'Database', detail: `${path} opens` },
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
    const [, , leader] = await databaseChecks(path, T);
    expect(leader).toMatchObject({ status: 'skip', name: 'Scheduler leader' });
    expect(leader!.detail).toMatch(/nobody leads now: host-a:42:abc's lease \(term 1\) ran out 45 s ago/);
  });

  it('refuses a store a newer modelgate wrote, and says an older one is migrated at the next start', async () => {
    const db = openDatabase(path);
    db.sqlite!.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length + 1);
    const [, newer] = await databaseChecks(path, T);
    expect(newer).toMatchObject({
      status: 'fail',
      name: 'Database schema',
      detail: expect.stringContaining(`knows versions up to ${MIGRATIONS.length}`),
      fix: expect.stringContaining('never migrated down'),
    });
    db.sqlite!.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length - 1);
    await db.close();
    const [, older] = await databaseChecks(path, T);
    expect(older).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('the next start migrates it'),
    });
    expect(older!.detail).toContain(MIGRATIONS.at(-1)!.name);
  });

  it('fails, with the fix, on a file that is not a database', async () => {
    writeFileSync(path, 'not a database at all, just some text that is long enough to have a header');
    const results = await databaseChecks(path, T);
    expect(results).toEqual([
      expect.objectContaining({
        status: 'fail',
        name: 'Database',
        fix: expect.stringContaining('MODELGATE_DB'),
      }),
    ]);
  });
});
