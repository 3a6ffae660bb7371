/**
 * Alert episodes of monitors with `autoRetrain`, in the process's store (SQLite or Postgres): one
 * row per episode, at most one open per monitor (the unique partial index `auto_retrain_one_open`),
 * so of any number of checks, processes or replicas one opens it (`ON CONFLICT DO NOTHING`) and one
 * asks for the retraining (a compare-and-set on `requested`).
 */
import { sql } from 'kysely';
import type { Clock } from '../lib/clock.js';
import type { StoreDatabase } from '../storage/database.js';
import { first, run } from '../storage/sql.js';

export interface AutoRetrainEpisode {
  monitor: string;
  openedAt: number;
  violations: number;
  requested: boolean;
}

export interface AutoRetrainStore {
  /** Opens an episode; undefined when the monitor has one open already. */
  open(monitor: string, violations: number): Promise<AutoRetrainEpisode | undefined>;
  openEpisode(monitor: string): Promise<AutoRetrainEpisode | undefined>;
  /** requested 0 → 1; true for the one caller that should ask. */
  markRequested(monitor: string, openedAt: number): Promise<boolean>;
  /** Closes the open episode; false when there was none. */
  close(monitor: string): Promise<boolean>;
}

const toEpisode = (row: unknown): AutoRetrainEpisode | undefined => {
  if (!row) return undefined;
  const r = row as {
    monitor: string;
    opened_at: number | string;
    violations: number | string;
    requested: number;
  };
  return {
    monitor: r.monitor,
    openedAt: Number(r.opened_at),
    violations: Number(r.violations),
    requested: Number(r.requested) === 1,
  };
};

/** @example const episodes = createAutoRetrainStore(db, clock); */
export function createAutoRetrainStore(database: StoreDatabase, clock: Pick<Clock, 'now'>): AutoRetrainStore {
  const db = database.kysely;
  return {
    async open(monitor, violations) {
      const at = Math.round(clock.now());
      // No conflict target: the one-open index refuses the row on both engines (as would an episode
      // of this monitor opened and closed in the same millisecond, the primary key).
      const inserted = await run(
        db,
        sql`INSERT INTO auto_retrain_episodes (monitor, opened_at, status, violations, requested)
            VALUES (${monitor}, ${at}, 'open', ${violations}, 0) ON CONFLICT DO NOTHING`,
      );
      return inserted === 1 ? { monitor, openedAt: at, violations, requested: false } : undefined;
    },
    openEpisode: async (monitor) =>
      toEpisode(
        await first(
          db,
          sql`SELECT monitor, opened_at, violations, requested FROM auto_retrain_episodes
              WHERE monitor = ${monitor} AND status = 'open'`,
        ),
      ),
    markRequested: async (monitor, openedAt) =>
      (await run(
        db,
        sql`UPDATE auto_retrain_episodes SET requested = 1
            WHERE monitor = ${monitor} AND opened_at = ${openedAt} AND requested = 0`,
      )) === 1,
    close: async (monitor) =>
      (await run(
        db,
        sql`UPDATE auto_retrain_episodes SET status = 'closed', closed_at = ${Math.round(clock.now())}
            WHERE monitor = ${monitor} AND status = 'open'`,
      )) === 1,
  };
}
