/**
 * The scheduler lease over the process's store (table `leadership`, storage/migrations.ts), on
 * SQLite or Postgres. Every method is async and every change is ONE compare-and-set statement. Each
 * statement reads "now" once (a CTE) and compares and writes only that: the injected `nowMs` on
 * SQLite (one process), the database's clock on Postgres (sql.ts `leaseNow`), so a replica whose
 * clock is off cannot take a live lease.
 */
import { type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { StoreDatabase } from '../storage/database.js';
import { first, leaseNow, run } from '../storage/sql.js';
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
  /** The injected clock (epoch ms): the lease's time on SQLite, and on Postgres with `clock: 'injected'`. */
  nowMs: () => number;
  /**
   * On Postgres, whose clock judges the lease: the database's (the default: every replica compares
   * against one clock), or `nowMs` (tests that move time by hand). SQLite always uses `nowMs`.
   */
  clock?: 'database' | 'injected';
}

const rowSchema = z.object({
  name: z.string(),
  holder: z.string(),
  // BIGINT: a number from SQLite and from the store's pg pool; coerced in case of a string.
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

const COLUMNS = sql.raw('name, holder, term, expires_at, renewed_at, since');

/**
 * @example const leases = createLeadershipStore(db, { nowMs: Date.now }); await leases.create('scheduler', me, 15_000);
 */
export function createLeadershipStore(
  database: StoreDatabase,
  options: LeadershipStoreOptions,
): LeadershipStore {
  const db = database.kysely;
  const { nowMs } = options;
  const clockNow = (): RawBuilder<number> =>
    options.clock === 'injected' ? sql<number>`${Math.round(nowMs())}` : leaseNow(database.kind, nowMs);
  // "now" once per statement: clock_timestamp() moves within a statement on Postgres. The CAST types
  // a bound value for Postgres (an untyped parameter in a CTE would be text).
  const withNow = () => sql`WITH t AS (SELECT CAST(${clockNow()} AS BIGINT) AS now)`;
  const NOW = sql`(SELECT now FROM t)`;
  return {
    async read(name) {
      const row = (await first(
        db,
        sql`${withNow()} SELECT t.now AS now, l.name, l.holder, l.term, l.expires_at, l.renewed_at, l.since
            FROM t LEFT JOIN leadership l ON l.name = ${name}`,
      )) as ({ now: number | string; name: string | null } & Record<string, unknown>) | undefined;
      if (row === undefined) throw new Error('the lease clock query returned no row');
      return { lease: row.name === null ? undefined : toLease(row), now: Number(row.now) };
    },
    create: async (name, holder, leaseMs) =>
      toLease(
        await first(
          db,
          // `WHERE true`: SQLite would read the ON of ON CONFLICT as a join's after `FROM t`.
          sql`${withNow()} INSERT INTO leadership (${COLUMNS})
              SELECT CAST(${name} AS TEXT), CAST(${holder} AS TEXT), 1, t.now + ${leaseMs}, t.now, t.now FROM t WHERE true
              ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
        ),
      ),
    take: async (name, from, holder, leaseMs) =>
      toLease(
        await first(
          db,
          sql`${withNow()} UPDATE leadership
              SET holder = ${holder}, term = term + 1, expires_at = ${NOW} + ${leaseMs}, renewed_at = ${NOW},
                since = ${NOW}
              WHERE name = ${name} AND holder = ${from.holder} AND term = ${from.term} AND expires_at <= ${NOW}
              RETURNING ${COLUMNS}`,
        ),
      ),
    renew: async (name, holder, term, leaseMs) =>
      toLease(
        await first(
          db,
          sql`${withNow()} UPDATE leadership SET expires_at = ${NOW} + ${leaseMs}, renewed_at = ${NOW}
              WHERE name = ${name} AND holder = ${holder} AND term = ${term} RETURNING ${COLUMNS}`,
        ),
      ),
    release: async (name, holder, term) =>
      (await run(
        db,
        sql`${withNow()} UPDATE leadership SET expires_at = ${NOW}
            WHERE name = ${name} AND holder = ${holder} AND term = ${term}`,
      )) === 1,
  };
}
