/**
 * What the drift watch remembers between checks and restarts, in SQLite (better-sqlite3) on the
 * process's one connection to the MODELGATE_DB file (its tables are migration 3 of
 * storage/migrations.ts):
 * - progress: the last complete window processed per monitor and model id (catch-up starts after it);
 * - alerts: one open alert at most per (monitor, rule, model id), with its Slack message, the windows it
 *   reported (never reported again), snooze and acknowledgement, and the view it was drawn from;
 * - failures: a failing check per monitor, reported once until it recovers;
 * - missed checks: scheduled checks that never ran on time (the process blocked or down), per streak.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
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
  progress(monitor: string, modelId: string): number | undefined;
  setProgress(monitor: string, modelId: string, lastWindowStart: number, at: number): void;
  openAlert(monitor: string, rule: string, modelId: string): DriftAlert | undefined;
  alert(id: string): DriftAlert | undefined;
  /** Every open alert, oldest first (the App Home lists them). */
  openAlerts(): DriftAlert[];
  /** Opens an alert; refuses (returns the existing one with `created: false`) if one is open already. */
  createAlert(input: NewAlert): { alert: DriftAlert; created: boolean };
  setAlertMessage(id: string, ts: string): void;
  /** Adds reported windows and replaces the view. */
  recordWindows(id: string, windows: readonly number[], view: AlertView): DriftAlert | undefined;
  setView(id: string, view: AlertView): void;
  snooze(id: string, until: number, by: string): DriftAlert | undefined;
  acknowledge(id: string, by: string, at: number): DriftAlert | undefined;
  /**
   * The windows (starts, ms) any alert of a model id has reported, per rule: every open alert, and
   * every alert closed at or after `since` (one closed earlier reported only windows before `since`).
   * A window judged again (late labels) is alerted only if it is not in here.
   */
  reportedWindows(monitor: string, modelId: string, since: number): Map<string, Set<number>>;
  /** Compare-and-set open → closed; false when it was closed already. */
  closeAlert(id: string, at: number): boolean;
  failure(monitor: string): DriftFailure | undefined;
  /** Records a failed check; `first` is true when the monitor was healthy until now. */
  recordFailure(
    monitor: string,
    input: { code: string; message: string; channel: string; at: number },
  ): { first: boolean; failure: DriftFailure };
  setFailureMessage(monitor: string, ts: string): void;
  /** Clears the failure of a monitor that works again, returning what it was. */
  clearFailure(monitor: string): DriftFailure | undefined;
  /** Records a streak of missed checks; false when that streak was recorded already. */
  recordMissedCheck(m: Omit<MissedCheck, 'caughtUpAt'>): boolean;
  /** Compare-and-set: marks the streak caught up, once. */
  setMissedCheckCaughtUp(monitor: string, scheduledAt: number, at: number): boolean;
  /** The latest missed streak noticed at or after `since`. */
  lastMissedCheck(monitor: string, since: number): MissedCheck | undefined;
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

/**
 * The drift state over the process's database connection (storage/database.ts opens and migrates
 * it; whoever opened it closes it).
 *
 * @example
 * const state = createDriftStateStore(openDatabase(config.dbPath));
 * state.setProgress('churn', '*', Date.parse('2026-11-19'), Date.now());
 */
export function createDriftStateStore(db: Database.Database): DriftStateStore {
  const selectProgress = db.prepare(
    'SELECT last_window_start FROM drift_progress WHERE monitor = ? AND model_id = ?',
  );
  const upsertProgress = db.prepare(`
    INSERT INTO drift_progress (monitor, model_id, last_window_start, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (monitor, model_id) DO UPDATE SET
      last_window_start = max(last_window_start, excluded.last_window_start), updated_at = excluded.updated_at`);
  const selectOpen = db.prepare(
    "SELECT * FROM drift_alerts WHERE monitor = ? AND rule = ? AND model_id = ? AND status = 'open'",
  );
  const selectAlert = db.prepare('SELECT * FROM drift_alerts WHERE id = ?');
  const insertAlert = db.prepare(`
    INSERT INTO drift_alerts (id, monitor, rule, model_id, status, channel, opened_at, windows_json, view_json)
    VALUES (@id, @monitor, @rule, @model_id, 'open', @channel, @at, @windows_json, @view_json)`);
  const selectFailure = db.prepare('SELECT * FROM drift_failures WHERE monitor = ?');
  const selectReported = db.prepare(`
    SELECT rule, windows_json FROM drift_alerts
    WHERE monitor = ? AND model_id = ? AND (status = 'open' OR closed_at >= ?)`);

  const alert = (id: string) => {
    const row = selectAlert.get(id);
    return row ? toAlert(row) : undefined;
  };

  return {
    progress(monitor, modelId) {
      const row = selectProgress.get(monitor, modelId) as { last_window_start: number } | undefined;
      return row?.last_window_start;
    },
    setProgress(monitor, modelId, lastWindowStart, at) {
      upsertProgress.run(monitor, modelId, lastWindowStart, at);
    },
    openAlert(monitor, rule, modelId) {
      const row = selectOpen.get(monitor, rule, modelId);
      return row ? toAlert(row) : undefined;
    },
    alert,
    openAlerts: () =>
      db
        .prepare("SELECT * FROM drift_alerts WHERE status = 'open' ORDER BY opened_at, id")
        .all()
        .map(toAlert),
    createAlert(input) {
      return db
        .transaction(() => {
          const existing = selectOpen.get(input.monitor, input.rule, input.modelId);
          if (existing) return { alert: toAlert(existing), created: false };
          const id = `da_${randomBytes(6).toString('hex')}`;
          insertAlert.run({
            id,
            monitor: input.monitor,
            rule: input.rule,
            model_id: input.modelId,
            channel: input.channel,
            at: input.at,
            windows_json: JSON.stringify([...new Set(input.windows)].sort((a, b) => a - b)),
            view_json: JSON.stringify(input.view),
          });
          return { alert: alert(id)!, created: true };
        })
        .immediate();
    },
    setAlertMessage(id, ts) {
      db.prepare('UPDATE drift_alerts SET ts = ? WHERE id = ?').run(ts, id);
    },
    recordWindows(id, windows, view) {
      return db
        .transaction(() => {
          const current = alert(id);
          if (!current) return undefined;
          const all = [...new Set([...current.windows, ...windows])].sort((a, b) => a - b);
          db.prepare('UPDATE drift_alerts SET windows_json = ?, view_json = ? WHERE id = ?').run(
            JSON.stringify(all),
            JSON.stringify(view),
            id,
          );
          return alert(id);
        })
        .immediate();
    },
    setView(id, view) {
      db.prepare('UPDATE drift_alerts SET view_json = ? WHERE id = ?').run(JSON.stringify(view), id);
    },
    snooze(id, until, by) {
      db.prepare(
        "UPDATE drift_alerts SET snoozed_until = ?, snoozed_by = ? WHERE id = ? AND status = 'open'",
      ).run(until, by, id);
      return alert(id);
    },
    acknowledge(id, by, at) {
      db.prepare(
        "UPDATE drift_alerts SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ? AND status = 'open'",
      ).run(by, at, id);
      return alert(id);
    },
    reportedWindows(monitor, modelId, since) {
      const out = new Map<string, Set<number>>();
      for (const raw of selectReported.all(monitor, modelId, since)) {
        const r = z.object({ rule: z.string(), windows_json: z.string() }).parse(raw);
        const set = out.get(r.rule) ?? new Set<number>();
        for (const w of z.array(z.number()).parse(JSON.parse(r.windows_json))) set.add(w);
        out.set(r.rule, set);
      }
      return out;
    },
    closeAlert(id, at) {
      return (
        db
          .prepare(
            "UPDATE drift_alerts SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'",
          )
          .run(at, id).changes === 1
      );
    },
    failure(monitor) {
      const row = selectFailure.get(monitor);
      return row ? toFailure(row) : undefined;
    },
    recordFailure(monitor, input) {
      return db
        .transaction(() => {
          const existing = selectFailure.get(monitor);
          if (existing) {
            db.prepare(
              'UPDATE drift_failures SET last_at = ?, attempts = attempts + 1, code = ?, message = ? WHERE monitor = ?',
            ).run(input.at, input.code, input.message, monitor);
          } else {
            db.prepare(
              'INSERT INTO drift_failures (monitor, since, last_at, attempts, code, message, channel) VALUES (?, ?, ?, 1, ?, ?, ?)',
            ).run(monitor, input.at, input.at, input.code, input.message, input.channel);
          }
          return { first: !existing, failure: toFailure(selectFailure.get(monitor)) };
        })
        .immediate();
    },
    setFailureMessage(monitor, ts) {
      db.prepare('UPDATE drift_failures SET ts = ? WHERE monitor = ?').run(ts, monitor);
    },
    recordMissedCheck(m) {
      return (
        db
          .prepare(
            'INSERT OR IGNORE INTO drift_missed_checks (monitor, scheduled_at, last_scheduled_at, runs, noticed_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(m.monitor, m.scheduledAt, m.lastScheduledAt, m.runs, m.noticedAt).changes === 1
      );
    },
    setMissedCheckCaughtUp(monitor, scheduledAt, at) {
      return (
        db
          .prepare(
            'UPDATE drift_missed_checks SET caught_up_at = ? WHERE monitor = ? AND scheduled_at = ? AND caught_up_at IS NULL',
          )
          .run(at, monitor, scheduledAt).changes === 1
      );
    },
    lastMissedCheck(monitor, since) {
      const raw = db
        .prepare(
          'SELECT * FROM drift_missed_checks WHERE monitor = ? AND noticed_at >= ? ORDER BY noticed_at DESC, scheduled_at DESC LIMIT 1',
        )
        .get(monitor, since);
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
    clearFailure(monitor) {
      return db
        .transaction(() => {
          const row = selectFailure.get(monitor);
          if (!row) return undefined;
          db.prepare('DELETE FROM drift_failures WHERE monitor = ?').run(monitor);
          return toFailure(row);
        })
        .immediate();
    },
  };
}
