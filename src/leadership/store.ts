/**
 * The scheduler lease over the process's one connection (table `leadership`, storage/migrations.ts).
 * Every method is async and every change is ONE compare-and-set statement, so the Postgres port is
 * mechanical. The time each statement compares with and writes comes from `nowMs`, called once per
 * statement: the store layer swaps it for the database's clock, so a replica whose clock is off
 * cannot take a live lease.
 */
import { z } from 'zod';
import type { SqliteDatabase } from '../storage/database.js';
import type { Lease } from './decide.js';

export interface LeadershipStore {
  /** The lease as stored (undefined: none yet), and the store's now when it was read. */
  read(name: string): Promise<{ lease: Lease | undefined; now: number }>;
  /** Creates the lease for `holder`, term 1, if none exists; the lease when this call created it. */
  create(name: string, holder: string, leaseMs: number): Promise<Lease | undefined>;
  /** Takes over an expired lease still held by `from` under `from.term`; the new lease (term + 1) if it did. */
  take(
    name: string,
    from: { holder: string; term: number },
    holder: string,
    leaseMs: number,
  ): Promise<Lease | undefined>;
  /** Extends `holder`'s lease if it still holds it under `term`; the renewed lease if so. */
  renew(name: string, holder: string, term: number, leaseMs: number): Promise<Lease | undefined>;
  /** Ends `holder`'s lease at once (a clean stop), so another replica need not wait it out. */
  release(name: string, holder: string, term: number): Promise<boolean>;
}

export interface LeadershipStoreOptions {
  /** The store's clock (epoch ms): every comparison and write of the lease uses it. */
  nowMs: () => number;
}

const rowSchema = z.object({
  name: z.string(),
  holder: z.string(),
  // BIGINT: a number from SQLite, a string from pg.
  term: z.coerce.number(),
  expires_at: z.coerce.number(),
  renewed_at: z.coerce.number(),
  since: z.coerce.number(),
});

const toLease = (row: unknown): Lease | undefined => {
  if (row === undefined) return undefined;
  const r = rowSchema.parse(row);
  return {
    name: r.name,
    holder: r.holder,
    term: r.term,
    expiresAt: r.expires_at,
    renewedAt: r.renewed_at,
    since: r.since,
  };
};

const COLUMNS = 'name, holder, term, expires_at, renewed_at, since';

/**
 * @example const leases = createLeadershipStore(db, { nowMs: Date.now }); await leases.create('scheduler', me, 15_000);
 */
export function createLeadershipStore(db: SqliteDatabase, options: LeadershipStoreOptions): LeadershipStore {
  const { nowMs } = options;
  const select = db.prepare(`SELECT ${COLUMNS} FROM leadership WHERE name = ?`);
  const insert = db.prepare(
    `INSERT INTO leadership (${COLUMNS}) VALUES (@name, @holder, 1, @expires, @now, @now)
     ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
  );
  const takeOver = db.prepare(
    `UPDATE leadership SET holder = @holder, term = term + 1, expires_at = @expires, renewed_at = @now, since = @now
     WHERE name = @name AND holder = @from AND term = @term AND expires_at <= @now RETURNING ${COLUMNS}`,
  );
  const extend = db.prepare(
    `UPDATE leadership SET expires_at = @expires, renewed_at = @now
     WHERE name = @name AND holder = @holder AND term = @term RETURNING ${COLUMNS}`,
  );
  const end = db.prepare(
    'UPDATE leadership SET expires_at = @now WHERE name = @name AND holder = @holder AND term = @term',
  );
  return {
    async read(name) {
      const now = nowMs();
      return { lease: toLease(select.get(name)), now };
    },
    async create(name, holder, leaseMs) {
      const now = nowMs();
      return toLease(insert.get({ name, holder, now, expires: now + leaseMs }));
    },
    async take(name, from, holder, leaseMs) {
      const now = nowMs();
      return toLease(
        takeOver.get({ name, holder, from: from.holder, term: from.term, now, expires: now + leaseMs }),
      );
    },
    async renew(name, holder, term, leaseMs) {
      const now = nowMs();
      return toLease(extend.get({ name, holder, term, now, expires: now + leaseMs }));
    },
    async release(name, holder, term) {
      return end.run({ name, holder, term, now: nowMs() }).changes === 1;
    },
  };
}
