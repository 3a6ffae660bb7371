import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLeadership, type Leadership } from '../../src/leadership/leader.js';
import { createLeadershipStore, type LeadershipStore } from '../../src/leadership/store.js';
import type { ScheduledJob } from '../../src/lib/cron.js';
import type { Logger } from '../../src/lib/logger.js';
import { openDatabase, type SqliteDatabase } from '../../src/storage/database.js';

/**
 * Two replicas on one store file, each with its own connection, driven round by round. The store's
 * clock (`storeNow`) and each replica's monotonic clock (`local`) are moved by hand, so a kill
 * (rounds stop, nothing released) and a freeze (rounds stop, then the process wakes) are exact.
 */
const LEASE = 15_000;

interface Replica {
  name: string;
  db: SqliteDatabase;
  leadership: Leadership;
  lines: string[];
  runs: number;
  job: ScheduledJob;
}

describe('scheduler leadership across replicas', () => {
  let dir: string;
  let storeNow: number;
  let local: number;
  const replicas: Replica[] = [];

  const logger = (lines: string[]): Logger => ({
    debug() {},
    info: (...m) => lines.push(m.join(' ')),
    warn: (...m) => lines.push(m.join(' ')),
    error: (...m) => lines.push(m.join(' ')),
  });

  function replica(name: string, wrap?: (s: LeadershipStore) => LeadershipStore): Replica {
    const db = openDatabase(join(dir, 'modelgate.db'));
    const store = createLeadershipStore(db, { nowMs: () => storeNow });
    const lines: string[] = [];
    const leadership = createLeadership({
      store: wrap ? wrap(store) : store,
      me: name,
      leaseMs: LEASE,
      renewMs: 5_000,
      logger: logger(lines),
      localNow: () => local,
    });
    const r: Replica = {
      name,
      db,
      leadership,
      lines,
      runs: 0,
      job: leadership.guard({
        name: 'ledger',
        cron: '* * * * *',
        run: async () => {
          r.runs++;
        },
      }),
    };
    replicas.push(r);
    return r;
  }
  const advance = (ms: number) => {
    storeNow += ms;
    local += ms;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'modelgate-leader-'));
    storeNow = Date.parse('2026-12-01T09:00:00Z');
    local = 1_000;
  });
  afterEach(() => {
    for (const r of replicas.splice(0)) r.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets exactly one replica lead, and each says so once', async () => {
    const a = replica('A');
    const b = replica('B');
    for (let i = 0; i < 4; i++) {
      await a.leadership.round();
      await b.leadership.round();
      advance(5_000);
    }
    expect([a.leadership.isLeading(), b.leadership.isLeading()]).toEqual([true, false]);
    await a.job.run(new Date());
    await b.job.run(new Date());
    expect([a.runs, b.runs]).toEqual([1, 0]);
    expect(a.lines).toEqual(['leading the scheduled jobs (term 1)']);
    expect(b.lines).toEqual([]);
    expect(b.leadership.status()).toMatchObject({ leader: false, holder: 'A', term: 1 });
  });

  it('hands the jobs to another replica once a killed leader’s lease runs out, and not before', async () => {
    const a = replica('A');
    const b = replica('B');
    await a.leadership.round();
    // A is killed: no more rounds, nothing released.
    advance(LEASE - 1);
    await b.leadership.round();
    expect(b.leadership.isLeading()).toBe(false);
    advance(1);
    await b.leadership.round();
    expect(b.leadership.isLeading()).toBe(true);
    expect(b.lines).toEqual(['leading the scheduled jobs (term 2, took over from A, whose lease ran out)']);
    await b.job.run(new Date());
    expect(b.runs).toBe(1);
  });

  it('stops a frozen leader from running a job once another replica took over, and it says so once', async () => {
    const a = replica('A');
    const b = replica('B');
    await a.leadership.round();
    await b.leadership.round();
    // A's event loop is blocked for 40 s: it neither renews nor runs anything meanwhile.
    advance(20_000);
    await b.leadership.round();
    expect(b.leadership.isLeading()).toBe(true);
    advance(20_000);
    await b.leadership.round();
    // A wakes: a cron tick that was due fires at once, before any round of A's.
    expect(a.leadership.isLeading()).toBe(false);
    await a.job.run(new Date());
    await a.job.run(new Date());
    await b.job.run(new Date());
    expect([a.runs, b.runs]).toEqual([0, 1]);
    expect(a.lines).toEqual([
      'leading the scheduled jobs (term 1)',
      'no longer leading the scheduled jobs: B leads them now',
    ]);
    expect(a.leadership.status()).toMatchObject({ leader: false, holder: 'B', term: 2 });
  });

  it('lets a frozen leader go on when nobody took over meanwhile (the term never changed)', async () => {
    const a = replica('A');
    await a.leadership.round();
    advance(40_000);
    await a.job.run(new Date());
    expect(a.runs).toBe(1);
    expect(a.lines).toEqual(['leading the scheduled jobs (term 1)']);
  });

  it('hands over at once on a clean stop', async () => {
    const a = replica('A');
    const b = replica('B');
    await a.leadership.round();
    await b.leadership.round();
    await a.leadership.stop();
    await b.leadership.round();
    expect(b.leadership.isLeading()).toBe(true);
    expect(a.lines.at(-1)).toBe('no longer leading the scheduled jobs: stopping');
    await a.job.run(new Date());
    expect(a.runs).toBe(0);
  });

  it('lets a replica forget a dead holder, so the jobs need not wait its lease out', async () => {
    const a = replica('A');
    const b = replica('B');
    await a.leadership.round();
    await b.leadership.forget('C');
    await b.leadership.round();
    expect(b.leadership.isLeading()).toBe(false);
    await b.leadership.forget('A');
    await b.leadership.round();
    expect(b.leadership.isLeading()).toBe(true);
  });

  it('keeps leading through a store hiccup shorter than the lease, and steps down after it', async () => {
    let down = false;
    const a = replica('A', (s) => ({
      ...s,
      read: async (name) => {
        if (down) throw new Error('database is locked');
        return s.read(name);
      },
    }));
    await a.leadership.round();
    down = true;
    advance(10_000);
    await a.leadership.round();
    expect(a.leadership.isLeading()).toBe(true);
    advance(5_000);
    await a.leadership.round();
    expect(a.leadership.isLeading()).toBe(false);
    await a.job.run(new Date());
    expect(a.runs).toBe(0);
    expect(a.lines.at(-1)).toBe(
      'no longer leading the scheduled jobs: the store did not answer (database is locked)',
    );
  });

  it('gives the race for an expired lease to one replica only', async () => {
    const a = replica('A');
    const b = replica('B');
    const c = replica('C');
    await a.leadership.round();
    advance(LEASE);
    await Promise.all([b.leadership.round(), c.leadership.round()]);
    const leaders = [a, b, c].filter((r) => r.leadership.isLeading()).map((r) => r.name);
    expect(leaders).toHaveLength(1);
    expect(leaders[0]).not.toBe('A');
    const row = a.db.prepare('SELECT holder, term FROM leadership').get();
    expect(row).toEqual({ holder: leaders[0], term: 2 });
  });
});
