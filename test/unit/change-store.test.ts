import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ChangeStore, createChangeStore } from '../../src/changes/store.js';
import type { AliasPlan, EndpointPlan } from '../../src/domain/change.js';
import type { EndpointConfig } from '../../src/domain/ports/serving.js';
import type { DeployCommand, PromoteCommand } from '../../src/domain/vocabulary.js';
import { simulatedClock } from '../../src/lib/clock.js';
import { openDatabase, type SqliteDatabase } from '../../src/storage/database.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';

const MODEL = 'acme.mlops.churn_model';

const serves = (version: number, configVersion?: number): EndpointConfig => ({
  servedVersions: [
    {
      name: `churn_model-${version}`,
      modelName: MODEL,
      modelVersion: String(version),
      workloadSize: 'Small',
      scaleToZero: true,
      state: 'DEPLOYMENT_READY',
    },
  ],
  traffic: [{ servedName: `churn_model-${version}`, percent: 100 }],
  ...(configVersion !== undefined ? { configVersion } : {}),
});

function deployPlan(from: number | undefined, to: number, endpoint = 'churn-endpoint'): EndpointPlan {
  return {
    kind: 'endpoint',
    subcommand: 'deploy',
    endpoint,
    create: from === undefined,
    ...(from !== undefined ? { before: serves(from, from) } : {}),
    after: serves(to),
    fingerprint: `fp-${from ?? 'none'}`,
  };
}

const deployInput = (to: number, endpoint = 'churn-endpoint'): DeployCommand => ({
  subcommand: 'deploy',
  model: MODEL,
  target: { version: to },
  endpoint,
  dryRun: false,
});

const promotePlan: AliasPlan = {
  kind: 'alias',
  subcommand: 'promote',
  model: MODEL,
  alias: 'Champion',
  fromVersion: 2,
  toVersion: 3,
  fingerprint: '2',
};
const promoteInput: PromoteCommand = {
  subcommand: 'promote',
  model: MODEL,
  version: 3,
  alias: 'Champion',
  dryRun: false,
};

let dir: string;
let path: string;
let db: SqliteDatabase;
let store: ChangeStore;
const clock = simulatedClock(Date.parse('2026-03-02T09:00:00Z'));

function propose(to = 3, endpoint = 'churn-endpoint', triggerId?: string) {
  return store.createProposal({
    requester: 'U0REQUEST',
    channel: 'C0MLOPS',
    input: deployInput(to, endpoint),
    plan: deployPlan(2, to, endpoint),
    ...(triggerId ? { triggerId } : {}),
  }).change;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-store-'));
  path = join(dir, 'nested', 'modelgate.db');
  db = openDatabase(path);
  store = createChangeStore(db, clock);
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the change store', () => {
  it('creates the database and its directory, and stores a proposal with its plan and an audit row', () => {
    const change = propose();
    expect(change).toMatchObject({
      status: 'proposed',
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      subcommand: 'deploy',
      target: 'endpoint:churn-endpoint',
      messageFinished: false,
    });
    expect(change.id).toMatch(/^[a-z0-9]{10}$/);
    expect(store.get(change.id)?.plan).toEqual(deployPlan(2, 3));
    expect(store.get(change.id)?.input).toEqual(deployInput(3));
    const [audit] = store.recentAudit({ changeId: change.id });
    expect(audit).toMatchObject({
      actor: 'U0REQUEST',
      action: 'proposed',
      target: 'endpoint:churn-endpoint',
    });
    expect(audit?.before).toEqual(serves(2, 2));
    expect(audit?.after).toEqual(serves(3));
  });

  it('uses WAL journaling and records its schema version', () => {
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    // One list for the whole file (storage/migrations.ts): 1 changes and audit; 2 approval requests
    // and votes; 3 the drift state; then one per later feature (never a literal: helpers append).
    expect(raw.prepare('SELECT version FROM schema_version').get()).toEqual({ version: MIGRATIONS.length });
    raw.close();
  });

  it('lets exactly one compare-and-set win and reports the status the loser found', () => {
    const change = propose();
    const first = store.transition(change.id, 'proposed', 'applying', {
      appliedBy: 'U0REQUEST',
      appliedAt: 5,
    });
    const second = store.transition(change.id, 'proposed', 'applying', { appliedBy: 'U0REQUEST' });
    expect(first).toMatchObject({
      won: true,
      change: { status: 'applying', appliedBy: 'U0REQUEST', appliedAt: 5 },
    });
    expect(second).toMatchObject({ won: false, reason: 'status', change: { status: 'applying' } });
  });

  it('moves from any of several statuses and clears a field set to null', () => {
    const change = propose();
    store.transition(change.id, 'proposed', 'applying', { appliedBy: 'U0REQUEST' });
    const back = store.transition(change.id, ['applying', 'rolling_out'], 'proposed', { appliedBy: null });
    expect(back.won).toBe(true);
    expect(store.get(change.id)?.appliedBy).toBeUndefined();
  });

  it('writes the audit row of a transition only when it wins', () => {
    const change = propose();
    const audit = { actor: 'U0REQUEST', action: 'cancelled', target: change.target };
    store.transition(change.id, 'proposed', 'cancelled', { audit });
    store.transition(change.id, 'proposed', 'cancelled', { audit });
    expect(store.recentAudit({ changeId: change.id, action: 'cancelled' })).toHaveLength(1);
  });

  it('lets only one change per endpoint be applying or rolling out, whatever the callers do', () => {
    const a = propose(3);
    const b = propose(1);
    expect(store.transition(a.id, 'proposed', 'applying').won).toBe(true);
    const refused = store.transition(b.id, 'proposed', 'applying');
    expect(refused).toMatchObject({ won: false, reason: 'target_busy', holder: { id: a.id } });
    expect(store.get(b.id)?.status).toBe('proposed');
    expect(store.activeFor('endpoint:churn-endpoint')?.id).toBe(a.id);

    store.transition(a.id, 'applying', 'rolling_out');
    expect(store.transition(b.id, 'proposed', 'applying').won).toBe(false);
    store.transition(a.id, 'rolling_out', 'succeeded');
    expect(store.transition(b.id, 'proposed', 'applying').won).toBe(true);
  });

  it('lets changes on different targets run side by side', () => {
    const a = propose(3, 'churn-endpoint');
    const b = propose(3, 'fraud-endpoint');
    const c = store.createProposal({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      input: promoteInput,
      plan: promotePlan,
    }).change;
    expect(c.target).toBe(`alias:${MODEL}@champion`);
    for (const id of [a.id, b.id, c.id]) expect(store.transition(id, 'proposed', 'applying').won).toBe(true);
    expect(store.inFlight().map((ch) => ch.id)).toEqual([a.id, b.id, c.id]);
  });

  it('drops a second proposal with the same Slack trigger id (a retry) and returns the first', () => {
    const first = store.createProposal({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      input: deployInput(3),
      plan: deployPlan(2, 3),
      triggerId: '123.456.abc',
    });
    const retry = store.createProposal({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      input: deployInput(3),
      plan: deployPlan(2, 3),
      triggerId: '123.456.abc',
    });
    expect(first.duplicate).toBe(false);
    expect(retry).toMatchObject({ duplicate: true, change: { id: first.change.id } });
    expect(store.recentAudit({ action: 'proposed' })).toHaveLength(1);
  });

  it('refuses to change or delete an audit row', () => {
    propose();
    db.close();
    const raw = new Database(path);
    expect(() => raw.prepare("UPDATE audit SET actor = 'U0EVIL'").run()).toThrow(/append-only/);
    expect(() => raw.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    expect(raw.prepare('SELECT actor FROM audit').all()).toEqual([{ actor: 'U0REQUEST' }]);
    raw.close();
    db = openDatabase(path);
    store = createChangeStore(db, clock);
  });

  it('gives the config before the latest succeeded change of an endpoint, for rollback', () => {
    expect(store.previousConfig('churn-endpoint')).toBeUndefined();
    const first = propose(3);
    store.transition(first.id, 'proposed', 'applying');
    store.transition(first.id, 'applying', 'succeeded');
    clock.advance(1000);
    // A failed change does not count: nothing changed.
    const failed = store.createProposal({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      input: deployInput(1),
      plan: deployPlan(3, 1),
    }).change;
    store.transition(failed.id, 'proposed', 'applying');
    store.transition(failed.id, 'applying', 'failed', { error: 'build failed' });

    const previous = store.previousConfig('churn-endpoint');
    expect(previous?.servedVersions.map((v) => v.modelVersion)).toEqual(['2']);
    // The deployment state of the moment is not part of what rollback restores.
    expect(previous?.servedVersions[0]).not.toHaveProperty('state');
    expect(store.previousConfig('fraud-endpoint')).toBeUndefined();
  });

  it('has no previous config when the latest succeeded change created the endpoint', () => {
    const created = store.createProposal({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      input: deployInput(1, 'new-endpoint'),
      plan: deployPlan(undefined, 1, 'new-endpoint'),
    }).change;
    store.transition(created.id, 'proposed', 'applying');
    store.transition(created.id, 'applying', 'succeeded');
    expect(store.previousConfig('new-endpoint')).toBeUndefined();
  });

  it('remembers the progress message and whether it shows the end', () => {
    const change = propose();
    store.transition(change.id, 'proposed', 'applying');
    store.setMessage(change.id, { channel: 'C0MLOPS', ts: '1732650000.000100' });
    store.transition(change.id, 'applying', 'failed', { error: 'boom' });
    expect(store.unfinishedMessages().map((c) => c.id)).toEqual([change.id]);
    store.markMessageFinished(change.id);
    expect(store.unfinishedMessages()).toEqual([]);
    expect(store.get(change.id)).toMatchObject({
      message: { channel: 'C0MLOPS', ts: '1732650000.000100' },
      messageFinished: true,
      error: 'boom',
    });
  });

  it('loses nothing across a restart: reopening the file sees every change, status and audit row', () => {
    const change = propose();
    store.transition(change.id, 'proposed', 'applying', { appliedBy: 'U0REQUEST', expectConfigVersion: 2 });
    store.transition(change.id, 'applying', 'rolling_out');
    store.setMessage(change.id, { channel: 'C0MLOPS', ts: '1.2' });
    store.audit({ actor: 'U0REQUEST', action: 'note', target: change.target, detail: 'hello' });
    db.close();

    db = openDatabase(path);
    store = createChangeStore(db, clock);
    expect(store.inFlight()).toMatchObject([
      {
        id: change.id,
        status: 'rolling_out',
        expectConfigVersion: 2,
        message: { channel: 'C0MLOPS', ts: '1.2' },
      },
    ]);
    expect(store.recentAudit({ target: change.target }).map((a) => a.action)).toEqual(['note', 'proposed']);
    // The index still holds after reopening.
    expect(store.transition(propose(1).id, 'proposed', 'applying')).toMatchObject({ reason: 'target_busy' });
  });

  it('filters the audit log by actor and time, newest first', () => {
    store.audit({ actor: 'U1', action: 'a', target: 't', at: 1 });
    store.audit({ actor: 'U2', action: 'b', target: 't', at: 2 });
    store.audit({ actor: 'U1', action: 'c', target: 't', at: 3 });
    expect(store.recentAudit({ actor: 'U1' }).map((a) => a.action)).toEqual(['c', 'a']);
    expect(store.recentAudit({ since: 2 }).map((a) => a.action)).toEqual(['c', 'b']);
    expect(store.recentAudit({ limit: 1 }).map((a) => a.action)).toEqual(['c']);
  });
});
