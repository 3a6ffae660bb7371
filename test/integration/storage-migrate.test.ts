/**
 * A database file written by modelgate at d8a0488 (two connections, two trackers: `schema_version` for
 * changes and approvals, `drift_schema_version` for the drift state) opens with today's one connection
 * and one migration list, and keeps every row. test/fixtures/db/generate-d8a0488.ts wrote the file.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RetrainApprovalPlan } from '../../src/approvals/request-plan.js';
import { APPROVAL_STATUSES } from '../../src/approvals/state.js';
import { CHANGE_STATUSES, createChangeStore } from '../../src/changes/store.js';
import type { EndpointPlan } from '../../src/domain/change.js';
import type { EndpointConfig } from '../../src/domain/ports/serving.js';
import type { DeployCommand } from '../../src/domain/vocabulary.js';
import type { AlertView } from '../../src/drift/alert-view.js';
import { createDriftStateStore } from '../../src/drift/state-store.js';
import {
  openDatabase,
  type SqliteDatabase,
  type StoreDatabase,
  sqliteStore,
} from '../../src/storage/database.js';
import { MIGRATIONS, migrate, SchemaTooNewError } from '../../src/storage/migrations.js';
import { openStores } from '../support/stores.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'db');
const ids = JSON.parse(readFileSync(join(FIXTURES, 'written-by-d8a0488.ids.json'), 'utf8')) as Record<
  string,
  string
>;
const T0 = Date.parse('2026-03-02T09:00:00Z');
const DAY = 86_400_000;
const MODEL = 'acme.mlops.churn_model';

// What the generator wrote, restated.
const config = (version: number): EndpointConfig => ({
  servedVersions: [
    {
      name: `churn_model-${version}`,
      modelName: MODEL,
      modelVersion: String(version),
      workloadSize: 'Small',
      scaleToZero: true,
    },
  ],
  traffic: [{ servedName: `churn_model-${version}`, percent: 100 }],
  configVersion: version,
});
const deployPlan = (endpoint: string, from: number, to: number): EndpointPlan => ({
  kind: 'endpoint',
  subcommand: 'deploy',
  endpoint,
  create: false,
  before: config(from),
  after: config(to),
  fingerprint: `fp-${endpoint}-${from}`,
});
const deployInput = (endpoint: string, to: number): DeployCommand => ({
  subcommand: 'deploy',
  model: MODEL,
  target: { version: to },
  endpoint,
  dryRun: false,
});
const retrainPlan: RetrainApprovalPlan = {
  kind: 'retrain',
  model: MODEL,
  jobId: 1001,
  jobName: 'churn-retrain',
  parameters: { window: '30d' },
  monitor: 'churn',
  reason: 'drift on f1_score',
  fingerprint: 'job-f1',
};
const approvers = { users: ['U0APPROVER1', 'U0APPROVER2'], groups: ['S0MLOPS'] };
const alertView = (monitor: string, checkedAt: number): AlertView => ({
  monitor,
  rule: 'f1_drop',
  ruleText: 'f1_score.macro < 0.5',
  model: MODEL,
  modelId: '*',
  terms: [{ key: 'f1_score.macro', label: 'F1', direction: 'below', threshold: 0.5 }],
  windows: [
    { start: 100, end: 200, partial: false, status: 'violation', values: { 'f1_score.macro': 0.41 } },
  ],
  counts: { rule: 1, perRule: { f1_drop: 1 }, total: 1, windows: 30, history: 30 },
  trends: [{ label: 'F1', from: 0.6, to: 0.41, span: 7, verdict: 'worsening' }],
  retrain: true,
  checkedAt,
});

let dir: string;
let path: string;
const open: SqliteDatabase[] = [];
/** The stores over a raw connection of the test's (several wrappers may share one). */
const over = (db: SqliteDatabase): StoreDatabase => sqliteStore(db);
const openDb = (p = path): SqliteDatabase => {
  const db = openDatabase(p).sqlite!;
  open.push(db);
  return db;
};

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-migrate-'));
  path = join(dir, 'modelgate.db');
  copyFileSync(join(FIXTURES, 'written-by-d8a0488.sqlite'), path);
});
afterEach(async () => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Tables, indexes and triggers as SQLite keeps them, whitespace folded. */
function schemaOf(db: Database.Database): Array<{ type: string; name: string; sql: string | null }> {
  const rows = db
    .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
    .all() as Array<{ type: string; name: string; sql: string | null }>;
  return rows.map((r) => ({ ...r, sql: r.sql?.replace(/\s+/g, ' ') ?? null }));
}

const trackers = (db: Database.Database) =>
  (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%schema_version'")
      .all() as Array<{ name: string }>
  ).map((r) => r.name);

/** Edits the fixture copy with a plain connection, to stand for the other old layouts. */
function rawEdit(sql: string): void {
  const raw = new Database(path);
  raw.exec(sql);
  raw.close();
}

describe('a database written by d8a0488', () => {
  it('is the layout this test is about: two trackers on one file', async () => {
    const raw = new Database(path, { readonly: true });
    expect(trackers(raw).sort()).toEqual(['drift_schema_version', 'schema_version']);
    expect(raw.prepare('SELECT version FROM schema_version').get()).toEqual({ version: 2 });
    expect(raw.prepare('SELECT version FROM drift_schema_version').get()).toEqual({ version: 1 });
    raw.close();
  });

  it('opens with one tracker at the latest version, and the schema of a new database', async () => {
    const db = openDb();
    expect(trackers(db)).toEqual(['schema_version']);
    expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: MIGRATIONS.length }]);
    const fresh = openDb(join(dir, 'fresh.db'));
    expect(schemaOf(db)).toEqual(schemaOf(fresh));
  });

  it('keeps every change, in every status, with its plan, input, message and outcome', async () => {
    const store = createChangeStore(over(openDb()));
    expect(await store.get(ids.proposed!)).toEqual({
      id: ids.proposed,
      createdAt: T0 + 1000,
      updatedAt: T0 + 1000,
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      subcommand: 'deploy',
      target: 'endpoint:proposed-endpoint',
      input: deployInput('proposed-endpoint', 2),
      plan: deployPlan('proposed-endpoint', 1, 2),
      status: 'proposed',
      messageFinished: false,
      triggerId: 'trigger.proposed',
    });
    expect(await store.get(ids.cancelled!)).toMatchObject({
      status: 'cancelled',
      target: 'endpoint:cancelled-endpoint',
    });
    expect(await store.get(ids.succeeded!)).toMatchObject({
      status: 'succeeded',
      createdAt: T0 + 3000,
      updatedAt: T0 + 4000,
      appliedBy: 'U0APPLY',
      appliedAt: T0 + 4000,
      expectConfigVersion: 3,
      message: { channel: 'C0MLOPS', ts: '1772442000.000100' },
      messageFinished: true,
      outcome: 'churn-endpoint serves churn_model v3',
      plan: deployPlan('churn-endpoint', 2, 3),
    });
    expect(await store.get(ids.failed!)).toMatchObject({
      status: 'failed',
      appliedBy: 'U0APPLY',
      message: { channel: 'C0MLOPS', ts: '1772442000.000200' },
      messageFinished: false,
      error: 'the build of churn_model v2 failed',
    });
    expect(await store.get(ids.timed_out!)).toMatchObject({
      status: 'timed_out',
      expectConfigVersion: 2,
      error: 'no ready config after 20 minutes',
    });
    expect(await store.get(ids.stale!)).toMatchObject({
      status: 'stale',
      subcommand: 'promote',
      target: 'alias:acme.mlops.churn_model@champion',
      replacedBy: ids.replacement,
      plan: { kind: 'alias', alias: 'Champion', fromVersion: 2, toVersion: 3 },
      input: { subcommand: 'promote', version: 3, alias: 'Champion' },
    });
    expect(await store.get(ids.replacement!)).toMatchObject({ status: 'proposed', createdAt: T0 + 9000 });
    // What a restart reads: the rollout in flight, the message left unfinished, rollback's config.
    expect(
      (await store.inFlight()).map((c) => [c.id, c.status, c.expectConfigVersion, c.message?.ts]),
    ).toEqual([[ids.rolling_out, 'rolling_out', 5, '1772442000.000300']]);
    expect((await store.unfinishedMessages()).map((c) => c.id)).toEqual([ids.failed]);
    expect(await store.previousConfig('churn-endpoint')).toEqual(config(2));
  });

  it('keeps the audit log in order, and its rules: append-only, one change per target, retries dropped', async () => {
    const db = openDb();
    const store = createChangeStore(over(db));
    const audit = await store.recentAudit({ limit: 100 });
    expect(audit.map((a) => a.seq)).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));
    expect(audit.at(-1)).toMatchObject({
      at: T0 + 1000,
      actor: 'U0REQUEST',
      action: 'proposed',
      target: 'endpoint:proposed-endpoint',
      changeId: ids.proposed,
      before: config(1),
      after: config(2),
    });
    expect((await store.recentAudit({ changeId: ids.succeeded! }))[0]).toMatchObject({
      actor: 'U0APPLY',
      action: 'succeeded',
      before: config(2),
      after: config(3),
      outcome: 'succeeded',
    });
    expect(await store.recentAudit({ action: 'note' })).toEqual([
      {
        seq: 11,
        at: T0 + 10_000,
        actor: 'U0OPS',
        action: 'note',
        target: 'endpoint:churn-endpoint',
        detail: 'checked by hand',
      },
    ]);
    expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);

    const busy = (
      await store.createProposal({
        requester: 'U0REQUEST',
        channel: 'C0MLOPS',
        input: deployInput('busy-endpoint', 6),
        plan: deployPlan('busy-endpoint', 5, 6),
      })
    ).change;
    expect(await store.transition(busy.id, 'proposed', 'applying')).toMatchObject({
      won: false,
      reason: 'target_busy',
    });
    const retry = await store.createProposal({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      input: deployInput('proposed-endpoint', 2),
      plan: deployPlan('proposed-endpoint', 1, 2),
      triggerId: 'trigger.proposed',
    });
    expect(retry).toMatchObject({ duplicate: true, change: { id: ids.proposed } });
    // New rows follow the old ones.
    expect((await store.recentAudit({ limit: 1 }))[0]?.seq).toBe(26);
  });

  it('keeps every approval request with its votes, decision, execution and message', async () => {
    const approvals = openStores(over(openDb())).approvals;
    expect(await approvals.get(ids.approval_pending!)).toMatchObject({
      gate: 'production',
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      target: 'endpoint:churn-endpoint',
      plan: {
        kind: 'change',
        steps: [{ input: deployInput('churn-endpoint', 4), plan: deployPlan('churn-endpoint', 3, 4) }],
      },
      required: 2,
      approvers,
      status: 'pending',
      createdAt: T0 + 11_000,
      expiresAt: T0 + 11_000 + DAY,
      votes: [{ voter: 'U0APPROVER1', at: T0 + 11_000 }],
      message: { channel: 'C0MLOPS', ts: '1772442000.000400' },
      shownStatus: 'pending',
      triggerId: 'trigger.approval',
      attempts: 0,
    });
    expect(await approvals.get(ids.approval_executing!)).toMatchObject({
      gate: 'retrain',
      target: `retrain:${MODEL}`,
      plan: retrainPlan,
      status: 'executing',
      votes: [
        { voter: 'U0APPROVER1', at: T0 + 12_000 },
        { voter: 'U0APPROVER2', at: T0 + 12_500 },
      ],
      decidedBy: 'U0APPROVER2',
      decidedAt: T0 + 12_500,
      attempt: ids.approval_executing_attempt,
      attempts: 1,
      runId: 777,
    });
    expect(await approvals.get(ids.approval_executed!)).toMatchObject({
      status: 'executed',
      runId: 778,
      outcome: 'run 778 succeeded',
    });
    expect(await approvals.get(ids.approval_rejected!)).toMatchObject({
      status: 'rejected',
      decidedBy: 'U0APPROVER1',
      reason: 'not before the freeze ends',
    });
    expect((await approvals.pending()).map((r) => r.id)).toEqual([ids.approval_pending]);
    expect((await approvals.inFlight()).map((r) => r.id)).toEqual([ids.approval_executing]);
    expect((await approvals.auditFor({ targets: [`retrain:${MODEL}`] })).map((a) => a.action)).toEqual([
      'executed',
      'executing',
      'approved',
      'approval_vote',
      'approval_requested',
      'executing',
      'approved',
      'approval_vote',
      'approval_vote',
      'approval_requested',
    ]);
    // The vote rules still hold on the migrated tables.
    expect((await approvals.vote(ids.approval_pending!, 'U0APPROVER1', true, T0 + DAY / 2)).decision).toEqual(
      {
        kind: 'refused',
        reason: 'already_voted',
      },
    );
    expect(await approvals.takeOver(ids.approval_executing!, ids.approval_executing_attempt)).toBeDefined();
  });

  it('keeps the drift watch’s progress, open and closed alerts, and failing streak', async () => {
    const state = createDriftStateStore(over(openDb()));
    expect(await state.progress('churn', '*')).toBe(T0 - DAY);
    expect(await state.progress('fraud', 'model-a')).toBe(T0 - 2 * DAY);
    expect(await state.openAlert('churn', 'f1_drop', '*')).toEqual({
      id: ids.drift_open,
      monitor: 'churn',
      rule: 'f1_drop',
      modelId: '*',
      status: 'open',
      channel: 'C0DRIFT',
      ts: '1772442000.000500',
      openedAt: T0 + 60_000,
      snoozedUntil: T0 + 3_600_000,
      snoozedBy: 'U0OPS',
      acknowledgedBy: 'U0OPS',
      acknowledgedAt: T0 + 120_000,
      windows: [100, 200],
      view: alertView('churn', T0),
    });
    expect(await state.openAlert('fraud', 'f1_drop', 'model-a')).toBeUndefined();
    expect(await state.alert(ids.drift_closed!)).toEqual({
      id: ids.drift_closed,
      monitor: 'fraud',
      rule: 'f1_drop',
      modelId: 'model-a',
      status: 'closed',
      channel: 'C0DRIFT',
      openedAt: T0 + 30_000,
      closedAt: T0 + 90_000,
      windows: [300, 400],
      view: alertView('fraud', T0 + 1),
    });
    expect(await state.failure('churn')).toEqual({
      monitor: 'churn',
      since: T0,
      lastAt: T0 + 60_000,
      attempts: 2,
      code: 'warehouse_down',
      message: 'the warehouse is still stopped',
      channel: 'C0DRIFT',
      ts: '1772442000.000600',
    });
    // Still one open alert per rule and model id.
    const again = {
      monitor: 'churn',
      rule: 'f1_drop',
      modelId: '*',
      channel: 'C0DRIFT',
      windows: [1],
      at: T0,
    };
    expect((await state.createAlert({ ...again, view: alertView('churn', T0) })).created).toBe(false);
  });

  it('opens again, and again, without changing anything', async () => {
    const first = openDb();
    const rows = (db: Database.Database) => ({
      schema: schemaOf(db),
      changes: db.prepare('SELECT * FROM changes ORDER BY id').all(),
      audit: db.prepare('SELECT * FROM audit ORDER BY seq').all(),
      approvals: db.prepare('SELECT * FROM approval_requests ORDER BY id').all(),
      votes: db.prepare('SELECT * FROM approval_votes ORDER BY request_id, voter').all(),
      alerts: db.prepare('SELECT * FROM drift_alerts ORDER BY id').all(),
      version: db.prepare('SELECT * FROM schema_version').all(),
    });
    const before = rows(first);
    first.close();
    const second = openDb();
    expect(rows(second)).toEqual(before);
    second.close();
    expect(rows(openDb())).toEqual(before);
  });
});

describe('the other layouts a file from before storage/ can have', () => {
  it('only schema_version (the drift watch never ran): the drift tables are added, the changes kept', async () => {
    rawEdit(
      'DROP TABLE drift_progress; DROP TABLE drift_alerts; DROP TABLE drift_failures; DROP TABLE drift_schema_version;',
    );
    const db = openDb();
    expect((await createChangeStore(over(db)).get(ids.succeeded!))?.status).toBe('succeeded');
    const state = createDriftStateStore(over(db));
    expect(await state.progress('churn', '*')).toBeUndefined();
    await state.setProgress('churn', '*', 5, 6);
    expect(await state.progress('churn', '*')).toBe(5);
    expect(trackers(db)).toEqual(['schema_version']);
    expect(schemaOf(db)).toEqual(schemaOf(openDb(join(dir, 'fresh.db'))));
  });

  it('only drift_schema_version (drift state alone): the change and approval tables are added, the drift state kept', async () => {
    rawEdit(
      'DROP TABLE approval_votes; DROP TABLE approval_requests; DROP TABLE changes; DROP TABLE audit; DROP TABLE schema_version;',
    );
    const db = openDb();
    expect((await createDriftStateStore(over(db)).failure('churn'))?.attempts).toBe(2);
    const store = createChangeStore(over(db));
    expect(await store.get(ids.succeeded!)).toBeUndefined();
    await store.audit({ actor: 'U1', action: 'note', target: 't' });
    expect(await store.recentAudit()).toHaveLength(1);
    expect(trackers(db)).toEqual(['schema_version']);
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: MIGRATIONS.length });
  });

  it('an older schema_version (1: before approvals) beside the drift tracker: approvals are added', async () => {
    rawEdit(
      'DROP TABLE approval_votes; DROP TABLE approval_requests; UPDATE schema_version SET version = 1;',
    );
    const db = openDb();
    expect(await openStores(over(db)).approvals.pending()).toEqual([]);
    expect((await createDriftStateStore(over(db)).openAlert('churn', 'f1_drop', '*'))?.id).toBe(
      ids.drift_open,
    );
    expect(schemaOf(db)).toEqual(schemaOf(openDb(join(dir, 'fresh.db'))));
  });

  it('neither tracker (a new file): every migration runs', async () => {
    const db = openDb(join(dir, 'nested', 'new.db'));
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({ version: MIGRATIONS.length });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(openDb(':memory:').prepare('SELECT version FROM schema_version').get()).toEqual({
      version: MIGRATIONS.length,
    });
  });
});

describe('a database newer than this code', () => {
  it('is refused, saying which version and what to do, and left as it is', async () => {
    openDb().close();
    rawEdit(
      `UPDATE schema_version SET version = ${MIGRATIONS.length + 1}; CREATE TABLE from_the_future (x);`,
    );
    expect(() => openDatabase(path)).toThrow(SchemaTooNewError);
    expect(() => openDatabase(path)).toThrow(
      new RegExp(
        `schema version ${MIGRATIONS.length + 1} .*knows versions up to ${MIGRATIONS.length}.*MODELGATE_DB.*never migrated down`,
      ),
    );
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT version FROM schema_version').get()).toEqual({
      version: MIGRATIONS.length + 1,
    });
    expect(raw.prepare('SELECT count(*) AS n FROM changes').get()).toEqual({ n: 8 });
    raw.close();
  });

  it('is refused when its old drift tracker is newer than the one this code adopts', async () => {
    rawEdit('UPDATE drift_schema_version SET version = 2;');
    expect(() => openDatabase(path)).toThrow(
      /schema version 2 \(drift_schema_version\).*never migrated down/,
    );
    const raw = new Database(path, { readonly: true });
    expect(trackers(raw).sort()).toEqual(['drift_schema_version', 'schema_version']);
    expect(raw.prepare('SELECT version FROM schema_version').get()).toEqual({ version: 2 });
    raw.close();
  });
});

describe('the migration list', () => {
  it('applies a migration appended to it, once, and rolls back one that fails', async () => {
    const db = openDb();
    const added = [
      ...MIGRATIONS,
      { name: 'notes', sql: 'CREATE TABLE notes (text TEXT NOT NULL);', postgres: '' },
    ];
    expect(migrate(db, added)).toBe(MIGRATIONS.length + 1);
    expect(migrate(db, added)).toBe(MIGRATIONS.length + 1);
    const broken = [
      ...added,
      { name: 'broken', sql: 'CREATE TABLE half (x); INSERT INTO nowhere VALUES (1);', postgres: '' },
    ];
    expect(() => migrate(db, broken)).toThrow(/no such table: nowhere/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get()).toBeUndefined();
    expect(db.prepare('SELECT version FROM schema_version').get()).toEqual({
      version: MIGRATIONS.length + 1,
    });
  });

  it('allows exactly the statuses the stores know', async () => {
    const db = openDb(':memory:');
    const checkOf = (table: string) => {
      const { sql } = db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(table) as {
        sql: string;
      };
      return [
        ...(sql.match(/status TEXT NOT NULL CHECK \(status IN \(([^)]*)\)\)/)?.[1] ?? '').matchAll(
          /'(\w+)'/g,
        ),
      ].map((m) => m[1]);
    };
    expect(checkOf('changes')).toEqual([...CHANGE_STATUSES]);
    expect(checkOf('approval_requests')).toEqual([...APPROVAL_STATUSES]);
  });
});
