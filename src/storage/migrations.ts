/**
 * The one migration list for every table in the database file: changes and the audit log, approval
 * requests and votes, the drift watch's state. The schema version is the number of migrations applied,
 * kept in the single row of `schema_version`. Append new migrations at the end; never edit one that
 * shipped (a file out there already ran it). Each migration is literal SQL, not built from the stores'
 * constants, so changing a constant cannot silently change history.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  /** What it adds, for error messages and the README. */
  name: string;
  sql: string;
}

/** Migrations in order; version N means the first N have run. */
export const MIGRATIONS: readonly Migration[] = [
  {
    // Shipped as MIGRATIONS[0] of changes/store.ts (schema_version 1).
    name: 'changes and the append-only audit log',
    sql: `
  CREATE TABLE changes (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    requester TEXT NOT NULL,
    channel TEXT NOT NULL,
    subcommand TEXT NOT NULL,
    target TEXT NOT NULL,
    input_json TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'cancelled', 'stale', 'applying', 'rolling_out', 'succeeded', 'failed', 'timed_out')),
    applied_by TEXT,
    applied_at INTEGER,
    expect_config_version INTEGER,
    message_channel TEXT,
    message_ts TEXT,
    message_finished INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    error TEXT,
    replaced_by TEXT,
    trigger_id TEXT
  );
  -- One change per endpoint (or alias) at a time, whatever the callers do.
  CREATE UNIQUE INDEX changes_one_active_per_target ON changes (target) WHERE status IN ('applying', 'rolling_out');
  -- A Slack retry of the same command carries the same trigger id.
  CREATE UNIQUE INDEX changes_trigger_id ON changes (trigger_id) WHERE trigger_id IS NOT NULL;
  CREATE INDEX changes_target_status ON changes (target, status, updated_at);

  CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    change_id TEXT,
    before_json TEXT,
    after_json TEXT,
    outcome TEXT,
    detail TEXT
  );
  CREATE INDEX audit_target ON audit (target, seq);
  CREATE INDEX audit_change ON audit (change_id, seq);
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
  },
  {
    // Shipped as APPROVALS_MIGRATION of approvals/store.ts (schema_version 2).
    name: 'approval requests and votes',
    sql: `
  CREATE TABLE approval_requests (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    gate TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('change', 'retrain')),
    requester TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    target TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    evidence_json TEXT,
    required INTEGER NOT NULL CHECK (required >= 1),
    approvers_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'executing', 'executed', 'failed', 'rejected', 'expired', 'superseded')),
    decided_by TEXT,
    decided_at INTEGER,
    reason TEXT,
    outcome TEXT,
    message_channel TEXT,
    message_ts TEXT,
    shown_status TEXT,
    trigger_id TEXT,
    attempt TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_id INTEGER
  );
  -- A Slack retry of the command that asked carries the same trigger id.
  CREATE UNIQUE INDEX approval_requests_trigger_id ON approval_requests (trigger_id) WHERE trigger_id IS NOT NULL;
  CREATE INDEX approval_requests_status ON approval_requests (status, expires_at);
  CREATE INDEX approval_requests_target ON approval_requests (target, created_at);

  CREATE TABLE approval_votes (
    request_id TEXT NOT NULL REFERENCES approval_requests (id),
    voter TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (request_id, voter)
  );
`,
  },
  {
    // Shipped as MIGRATIONS[0] of drift/state-store.ts, tracked apart in drift_schema_version 1.
    // IF NOT EXISTS because a file from before storage/ may hold these tables already, whatever its
    // schema_version says (see adoptDriftTracker); the definitions are the ones that shipped.
    name: 'drift watch state (progress, alerts, failures)',
    sql: `
  CREATE TABLE IF NOT EXISTS drift_progress (
    monitor TEXT NOT NULL,
    model_id TEXT NOT NULL,
    last_window_start INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (monitor, model_id)
  );
  CREATE TABLE IF NOT EXISTS drift_alerts (
    id TEXT PRIMARY KEY,
    monitor TEXT NOT NULL,
    rule TEXT NOT NULL,
    model_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    channel TEXT NOT NULL,
    ts TEXT,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    snoozed_until INTEGER,
    snoozed_by TEXT,
    acknowledged_by TEXT,
    acknowledged_at INTEGER,
    windows_json TEXT NOT NULL,
    view_json TEXT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS drift_alerts_one_open ON drift_alerts (monitor, rule, model_id) WHERE status = 'open';
  CREATE TABLE IF NOT EXISTS drift_failures (
    monitor TEXT PRIMARY KEY,
    since INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    channel TEXT NOT NULL,
    ts TEXT
  );
  `,
  },
  {
    // Drift watch, late ticks (issue 12): scheduled checks that never ran on time, one row per streak.
    name: 'drift watch: missed scheduled checks',
    sql: `
  CREATE TABLE drift_missed_checks (
    monitor TEXT NOT NULL,
    scheduled_at INTEGER NOT NULL,
    last_scheduled_at INTEGER NOT NULL,
    runs INTEGER NOT NULL,
    noticed_at INTEGER NOT NULL,
    caught_up_at INTEGER,
    PRIMARY KEY (monitor, scheduled_at)
  );
  `,
  },
  {
    // Owned work (issue #12): who runs each change and execution in flight, and since when it last
    // said so; and the one live process a SQLite file admits.
    name: 'owners and heartbeats of work in flight; the process lock',
    sql: `
  ALTER TABLE changes ADD COLUMN owner TEXT;
  ALTER TABLE changes ADD COLUMN heartbeat_at INTEGER;
  ALTER TABLE approval_requests ADD COLUMN owner TEXT;
  ALTER TABLE approval_requests ADD COLUMN heartbeat_at INTEGER;
  CREATE TABLE process_lock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    instance TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    acquired_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
  );
  `,
  },
  {
    // The ledger of every change (issue #12): what each watched endpoint served and where each alias
    // pointed, one row per difference seen, the bot's matched to their change ids.
    name: 'ledger of changes to endpoints and aliases',
    sql: `
  CREATE TABLE ledger_entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    target_json TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('baseline', 'bot', 'out_of_band')),
    change_id TEXT,
    actor TEXT,
    facts_json TEXT,
    at INTEGER NOT NULL,
    detected_at INTEGER NOT NULL,
    not_before INTEGER,
    notify_channel TEXT,
    posted_at INTEGER,
    message_channel TEXT,
    message_ts TEXT,
    post_error TEXT,
    post_attempts INTEGER NOT NULL DEFAULT 0,
    -- A process posting the entry holds it until then, so two never post it at once.
    post_claimed_until INTEGER
  );
  CREATE INDEX ledger_entries_target ON ledger_entries (target, seq);
  -- One bot change explains one difference.
  CREATE UNIQUE INDEX ledger_entries_change ON ledger_entries (change_id) WHERE change_id IS NOT NULL;
  CREATE INDEX ledger_entries_unposted ON ledger_entries (seq) WHERE notify_channel IS NOT NULL AND posted_at IS NULL;
  `,
  },
  {
    // Issue #12, the store's history marker (storage/store-identity.ts): one row, written with the
    // table; `opened` counts the starts, and the marker file beside the database repeats both.
    name: 'the store identity that tells a new store from one that lost its history',
    sql: `
  CREATE TABLE store_identity (
    id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    opened INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO store_identity (id, created_at) VALUES (lower(hex(randomblob(16))), CAST(strftime('%s', 'now') AS INTEGER) * 1000);
  `,
  },
  {
    // Outbox for Slack (issue #12): every message the bot owes, stored before it is sent, and the
    // latest response_url of each user (to tell them another way when Slack refuses a message).
    name: 'slack outbox and reply routes',
    sql: `
  CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    owed_since INTEGER,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    ts TEXT,
    posted_channel TEXT,
    body_json TEXT NOT NULL,
    version INTEGER NOT NULL,
    delivered_version INTEGER NOT NULL DEFAULT 0,
    final INTEGER NOT NULL DEFAULT 0,
    requester TEXT,
    about_target TEXT,
    about_change TEXT,
    status TEXT NOT NULL CHECK (status IN ('owed', 'delivered', 'undeliverable')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    notified_version INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
  CREATE UNIQUE INDEX outbox_posted ON outbox (posted_channel, ts) WHERE ts IS NOT NULL;

  CREATE TABLE reply_routes (
    user_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0
  );
  `,
  },
  {
    // Canary rollouts (issue #15): one row per rollout; one holding rollout per endpoint.
    name: 'canary rollouts',
    sql: `
  CREATE TABLE rollouts (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    rev BIGINT NOT NULL,
    requester TEXT NOT NULL,
    channel TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    state TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    body_json TEXT NOT NULL,
    next_at BIGINT,
    trigger_id TEXT UNIQUE,
    message_channel TEXT,
    message_ts TEXT,
    owner TEXT,
    lease_until BIGINT
  );
  CREATE UNIQUE INDEX rollouts_one_per_endpoint ON rollouts (endpoint)
    WHERE state IN ('stepping', 'analysing', 'paused', 'promoting', 'rolling_back');
  CREATE INDEX rollouts_by_state ON rollouts (state, created_at);
`,
  },
  {
    // Replicas (#13, scheduler leadership): one lease row per leader-only role; `term` is the fencing token.
    name: 'scheduler leadership lease',
    sql: `
  CREATE TABLE leadership (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    term BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    renewed_at BIGINT NOT NULL,
    since BIGINT NOT NULL
  );
  `,
  },
  {
    // Notifications (issue #14): each approver's DM of a request (to update it with the card), the
    // requester's notices claimed once per event, and each person's DM channel (opened once).
    name: 'approval notifications: approver DMs, requester notices, DM channels',
    sql: `
  CREATE TABLE approval_dms (
    request_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    channel TEXT,
    ts TEXT,
    error TEXT,
    PRIMARY KEY (request_id, user_id)
  );

  CREATE TABLE approval_notices (
    request_id TEXT NOT NULL,
    event TEXT NOT NULL,
    recipient TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    how TEXT,
    PRIMARY KEY (request_id, event)
  );

  CREATE TABLE dm_channels (
    user_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    opened_at BIGINT NOT NULL
  );
  `,
  },
  {
    // Drift alerts readable at a glance (issue #14): one Retrain per model per alert episode
    // (drift/retrain-store.ts). One row per (monitor, model id), its generation bumped per episode; the
    // alerts each episode covers. Plain SQL that runs unchanged on SQLite and PostgreSQL.
    name: 'drift: one retraining request per model per alert episode',
    sql: `
  CREATE TABLE drift_retrains (
    key TEXT PRIMARY KEY,
    monitor TEXT NOT NULL,
    model_id TEXT NOT NULL,
    generation BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('requesting', 'requested', 'failed')),
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    request_json TEXT
  );
  CREATE TABLE drift_retrain_alerts (
    alert_id TEXT NOT NULL,
    key TEXT NOT NULL,
    generation BIGINT NOT NULL,
    PRIMARY KEY (alert_id, key, generation)
  );
  `,
  },
  {
    // App Home (issue #14, H4): who opened the Home tab, how often, and on which opening the
    // "getting started" was shown.
    name: 'app home visitors',
    sql: `
      CREATE TABLE IF NOT EXISTS home_users (
        user_id TEXT PRIMARY KEY,
        first_opened_at BIGINT NOT NULL,
        last_opened_at BIGINT NOT NULL,
        opens BIGINT NOT NULL,
        welcomed_open BIGINT
      );
    `,
  },
  {
    // Issue #16 (monitor set-up, automatic retrain requests, batch scoring): src/scoring/store.ts,
    // src/monitoring/store.ts, src/monitoring/auto-retrain-store.ts. Portable SQL (SQLite and Postgres).
    name: 'batch scoring runs, monitor set-ups and refreshes, automatic retrain episodes',
    sql: `
  CREATE TABLE score_runs (
    id TEXT PRIMARY KEY,
    trigger_id TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    requester TEXT NOT NULL,
    channel TEXT NOT NULL,
    model TEXT NOT NULL,
    version BIGINT NOT NULL,
    alias TEXT,
    model_uri TEXT NOT NULL,
    input_table TEXT NOT NULL,
    output_table TEXT NOT NULL,
    job_id BIGINT NOT NULL,
    run_id BIGINT,
    status TEXT NOT NULL CHECK (status IN ('starting', 'running', 'succeeded', 'failed', 'unfollowed')),
    message_channel TEXT,
    message_ts TEXT,
    result_json TEXT
  );
  CREATE INDEX score_runs_status ON score_runs (status);

  CREATE TABLE monitor_ops (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('create', 'refresh')),
    trigger_id TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    requester TEXT NOT NULL,
    channel TEXT NOT NULL,
    monitor TEXT NOT NULL,
    monitored_table TEXT NOT NULL,
    spec_json TEXT,
    refresh_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'cancelled', 'working', 'succeeded', 'failed')),
    decided_by TEXT,
    message_channel TEXT,
    message_ts TEXT,
    result_json TEXT
  );
  CREATE INDEX monitor_ops_status ON monitor_ops (status);

  CREATE TABLE auto_retrain_episodes (
    monitor TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    violations BIGINT NOT NULL,
    requested INTEGER NOT NULL DEFAULT 0,
    closed_at BIGINT,
    PRIMARY KEY (monitor, opened_at)
  );
  CREATE UNIQUE INDEX auto_retrain_one_open ON auto_retrain_episodes (monitor) WHERE status = 'open';
  `,
  },
  {
    // Deployment-job approvals (issue #16): one row per deployment-job run the bot asked approval
    // for; the tag and the repair are compare-and-set, so neither happens twice (deployment-jobs/store.ts).
    name: 'deployment-job approvals',
    sql: `
  CREATE TABLE deployment_approvals (
    job_id BIGINT NOT NULL,
    run_id BIGINT NOT NULL,
    model TEXT NOT NULL,
    version BIGINT NOT NULL,
    request_id TEXT,
    tag_state TEXT NOT NULL,
    tag_set_at BIGINT,
    repair_state TEXT NOT NULL,
    repair_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (job_id, run_id)
  );
  CREATE UNIQUE INDEX deployment_approvals_request ON deployment_approvals (request_id);
  `,
  },
];

/** The tracker the drift state had before storage/ (one row, version 1 = the drift migration above). */
const LEGACY_DRIFT_TRACKER = 'drift_schema_version';
const LEGACY_DRIFT_VERSION = 1;

/** A database written by a newer modelgate: refused, never migrated down. */
export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
  constructor(
    readonly file: string,
    readonly found: number,
    readonly supported: number,
    readonly tracker: string,
  ) {
    super(
      `The database ${file} has schema version ${found} (${tracker}), but this modelgate knows versions up to ${supported}: a newer modelgate wrote it. ` +
        'Run that newer modelgate (or a later one) against it, or point MODELGATE_DB at another file. It is never migrated down.',
    );
  }
}

const hasTable = (db: Database.Database, name: string): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

function versionIn(db: Database.Database, table: string): number {
  if (!hasTable(db, table)) return 0;
  // An empty tracker table is a start-up that died before its first migration committed.
  const row = db.prepare(`SELECT max(version) AS version FROM ${table}`).get() as { version: number | null };
  return row.version ?? 0;
}

/**
 * Adopts the layout written before storage/: the drift state kept its own tracker, and its tables
 * may exist whatever `schema_version` says. The four cases, all inside migrate's transaction:
 * - neither tracker (a new file): every migration runs;
 * - only `schema_version` (the drift watch never ran): migrations from that version on run, the drift
 *   tables are created;
 * - only `drift_schema_version` (drift state alone, e.g. a drift-only tool): the change and approval
 *   tables are created, the drift migration finds its tables (IF NOT EXISTS);
 * - both: the same, from `schema_version`'s version.
 * A drift tracker above 1 comes from a newer modelgate and is refused; otherwise it is dropped, so the
 * file ends with one tracker.
 */
function adoptDriftTracker(db: Database.Database): void {
  const drift = versionIn(db, LEGACY_DRIFT_TRACKER);
  if (drift > LEGACY_DRIFT_VERSION) {
    throw new SchemaTooNewError(db.name, drift, LEGACY_DRIFT_VERSION, LEGACY_DRIFT_TRACKER);
  }
  if (hasTable(db, LEGACY_DRIFT_TRACKER)) db.exec(`DROP TABLE ${LEGACY_DRIFT_TRACKER}`);
}

/**
 * Brings the database to the latest schema in one IMMEDIATE transaction (two processes starting at
 * once take turns; a failed migration leaves the file as it was). Idempotent: a file at the latest
 * version is left alone. Returns the version the file is at now.
 *
 * @example migrate(db); // 3 on a new file, and again on every later open
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  return db
    .transaction((): number => {
      const current = versionIn(db, 'schema_version');
      if (current > migrations.length) {
        throw new SchemaTooNewError(db.name, current, migrations.length, 'schema_version');
      }
      const legacy = hasTable(db, LEGACY_DRIFT_TRACKER);
      if (legacy) adoptDriftTracker(db);
      if (current === migrations.length && !legacy) return current;
      for (const migration of migrations.slice(current)) db.exec(migration.sql);
      db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      db.exec('DELETE FROM schema_version');
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(migrations.length);
      return migrations.length;
    })
    .immediate();
}
