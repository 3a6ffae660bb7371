/**
 * Owned work inside one test process: the store lock (refusal, waiting out a dead holder's lease,
 * a clean release), the leases of changes and executions in flight, and the audit row a process
 * writes when it loses a change it had already submitted. The real-process cases are in
 * owned-work-processes.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApprovalStore } from '../../src/approvals/store.js';
import { createChangePipeline } from '../../src/changes/pipeline.js';
import { buildPlanFor } from '../../src/changes/plan/index.js';
import { type ChangeStore, createChangeStore } from '../../src/changes/store.js';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp } from '../../src/databricks/http.js';
import { createRegistryClient } from '../../src/databricks/registry.js';
import { createServingClient } from '../../src/databricks/serving.js';
import type { Messenger } from '../../src/domain/ports/messenger.js';
import type { DeployCommand, MessageRef } from '../../src/domain/vocabulary.js';
import { runWorkTakeover } from '../../src/jobs/rollout-watch.js';
import { type Clock, simulatedClock, systemClock } from '../../src/lib/clock.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { pipelineViews } from '../../src/slack/blocks/views.js';
import { openDatabase, openOwnedDatabase, type StoreDatabase } from '../../src/storage/database.js';
import { MIGRATIONS } from '../../src/storage/migrations.js';
import { type ProcessIdentity, StoreLockedError } from '../../src/storage/process-lock.js';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const A: ProcessIdentity = { instance: 'web-1:111:aaaaaa', pid: 111, host: 'web-1' };
const B: ProcessIdentity = { instance: 'web-2:222:bbbbbb', pid: 222, host: 'web-2' };
const LEASE = 30_000;

let dir: string;
let path: string;
const open: StoreDatabase[] = [];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-ownership-'));
  path = join(dir, 'modelgate.db');
});
afterEach(async () => {
  for (const db of open.splice(0)) if (db.open) await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function owned(me: ProcessIdentity, clock: Clock, waitMs = 0, onWait?: (e: StoreLockedError) => void) {
  const o = await openOwnedDatabase(path, {
    me,
    leaseMs: LEASE,
    waitMs,
    clock,
    ...(onWait ? { onWait } : {}),
  });
  open.push(o.db);
  return o;
}

describe('the store lock', () => {
  it('refuses a second process while the first is alive, naming the holder, since when, and the fix', async () => {
    const clock = simulatedClock(T0);
    await owned(A, clock);
    await clock.sleep(4_000);
    const refusal = await owned(B, clock).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(StoreLockedError);
    const text = (refusal as Error).message;
    expect(text).toContain(`pid 111 on host web-1 (instance ${A.instance})`);
    expect(text).toContain('holding it since 2026-03-02T09:00:00.000Z, last heartbeat 4 s ago');
    expect(text).toContain('Stop that process first');
    expect(text).toContain('frees itself 30 s after its last heartbeat (in about 26 s)');
    expect(text).toContain('MODELGATE_STORE_WAIT_SECONDS');
  });

  it('waits for a holder that stopped heartbeating and takes the store over once its lease runs out', async () => {
    const clock = simulatedClock(T0);
    const first = await owned(A, clock);
    const waits: StoreLockedError[] = [];
    const second = await owned(B, clock, 60_000, (e) => waits.push(e));
    expect(waits).toHaveLength(1);
    expect(second.lock.took).toMatchObject({ instance: A.instance, pid: 111, host: 'web-1' });
    expect(clock.now() - T0).toBeGreaterThanOrEqual(LEASE);
    expect(clock.now() - T0).toBeLessThan(LEASE + 3_000);
    // The old holder, were it only frozen, learns at its next heartbeat that it lost the store.
    expect(first.lock.heartbeat()).toBe(false);
    expect(second.lock.heartbeat()).toBe(true);
  });

  it('gives up after the wait while the holder keeps heartbeating', async () => {
    const base = simulatedClock(T0);
    const first = await owned(A, base);
    // The holder heartbeats whenever time passes.
    const clock: Clock = {
      now: () => base.now(),
      sleep: async (ms, signal) => {
        await base.sleep(ms, signal);
        first.lock.heartbeat();
      },
    };
    await expect(owned(B, clock, 90_000)).rejects.toThrow(StoreLockedError);
    expect(base.now() - T0).toBeGreaterThanOrEqual(90_000);
  });

  it('lets the next process in at once after a clean release', async () => {
    const clock = simulatedClock(T0);
    const first = await owned(A, clock);
    first.lock.release();
    await first.db.close();
    const second = await owned(B, clock);
    expect(second.lock.took).toBeUndefined();
    expect(clock.now()).toBe(T0);
  });

  it('checks the lock before migrating: a newer process never migrates a file under a live one', async () => {
    const clock = simulatedClock(T0);
    const first = await owned(A, clock);
    // As if the holder were one release older: the last migration has not run for it.
    first.db.sqlite!.prepare('UPDATE schema_version SET version = version - 1').run();
    // Migrating again would fail on its ALTERs (duplicate column); the refusal comes first.
    await expect(owned(B, clock)).rejects.toThrow(StoreLockedError);
    const row = first.db.sqlite!.prepare('SELECT version FROM schema_version').get() as { version: number };
    expect(row.version).toBe(MIGRATIONS.length - 1);
  });
});

const deployPlan = async (store: ChangeStore) =>
  (
    await store.createProposal({
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      input: {
        subcommand: 'deploy',
        model: DEMO.model,
        target: { version: 3 },
        endpoint: DEMO.endpoint,
        dryRun: false,
      } as DeployCommand,
      plan: {
        kind: 'endpoint',
        subcommand: 'deploy',
        endpoint: DEMO.endpoint,
        after: { servedVersions: [], traffic: [] },
        fingerprint: 'f',
      } as never,
    })
  ).change;

describe('leases of work in flight', () => {
  it('takes a change over only once its owner has been silent for a lease, and says from whom', async () => {
    const clock = simulatedClock(T0);
    const db = openDatabase(path);
    open.push(db);
    const a = createChangeStore(db, clock, { instance: A.instance, leaseMs: LEASE });
    const b = createChangeStore(db, clock, { instance: B.instance, leaseMs: LEASE });
    const change = await deployPlan(a);
    await a.transition(change.id, 'proposed', 'applying', { appliedBy: 'U0REQUEST' });
    expect(await a.get(change.id)).toMatchObject({ owner: A.instance, heartbeatAt: T0 });

    expect((await b.claim(change.id)).won).toBe(false);
    await clock.sleep(20_000);
    expect(await a.heartbeat()).toBe(1);
    await clock.sleep(20_000);
    expect((await b.claim(change.id)).won).toBe(false); // heartbeat 20 s ago: alive

    await clock.sleep(15_000);
    const taken = await b.claim(change.id);
    expect(taken).toMatchObject({ won: true, from: { owner: A.instance, heartbeatAt: T0 + 20_000 } });
    expect(await b.get(change.id)).toMatchObject({ status: 'applying', owner: B.instance });
    expect((await a.claim(change.id)).won).toBe(false);
    const audit = await b.recentAudit({ changeId: change.id, action: 'taken_over' });
    expect(audit[0]?.detail).toContain(`from ${A.instance}, silent since 2026-03-02T09:00:20.000Z`);
  });

  it("frees a change at once when its owner lets go, or when its owner's lock ran out", async () => {
    const clock = simulatedClock(T0);
    const db = openDatabase(path);
    open.push(db);
    const a = createChangeStore(db, clock, { instance: A.instance, leaseMs: LEASE });
    const b = createChangeStore(db, clock, { instance: B.instance, leaseMs: LEASE });
    const one = await deployPlan(a);
    await a.transition(one.id, 'proposed', 'applying');
    await a.release(one.id);
    expect((await b.claim(one.id)).won).toBe(true);

    const two = createChangeStore(db, clock, { instance: 'web-3:333:cccccc', leaseMs: LEASE });
    const other = (
      await two.createProposal({
        ...deployPlanInput(),
        plan: { ...one.plan, endpoint: 'other' } as never,
      })
    ).change;
    await two.transition(other.id, 'proposed', 'applying');
    expect((await b.claim(other.id)).won).toBe(false);
    expect(await b.expireLeasesOf('web-3:333:cccccc')).toBe(1);
    expect((await b.claim(other.id)).won).toBe(true);
  });

  it('takes an execution over only once its owner has been silent for a lease', async () => {
    const clock = simulatedClock(T0);
    const db = openDatabase(path);
    open.push(db);
    const audit = createChangeStore(db, clock);
    const a = createApprovalStore(db, clock.now, {
      instance: A.instance,
      leaseMs: LEASE,
    });
    const b = createApprovalStore(db, clock.now, {
      instance: B.instance,
      leaseMs: LEASE,
    });
    const { request } = await a.create({
      gate: 'retrain',
      requester: 'U0REQUEST',
      channel: 'C0MLOPS',
      target: 'retrain:acme.mlops.churn_model',
      plan: {
        kind: 'retrain',
        model: 'acme.mlops.churn_model',
        jobId: 1001,
        jobName: 'j',
        parameters: {},
        reason: 'r',
        fingerprint: 'f',
      },
      required: 1,
      approvers: { users: ['U1'], groups: [] },
      expiresAt: T0 + 3_600_000,
    });
    await a.vote(request.id, 'U1', true, clock.now());
    const started = (await a.startExecution(request.id, 'U1'))!;
    expect(await a.get(request.id)).toMatchObject({ owner: A.instance, heartbeatAt: T0 });

    expect(await b.takeOver(request.id, started.attempt)).toBeUndefined();
    await clock.sleep(LEASE + 1);
    const taken = await b.takeOver(request.id, started.attempt);
    expect(taken?.request).toMatchObject({ status: 'executing', owner: B.instance });
    // The old attempt, come back, cannot record its run: it writes down what it had done instead.
    expect(await a.recordRun(request.id, started.attempt, 77)).toBe(false);
    await a.noteLost(request.id, started.attempt, 'it had started job 1001 run 77');
    const rows = await audit.recentAudit({ changeId: request.id });
    expect(rows.find((r) => r.action === 'execution_resumed')?.detail).toContain(
      `taken over from ${A.instance}`,
    );
    expect(rows.find((r) => r.action === 'late_result')?.detail).toContain('it had started job 1001 run 77');
  });
});

function deployPlanInput() {
  return {
    requester: 'U0REQUEST',
    channel: 'C0MLOPS',
    input: {
      subcommand: 'deploy',
      model: DEMO.model,
      target: { version: 3 },
      endpoint: 'other',
      dryRun: false,
    } as DeployCommand,
  };
}

/** A Messenger that only remembers what each message shows. */
class ShownMessenger implements Messenger {
  shown = new Map<string, string>();
  private n = 0;
  async post(channel: string, m: { text: string }): Promise<MessageRef> {
    const ts = `1772442000.${String(++this.n).padStart(6, '0')}`;
    this.shown.set(ts, m.text);
    return { channel, ts };
  }
  async update(ref: MessageRef, m: { text: string }): Promise<void> {
    this.shown.set(ref.ts, m.text);
  }
  async ephemeral(): Promise<void> {}
}

describe('a compare-and-set lost after the submit succeeded', () => {
  it('leaves an audit row with what the losing process did, instead of dropping it', async () => {
    const twin = await startWorkspaceTwin({ state: seedDemoWorkspace(), rolloutDelayMs: 5_000 });
    try {
      const http = createDatabricksHttp({ host: twin.url, tokens: staticTokenProvider(twin.token) });
      const serving = createServingClient(http);
      const registry = createRegistryClient(http);
      const db = openDatabase(path);
      open.push(db);
      const messenger = new ShownMessenger();
      // Two processes whose leases run out at once: the hazard the store lock exists to prevent.
      const pipelineOf = (me: ProcessIdentity) => {
        const store = createChangeStore(db, systemClock, { instance: me.instance, leaseMs: 100 });
        const pipeline = createChangePipeline({
          store,
          serving,
          registry,
          messenger,
          clock: systemClock,
          views: pipelineViews,
          buildPlan: (input) =>
            buildPlanFor(input, {
              serving,
              registry,
              history: { previousConfig: async () => undefined },
              defaults: { catalog: DEMO.catalog, schema: DEMO.schema, endpoint: DEMO.endpoint },
            }),
          workspaceHost: 'https://adb-1.2.azuredatabricks.net',
          autoApplies: () => false,
        });
        return { store, pipeline };
      };
      const a = pipelineOf(A);
      const b = pipelineOf(B);
      const input = deployPlanInput().input;
      input.endpoint = DEMO.endpoint;
      const plan = await buildPlanFor(input, {
        serving,
        registry,
        history: { previousConfig: async () => undefined },
        defaults: { catalog: DEMO.catalog, schema: DEMO.schema, endpoint: DEMO.endpoint },
      });
      const { change } = await a.store.createProposal({
        requester: 'U0REQUEST',
        channel: 'C0MLOPS',
        input,
        plan,
      });

      twin.faults.next('PUT /api/2.0/serving-endpoints/:name/config', { kind: 'slow', ms: 800 });
      await a.pipeline.apply(change.id, { userId: 'U0REQUEST' });
      await new Promise((r) => setTimeout(r, 300));
      // B sees a silent owner and an endpoint the PUT has not reached yet.
      await runWorkTakeover(
        {
          pipeline: b.pipeline,
          approvals: { takeOver: async () => ({ started: 0, resumed: 0 }) },
          leaseMs: 100,
        },
        Date.now(),
      );
      expect((await b.store.get(change.id))?.status).toBe('failed');
      await a.pipeline.idle();

      const late = await a.store.recentAudit({ changeId: change.id, action: 'late_result' });
      expect(late).toHaveLength(1);
      expect(late[0]?.detail).toContain(`${A.instance} lost the change to ${B.instance} (recorded as failed`);
      expect(late[0]?.detail).toContain(
        'its call reached Databricks and endpoint:churn-endpoint is rolling out',
      );
      expect(
        twin.state.endpoints.get(DEMO.endpoint)?.pending?.config.served_entities[0]?.entity_version,
      ).toBe('3');
      a.pipeline.stop();
      b.pipeline.stop();
    } finally {
      await twin.stop();
    }
  });
});
