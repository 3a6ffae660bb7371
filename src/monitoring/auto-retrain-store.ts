/**
 * Alert episodes of monitors with `autoRetrain`: one row per episode, at most one open per monitor
 * (a unique partial index), so of any number of checks or processes one opens it and one asks for
 * the retraining. Async methods over the one connection, portable SQL.
 */
import type { Clock } from '../lib/clock.js';
import type { SqliteDatabase } from '../storage/database.js';

export interface AutoRetrainEpisode {
  monitor: string;
  openedAt: number;
  violations: number;
  requested: boolean;
}

export interface AutoRetrainStore {
  /** Opens an episode; false when the monitor has one open already. */
  open(monitor: string, violations: number): Promise<AutoRetrainEpisode | undefined>;
  openEpisode(monitor: string): Promise<AutoRetrainEpisode | undefined>;
  /** requested 0 → 1; true for the one caller that should ask. */
  markRequested(monitor: string, openedAt: number): Promise<boolean>;
  /** Closes the open episode; false when there was none. */
  close(monitor: string): Promise<boolean>;
}

/** @example const episodes = createAutoRetrainStore(db, clock); */
export function createAutoRetrainStore(db: SqliteDatabase, clock: Pick<Clock, 'now'>): AutoRetrainStore {
  const insert = db.prepare(
    `INSERT INTO auto_retrain_episodes (monitor, opened_at, status, violations, requested)
     VALUES (?, ?, 'open', ?, 0) ON CONFLICT DO NOTHING`,
  );
  const openOf = db.prepare(
    `SELECT monitor, opened_at, violations, requested FROM auto_retrain_episodes WHERE monitor = ? AND status = 'open'`,
  );
  const mark = db.prepare(
    `UPDATE auto_retrain_episodes SET requested = 1 WHERE monitor = ? AND opened_at = ? AND requested = 0`,
  );
  const close = db.prepare(
    `UPDATE auto_retrain_episodes SET status = 'closed', closed_at = ? WHERE monitor = ? AND status = 'open'`,
  );
  const toEpisode = (row: unknown): AutoRetrainEpisode | undefined => {
    if (!row) return undefined;
    const r = row as { monitor: string; opened_at: number; violations: number; requested: number };
    return {
      monitor: r.monitor,
      openedAt: Number(r.opened_at),
      violations: Number(r.violations),
      requested: Number(r.requested) === 1,
    };
  };
  return {
    async open(monitor, violations) {
      const at = clock.now();
      if (insert.run(monitor, at, violations).changes === 0) return undefined;
      return { monitor, openedAt: at, violations, requested: false };
    },
    async openEpisode(monitor) {
      return toEpisode(openOf.get(monitor));
    },
    async markRequested(monitor, openedAt) {
      return mark.run(monitor, openedAt).changes === 1;
    },
    async close(monitor) {
      return close.run(clock.now(), monitor).changes === 1;
    },
  };
}
