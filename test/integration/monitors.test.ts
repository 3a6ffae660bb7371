import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabricksApiError } from '../../src/databricks/http.js';
import { createMonitorsClient, granularityText } from '../../src/databricks/monitors.js';
import type { Monitors } from '../../src/domain/ports/monitors.js';
import { simulatedClock } from '../../src/lib/clock.js';
import { DEMO, seedDemoWorkspace } from '../../src/sandbox/workspace/demo.js';
import type { Monitor } from '../../src/sandbox/workspace/state.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import { userError } from '../support/errors.js';
import { startTwinWithClient } from '../support/workspace.js';

const QUEUE_MS = 1_000;
const RUN_MS = 5_000;
const DQ_GET = 'GET /api/data-quality/v1/monitors/:object_type/:object_id';
const LEGACY_GET = 'GET /api/2.1/unity-catalog/tables/:table/monitor';
const DQ_POST = 'POST /api/data-quality/v1/monitors/:object_type/:object_id/refreshes';
const LEGACY_POST = 'POST /api/2.1/unity-catalog/tables/:table/monitor/refreshes';

let clock: ReturnType<typeof simulatedClock>;
let env: Awaited<ReturnType<typeof startTwinWithClient>>;
let monitors: Monitors;

beforeEach(async () => {
  clock = simulatedClock(Date.parse('2026-03-02T09:00:00Z'));
  env = await startTwinWithClient(
    { clock, state: seedDemoWorkspace({ now: clock.now() }), jobQueueMs: QUEUE_MS, jobRunMs: RUN_MS },
    { clock },
  );
  monitors = createMonitorsClient(env.http);
});
afterEach(() => env.twin.stop());

const demoMonitor = (): Monitor => env.twin.state.monitors.get(DEMO.monitoredTable)!;
const routeStatuses = (route: string) =>
  env.twin.requests.filter((r) => r.route === route).map((r) => r.status);

const demoTables = {
  profileTable: DEMO.profileTable,
  driftTable: DEMO.driftTable,
  modelIdColumn: DEMO.modelIdColumn,
  predictionColumn: DEMO.predictionColumn,
  labelColumn: DEMO.labelColumn,
  timestampColumn: DEMO.timestampColumn,
  granularities: ['1 day'],
};

describe('finding the metric tables', () => {
  it('finds them through the data-quality API, by the table UUID', async () => {
    await expect(monitors.findMetricTables(DEMO.monitoredTable)).resolves.toEqual({
      ...demoTables,
      api: 'data-quality',
    });
    expect(env.twin.requests.map((r) => r.path)).toEqual([
      `/api/2.1/unity-catalog/tables/${DEMO.monitoredTable}`,
      `/api/data-quality/v1/monitors/table/${DEMO.tableIds.monitored}`,
    ]);
  });

  it('falls back to the legacy API when the data-quality API does not know the monitor', async () => {
    demoMonitor().in_data_quality_api = false;
    await expect(monitors.findMetricTables(DEMO.monitoredTable)).resolves.toEqual({
      ...demoTables,
      api: 'legacy',
    });
    expect(routeStatuses(DQ_GET)).toEqual([404]);
    expect(routeStatuses(LEGACY_GET)).toEqual([200]);
  });

  it.each(['not_implemented', 'feature_disabled'] as const)(
    'falls back to the legacy API when the data-quality API is %s in the workspace',
    async (mode) => {
      env.twin.state.data_quality_api = mode;
      await expect(monitors.findMetricTables(DEMO.monitoredTable)).resolves.toMatchObject({ api: 'legacy' });
      expect(routeStatuses(DQ_GET)).toEqual([501]);
    },
  );

  it('explains a table that does not exist', async () => {
    const err = await userError(monitors.findMetricTables('acme.mlops.nope'));
    expect(err.code).toBe('table_not_found');
    expect(describeError(err).text).toContain('acme.mlops.nope');
  });

  it('explains a table that has no monitor in either API', async () => {
    const err = await userError(monitors.findMetricTables(DEMO.inferenceTable));
    expect(err.code).toBe('monitor_not_found');
    expect(describeError(err).hint).toContain('InferenceLog');
  });

  it('refuses a name that is not catalog.schema.table without calling the workspace', async () => {
    expect((await userError(monitors.findMetricTables('churn_inference'))).code).toBe('invalid_table_name');
    expect(env.twin.requests).toHaveLength(0);
  });

  it('does not hide other errors of the data-quality API behind the fallback', async () => {
    env.twin.faults.next(DQ_GET, { kind: 'status', status: 500 });
    const err = await monitors.findMetricTables(DEMO.monitoredTable).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabricksApiError);
    expect(routeStatuses(LEGACY_GET)).toEqual([]);
  });

  it('spells data-quality granularities the way the metric tables do', () => {
    expect(
      [
        'AGGREGATION_GRANULARITY_5_MINUTES',
        'AGGREGATION_GRANULARITY_1_HOUR',
        'AGGREGATION_GRANULARITY_2_WEEKS',
        '1 day',
      ].map(granularityText),
    ).toEqual(['5 minutes', '1 hour', '2 weeks', '1 day']);
  });
});

describe('refreshing a monitor', () => {
  it('starts a refresh through the data-quality API and follows it to SUCCESS', async () => {
    const { refresh, started } = await monitors.refresh(DEMO.monitoredTable);
    expect(started).toBe(true);
    expect(refresh).toMatchObject({ state: 'PENDING', trigger: 'MANUAL' });
    expect(routeStatuses(DQ_POST)).toEqual([200]);

    clock.advance(QUEUE_MS);
    expect((await monitors.getRefresh(DEMO.monitoredTable, refresh.refreshId)).state).toBe('RUNNING');
    clock.advance(RUN_MS);
    const done = await monitors.getRefresh(DEMO.monitoredTable, refresh.refreshId);
    expect(done.state).toBe('SUCCESS');
    expect(done.endedAt).toBeInstanceOf(Date);
  });

  it('does not queue a second refresh while one is pending or running', async () => {
    const first = await monitors.refresh(DEMO.monitoredTable);
    const second = await monitors.refresh(DEMO.monitoredTable);
    clock.advance(QUEUE_MS);
    const third = await monitors.refresh(DEMO.monitoredTable);
    expect(second).toEqual({ refresh: first.refresh, started: false });
    expect(third).toMatchObject({
      refresh: { refreshId: first.refresh.refreshId, state: 'RUNNING' },
      started: false,
    });
    expect(routeStatuses(DQ_POST)).toEqual([200]);
    expect(demoMonitor().refreshes).toHaveLength(2); // the seeded one and ours

    clock.advance(RUN_MS);
    const next = await monitors.refresh(DEMO.monitoredTable);
    expect(next.started).toBe(true);
    expect(next.refresh.refreshId).not.toBe(first.refresh.refreshId);
  });

  it('uses the legacy API when that is the one that knows the monitor', async () => {
    demoMonitor().in_data_quality_api = false;
    const { refresh } = await monitors.refresh(DEMO.monitoredTable);
    expect(routeStatuses(LEGACY_POST)).toEqual([200]);
    expect((await monitors.refresh(DEMO.monitoredTable)).started).toBe(false);
    clock.advance(QUEUE_MS + RUN_MS);
    expect(await monitors.getRefresh(DEMO.monitoredTable, refresh.refreshId)).toMatchObject({
      state: 'SUCCESS',
    });
  });

  it('reports a failed refresh with its message', async () => {
    demoMonitor().next_refresh_outcome = 'FAILED';
    const { refresh } = await monitors.refresh(DEMO.monitoredTable);
    clock.advance(QUEUE_MS + RUN_MS);
    const done = await monitors.getRefresh(DEMO.monitoredTable, refresh.refreshId);
    expect(done.state).toBe('FAILED');
    expect(done.message).toContain('failed');
  });

  it('does not retry the refresh POST after a 503, since each POST queues a refresh', async () => {
    env.twin.faults.next(DQ_POST, { kind: 'status', status: 503 });
    const err = await monitors.refresh(DEMO.monitoredTable).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, attempts: 1 });
    expect(routeStatuses(DQ_POST)).toEqual([503]);
  });

  it('explains a refresh that does not exist', async () => {
    expect((await userError(monitors.getRefresh(DEMO.monitoredTable, '999'))).code).toBe('refresh_not_found');
  });
});
