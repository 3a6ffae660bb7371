import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createChangePipeline, type RunningChangePipeline } from '../../src/changes/pipeline.js';
import { buildPlanFor, type PlanDeps } from '../../src/changes/plan/index.js';
import { type ChangeStore, createChangeStore } from '../../src/changes/store.js';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp, DatabricksTransportError } from '../../src/databricks/http.js';
import { createRegistryClient } from '../../src/databricks/registry.js';
import { createServingClient } from '../../src/databricks/serving.js';
import type { UserError } from '../../src/domain/errors.js';
import type { Messenger } from '../../src/domain/ports/messenger.js';
import type { Registry } from '../../src/domain/ports/registry.js';
import type { Serving } from '../../src/domain/ports/serving.js';
import type {
  Actor,
  DeployCommand,
  MessageRef,
  MutatingCommand,
  Origin,
  Reply,
} from '../../src/domain/vocabulary.js';
import { runRolloutWatch } from '../../src/jobs/rollout-watch.js';
import { type Clock, simulatedClock } from '../../src/lib/clock.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin, type WorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { failNextRollout } from '../../src/sandbox/workspace/serving-routes.js';
import { ACTION_APPLY } from '../../src/slack/blocks/action-ids.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';
import { pipelineViews } from '../../src/slack/blocks/views.js';
import { openDatabase, type StoreDatabase } from '../../src/storage/database.js';

const RILEY: Actor = { userId: 'U0REQUEST', userName: 'riley' };
const AVERY: Actor = { userId: 'U0APPROVE', userName: 'avery' };
const VIC: Actor = { userId: 'U0VIEWER', userName: 'vic' };
const ORIGIN: Origin = { channelId: 'C0MLOPS', channelName: 'mlops' };
const ENDPOINT = DEMO.endpoint;
const PUT_CONFIG = 'PUT /api/2.0/serving-endpoints/:name/config';
const PUT_ALIAS = 'PUT /api/2.1/unity-catalog/models/:full_name/aliases/:alias';

type Message = Pick<Reply, 'text' | 'blocks'>;

/** Our Messenger, recording what Slack would show; refuses blocks Slack would refuse. */
class RecordingMessenger implements Messenger {
  posts: Array<{ channel: string; ts: string; message: Message }> = [];
  updates: Array<{ ref: MessageRef; message: Message }> = [];
  failPosts = 0;
  private n = 0;

  async post(channel: string, message: Message): Promise<MessageRef> {
    this.check(message);
    if (this.failPosts > 0) {
      this.failPosts--;
      throw new Error('An API error occurred: channel_not_found');
    }
    const ts = `1772442000.${String(++this.n).padStart(6, '0')}`;
    this.posts.push({ channel, ts, message });
    return { channel, ts };
  }

  async update(ref: MessageRef, message: Message): Promise<void> {
    this.check(message);
    this.updates.push({ ref, message });
  }

  async ephemeral(): Promise<void> {}

  /** What the channel shows now for a message: its last update, else what was posted. */
  shown(ts: string): string {
    const last =
      this.updates.filter((u) => u.ref.ts === ts).at(-1)?.message ??
      this.posts.find((p) => p.ts === ts)?.message;
    return last ? `${last.text}\n${JSON.stringify(last.blocks)}` : '';
  }

  private check(message: Message): void {
    expect(message.text.length).toBeGreaterThan(0);
    expect(checkBlocks(message.blocks ?? [])).toEqual([]);
  }
}

interface Harness {
  twin: WorkspaceTwin;
  clock: Clock & { advance(ms: number): void };
  serving: Serving;
  registry: Registry;
  store: ChangeStore;
  messenger: RecordingMessenger;
  pipeline: RunningChangePipeline;
  errors: Array<{ err: unknown; id: string }>;
  dbPath: string;
  /** A new pipeline and store over the same database file, as after a restart. */
  restart(): RunningChangePipeline;
  open(options?: { autoApply?: boolean; serving?: Serving }): RunningChangePipeline;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function start(
  options: {
    autoApply?: boolean;
    serving?: (s: Serving) => Serving;
    timeoutMs?: number;
    /** Per-request time-out of the Databricks client (real time). */
    httpTimeoutMs?: number;
  } = {},
): Promise<Harness> {
  const clock = simulatedClock(Date.parse('2026-03-02T09:00:00Z'));
  const twin = await startWorkspaceTwin({
    state: seedDemoWorkspace({ now: clock.now() }),
    clock,
    rolloutDelayMs: 90_000,
  });
  const http = createDatabricksHttp({
    host: twin.url,
    tokens: staticTokenProvider(twin.token),
    clock,
    ...(options.httpTimeoutMs !== undefined ? { timeoutMs: options.httpTimeoutMs } : {}),
  });
  const realServing = createServingClient(http);
  const serving = options.serving ? options.serving(realServing) : realServing;
  const registry = createRegistryClient(http);
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-pipeline-'));
  const dbPath = join(dir, 'modelgate.db');
  const messenger = new RecordingMessenger();
  const errors: Harness['errors'] = [];

  const h = { twin, clock, serving, registry, messenger, errors, dbPath } as Harness;
  let db: StoreDatabase | undefined;
  h.open = (o = {}) => {
    db = openDatabase(dbPath);
    const store = createChangeStore(db, clock);
    const planDeps: PlanDeps = {
      serving: realServing,
      registry,
      history: { previousConfig: async (e) => await store.previousConfig(e) },
      defaults: { catalog: DEMO.catalog, schema: DEMO.schema, endpoint: ENDPOINT },
    };
    h.store = store;
    h.pipeline = createChangePipeline({
      store,
      serving: o.serving ?? serving,
      registry,
      messenger,
      clock,
      views: pipelineViews,
      buildPlan: (input) => buildPlanFor(input, planDeps),
      workspaceHost: 'https://adb-1.2.azuredatabricks.net',
      autoApplies: () => o.autoApply ?? options.autoApply ?? false,
      onError: (err, id) => errors.push({ err, id }),
      ...(options.timeoutMs !== undefined ? { waitOptions: { timeoutMs: options.timeoutMs } } : {}),
    });
    return h.pipeline;
  };
  h.restart = () => {
    h.pipeline.stop();
    db?.close();
    return h.open();
  };
  h.open();
  cleanups.push(async () => {
    h.pipeline.stop();
    await h.pipeline.idle();
    db?.close();
    await twin.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return h;
}

const deploy = (version: number, extra: Partial<DeployCommand> = {}): DeployCommand => ({
  subcommand: 'deploy',
  model: DEMO.model,
  target: { version },
  endpoint: ENDPOINT,
  dryRun: false,
  ...extra,
});

async function propose(h: Harness, input: MutatingCommand, actor = RILEY, origin = ORIGIN): Promise<Reply> {
  const plan = await buildPlanFor(input, {
    serving: h.serving,
    registry: h.registry,
    history: { previousConfig: async (e) => await h.store.previousConfig(e) },
    defaults: { catalog: DEMO.catalog, schema: DEMO.schema, endpoint: ENDPOINT },
  });
  const reply = await h.pipeline.propose({ input, plan, actor, origin, dryRun: input.dryRun });
  // The plan is the bot's own channel message now: what the channel shows is the answer.
  return reply.silent ? shownAsReply(h) : reply;
}

/** The latest message the bot posted, as the reply it stands for. */
function shownAsReply(h: Harness): Reply {
  const last = h.messenger.posts.at(-1)!;
  const message = h.messenger.updates.filter((u) => u.ref.ts === last.ts).at(-1)?.message ?? last.message;
  return { ...message, visibility: 'in_channel' };
}

/** The change id an Apply button of a reply carries, as Slack would send it back. */
function applyValue(reply: Reply): string {
  for (const block of reply.blocks ?? []) {
    if (block.type !== 'actions') continue;
    for (const el of (block as unknown as { elements: Array<{ action_id?: string; value?: string }> })
      .elements) {
      if (el.action_id === ACTION_APPLY && el.value) return el.value;
    }
  }
  throw new Error(`no Apply button in: ${reply.text}`);
}
const hasButtons = (reply: Reply) => (reply.blocks ?? []).some((b) => b.type === 'actions');

const configPuts = (h: Harness) => h.twin.requests.filter((r) => r.route === PUT_CONFIG && r.status === 200);
const liveVersions = async (h: Harness) => {
  const ep = await h.serving.get(ENDPOINT);
  return ep.current?.servedVersions.map(
    (v) => `${v.modelVersion}:${ep.current?.traffic.find((r) => r.servedName === v.name)?.percent ?? 0}`,
  );
};
const actions = async (h: Harness, changeId: string) =>
  (await h.store.recentAudit({ changeId })).map((a) => a.action).reverse();

describe('execute: a change run for an approved request', () => {
  it('runs the stored plan as the given actor and resolves with how it ended', async () => {
    const h = await start();
    const id = applyValue(await propose(h, deploy(3)));
    const before = h.twin.requests.length;

    const outcome = await h.pipeline.execute(id, { userId: 'U0APPROVE' });

    expect(outcome).toMatchObject({
      status: 'succeeded',
      changeId: id,
      summary: 'churn-endpoint serves churn_model v3 100%.',
    });
    expect(await h.store.get(id)).toMatchObject({ status: 'succeeded', appliedBy: 'U0APPROVE' });
    expect(await actions(h, id)).toEqual(['proposed', 'applied', 'succeeded']);
    // No rebuild of the plan: the first call is the one that changes the endpoint.
    expect(h.twin.requests[before]?.route).toBe(PUT_CONFIG);
    // A second call does not run it again: it reads how it ended.
    expect(await h.pipeline.execute(id, { userId: 'U0APPROVE' })).toMatchObject({ status: 'succeeded' });
    expect(configPuts(h)).toHaveLength(1);
  });

  it('says which change holds the target instead of starting', async () => {
    const h = await start();
    const first = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(first, RILEY);
    const second = (
      await h.store.createProposal({
        requester: 'U0REQUEST',
        channel: 'C0MLOPS',
        input: (await h.store.get(first))!.input,
        plan: (await h.store.get(first))!.plan,
        triggerId: 'approval:apr-test:0',
      })
    ).change;

    const outcome = await h.pipeline.execute(second.id, { userId: 'U0APPROVE' });

    expect(outcome).toMatchObject({ status: 'not_started', why: 'busy', holder: { id: first } });
    expect((await h.store.get(second.id))?.status).toBe('proposed');
    await h.pipeline.idle();
  });
});

describe('plan, apply, follow', () => {
  it('applies a deploy and updates one channel message from rolling out to ready', async () => {
    const h = await start();
    const plan = await propose(h, deploy(3));
    const id = applyValue(plan);
    expect((await h.store.get(id))?.status).toBe('proposed');

    const reply = await h.pipeline.apply(id, RILEY);

    // The click needs no answer of its own: the plan message itself follows the change.
    expect(reply.silent).toBe(true);
    await h.pipeline.idle();

    expect(h.messenger.posts).toHaveLength(1);
    const ts = h.messenger.posts[0]!.ts;
    expect(h.messenger.posts[0]!.channel).toBe('C0MLOPS');
    expect(h.messenger.posts[0]!.message.text).toMatch(/^Plan: /);
    expect(h.messenger.updates.every((u) => u.ref.ts === ts)).toBe(true);
    // The plan's before/after table stays in every state of the message.
    for (const u of h.messenger.updates) expect(JSON.stringify(u.message.blocks)).toMatch(/what +now +after/);
    expect(h.messenger.updates.some((u) => /rolling out/.test(u.message.text))).toBe(true);
    expect(JSON.stringify(h.messenger.updates.map((u) => u.message.blocks))).toContain(
      'churn_model v3 (`churn_model-3`): creating',
    );
    expect(h.messenger.shown(ts)).toMatch(
      /Deploy to churn-endpoint: done — churn-endpoint serves churn_model v3 100%/,
    );

    expect(await liveVersions(h)).toEqual(['3:100']);
    expect(await h.store.get(id)).toMatchObject({
      status: 'succeeded',
      appliedBy: 'U0REQUEST',
      messageFinished: true,
    });
    expect(await actions(h, id)).toEqual(['proposed', 'applied', 'succeeded']);
    const [done] = await h.store.recentAudit({ changeId: id, action: 'succeeded' });
    expect(JSON.stringify(done?.before)).toContain('"modelVersion":"2"');
    expect(JSON.stringify(done?.after)).toContain('"modelVersion":"3"');
    expect(h.errors).toEqual([]);
  });

  it('promotes an alias at once and says where it points now', async () => {
    const h = await start();
    const id = applyValue(
      await propose(h, {
        subcommand: 'promote',
        model: DEMO.model,
        version: 3,
        alias: 'Champion',
        dryRun: false,
      }),
    );
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();
    expect((await h.registry.resolveAlias(DEMO.model, 'Champion')).version).toBe(3);
    expect(h.messenger.shown(h.messenger.posts[0]!.ts)).toContain(
      'Champion now points at churn_model v3 (was v2)',
    );
    expect((await h.store.get(id))?.status).toBe('succeeded');
  });

  it('cancels a plan: nothing changes, and Apply afterwards is refused', async () => {
    const h = await start();
    const id = applyValue(await propose(h, deploy(3)));
    const cancelled = await h.pipeline.cancel(id, RILEY);
    expect(cancelled.silent).toBe(true);
    expect(h.messenger.shown(h.messenger.posts[0]!.ts)).toMatch(/Cancelled change .* Nothing was changed/);
    expect((await h.store.get(id))?.messageFinished).toBe(true);
    const late = await h.pipeline.apply(id, RILEY);
    expect(late.text).toContain('was cancelled');
    expect(late.replaceOriginal).toBeUndefined();
    await h.pipeline.idle();
    expect(configPuts(h)).toHaveLength(0);
    expect(h.messenger.posts).toHaveLength(1); // the plan, nothing more
    expect(await actions(h, id)).toEqual(['proposed', 'cancelled']);
  });

  it('refuses Apply and Cancel from anyone but the requester', async () => {
    const h = await start();
    const id = applyValue(await propose(h, deploy(3)));
    for (const reply of [await h.pipeline.apply(id, VIC), await h.pipeline.cancel(id, AVERY)]) {
      expect(reply).toMatchObject({ visibility: 'ephemeral' });
      expect(reply.replaceOriginal).toBeUndefined();
      expect(reply.text).toMatch(/^Only <@U0REQUEST> can (apply|cancel) this change\.$/);
    }
    expect((await h.store.get(id))?.status).toBe('proposed');
    expect(configPuts(h)).toHaveLength(0);
  });

  it('shows a dry run without buttons and stores nothing', async () => {
    const h = await start();
    const reply = await propose(h, deploy(3, { dryRun: true }));
    expect(hasButtons(reply)).toBe(false);
    expect(reply.text).toMatch(/^Dry run/);
    const raw = new Database(h.dbPath, { readonly: true });
    expect(raw.prepare('SELECT count(*) AS n FROM changes').get()).toEqual({ n: 0 });
    expect(raw.prepare('SELECT count(*) AS n FROM audit').get()).toEqual({ n: 0 });
    raw.close();
  });

  it('applies straight away when the policy lets the subcommand skip the Apply click', async () => {
    const h = await start({ autoApply: true });
    await propose(h, deploy(3));
    await h.pipeline.idle();
    expect(await liveVersions(h)).toEqual(['3:100']);
    expect(h.messenger.posts).toHaveLength(1);
    expect(h.messenger.shown(h.messenger.posts[0]!.ts)).toMatch(/Deploy to churn-endpoint: done/);
  });

  it('answers a Slack retry of the same command with the same plan, not a second change', async () => {
    const h = await start();
    const origin = { ...ORIGIN, triggerId: '1772442000.123.abcdef' };
    const first = await propose(h, deploy(3), RILEY, origin);
    const retry = await propose(h, deploy(3), RILEY, origin);
    expect(applyValue(retry)).toBe(applyValue(first));
    expect(await h.store.recentAudit({ action: 'proposed' })).toHaveLength(1);

    await h.pipeline.apply(applyValue(first), RILEY);
    const afterApply = await propose(h, deploy(3), RILEY, origin);
    expect(afterApply.text).toMatch(/already being applied|was already applied/);
    await h.pipeline.idle();
    expect(configPuts(h)).toHaveLength(1);
  });

  it('restores the previous config on rollback, and a second rollback goes back again', async () => {
    const h = await start();
    await h.pipeline.apply(applyValue(await propose(h, deploy(3))), RILEY);
    await h.pipeline.idle();
    expect(await liveVersions(h)).toEqual(['3:100']);

    const rollback = await propose(h, { subcommand: 'rollback', endpoint: ENDPOINT, dryRun: false });
    expect(rollback.text).toContain('churn_model v2');
    await h.pipeline.apply(applyValue(rollback), RILEY);
    await h.pipeline.idle();
    expect(await liveVersions(h)).toEqual(['2:100']);
    expect(h.messenger.shown(h.messenger.posts[1]!.ts)).toMatch(/Rollback of churn-endpoint: done/);

    await h.pipeline.apply(
      applyValue(await propose(h, { subcommand: 'rollback', endpoint: ENDPOINT, dryRun: false })),
      RILEY,
    );
    await h.pipeline.idle();
    expect(await liveVersions(h)).toEqual(['3:100']);
  });
});

describe('races and staleness', () => {
  it('refuses a stale plan, changes nothing, and shows the new plan with what changed', async () => {
    const h = await start();
    const id = applyValue(await propose(h, deploy(3)));
    // Someone changes the endpoint outside this plan.
    await h.serving.updateConfig(ENDPOINT, { servedVersions: [{ modelName: DEMO.model, modelVersion: 1 }] });
    h.clock.advance(h.twin.settings.rolloutDelayMs + 1);

    expect((await h.pipeline.apply(id, RILEY)).silent).toBe(true);
    // The same message now shows the new plan.
    const reply = shownAsReply(h);
    expect(JSON.stringify(reply.blocks)).toContain('out of date and nothing was changed');
    expect(JSON.stringify(reply.blocks)).toContain('now serves churn_model v1 100%');
    const next = applyValue(reply);
    expect(next).not.toBe(id);
    expect(await h.store.get(id)).toMatchObject({ status: 'stale', replacedBy: next });
    expect(configPuts(h)).toHaveLength(1); // only the outside change
    expect(h.messenger.posts).toHaveLength(1);

    await h.pipeline.apply(next, RILEY);
    await h.pipeline.idle();
    expect(await liveVersions(h)).toEqual(['3:100']);
    expect((await h.pipeline.apply(id, RILEY)).text).toContain(`Use the newer plan \`${next}\``);
  });

  it('lets exactly one of two changes racing on one endpoint run, and tells the other who holds it', async () => {
    const h = await start();
    const a = applyValue(await propose(h, deploy(3)));
    const b = applyValue(await propose(h, deploy(1), AVERY));
    const [ra, rb] = await Promise.all([h.pipeline.apply(a, RILEY), h.pipeline.apply(b, AVERY)]);
    expect(ra.silent).toBe(true);
    expect(rb.text).toMatch(
      new RegExp(
        `Change \`${a}\` \\(Deploy to churn-endpoint\\) by <@U0REQUEST> is in progress on churn-endpoint`,
      ),
    );
    expect(rb.replaceOriginal).toBeUndefined();

    // A third proposal while A runs still shows, with a warning.
    const c = await propose(h, deploy(1), AVERY);
    expect(JSON.stringify(c.blocks)).toContain('Apply will be refused until it has finished');

    await h.pipeline.idle();
    expect(configPuts(h)).toHaveLength(1);
    expect((await h.store.get(a))?.status).toBe('succeeded');
    expect((await h.store.get(b))?.status).toBe('proposed');
    // Once A is done, B's plan is out of date (the endpoint moved on).
    expect((await h.pipeline.apply(b, AVERY)).silent).toBe(true);
    expect(h.messenger.shown(h.messenger.posts[1]!.ts)).toContain('out of date');
  });

  it('executes a change once however many Apply clicks arrive at the same time', async () => {
    const h = await start();
    const id = applyValue(await propose(h, deploy(3)));
    const replies = await Promise.all(Array.from({ length: 50 }, () => h.pipeline.apply(id, RILEY)));
    expect(replies.filter((r) => r.silent)).toHaveLength(1);
    expect(replies.filter((r) => r.text.includes('is already being applied'))).toHaveLength(49);
    await h.pipeline.idle();
    expect(configPuts(h)).toHaveLength(1);
    expect(h.messenger.posts).toHaveLength(1);
    expect(await h.store.recentAudit({ changeId: id, action: 'applied' })).toHaveLength(1);
    expect((await h.pipeline.apply(id, RILEY)).text).toContain('was already applied');
  });
});

describe('Databricks faults', () => {
  it('ends as failed when a rollout started elsewhere is in progress (409)', async () => {
    const h = await start();
    await h.serving.updateConfig(ENDPOINT, {
      servedVersions: [{ modelName: DEMO.model, modelVersion: 1, scaleToZero: true }],
    });
    const id = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();

    const shown = h.messenger.shown(h.messenger.posts[0]!.ts);
    expect(shown).toMatch(/failed — A rollout is already in progress on churn-endpoint/);
    expect(shown).toContain('*Still serving:* churn_model v2 100%');
    expect(await h.store.get(id)).toMatchObject({
      status: 'failed',
      error: 'A rollout is already in progress on churn-endpoint.',
    });
    expect(await actions(h, id)).toEqual(['proposed', 'applied', 'failed']);
  });

  it('ends as failed with a clear reason when 503s outlast the retries', async () => {
    const h = await start();
    h.twin.faults.next(PUT_CONFIG, { kind: 'status', status: 503 }, 100);
    const id = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();
    h.twin.faults.clear();

    const change = (await h.store.get(id))!;
    expect(change.status).toBe('failed');
    expect(change.error).toMatch(
      /^Databricks was unavailable \(503 TEMPORARILY_UNAVAILABLE\) after \d+ attempts\.$/,
    );
    expect(h.messenger.shown(h.messenger.posts[0]!.ts)).toContain('Still serving:* churn_model v2 100%');
    expect(await liveVersions(h)).toEqual(['2:100']);
  });

  it('ends as failed with a clear reason when Databricks keeps rate-limiting (429)', async () => {
    const h = await start();
    h.twin.faults.next(PUT_ALIAS, { kind: 'status', status: 429, retryAfterSeconds: 20 }, 100);
    const id = applyValue(
      await propose(h, {
        subcommand: 'promote',
        model: DEMO.model,
        version: 3,
        alias: 'Champion',
        dryRun: false,
      }),
    );
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();
    h.twin.faults.clear();

    expect((await h.store.get(id))?.error).toMatch(/rate-limited \(429 REQUEST_LIMIT_EXCEEDED\)/);
    expect(h.messenger.shown(h.messenger.posts[0]!.ts)).toContain(
      'Nothing was changed. Wait a minute and try again.',
    );
    expect((await h.registry.resolveAlias(DEMO.model, 'Champion')).version).toBe(2);
  });

  it('puts the plan back when Databricks cannot be read at Apply, so Apply can be pressed again', async () => {
    const h = await start();
    const id = applyValue(await propose(h, deploy(3)));
    h.twin.faults.next('GET /api/2.0/serving-endpoints/:name', { kind: 'status', status: 503 }, 100);
    const refusal = await h.pipeline.apply(id, RILEY).catch((e: unknown) => e);
    expect(refusal).toMatchObject({ name: 'UserError', code: 'plan_check_failed' });
    expect(describeError(refusal as UserError).text).toEqual(
      expect.stringMatching(/Databricks was unavailable .* Nothing was changed\.$/),
    );
    h.twin.faults.clear();
    expect(await h.store.get(id)).toMatchObject({ status: 'proposed' });
    expect((await h.store.get(id))?.appliedBy).toBeUndefined();

    expect((await h.pipeline.apply(id, RILEY)).silent).toBe(true);
    await h.pipeline.idle();
    expect((await h.store.get(id))?.status).toBe('succeeded');
  });

  it("reports Databricks' reason and what still serves when the rollout fails", async () => {
    const h = await start();
    failNextRollout(h.twin.state, ENDPOINT, 'Container build failed: No module named sklearn');
    const id = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();

    const shown = h.messenger.shown(h.messenger.posts[0]!.ts);
    expect(shown).toContain('*Reason:* churn_model-3: Container build failed: No module named sklearn');
    expect(shown).toContain('*Still serving:* churn_model v2 100%');
    expect(await h.store.get(id)).toMatchObject({ status: 'failed', messageFinished: true });
  });

  it('follows a create whose answer was lost (503 on a call Databricks took) instead of failing it', async () => {
    // The PUT is taken by Databricks but every answer is a 503: the pipeline finds it rolling out.
    const h = await start({
      serving: (s) => ({
        ...s,
        async updateConfig(name, config) {
          await s.updateConfig(name, config);
          const { DatabricksApiError } = await import('../../src/databricks/http.js');
          throw new DatabricksApiError(
            503,
            'TEMPORARILY_UNAVAILABLE',
            'x',
            undefined,
            'PUT',
            '/',
            undefined,
            undefined,
            9,
          );
        },
      }),
    });
    const id = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();
    expect((await h.store.get(id))?.status).toBe('succeeded');
    expect(await liveVersions(h)).toEqual(['3:100']);
  });

  it('ends a change that broke on our side with a correlation id and no internal text', async () => {
    const h = await start({
      serving: (s) => ({
        ...s,
        updateConfig: async () => {
          throw new TypeError('cannot read properties of undefined (token xoxb-secret)');
        },
      }),
    });
    const id = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();

    const shown = h.messenger.shown(h.messenger.posts[0]!.ts);
    expect(h.errors).toHaveLength(1);
    expect(shown).toContain(`Reference: \`${h.errors[0]!.id}\``);
    expect(shown).not.toMatch(/xoxb|TypeError|undefined/);
    expect(await h.store.get(id)).toMatchObject({ status: 'failed', messageFinished: true });
  });

  it('still ends with one finished message when Slack refused the first post', async () => {
    const h = await start();
    h.messenger.failPosts = 1;
    const id = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();
    expect(await h.store.get(id)).toMatchObject({ status: 'succeeded', messageFinished: true });
    expect(h.messenger.posts).toHaveLength(1);
    expect(h.messenger.shown(h.messenger.posts[0]!.ts)).toMatch(/done/);
    expect(h.errors).toHaveLength(1);
  });
});

describe('lost answers to an update (issue #12)', () => {
  const putsOf = (h: Harness) => h.twin.requests.filter((r) => r.route === PUT_CONFIG);
  const liveVersion = async (h: Harness) => (await h.serving.get(ENDPOINT)).current?.configVersion;

  it("follows an update whose answer came after the client's time-out: exactly one update reaches Databricks", async () => {
    const h = await start({ httpTimeoutMs: 150 });
    const versionBefore = await liveVersion(h);
    const id = applyValue(await propose(h, deploy(3)));
    // The twin applies the PUT at once and answers after 400 ms of real time: too late.
    h.twin.faults.next(PUT_CONFIG, { kind: 'late', ms: 400 });
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();
    await new Promise((r) => setTimeout(r, 400));

    expect(await h.store.get(id)).toMatchObject({ status: 'succeeded', messageFinished: true });
    expect(await liveVersions(h)).toEqual(['3:100']);
    expect(await liveVersion(h)).toBe(versionBefore! + 1);
    expect(putsOf(h)).toHaveLength(1);
    expect(h.messenger.shown(h.messenger.posts[0]!.ts)).toMatch(/done/);
  });

  it('sends no second update while another is in flight: Databricks refuses it once and the record says so', async () => {
    const h = await start();
    await h.serving.updateConfig(ENDPOINT, {
      servedVersions: [{ modelName: DEMO.model, modelVersion: 1, scaleToZero: true }],
    });
    const inFlight = (await h.serving.get(ENDPOINT)).pending?.configVersion;
    const id = applyValue(await propose(h, deploy(3)));
    const puts = putsOf(h).length;
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();

    expect(
      putsOf(h)
        .slice(puts)
        .map((r) => r.status),
    ).toEqual([409]);
    const ep = await h.serving.get(ENDPOINT);
    expect(ep.pending?.configVersion).toBe(inFlight);
    expect(ep.pending?.servedVersions.map((v) => v.modelVersion)).toEqual(['1']);
    expect(await h.store.get(id)).toMatchObject({ status: 'failed' });
  });

  it("says nothing was changed when a gateway's 502 page kept answering the update and the endpoint shows none of it", async () => {
    const h = await start();
    const versionBefore = await liveVersion(h);
    const id = applyValue(await propose(h, deploy(3)));
    h.twin.faults.next(PUT_CONFIG, { kind: 'html', status: 502 }, 100);
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();
    h.twin.faults.clear();

    const change = (await h.store.get(id))!;
    expect(change.status).toBe('failed');
    expect(change.error).toBe('Databricks was unavailable (502 from a gateway) after 3 attempts.');
    const shown = h.messenger.shown(h.messenger.posts[0]!.ts);
    expect(shown).toContain('Nothing was changed.');
    expect(shown).toContain('Still serving:* churn_model v2 100%');
    // Each resend came after a read that showed nothing of the previous one.
    expect(putsOf(h)).toHaveLength(3);
    expect(await liveVersion(h)).toBe(versionBefore);
  });

  it('does not send its update again when, after a lost answer, another change is in flight', async () => {
    const h = await start({
      serving: (s) => ({
        ...s,
        async updateConfig(name) {
          // Someone else's update lands; ours times out before reaching Databricks.
          await s.updateConfig(name, {
            servedVersions: [{ modelName: DEMO.model, modelVersion: 1, scaleToZero: true }],
          });
          throw new DatabricksTransportError('timeout', 'PUT: no answer within 30000 ms', 'PUT', '/');
        },
      }),
    });
    const id = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();

    const version = (await h.serving.get(ENDPOINT)).pending?.configVersion;
    expect((await h.store.get(id))?.status).toBe('failed');
    expect((await h.store.get(id))?.error).toBe(
      `The answer to the update of churn-endpoint was lost (no answer in time), and another change is in flight on churn-endpoint (config version ${version}); the bot did not send its update again.`,
    );
    expect(putsOf(h)).toHaveLength(1);
  });

  it('ends as timed out, not failed, when Databricks cannot be read after a lost answer', async () => {
    const h = await start({
      serving: (s) => ({
        ...s,
        async updateConfig() {
          h.twin.faults.next('GET /api/2.0/serving-endpoints/:name', { kind: 'status', status: 503 }, 1000);
          throw new DatabricksTransportError('connection', 'PUT: connection failed (ECONNRESET)', 'PUT', '/');
        },
      }),
    });
    const id = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();
    h.twin.faults.clear();

    expect((await h.store.get(id))?.status).toBe('timed_out');
    expect(h.messenger.shown(h.messenger.posts[0]!.ts)).toContain(
      'The answer to the update of churn-endpoint was lost (the connection dropped), and Databricks could not be read afterwards: the update may or may not have been applied.',
    );
  });
});

describe('rollouts that take too long', () => {
  it('stops following after the timeout and says what to check, leaving a finished message', async () => {
    const h = await start({ timeoutMs: 60_000 });
    const id = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(id, RILEY);
    await h.pipeline.idle();
    const shown = h.messenger.shown(h.messenger.posts[0]!.ts);
    expect(shown).toMatch(/Deploy to churn-endpoint: stopped following/);
    expect(shown).toContain('/mlops status churn-endpoint');
    expect(await h.store.get(id)).toMatchObject({ status: 'timed_out', messageFinished: true });
    // The target is free again for the next change.
    expect(await h.store.activeFor(`endpoint:${ENDPOINT}`)).toBeUndefined();
  });
});

describe('restarts', () => {
  it('follows a rollout again after a restart and finishes the same message', async () => {
    const h = await start();
    const id = applyValue(await propose(h, deploy(3)));
    await h.pipeline.apply(id, RILEY);
    h.pipeline.stop(); // the process goes down while the rollout runs
    await h.pipeline.idle();
    expect((await h.store.get(id))?.status).toBe('rolling_out');
    const ts = h.messenger.posts[0]!.ts;
    expect(h.messenger.shown(ts)).toMatch(/rolling out/);

    const pipeline = h.restart();
    const events: string[] = [];
    const summary = await runRolloutWatch({ pipeline, report: (e) => events.push(e.kind) }, h.clock.now());
    expect(summary).toEqual({ followed: 1, ended: 0, messagesFinished: 0 });
    expect(events).toEqual(['start', 'ok']);
    await pipeline.idle();

    expect(h.messenger.posts).toHaveLength(1);
    expect(h.messenger.shown(ts)).toMatch(/done — churn-endpoint serves churn_model v3 100%/);
    expect(await h.store.get(id)).toMatchObject({ status: 'succeeded', messageFinished: true });
    expect(configPuts(h)).toHaveLength(1);
  });

  it('ends a change that never reached Databricks and says nothing was changed', async () => {
    const h = await start();
    const id = applyValue(await propose(h, deploy(3)));
    // The process died between winning Apply and calling Databricks.
    await h.store.transition(id, 'proposed', 'applying', {
      appliedBy: RILEY.userId,
      appliedAt: h.clock.now(),
    });

    const pipeline = h.restart();
    expect(await pipeline.resume()).toEqual({ followed: 0, ended: 1, messagesFinished: 0 });
    await pipeline.idle();
    expect(await h.store.get(id)).toMatchObject({ status: 'failed', messageFinished: true });
    expect(h.messenger.shown(h.messenger.posts[0]!.ts)).toContain(
      'The bot restarted before the change reached Databricks; nothing was changed.',
    );
    expect(configPuts(h)).toHaveLength(0);
  });

  it('follows a change whose call reached Databricks just before the crash', async () => {
    const h = await start();
    const id = applyValue(await propose(h, deploy(3)));
    await h.store.transition(id, 'proposed', 'applying', {
      appliedBy: RILEY.userId,
      appliedAt: h.clock.now(),
    });
    await h.serving.updateConfig(ENDPOINT, {
      servedVersions: [{ modelName: DEMO.model, modelVersion: 3, name: 'churn_model-3', scaleToZero: true }],
    });

    const pipeline = h.restart();
    expect(await pipeline.resume()).toMatchObject({ followed: 1 });
    await pipeline.idle();
    expect((await h.store.get(id))?.status).toBe('succeeded');
    expect(h.messenger.posts).toHaveLength(1);
  });

  it('finishes a message a crash left open after the change had ended', async () => {
    const h = await start();
    const id = applyValue(await propose(h, deploy(3)));
    await h.store.transition(id, 'proposed', 'applying');
    await h.store.setMessage(id, { channel: 'C0MLOPS', ts: '1772442000.999999' });
    await h.store.transition(id, 'applying', 'failed', {
      error: 'A rollout is already in progress on churn-endpoint.',
    });

    const pipeline = h.restart();
    expect(await pipeline.resume()).toEqual({ followed: 0, ended: 0, messagesFinished: 1 });
    expect(h.messenger.shown('1772442000.999999')).toContain('A rollout is already in progress');
  });
});
