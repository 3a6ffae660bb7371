import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalRenderer } from '../../src/charts/render.js';
import { monitorSchema } from '../../src/config/policy-monitors.js';
import { staticTokenProvider } from '../../src/databricks/auth.js';
import { createDatabricksHttp } from '../../src/databricks/http.js';
import { createMonitorsClient } from '../../src/databricks/monitors.js';
import { createServingClient } from '../../src/databricks/serving.js';
import { createDatabricksWarehouse } from '../../src/databricks/warehouse.js';
import type { Warehouse } from '../../src/domain/ports/warehouse.js';
import { rulesOf } from '../../src/drift/rules.js';
import { createDriftStateStore, type DriftStateStore } from '../../src/drift/state-store.js';
import type { WatchedMonitor } from '../../src/drift/types.js';
import { createDriftWatch } from '../../src/drift/watch.js';
import type { DriftCheckDeps } from '../../src/jobs/drift-check.js';
import { runDriftCheck } from '../../src/jobs/drift-check.js';
import { simulatedClock, systemClock } from '../../src/lib/clock.js';
import { silentLogger } from '../../src/lib/logger.js';
import { MLOPS_CHANNEL_ID, type SlackTwin, startSlackTwin } from '../../src/sandbox/slack/index.js';
import { type DatabricksTwins, startDatabricksTwins } from '../../src/sandbox/start.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import { startWorkspaceTwin } from '../../src/sandbox/workspace/server.js';
import { driftActionViews } from '../../src/slack/blocks/drift.js';
import { driftViews } from '../../src/slack/blocks/views.js';
import { createSlackDriftPublisher } from '../../src/slack/publisher.js';
import { openDatabase, type StoreDatabase } from '../../src/storage/database.js';

const DAY = 86_400_000;
const D0 = Date.parse('2026-10-01T00:00:00Z');
const day = (i: number) => D0 + i * DAY;
/** Half an hour after window `i` ended. */
const justAfter = (i: number) => new Date(day(i + 1) + 30 * 60_000);

const PROFILE = 'acme.mlops.watch_profile_metrics';
const DRIFT = 'acme.mlops.watch_drift_metrics';
const WINDOW = 'STRUCT("start" TIMESTAMP, "end" TIMESTAMP)';

let twins: DatabricksTwins;
let slack: SlackTwin;
let warehouse: Warehouse;
let state: DriftStateStore;
let db: StoreDatabase;
let dir: string;
let clock: ReturnType<typeof simulatedClock>;

/** Minimal metric tables holding what the reference rules read. */
async function createMetricTables(): Promise<void> {
  await twins.db.run(`CREATE OR REPLACE TABLE ${PROFILE} ("window" ${WINDOW}, log_type VARCHAR, granularity VARCHAR,
    model_version VARCHAR, slice_key VARCHAR, slice_value VARCHAR, column_name VARCHAR,
    f1_score STRUCT(macro DOUBLE, weighted DOUBLE), expected_loss DOUBLE)`);
  await twins.db.run(`CREATE OR REPLACE TABLE ${DRIFT} ("window" ${WINDOW}, drift_type VARCHAR, granularity VARCHAR,
    model_version VARCHAR, slice_key VARCHAR, slice_value VARCHAR, column_name VARCHAR, js_distance DOUBLE)`);
}

/** Window `i` of the '*' model id: healthy, or breaching both reference rules. */
async function addWindow(i: number, kind: 'healthy' | 'breach'): Promise<void> {
  const window = { start: new Date(day(i)), end: new Date(day(i + 1)) };
  const bad = kind === 'breach';
  const key = { window, granularity: '1 day', model_version: '*', slice_key: null, slice_value: null };
  await twins.db.insert(PROFILE, [
    {
      ...key,
      log_type: 'INPUT',
      column_name: ':table',
      f1_score: { macro: bad ? 0.41 : 0.74, weighted: 0.7 },
      expected_loss: bad ? -44 : -12,
    },
  ]);
  await twins.db.insert(
    DRIFT,
    ['churn', 'prediction'].map((column_name) => ({
      ...key,
      drift_type: 'CONSECUTIVE',
      column_name,
      js_distance: bad ? 0.27 : 0.05,
    })),
  );
}

/** Window `i` before its labels arrive: input statistics only, so no F1, loss or label drift. */
async function addUnlabelledWindow(i: number): Promise<void> {
  const window = { start: new Date(day(i)), end: new Date(day(i + 1)) };
  const key = { window, granularity: '1 day', model_version: '*', slice_key: null, slice_value: null };
  await twins.db.insert(PROFILE, [
    { ...key, log_type: 'INPUT', column_name: ':table', f1_score: null, expected_loss: null },
  ]);
  await twins.db.insert(DRIFT, [
    { ...key, drift_type: 'CONSECUTIVE', column_name: 'churn', js_distance: null },
    { ...key, drift_type: 'CONSECUTIVE', column_name: 'prediction', js_distance: 0.05 },
  ]);
}

/** The monitor's next refresh recomputes window `i` (labels arrived): its rows are replaced. */
async function recomputeWindow(i: number, kind: 'healthy' | 'breach'): Promise<void> {
  const start = new Date(day(i)).toISOString().replace('T', ' ').replace('Z', '');
  for (const table of [PROFILE, DRIFT]) {
    await twins.db.run(`DELETE FROM ${table} WHERE "window"."start" = TIMESTAMP '${start}'`);
  }
  await addWindow(i, kind);
}

function watched(overrides: Record<string, unknown> = {}): WatchedMonitor {
  const config = monitorSchema.parse({
    model: 'acme.mlops.churn_model',
    profileTable: PROFILE,
    driftTable: DRIFT,
    schedule: '0 8 * * *',
    channel: MLOPS_CHANNEL_ID,
    retrainJob: 1001,
    history: 5,
    rules: {
      performance: {
        all: [
          { metric: 'f1_score.macro', direction: 'below', threshold: 0.5 },
          { metric: 'expected_loss', abs: true, direction: 'above', threshold: 30 },
        ],
      },
      drift: {
        all: [
          { metric: 'js_distance', columns: ['churn', 'prediction'], direction: 'above', threshold: 0.19 },
        ],
      },
    },
    ...overrides,
  });
  return {
    name: 'watch',
    config,
    model: config.model,
    rules: rulesOf(config),
    renderer: createLocalRenderer(),
  };
}

function deps(overrides: Partial<DriftCheckDeps> = {}): DriftCheckDeps {
  const http = createDatabricksHttp({
    host: twins.workspace.url,
    tokens: staticTokenProvider(twins.workspace.token),
    clock,
  });
  const client = new webApi.WebClient(slack.botToken, {
    slackApiUrl: slack.apiUrl,
    retryConfig: { retries: 0 },
  });
  return {
    warehouse,
    monitors: createMonitorsClient(http),
    serving: createServingClient(http),
    state,
    publisher: createSlackDriftPublisher(client),
    views: driftViews,
    clock,
    ...overrides,
  };
}

const topLevel = () =>
  slack.state.messages(MLOPS_CHANNEL_ID).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
const thread = (ts: string) => slack.state.replies(MLOPS_CHANNEL_ID, ts).slice(1);
const alertsFor = (rule: string) => topLevel().filter((m) => m.text.includes(`watch · ${rule}`));

beforeEach(async () => {
  twins = await startDatabricksTwins(new Date(day(20)));
  slack = await startSlackTwin();
  warehouse = createDatabricksWarehouse({
    host: twins.warehouse.url,
    httpPath: twins.warehouse.httpPath,
    ca: twins.warehouse.ca,
    tokens: staticTokenProvider(twins.workspace.token),
  });
  dir = mkdtempSync(join(tmpdir(), 'modelgate-drift-'));
  db = openDatabase(join(dir, 'modelgate.db'));
  state = createDriftStateStore(db);
  clock = simulatedClock(day(0));
  await createMetricTables();
});

afterEach(async () => {
  await db.close();
  await warehouse.close();
  await slack.stop();
  await twins.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('runDriftCheck', () => {
  it('catches up after downtime from the last window it processed, and alerts each window once', async () => {
    const monitor = watched();
    for (let i = 0; i < 10; i++) await addWindow(i, 'healthy');
    const first = await runDriftCheck(deps(), monitor, justAfter(9));
    expect(first).toMatchObject({ outcome: 'ok', alertsPosted: 0, queries: 2 });
    expect(await state.progress('watch', '*')).toBe(day(9));

    // The bot is down for a week while windows 10–16 arrive; 12–16 breach both rules.
    for (let i = 10; i < 17; i++) await addWindow(i, i >= 12 ? 'breach' : 'healthy');
    const second = await runDriftCheck(deps(), monitor, justAfter(16));
    // It reads from the first window it has not processed, beyond the 5-window history.
    expect(second.since.getTime()).toBe(day(10));
    expect(second).toMatchObject({ outcome: 'ok', alertsPosted: 2, updatesPosted: 0, queries: 2 });
    expect(second.rowsFetched).toBe(14);
    for (const rule of ['performance', 'drift']) {
      const [alert] = alertsFor(rule);
      expect(alert?.text).toMatch(/5 new violating windows \(2026-10-13 to 2026-10-17\)/);
      expect(thread(alert!.ts).some((m) => (m.files ?? []).length === 1)).toBe(true);
    }
    expect(await state.progress('watch', '*')).toBe(day(16));

    const again = await runDriftCheck(deps(), monitor, new Date(justAfter(16).getTime() + 3_600_000));
    expect(again).toMatchObject({ alertsPosted: 0, updatesPosted: 0, recoveries: 0 });
    expect(topLevel()).toHaveLength(2);
  });

  it('puts new violations of an open alert into its thread, records them silently while snoozed, and posts the recovery once', async () => {
    const monitor = watched();
    for (let i = 0; i < 6; i++) await addWindow(i, i >= 4 ? 'breach' : 'healthy');
    expect((await runDriftCheck(deps(), monitor, justAfter(5))).alertsPosted).toBe(2);
    const perf = (await state.openAlert('watch', 'performance', '*'))!;
    const drift = (await state.openAlert('watch', 'drift', '*'))!;

    await addWindow(6, 'breach');
    expect(await runDriftCheck(deps(), monitor, justAfter(6))).toMatchObject({
      alertsPosted: 0,
      updatesPosted: 2,
    });
    expect(thread(perf.ts!).map((m) => m.text)).toContainEqual(
      expect.stringMatching(/watch · performance: 1 more violating window \(latest 2026-10-07/),
    );

    await state.snooze(perf.id, justAfter(7).getTime() + DAY, 'U0REQUEST');
    await addWindow(7, 'breach');
    expect(await runDriftCheck(deps(), monitor, justAfter(7))).toMatchObject({ updatesPosted: 1 });
    expect(thread(perf.ts!).filter((m) => /more violating/.test(m.text))).toHaveLength(1);
    expect((await state.alert(perf.id))?.windows).toContain(day(7));

    await addWindow(8, 'healthy');
    expect(await runDriftCheck(deps(), monitor, justAfter(8))).toMatchObject({ recoveries: 2 });
    for (const a of [perf, drift]) {
      expect((await state.alert(a.id))?.status).toBe('closed');
      expect(thread(a.ts!).filter((m) => /^Recovered: watch/.test(m.text))).toHaveLength(1);
      expect(slack.state.findMessage(MLOPS_CHANNEL_ID, a.ts!)?.text).toMatch(/^Resolved: watch/);
    }
    expect(await runDriftCheck(deps(), monitor, new Date(justAfter(8).getTime() + 60_000))).toMatchObject({
      recoveries: 0,
      alertsPosted: 0,
    });

    // A violation after the recovery opens a new alert.
    await addWindow(9, 'breach');
    expect((await runDriftCheck(deps(), monitor, justAfter(9))).alertsPosted).toBe(2);
    expect(alertsFor('performance')).toHaveLength(2);
  });

  it('alerts once on an old window whose labels arrive after its first check, and never again', async () => {
    const monitor = watched();
    for (let i = 0; i < 4; i++) await addWindow(i, 'healthy');
    await addUnlabelledWindow(4);
    expect(await runDriftCheck(deps(), monitor, justAfter(4))).toMatchObject({
      outcome: 'ok',
      alertsPosted: 0,
    });
    expect(await state.progress('watch', '*')).toBe(day(4));
    await addWindow(5, 'healthy');
    expect((await runDriftCheck(deps(), monitor, justAfter(5))).alertsPosted).toBe(0);

    // Two days after window 4 was first checked, its labels arrive and the monitor recomputes it.
    await recomputeWindow(4, 'breach');
    await addWindow(6, 'healthy');
    const late = await runDriftCheck(deps(), monitor, justAfter(6));
    expect(late).toMatchObject({ outcome: 'ok', alertsPosted: 2, queries: 2 });
    for (const rule of ['performance', 'drift']) {
      const [alert] = alertsFor(rule);
      expect(alert?.text).toMatch(
        /1 new violating window \(2026-10-05\) \(it violates only since its first check: late labels or a monitor refresh\)/,
      );
    }

    // Later checks: the latest window is healthy, so the alerts recover; window 4 never alerts again.
    await addWindow(7, 'healthy');
    expect(await runDriftCheck(deps(), monitor, justAfter(7))).toMatchObject({
      alertsPosted: 0,
      updatesPosted: 0,
      recoveries: 2,
    });
    await addWindow(8, 'healthy');
    expect(await runDriftCheck(deps(), monitor, justAfter(8))).toMatchObject({
      alertsPosted: 0,
      updatesPosted: 0,
      recoveries: 0,
    });
    expect(alertsFor('performance')).toHaveLength(1);
    expect(alertsFor('drift')).toHaveLength(1);
  });

  it('with recheckWindows 0, judges a finished window once, as before', async () => {
    const monitor = watched({ recheckWindows: 0 });
    for (let i = 0; i < 4; i++) await addWindow(i, 'healthy');
    await addUnlabelledWindow(4);
    await runDriftCheck(deps(), monitor, justAfter(4));
    await recomputeWindow(4, 'breach');
    await addWindow(5, 'healthy');
    expect(await runDriftCheck(deps(), monitor, justAfter(5))).toMatchObject({ alertsPosted: 0 });
    expect(topLevel()).toEqual([]);
  });

  it('posts the result of a check asked for by hand even when healthy, with a chart per rule in its thread', async () => {
    for (let i = 0; i < 4; i++) await addWindow(i, 'healthy');
    const result = await runDriftCheck(deps(), watched(), justAfter(3), { report: true });
    expect(result).toMatchObject({ outcome: 'ok', alertsPosted: 0, reportPosted: true });
    const [report] = topLevel();
    expect(report?.text).toBe('Drift check of watch (acme.mlops.churn_model, model id *): healthy.');
    expect(JSON.stringify(report?.blocks)).toMatch(/\*performance\*: ok[\s\S]*\*drift\*: ok/);
    expect(
      thread(report!.ts)
        .flatMap((m) => m.files ?? [])
        .map((f) => f.name),
    ).toEqual(['drift-watch-performance-all.png', 'drift-watch-drift-all.png']);
  });

  it('treats a missing metric as no data: it neither alerts nor recovers', async () => {
    const monitor = watched();
    for (let i = 0; i < 3; i++) await addWindow(i, 'breach');
    await runDriftCheck(deps(), monitor, justAfter(2));
    await twins.db.insert(PROFILE, [
      {
        window: { start: new Date(day(3)), end: new Date(day(4)) },
        log_type: 'INPUT',
        granularity: '1 day',
        model_version: '*',
        slice_key: null,
        slice_value: null,
        column_name: ':table',
        f1_score: null,
        expected_loss: null,
      },
    ]);
    await twins.db.insert(
      DRIFT,
      ['churn', 'prediction'].map((column_name) => ({
        window: { start: new Date(day(3)), end: new Date(day(4)) },
        drift_type: 'CONSECUTIVE',
        granularity: '1 day',
        model_version: '*',
        slice_key: null,
        slice_value: null,
        column_name,
        js_distance: null,
      })),
    );
    const result = await runDriftCheck(deps(), monitor, justAfter(3));
    expect(result).toMatchObject({ recoveries: 0, updatesPosted: 0 });
    expect(result.evaluations.map((e) => e.verdicts.at(-1)?.status)).toEqual(['no_data', 'no_data']);
    expect(await state.openAlert('watch', 'performance', '*')).toBeDefined();
    expect(await state.openAlert('watch', 'drift', '*')).toBeDefined();
  });

  describe('a failing check', () => {
    const cases = [
      {
        name: 'the SQL warehouse is starting',
        breakIt: async () => twins.warehouse.faults.warehouseStarting(2),
        fixIt: async () => {},
        want: /Why\* The SQL warehouse is starting up[\s\S]*Fix\* The SQL warehouse was stopped/,
      },
      {
        name: 'a metric table is missing',
        breakIt: async () => twins.db.run(`DROP TABLE ${DRIFT}`),
        fixIt: async () => createMetricTables(),
        want: /Why\* \[TABLE_OR_VIEW_NOT_FOUND\][\s\S]*Fix\* Check the table and column names/,
      },
    ];
    for (const c of cases) {
      it(`is reported once with the reason and the fix when ${c.name}, and its recovery is reported`, async () => {
        const monitor = watched();
        await c.breakIt();
        const one = await runDriftCheck(deps(), monitor, justAfter(0));
        const two = await runDriftCheck(deps(), monitor, justAfter(1));
        expect([one.outcome, two.outcome]).toEqual(['failed', 'failed']);
        const posts = topLevel();
        expect(posts).toHaveLength(1);
        expect(JSON.stringify(posts[0]?.blocks)).toMatch(c.want);
        expect((await state.failure('watch'))?.attempts).toBe(2);

        await c.fixIt();
        const three = await runDriftCheck(deps(), monitor, justAfter(2));
        expect(three.outcome).toBe('ok');
        expect(thread(posts[0]!.ts).map((m) => m.text)).toEqual([
          expect.stringMatching(/^The drift check for watch works again \(failed 2 times since/),
        ]);
        expect(await state.failure('watch')).toBeUndefined();
        expect(topLevel()).toHaveLength(1);
      });
    }
  });

  it('refreshes the monitor first when asked, waits for the refresh, then reads its metric tables', async () => {
    const workspace = await startWorkspaceTwin({ state: seedDemoWorkspace({ now: day(20) }), clock });
    try {
      const http = createDatabricksHttp({
        host: workspace.url,
        tokens: staticTokenProvider(workspace.token),
        clock,
      });
      const monitor = watched({
        profileTable: undefined,
        driftTable: undefined,
        table: DEMO.monitoredTable,
        refreshFirst: true,
        history: 30,
      });
      clock.advance(day(20) + 15 * 3_600_000 - clock.now());
      const result = await runDriftCheck(
        deps({
          monitors: createMonitorsClient(http),
          refreshWait: { initialDelayMs: 500, maxDelayMs: 2_000 },
        }),
        monitor,
        new Date(clock.now()),
      );
      expect(result).toMatchObject({ outcome: 'ok', alertsPosted: 2 });
      expect(result.refreshNote).toBeUndefined();
      const refreshes = workspace.state.monitors.get(DEMO.monitoredTable)?.refreshes ?? [];
      expect(refreshes.map((r) => [r.trigger, r.state])).toContainEqual(['MANUAL', 'SUCCESS']);
      const polls = workspace.requests.filter((r) => r.method === 'GET' && /refreshes\/\d+$/.test(r.path));
      expect(polls.length).toBeGreaterThan(1);
    } finally {
      await workspace.stop();
    }
  });

  it('stops at once when the bot shuts down during a refresh wait, and reports no failure', async () => {
    // The twin's clock never moves, so the refresh stays pending; the check waits on real time.
    const workspace = await startWorkspaceTwin({
      state: seedDemoWorkspace({ now: day(20) }),
      clock: simulatedClock(day(20)),
    });
    try {
      const http = createDatabricksHttp({
        host: workspace.url,
        tokens: staticTokenProvider(workspace.token),
      });
      const shutdown = new AbortController();
      const config = watched({
        profileTable: undefined,
        driftTable: undefined,
        table: DEMO.monitoredTable,
        refreshFirst: true,
      }).config;
      const drift = createDriftWatch({
        policy: { monitors: { watch: config }, defaults: { catalog: 'acme', schema: 'mlops' } },
        state,
        warehouse,
        monitors: createMonitorsClient(http),
        serving: createServingClient(http),
        publisher: deps().publisher,
        views: driftViews,
        actionViews: driftActionViews,
        audit: { audit: async () => {} },
        renderer: () => createLocalRenderer(),
        runCheck: runDriftCheck,
        clock: systemClock,
        logger: silentLogger,
        signal: shutdown.signal,
        refreshWait: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      });
      const [job] = drift.jobs;
      const started = Date.now();
      const run = job!.run(new Date(day(21)));
      const refreshStarted = () =>
        workspace.requests.some((r) => r.method === 'POST' && /refreshes$/.test(r.path));
      while (!refreshStarted() && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 10));
      expect(refreshStarted()).toBe(true);
      shutdown.abort(new Error('the bot is shutting down'));
      await run;
      await drift.idle();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(topLevel()).toEqual([]);
      expect(await state.failure('watch')).toBeUndefined();
    } finally {
      await workspace.stop();
    }
  });

  it('records a scheduled check that did not run on time, catches up at once, and says so in /mlops drift', async () => {
    for (let i = 0; i < 3; i++) await addWindow(i, i === 2 ? 'breach' : 'healthy');
    const d = deps();
    const drift = createDriftWatch({
      policy: { monitors: { watch: watched().config }, defaults: { catalog: 'acme', schema: 'mlops' } },
      state,
      warehouse,
      monitors: d.monitors,
      serving: d.serving,
      publisher: d.publisher,
      views: driftViews,
      actionViews: driftActionViews,
      audit: { audit: async () => {} },
      renderer: () => createLocalRenderer(),
      runCheck: runDriftCheck,
      clock,
      logger: silentLogger,
    });
    const [job] = drift.jobs;
    // The scheduler saw the 08:00 run fire beyond its tolerance (the process was suspended).
    const due = new Date(day(3) + 8 * 3_600_000);
    clock.advance(due.getTime() + 40 * 60_000 - clock.now());
    const noticed = new Date(clock.now());
    await job!.missed!({ first: due, last: due, count: 1 }, noticed);
    expect(alertsFor('performance')).toHaveLength(1);
    expect(await state.lastMissedCheck('watch', 0)).toEqual({
      monitor: 'watch',
      scheduledAt: due.getTime(),
      lastScheduledAt: due.getTime(),
      runs: 1,
      noticedAt: noticed.getTime(),
      caughtUpAt: noticed.getTime(),
    });
    // The same streak told twice runs no second check.
    await job!.missed!({ first: due, last: due, count: 1 }, noticed);
    expect(topLevel()).toHaveLength(2);

    const reply = await drift.commands.check('watch', { channelId: MLOPS_CHANNEL_ID });
    expect(reply.text).toMatch(
      /Its scheduled check 2026-10-04 08:00 UTC did not run on time \(the bot was blocked or down\); it caught up at 2026-10-04 08:40 UTC\./,
    );
  });

  it('watches the versions an endpoint serves when modelIds names the endpoint', async () => {
    const monitor = watched({ modelIds: { endpoint: 'churn-endpoint' }, history: 3 });
    await addWindow(0, 'healthy');
    const result = await runDriftCheck(deps(), monitor, justAfter(0));
    // churn-endpoint serves version 2; these tables only have '*', so there is nothing to judge.
    expect(result.outcome).toBe('ok');
    expect(result.evaluations.map((e) => e.modelId)).toEqual(['2', '2']);
    expect(result.evaluations.every((e) => e.latest === undefined)).toBe(true);
  });
});
