/**
 * Who has opened the App Home, and on which opening they were shown the "getting started", in the
 * process's store (SQLite or Postgres; the 'app home visitors' migration). Every method is async;
 * each write is one statement: an upsert per opening, a compare-and-set for the welcome.
 */
import { sql } from 'kysely';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, run } from '../storage/sql.js';

export interface HomeVisitor {
  userId: string;
  firstOpenedAt: number;
  lastOpenedAt: number;
  /** How many times they opened the Home tab. */
  opens: number;
  /** The opening on which "getting started" was published; undefined until one was. */
  welcomedOpen?: number;
}

export interface HomeStore {
  /** Counts an opening (the first one creates the row) and returns the visitor after it. */
  recordOpen(userId: string, at: number): Promise<HomeVisitor>;
  get(userId: string): Promise<HomeVisitor | undefined>;
  /** Records that "getting started" was shown on opening `open`; false when it already was. */
  markWelcomed(userId: string, open: number): Promise<boolean>;
  /** Everyone who has a Home to keep fresh. */
  visitors(): Promise<string[]>;
}

interface Row {
  user_id: string;
  first_opened_at: number;
  last_opened_at: number;
  opens: number;
  welcomed_open: number | null;
}

const toVisitor = (r: Row): HomeVisitor => ({
  userId: r.user_id,
  firstOpenedAt: Number(r.first_opened_at),
  lastOpenedAt: Number(r.last_opened_at),
  opens: Number(r.opens),
  ...(r.welcomed_open !== null ? { welcomedOpen: Number(r.welcomed_open) } : {}),
});

/**
 * @example const homes = createHomeStore(db); const v = await homes.recordOpen('U1', Date.now()); v.opens // 1
 */
export function createHomeStore(database: StoreDatabase): HomeStore {
  const db = database.kysely;
  return {
    recordOpen: async (userId, at) =>
      toVisitor(
        (await first(
          db,
          sql`INSERT INTO home_users (user_id, first_opened_at, last_opened_at, opens, welcomed_open)
              VALUES (${userId}, ${Math.round(at)}, ${Math.round(at)}, 1, NULL)
              ON CONFLICT (user_id) DO UPDATE SET opens = home_users.opens + 1,
                last_opened_at = excluded.last_opened_at
              RETURNING *`,
        )) as Row,
      ),
    get: async (userId) => {
      const row = (await first(db, sql`SELECT * FROM home_users WHERE user_id = ${userId}`)) as
        | Row
        | undefined;
      return row ? toVisitor(row) : undefined;
    },
    markWelcomed: async (userId, open) =>
      (await run(
        db,
        sql`UPDATE home_users SET welcomed_open = ${open} WHERE user_id = ${userId} AND welcomed_open IS NULL`,
      )) === 1,
    visitors: async () =>
      (
        (await all(db, sql`SELECT user_id FROM home_users ORDER BY user_id`)) as Array<{ user_id: string }>
      ).map((r) => r.user_id),
  };
}
