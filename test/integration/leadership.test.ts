import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createLeadership, type Leadership } from '../../src/leadership/leader.js';
import { createLeadershipStore, type LeadershipStore } from '../../src/leadership/store.js';
import type { ScheduledJob } from '../../src/lib/cron.js';
import type { Logger } from '../../src/lib/logger.js';
import type { StoreDatabase } from '../../src/storage/database.js';
import { describeEachBackend } from '../support/backends.js';

/**
 * Two replicas on one store (a SQLite file, or one Postgres database), each with its own
 * connection, driven round by round. The store's clock (`storeNow`; on Postgres the store is told to
 * use it instead of the database's) and each replica's monotonic clock (`local`) are moved by hand,
 * so a kill (rounds stop, nothing released) and a freeze (rounds stop, then the process wakes) are
 * exact. The last test keeps the database's clock.
 */
const LEASE = 15_000;

interface Replica {
  name: string;
  db: StoreDatabase;
  leadership: Leadership;
  lines: string[];
  runs: number;
  job: ScheduledJob;
}

describeEachBackend('scheduler leadership across replicas', (backend) => {
  let opened: boolean;
  let storeNow: number;
  let local: number;
  const replicas: Replica[] = [];

  const logger = (lines: string[]): Logger => ({
    debug() {},
    info: (...m) => lines.push(m.join(' ')),
    warn: (...m) => lines.push(m.join(' ')),
    error: (...m) => lines.push(m.join(' ')),
  });

  async function replica(
    name: string,
    wrap?: (s: LeadershipStore) => LeadershipStore,
    options: { nowMs?: () => number; clock?: 'database' | 'injected' } = {},
  ): Promise<Replica> {
    const db = opened ? await backend.connect() : await backend.open({ shared: true });
    opened = true;
    const store = createLeadershipStore(db, { nowMs: () => storeNow, clock: 'injected', ...options });
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
    opened = false;
    storeNow = Date.parse('2026-12-01T09:00:00Z');
    local = 1_000;
  });
  // The backend closes the connections.
  afterEach(() => {
    replicas.splice(0);
  });

  it('lets exactly one replica lead, and each says so once', async () => {
    const a = await replica('A');
    const b = await replica('B');
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
    const a = await replica('A');
    const b = await replica('B');
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
    const a = await replica('A');
    const b = await replica('B');
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
    const a = await replica('A');
    await a.leadership.round();
    advance(40_000);
    await a.job.run(new Date());
    expect(a.runs).toBe(1);
    expect(a.lines).toEqual(['leading the scheduled jobs (term 1)']);
  });

  it('hands over at once on a clean stop', async () => {
    const a = await replica('A');
    const b = await replica('B');
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
    const a = await replica('A');
    const b = await replica('B');
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
    const a = await replica('A', (s) => ({
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
    const a = await replica('A');
    const b = await replica('B');
    const c = await replica('C');
    await a.leadership.round();
    advance(LEASE);
    await Promise.all([b.leadership.round(), c.leadership.round()]);
    const leaders = [a, b, c].filter((r) => r.leadership.isLeading()).map((r) => r.name);
    expect(leaders).toHaveLength(1);
    expect(leaders[0]).not.toBe('A');
    const { rows } = await sql`SELECT holder, term FROM leadership`.execute(a.db.kysely);
    expect(rows).toEqual([{ holder: leaders[0], term: 2 }]);
  });

  it.skipIf(backend.kind !== 'postgres')(
    'judges the lease by the database clock on Postgres: a replica 10 minutes fast does not take a live one',
    async () => {
      const a = await replica('A', undefined, { nowMs: Date.now, clock: 'database' });
      const fast = await replica('B', undefined, {
        nowMs: () => Date.now() + 10 * 60_000,
        clock: 'database',
      });
      await a.leadership.round();
      await fast.leadership.round();
      expect([a.leadership.isLeading(), fast.leadership.isLeading()]).toEqual([true, false]);
      expect(fast.leadership.status()).toMatchObject({ leader: false, holder: 'A', term: 1 });
      const { lease, now } = await createLeadershipStore(fast.db, { nowMs: () => 0 }).read('scheduler');
      expect(Math.abs(now - Date.now())).toBeLessThan(5_000);
      expect(lease!.expiresAt - lease!.renewedAt).toBe(LEASE);
    },
  );
});
