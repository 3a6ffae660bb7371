import { sql } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import { type ChangeStore, createChangeStore } from '../../src/changes/store.js';
import type { AliasPlan, EndpointPlan } from '../../src/domain/change.js';
import type { EndpointConfig } from '../../src/domain/ports/serving.js';
import type { DeployCommand, PromoteCommand } from '../../src/domain/vocabulary.js';
import { simulatedClock } from '../../src/lib/clock.js';
import type { StoreDatabase } from '../../src/storage/database.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';
import { describeEachBackend } from '../support/backends.js';

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

let db: StoreDatabase;
let store: ChangeStore;
const clock = simulatedClock(Date.parse('2026-03-02T09:00:00Z'));

async function propose(to = 3, endpoint = 'churn-endpoint', triggerId?: string) {
  return (
    await store.createProposal({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      input: deployInput(to, endpoint),
      plan: deployPlan(2, to, endpoint),
      ...(triggerId ? { triggerId } : {}),
    })
  ).change;
}

describeEachBackend('the change store', (backend) => {
  beforeEach(async () => {
    db = await backend.open({ shared: true });
    store = createChangeStore(db, clock);
  });

  it('stores a proposal with its plan and an audit row', async () => {
    const change = await propose();
    expect(change).toMatchObject({
      status: 'proposed',
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      subcommand: 'deploy',
      target: 'endpoint:churn-endpoint',
      messageFinished: false,
    });
    expect(change.id).toMatch(/^[a-z0-9]{10}$/);
    expect((await store.get(change.id))?.plan).toEqual(deployPlan(2, 3));
    expect((await store.get(change.id))?.input).toEqual(deployInput(3));
    const [audit] = await store.recentAudit({ changeId: change.id });
    expect(audit).toMatchObject({
      actor: 'U0REQUEST',
      action: 'proposed',
      target: 'endpoint:churn-endpoint',
    });
    expect(audit?.before).toEqual(serves(2, 2));
    expect(audit?.after).toEqual(serves(3));
  });

  it('records its schema version', async () => {
    // One list for the whole store (storage/migrations.ts): 1 changes and audit; 2 approval requests
    // and votes; 3 the drift state; then one per later feature (never a literal: helpers append).
    const { rows } = await sql`SELECT version FROM schema_version`.execute(db.kysely);
    expect(rows).toEqual([{ version: MIGRATIONS.length }]);
  });

  it('lets exactly one compare-and-set win and reports the status the loser found', async () => {
    const change = await propose();
    const first = await store.transition(change.id, 'proposed', 'applying', {
      appliedBy: 'U0REQUEST',
      appliedAt: 5,
    });
    const second = await store.transition(change.id, 'proposed', 'applying', { appliedBy: 'U0REQUEST' });
    expect(first).toMatchObject({
      won: true,
      change: { status: 'applying', appliedBy: 'U0REQUEST', appliedAt: 5 },
    });
    expect(second).toMatchObject({ won: false, reason: 'status', change: { status: 'applying' } });
  });

  it('moves from any of several statuses and clears a field set to null', async () => {
    const change = await propose();
    await store.transition(change.id, 'proposed', 'applying', { appliedBy: 'U0REQUEST' });
    const back = await store.transition(change.id, ['applying', 'rolling_out'], 'proposed', {
      appliedBy: null,
    });
    expect(back.won).toBe(true);
    expect((await store.get(change.id))?.appliedBy).toBeUndefined();
  });

  it('writes the audit row of a transition only when it wins', async () => {
    const change = await propose();
    const audit = { actor: 'U0REQUEST', action: 'cancelled', target: change.target };
    await store.transition(change.id, 'proposed', 'cancelled', { audit });
    await store.transition(change.id, 'proposed', 'cancelled', { audit });
    expect(await store.recentAudit({ changeId: change.id, action: 'cancelled' })).toHaveLength(1);
  });

  it('lets only one change per endpoint be applying or rolling out, whatever the callers do', async () => {
    const a = await propose(3);
    const b = await propose(1);
    expect((await store.transition(a.id, 'proposed', 'applying')).won).toBe(true);
    const refused = await store.transition(b.id, 'proposed', 'applying');
    expect(refused).toMatchObject({ won: false, reason: 'target_busy', holder: { id: a.id } });
    expect((await store.get(b.id))?.status).toBe('proposed');
    expect((await store.activeFor('endpoint:churn-endpoint'))?.id).toBe(a.id);

    await store.transition(a.id, 'applying', 'rolling_out');
    expect((await store.transition(b.id, 'proposed', 'applying')).won).toBe(false);
    await store.transition(a.id, 'rolling_out', 'succeeded');
    expect((await store.transition(b.id, 'proposed', 'applying')).won).toBe(true);
  });

  it('lets changes on different targets run side by side', async () => {
    const a = await propose(3, 'churn-endpoint');
    const b = await propose(3, 'fraud-endpoint');
    const c = (
      await store.createProposal({
        requester: 'U0REQUEST',
        channel: 'C0MLOPS',
        input: promoteInput,
        plan: promotePlan,
      })
    ).change;
    expect(c.target).toBe(`alias:${MODEL}@champion`);
    for (const id of [a.id, b.id, c.id])
      expect((await store.transition(id, 'proposed', 'applying')).won).toBe(true);
    expect((await store.inFlight()).map((ch) => ch.id)).toEqual([a.id, b.id, c.id]);
  });

  it('drops a second proposal with the same Slack trigger id (a retry) and returns the first', async () => {
    const first = await store.createProposal({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      input: deployInput(3),
      plan: deployPlan(2, 3),
      triggerId: '123.456.abc',
    });
    const retry = await store.createProposal({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      input: deployInput(3),
      plan: deployPlan(2, 3),
      triggerId: '123.456.abc',
    });
    expect(first.duplicate).toBe(false);
    expect(retry).toMatchObject({ duplicate: true, change: { id: first.change.id } });
    expect(await store.recentAudit({ action: 'proposed' })).toHaveLength(1);
  });

  it('refuses to change or delete an audit row', async () => {
    await propose();
    await expect(sql`UPDATE audit SET actor = 'U0EVIL'`.execute(db.kysely)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM audit`.execute(db.kysely)).rejects.toThrow(/append-only/);
    const { rows } = await sql`SELECT actor FROM audit`.execute(db.kysely);
    expect(rows).toEqual([{ actor: 'U0REQUEST' }]);
  });

  it('gives the config before the latest succeeded change of an endpoint, for rollback', async () => {
    expect(await store.previousConfig('churn-endpoint')).toBeUndefined();
    const first = await propose(3);
    await store.transition(first.id, 'proposed', 'applying');
    await store.transition(first.id, 'applying', 'succeeded');
    clock.advance(1000);
    // A failed change does not count: nothing changed.
    const failed = (
      await store.createProposal({
        requester: 'U0REQUEST',
        channel: 'C0MLOPS',
        input: deployInput(1),
        plan: deployPlan(3, 1),
      })
    ).change;
    await store.transition(failed.id, 'proposed', 'applying');
    await store.transition(failed.id, 'applying', 'failed', { error: 'build failed' });

    const previous = await store.previousConfig('churn-endpoint');
    expect(previous?.servedVersions.map((v) => v.modelVersion)).toEqual(['2']);
    // The deployment state of the moment is not part of what rollback restores.
    expect(previous?.servedVersions[0]).not.toHaveProperty('state');
    expect(await store.previousConfig('fraud-endpoint')).toBeUndefined();
  });

  it('has no previous config when the latest succeeded change created the endpoint', async () => {
    const created = (
      await store.createProposal({
        requester: 'U0REQUEST',
        channel: 'C0MLOPS',
        input: deployInput(1, 'new-endpoint'),
        plan: deployPlan(undefined, 1, 'new-endpoint'),
      })
    ).change;
    await store.transition(created.id, 'proposed', 'applying');
    await store.transition(created.id, 'applying', 'succeeded');
    expect(await store.previousConfig('new-endpoint')).toBeUndefined();
  });

  it('remembers the progress message and whether it shows the end', async () => {
    const change = await propose();
    await store.transition(change.id, 'proposed', 'applying');
    await store.setMessage(change.id, { channel: 'C0MLOPS', ts: '1732650000.000100' });
    await store.transition(change.id, 'applying', 'failed', { error: 'boom' });
    expect((await store.unfinishedMessages()).map((c) => c.id)).toEqual([change.id]);
    await store.markMessageFinished(change.id);
    expect(await store.unfinishedMessages()).toEqual([]);
    expect(await store.get(change.id)).toMatchObject({
      message: { channel: 'C0MLOPS', ts: '1732650000.000100' },
      messageFinished: true,
      error: 'boom',
    });
  });

  it('loses nothing across a restart: reopening the store sees every change, status and audit row', async () => {
    const change = await propose();
    await store.transition(change.id, 'proposed', 'applying', {
      appliedBy: 'U0REQUEST',
      expectConfigVersion: 2,
    });
    await store.transition(change.id, 'applying', 'rolling_out');
    await store.setMessage(change.id, { channel: 'C0MLOPS', ts: '1.2' });
    await store.audit({ actor: 'U0REQUEST', action: 'note', target: change.target, detail: 'hello' });
    await db.close();

    db = await backend.connect();
    store = createChangeStore(db, clock);
    expect(await store.inFlight()).toMatchObject([
      {
        id: change.id,
        status: 'rolling_out',
        expectConfigVersion: 2,
        message: { channel: 'C0MLOPS', ts: '1.2' },
      },
    ]);
    expect((await store.recentAudit({ target: change.target })).map((a) => a.action)).toEqual([
      'note',
      'proposed',
    ]);
    // The index still holds after reopening.
    expect(await store.transition((await propose(1)).id, 'proposed', 'applying')).toMatchObject({
      reason: 'target_busy',
    });
  });

  it('filters the audit log by actor and time, newest first', async () => {
    await store.audit({ actor: 'U1', action: 'a', target: 't', at: 1 });
    await store.audit({ actor: 'U2', action: 'b', target: 't', at: 2 });
    await store.audit({ actor: 'U1', action: 'c', target: 't', at: 3 });
    expect((await store.recentAudit({ actor: 'U1' })).map((a) => a.action)).toEqual(['c', 'a']);
    expect((await store.recentAudit({ since: 2 })).map((a) => a.action)).toEqual(['c', 'b']);
    expect((await store.recentAudit({ limit: 1 })).map((a) => a.action)).toEqual(['c']);
  });
});
