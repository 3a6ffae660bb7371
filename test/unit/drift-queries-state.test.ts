import { beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/domain/errors.js';
import type { AlertView } from '../../src/drift/alert-view.js';
import { buildMetricQuery, toWindows } from '../../src/drift/queries.js';
import { conditionTerms } from '../../src/drift/rules.js';
import { createDriftStateStore, type DriftStateStore } from '../../src/drift/state-store.js';
import { describeError } from '../../src/slack/blocks/errors.js';
import type { StoreDatabase } from '../../src/storage/database.js';
import { describeEachBackend } from '../support/backends.js';

const terms = conditionTerms({
  metric: 'js_distance',
  columns: ['churn', 'prediction'],
  direction: 'above',
  threshold: 0.19,
  abs: false,
});
const input = {
  table: 'acme.mlops.churn_inference_drift_metrics',
  modelIdColumn: 'model_version',
  modelIds: ['*', '2'],
  granularity: '1 day',
  since: new Date('2026-11-01T00:00:00Z'),
  terms,
};

describe('buildMetricQuery', () => {
  it('binds every value as a parameter and quotes every identifier', async () => {
    const q = buildMetricQuery('drift', input);
    expect(q.params).toEqual({
      granularity: '1 day',
      since: input.since,
      m0: '*',
      m1: '2',
      c0: 'churn',
      c1: 'prediction',
      d0: 'CONSECUTIVE',
    });
    for (const value of ["'churn'", "'*'", 'CONSECUTIVE', '1 day', '2026'])
      expect(q.sql).not.toContain(value);
    expect(q.sql).toContain('FROM `acme`.`mlops`.`churn_inference_drift_metrics`');
    expect(q.sql).toContain(
      'max(CASE WHEN column_name = :c0 AND drift_type = :d0 THEN `js_distance` END) AS v0',
    );
  });

  it('pivots any number of columns into one statement', async () => {
    const many = conditionTerms({
      metric: 'ks_test.pvalue',
      columns: Array.from({ length: 50 }, (_, i) => `feature_${i}`),
      direction: 'below',
      threshold: 0.05,
      abs: false,
    });
    const q = buildMetricQuery('drift', { ...input, terms: many });
    expect(q.sql.match(/SELECT/g)).toHaveLength(1);
    expect(q.sql).toContain('THEN `ks_test`.`pvalue` END) AS v49');
  });

  it('refuses a model-id column that is not an identifier', async () => {
    let thrown: unknown;
    try {
      buildMetricQuery('drift', { ...input, modelIdColumn: 'model_version; DROP TABLE x' });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(UserError);
    expect(describeError(thrown as UserError).text).toMatch(/not a valid column name/);
  });

  it('merges profile and drift rows into windows that remember which table had them', async () => {
    const start = new Date('2026-11-01T00:00:00Z');
    const end = new Date('2026-11-02T00:00:00Z');
    const windows = toWindows(
      [{ window_start: start, window_end: end, model_id: '*', values: { a: 0.4 } }],
      [{ window_start: start, window_end: end, model_id: '*', values: { b: 0.3 } }],
    );
    expect(windows.get('*')).toEqual([
      {
        start: start.getTime(),
        end: end.getTime(),
        values: { a: 0.4, b: 0.3 },
        inProfile: true,
        inDrift: true,
      },
    ]);
  });
});

describeEachBackend('drift state store', (backend) => {
  let db: StoreDatabase;
  let state: DriftStateStore;
  const view = { monitor: 'churn', rule: 'drift', windows: [] } as unknown as AlertView;
  const validView: AlertView = {
    ...view,
    ruleText: 'x',
    model: 'm',
    modelId: '*',
    terms: [],
    counts: { rule: 0, perRule: {}, total: 0, windows: 0, history: 30 },
    trends: [],
    retrain: false,
    checkedAt: 0,
  };
  beforeEach(async () => {
    db = await backend.open({ shared: true });
    state = createDriftStateStore(db);
  });

  const newAlert = (windows: number[]) => ({
    monitor: 'churn',
    rule: 'drift',
    modelId: '*',
    channel: 'C0MLOPS',
    windows,
    view: validView,
    at: 1,
  });

  it('keeps one open alert per rule and model id, and merges the windows it reported', async () => {
    const { alert, created } = await state.createAlert(newAlert([3, 1]));
    expect(created).toBe(true);
    expect((await state.createAlert(newAlert([5]))).created).toBe(false);
    expect((await state.recordWindows(alert.id, [2, 3], validView))?.windows).toEqual([1, 2, 3]);
    expect(await state.closeAlert(alert.id, 9)).toBe(true);
    expect(await state.closeAlert(alert.id, 10)).toBe(false);
    expect((await state.createAlert(newAlert([7]))).created).toBe(true);
  });

  it('keeps progress moving forward only, across reopening', async () => {
    await state.setProgress('churn', '*', 200, 1);
    await state.setProgress('churn', '*', 100, 2);
    await db.close();
    db = await backend.connect();
    state = createDriftStateStore(db);
    expect(await state.progress('churn', '*')).toBe(200);
  });

  it('counts a failing streak from its first failure until it is cleared', async () => {
    expect(
      (await state.recordFailure('churn', { code: 'a', message: 'm1', channel: 'C0MLOPS', at: 1 })).first,
    ).toBe(true);
    const second = await state.recordFailure('churn', {
      code: 'b',
      message: 'm2',
      channel: 'C0MLOPS',
      at: 2,
    });
    expect(second).toMatchObject({
      first: false,
      failure: { since: 1, lastAt: 2, attempts: 2, message: 'm2' },
    });
    expect((await state.clearFailure('churn'))?.attempts).toBe(2);
    expect(await state.failure('churn')).toBeUndefined();
  });

  it('knows the windows alerts reported, open or closed since a time, so a window judged again never alerts twice', async () => {
    const old = (await state.createAlert(newAlert([1, 2]))).alert;
    await state.closeAlert(old.id, 5);
    const recent = (await state.createAlert(newAlert([10, 11]))).alert;
    await state.closeAlert(recent.id, 20);
    await state.createAlert({ ...newAlert([30]), rule: 'performance' });
    expect(await state.reportedWindows('churn', '*', 10)).toEqual(
      new Map([
        ['drift', new Set([10, 11])],
        ['performance', new Set([30])],
      ]),
    );
    expect(await state.reportedWindows('churn', '2', 0)).toEqual(new Map());
  });

  it('records a streak of missed checks once, and marks it caught up once', async () => {
    const streak = { monitor: 'churn', scheduledAt: 100, lastScheduledAt: 160, runs: 2, noticedAt: 200 };
    expect(await state.recordMissedCheck(streak)).toBe(true);
    expect(await state.recordMissedCheck(streak)).toBe(false);
    expect(await state.setMissedCheckCaughtUp('churn', 100, 250)).toBe(true);
    expect(await state.setMissedCheckCaughtUp('churn', 100, 260)).toBe(false);
    expect(await state.lastMissedCheck('churn', 0)).toEqual({ ...streak, caughtUpAt: 250 });
    expect(await state.lastMissedCheck('churn', 201)).toBeUndefined();
  });
});
