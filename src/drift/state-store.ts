/**
 * What the drift watch remembers between checks and restarts, in the process's store (SQLite or
 * Postgres; its tables are migration 3 of storage/migrations.ts):
 * - progress: the last complete window processed per monitor and model id (catch-up starts after it);
 * - alerts: one open alert at most per (monitor, rule, model id), with its Slack message, the windows it
 *   reported (never reported again), snooze and acknowledgement, and the view it was drawn from;
 * - failures: a failing check per monitor, reported once until it recovers;
 * - missed checks: scheduled checks that never ran on time (the process blocked or down), per streak.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, forUpdate, isUniqueViolation, type Queryable, run } from '../storage/sql.js';
import { type AlertView, alertViewSchema } from './alert-view.js';

export interface DriftAlert {
  id: string;
  monitor: string;
  rule: string;
  modelId: string;
  status: 'open' | 'closed';
  channel: string;
  /** The alert message, once posted. */
  ts?: string;
  openedAt: number;
  closedAt?: number;
  snoozedUntil?: number;
  snoozedBy?: string;
  acknowledgedBy?: string;
  acknowledgedAt?: number;
  /** Window starts (ms) this alert has reported. */
  windows: number[];
  view: AlertView;
}

export interface DriftFailure {
  monitor: string;
  since: number;
  lastAt: number;
  attempts: number;
  code: string;
  message: string;
  channel: string;
  ts?: string;
}

/** A streak of scheduled checks that never ran on time, and when the watch caught up. */
export interface MissedCheck {
  monitor: string;
  /** The first run that was due (ms). */
  scheduledAt: number;
  lastScheduledAt: number;
  runs: number;
  /** When the scheduler noticed. */
  noticedAt: number;
  /** When the catch-up check finished. */
  caughtUpAt?: number;
}

export interface NewAlert {
  monitor: string;
  rule: string;
  modelId: string;
  channel: string;
  windows: number[];
  view: AlertView;
  at: number;
}

export interface DriftStateStore {
  /** The last complete window start processed, ms. */
  progress(monitor: string, modelId: string): Promise<number | undefined>;
  setProgress(monitor: string, modelId: string, lastWindowStart: number, at: number): Promise<void>;
  openAlert(monitor: string, rule: string, modelId: string): Promise<DriftAlert | undefined>;
  alert(id: string): Promise<DriftAlert | undefined>;
  /** Every open alert, oldest first (the App Home lists them). */
  openAlerts(): Promise<DriftAlert[]>;
  /** Opens an alert; refuses (returns the existing one with `created: false`) if one is open already. */
  createAlert(input: NewAlert): Promise<{ alert: DriftAlert; created: boolean }>;
  setAlertMessage(id: string, ts: string): Promise<void>;
  /** Adds reported windows and replaces the view. */
  recordWindows(id: string, windows: readonly number[], view: AlertView): Promise<DriftAlert | undefined>;
  setView(id: string, view: AlertView): Promise<void>;
  snooze(id: string, until: number, by: string): Promise<DriftAlert | undefined>;
  acknowledge(id: string, by: string, at: number): Promise<DriftAlert | undefined>;
  /**
   * The windows (starts, ms) any alert of a model id has reported, per rule: every open alert, and
   * every alert closed at or after `since` (one closed earlier reported only windows before `since`).
   * A window judged again (late labels) is alerted only if it is not in here.
   */
  reportedWindows(monitor: string, modelId: string, since: number): Promise<Map<string, Set<number>>>;
  /** Compare-and-set open → closed; false when it was closed already. */
  closeAlert(id: string, at: number): Promise<boolean>;
  failure(monitor: string): Promise<DriftFailure | undefined>;
  /** Records a failed check; `first` is true when the monitor was healthy until now. */
  recordFailure(
    monitor: string,
    input: { code: string; message: string; channel: string; at: number },
  ): Promise<{ first: boolean; failure: DriftFailure }>;
  setFailureMessage(monitor: string, ts: string): Promise<void>;
  /** Clears the failure of a monitor that works again, returning what it was. */
  clearFailure(monitor: string): Promise<DriftFailure | undefined>;
  /** Records a streak of missed checks; false when that streak was recorded already. */
  recordMissedCheck(m: Omit<MissedCheck, 'caughtUpAt'>): Promise<boolean>;
  /** Compare-and-set: marks the streak caught up, once. */
  setMissedCheckCaughtUp(monitor: string, scheduledAt: number, at: number): Promise<boolean>;
  /** The latest missed streak noticed at or after `since`. */
  lastMissedCheck(monitor: string, since: number): Promise<MissedCheck | undefined>;
}

const missedRowSchema = z.object({
  monitor: z.string(),
  scheduled_at: z.number(),
  last_scheduled_at: z.number(),
  runs: z.number(),
  noticed_at: z.number(),
  caught_up_at: z.number().nullable(),
});

const alertRowSchema = z.object({
  id: z.string(),
  monitor: z.string(),
  rule: z.string(),
  model_id: z.string(),
  status: z.enum(['open', 'closed']),
  channel: z.string(),
  ts: z.string().nullable(),
  opened_at: z.number(),
  closed_at: z.number().nullable(),
  snoozed_until: z.number().nullable(),
  snoozed_by: z.string().nullable(),
  acknowledged_by: z.string().nullable(),
  acknowledged_at: z.number().nullable(),
  windows_json: z.string(),
  view_json: z.string(),
});

const failureRowSchema = z.object({
  monitor: z.string(),
  since: z.number(),
  last_at: z.number(),
  attempts: z.number(),
  code: z.string(),
  message: z.string(),
  channel: z.string(),
  ts: z.string().nullable(),
});

function toAlert(raw: unknown): DriftAlert {
  const r = alertRowSchema.parse(raw);
  return {
    id: r.id,
    monitor: r.monitor,
    rule: r.rule,
    modelId: r.model_id,
    status: r.status,
    channel: r.channel,
    ...(r.ts !== null ? { ts: r.ts } : {}),
    openedAt: r.opened_at,
    ...(r.closed_at !== null ? { closedAt: r.closed_at } : {}),
    ...(r.snoozed_until !== null ? { snoozedUntil: r.snoozed_until } : {}),
    ...(r.snoozed_by !== null ? { snoozedBy: r.snoozed_by } : {}),
    ...(r.acknowledged_by !== null ? { acknowledgedBy: r.acknowledged_by } : {}),
    ...(r.acknowledged_at !== null ? { acknowledgedAt: r.acknowledged_at } : {}),
    windows: z.array(z.number()).parse(JSON.parse(r.windows_json)),
    view: alertViewSchema.parse(JSON.parse(r.view_json)),
  };
}

function toFailure(raw: unknown): DriftFailure {
  const r = failureRowSchema.parse(raw);
  return {
    monitor: r.monitor,
    since: r.since,
    lastAt: r.last_at,
    attempts: r.attempts,
    code: r.code,
    message: r.message,
    channel: r.channel,
    ...(r.ts !== null ? { ts: r.ts } : {}),
  };
}

const OPEN_INDEX = { sqlite: 'drift_alerts.monitor', postgres: 'drift_alerts_one_open' };

/**
 * The drift state over the process's store (storage/database.ts opens and migrates it; whoever
 * opened it closes it).
 *
 * @example
 * const state = createDriftStateStore(openDatabase(config.dbPath));
 * await state.setProgress('churn', '*', Date.parse('2026-11-19'), Date.now());
 */
export function createDriftStateStore(database: StoreDatabase): DriftStateStore {
  const db = database.kysely;
  const kind = database.kind;
  const ms = (v: number) => Math.round(v);

  const selectOpen = (q: Queryable, monitor: string, rule: string, modelId: string) =>
    first(
      q,
      sql`SELECT * FROM drift_alerts WHERE monitor = ${monitor} AND rule = ${rule} AND model_id = ${modelId} AND status = 'open'`,
    );
  const selectFailure = (q: Queryable, monitor: string, lock = false) =>
    first(q, sql`SELECT * FROM drift_failures WHERE monitor = ${monitor}${lock ? forUpdate(kind) : sql``}`);
  const alert = async (id: string, q: Queryable = db, lock = false) => {
    const row = await first(
      q,
      sql`SELECT * FROM drift_alerts WHERE id = ${id}${lock ? forUpdate(kind) : sql``}`,
    );
    return row ? toAlert(row) : undefined;
  };

  const createAlertOnce = (input: NewAlert) =>
    db.transaction().execute(async (trx) => {
      const existing = await selectOpen(trx, input.monitor, input.rule, input.modelId);
      if (existing) return { alert: toAlert(existing), created: false };
      const id = `da_${randomBytes(6).toString('hex')}`;
      await sql`
        INSERT INTO drift_alerts (id, monitor, rule, model_id, status, channel, opened_at, windows_json, view_json)
        VALUES (${id}, ${input.monitor}, ${input.rule}, ${input.modelId}, 'open', ${input.channel}, ${ms(input.at)},
          ${JSON.stringify([...new Set(input.windows)].sort((a, b) => a - b))}, ${JSON.stringify(input.view)})`.execute(
        trx,
      );
      return { alert: (await alert(id, trx))!, created: true };
    });

  return {
    async progress(monitor, modelId) {
      const row = (await first(
        db,
        sql`SELECT last_window_start FROM drift_progress WHERE monitor = ${monitor} AND model_id = ${modelId}`,
      )) as { last_window_start: number } | undefined;
      return row?.last_window_start;
    },
    async setProgress(monitor, modelId, lastWindowStart, at) {
      // CASE rather than SQLite's two-argument max(), which Postgres spells GREATEST.
      await sql`
        INSERT INTO drift_progress (monitor, model_id, last_window_start, updated_at)
        VALUES (${monitor}, ${modelId}, ${ms(lastWindowStart)}, ${ms(at)})
        ON CONFLICT (monitor, model_id) DO UPDATE SET
          last_window_start = CASE WHEN excluded.last_window_start > drift_progress.last_window_start
            THEN excluded.last_window_start ELSE drift_progress.last_window_start END,
          updated_at = excluded.updated_at`.execute(db);
    },
    async openAlert(monitor, rule, modelId) {
      const row = await selectOpen(db, monitor, rule, modelId);
      return row ? toAlert(row) : undefined;
    },
    alert: (id) => alert(id),
    openAlerts: async () =>
      (await all(db, sql`SELECT * FROM drift_alerts WHERE status = 'open' ORDER BY opened_at, id`)).map(
        toAlert,
      ),
    async createAlert(input) {
      try {
        return await createAlertOnce(input);
      } catch (e) {
        // Another replica opened the same alert at the same moment: the index kept one.
        if (!isUniqueViolation(e, OPEN_INDEX)) throw e;
        const existing = await selectOpen(db, input.monitor, input.rule, input.modelId);
        if (!existing) throw e;
        return { alert: toAlert(existing), created: false };
      }
    },
    async setAlertMessage(id, ts) {
      await sql`UPDATE drift_alerts SET ts = ${ts} WHERE id = ${id}`.execute(db);
    },
    recordWindows: (id, windows, view) =>
      db.transaction().execute(async (trx) => {
        const current = await alert(id, trx, true);
        if (!current) return undefined;
        const merged = [...new Set([...current.windows, ...windows])].sort((a, b) => a - b);
        await sql`UPDATE drift_alerts SET windows_json = ${JSON.stringify(merged)}, view_json = ${JSON.stringify(view)}
                  WHERE id = ${id}`.execute(trx);
        return alert(id, trx);
      }),
    async setView(id, view) {
      await sql`UPDATE drift_alerts SET view_json = ${JSON.stringify(view)} WHERE id = ${id}`.execute(db);
    },
    async snooze(id, until, by) {
      await sql`UPDATE drift_alerts SET snoozed_until = ${ms(until)}, snoozed_by = ${by}
                WHERE id = ${id} AND status = 'open'`.execute(db);
      return alert(id);
    },
    async acknowledge(id, by, at) {
      await sql`UPDATE drift_alerts SET acknowledged_by = ${by}, acknowledged_at = ${ms(at)}
                WHERE id = ${id} AND status = 'open'`.execute(db);
      return alert(id);
    },
    async reportedWindows(monitor, modelId, since) {
      const out = new Map<string, Set<number>>();
      const rows = await all(
        db,
        sql`SELECT rule, windows_json FROM drift_alerts
            WHERE monitor = ${monitor} AND model_id = ${modelId} AND (status = 'open' OR closed_at >= ${ms(since)})`,
      );
      for (const raw of rows) {
        const r = z.object({ rule: z.string(), windows_json: z.string() }).parse(raw);
        const set = out.get(r.rule) ?? new Set<number>();
        for (const w of z.array(z.number()).parse(JSON.parse(r.windows_json))) set.add(w);
        out.set(r.rule, set);
      }
      return out;
    },
    closeAlert: async (id, at) =>
      (await run(
        db,
        sql`UPDATE drift_alerts SET status = 'closed', closed_at = ${ms(at)} WHERE id = ${id} AND status = 'open'`,
      )) === 1,
    async failure(monitor) {
      const row = await selectFailure(db, monitor);
      return row ? toFailure(row) : undefined;
    },
    recordFailure: (monitor, input) =>
      db.transaction().execute(async (trx) => {
        const existing = await selectFailure(trx, monitor, true);
        if (existing) {
          await sql`UPDATE drift_failures SET last_at = ${ms(input.at)}, attempts = attempts + 1, code = ${input.code},
                      message = ${input.message} WHERE monitor = ${monitor}`.execute(trx);
        } else {
          await sql`INSERT INTO drift_failures (monitor, since, last_at, attempts, code, message, channel)
                    VALUES (${monitor}, ${ms(input.at)}, ${ms(input.at)}, 1, ${input.code}, ${input.message},
                      ${input.channel})`.execute(trx);
        }
        return { first: !existing, failure: toFailure(await selectFailure(trx, monitor)) };
      }),
    async setFailureMessage(monitor, ts) {
      await sql`UPDATE drift_failures SET ts = ${ts} WHERE monitor = ${monitor}`.execute(db);
    },
    recordMissedCheck: async (m) =>
      (await run(
        db,
        sql`INSERT INTO drift_missed_checks (monitor, scheduled_at, last_scheduled_at, runs, noticed_at)
            VALUES (${m.monitor}, ${ms(m.scheduledAt)}, ${ms(m.lastScheduledAt)}, ${m.runs}, ${ms(m.noticedAt)})
            ON CONFLICT DO NOTHING`,
      )) === 1,
    setMissedCheckCaughtUp: async (monitor, scheduledAt, at) =>
      (await run(
        db,
        sql`UPDATE drift_missed_checks SET caught_up_at = ${ms(at)}
            WHERE monitor = ${monitor} AND scheduled_at = ${ms(scheduledAt)} AND caught_up_at IS NULL`,
      )) === 1,
    async lastMissedCheck(monitor, since) {
      const raw = await first(
        db,
        sql`SELECT * FROM drift_missed_checks WHERE monitor = ${monitor} AND noticed_at >= ${ms(since)}
            ORDER BY noticed_at DESC, scheduled_at DESC LIMIT 1`,
      );
      if (!raw) return undefined;
      const r = missedRowSchema.parse(raw);
      return {
        monitor: r.monitor,
        scheduledAt: r.scheduled_at,
        lastScheduledAt: r.last_scheduled_at,
        runs: r.runs,
        noticedAt: r.noticed_at,
        ...(r.caught_up_at !== null ? { caughtUpAt: r.caught_up_at } : {}),
      };
    },
    clearFailure: (monitor) =>
      db.transaction().execute(async (trx) => {
        const row = await selectFailure(trx, monitor, true);
        if (!row) return undefined;
        await sql`DELETE FROM drift_failures WHERE monitor = ${monitor}`.execute(trx);
        return toFailure(row);
      }),
  };
}
