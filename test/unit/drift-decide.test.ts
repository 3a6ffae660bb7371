import { describe, expect, it } from 'vitest';
import { monitorSchema } from '../../src/config/policy-monitors.js';
import { WarehouseError } from '../../src/domain/ports/warehouse.js';
import { buildAlertView } from '../../src/drift/alert-view.js';
import { type DecideMonitor, type DriftAction, decide } from '../../src/drift/decide.js';
import { evaluateMonitor } from '../../src/drift/evaluate.js';
import { type MetricWindow, rulesOf } from '../../src/drift/rules.js';
import type { DriftAlert } from '../../src/drift/state-store.js';
import {
  buildDriftAlertMessage,
  buildDriftDetailsReply,
  describeCheckFailure,
} from '../../src/slack/blocks/drift.js';

const DAY = 86_400_000;
const D0 = Date.parse('2026-10-01T00:00:00Z');
const day = (i: number) => D0 + i * DAY;
/** Half an hour after window `i` ended. */
const justAfter = (i: number) => day(i + 1) + 30 * 60_000;

const config = monitorSchema.parse({
  model: 'acme.mlops.churn_model',
  profileTable: 'acme.mlops.watch_profile_metrics',
  driftTable: 'acme.mlops.watch_drift_metrics',
  schedule: '0 8 * * *',
  channel: 'C0MLOPS',
  history: 5,
  rules: {
    performance: {
      all: [
        { metric: 'f1_score.macro', direction: 'below', threshold: 0.5 },
        { metric: 'expected_loss', abs: true, direction: 'above', threshold: 30 },
      ],
    },
  },
});
const rules = rulesOf(config);
const [f1, loss] = rules[0]!.terms;
const monitor: DecideMonitor = { name: 'watch', model: config.model, channel: 'C0MLOPS', retrain: true };

/** Daily windows from day 0: a breach, a healthy window, or one without data. */
function windowsOf(kinds: ReadonlyArray<'bad' | 'ok' | 'none'>): MetricWindow[] {
  return kinds.map((k, i) => ({
    start: day(i),
    end: day(i + 1),
    values: {
      [f1!.key]: k === 'none' ? null : k === 'bad' ? 0.41 : 0.74,
      [loss!.key]: k === 'none' ? null : k === 'bad' ? -44 : -12,
    },
    inProfile: true,
    inDrift: false,
  }));
}

type OpenSpec = Partial<Pick<DriftAlert, 'ts' | 'snoozedUntil' | 'acknowledgedBy'>> & { days: number[] };

function openAlert(spec: OpenSpec, now: number, kinds: ReadonlyArray<'bad' | 'ok' | 'none'>): DriftAlert {
  const [e] = evaluateMonitor(
    { rules, config },
    { modelIds: ['*'], windows: new Map([['*', windowsOf(kinds)]]) },
    now,
  )[0]!.evaluations;
  const windows = spec.days.map(day);
  return {
    id: 'a1',
    monitor: 'watch',
    rule: 'performance',
    modelId: '*',
    status: 'open',
    channel: 'C0MLOPS',
    openedAt: day(0),
    windows,
    view: {
      ...buildAlertView({
        monitor: 'watch',
        model: config.model,
        evaluation: e!,
        windows,
        retrain: true,
        now,
      }),
      chartUrl: 'https://quickchart.example/chart/1',
    },
    ...('ts' in spec ? (spec.ts ? { ts: spec.ts } : {}) : { ts: '1.000' }),
    ...(spec.snoozedUntil !== undefined ? { snoozedUntil: spec.snoozedUntil } : {}),
    ...(spec.acknowledgedBy ? { acknowledgedBy: spec.acknowledgedBy, acknowledgedAt: day(0) } : {}),
  };
}

const dayOf = (ms: number) => Math.round((ms - D0) / DAY);
const days = (ms: readonly number[]) => ms.map(dayOf).join(',');

/** One line per action, naming the days it is about. */
function summarise(a: DriftAction): string {
  switch (a.kind) {
    case 'record-failure':
      return `record-failure ${a.failure.code}`;
    case 'clear-failure':
    case 'stay-silent':
    case 'post-recovery':
      return a.kind;
    case 'post-alert':
      return `post-alert ${days(a.alert.windows)}`;
    case 'repost-alert':
    case 'post-update':
    case 'record-windows':
      return `${a.kind} ${days(a.windows)}`;
    case 'post-report':
      return `post-report ${a.items.length} to ${a.channel}`;
    case 'record-progress':
      return `record-progress ${dayOf(a.lastWindowStart)}`;
  }
}

interface Case {
  name: string;
  kinds: ReadonlyArray<'bad' | 'ok' | 'none'>;
  /** Last complete window processed (day index). */
  progress?: number;
  open?: OpenSpec;
  /** Default: just after the last window ended. */
  now?: number;
  report?: boolean;
  /** First window judged again (day index); absent: each finished window is judged once. */
  recheckFrom?: number;
  /** Windows (day indices) alerts of the rule have reported, open or closed. */
  reported?: number[];
  want: string[];
}

const cases: Case[] = [
  {
    name: 'alerts on new violating windows when no alert is open',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad'],
    want: ['clear-failure', 'post-alert 3,4', 'record-progress 4'],
  },
  {
    name: 'stays silent while the rule holds',
    kinds: ['ok', 'ok', 'ok'],
    want: ['clear-failure', 'stay-silent', 'record-progress 2'],
  },
  {
    name: 'updates an open alert in its thread with the new windows only',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad', 'bad'],
    progress: 4,
    open: { days: [3, 4] },
    want: ['clear-failure', 'post-update 5', 'record-progress 5'],
  },
  {
    name: 'records new windows silently while the alert is snoozed',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad', 'bad'],
    progress: 4,
    open: { days: [3, 4], snoozedUntil: justAfter(5) + 3_600_000 },
    want: ['clear-failure', 'record-windows 5', 'record-progress 5'],
  },
  {
    name: 'posts the update again once the snooze is over',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad', 'bad'],
    progress: 4,
    open: { days: [3, 4], snoozedUntil: justAfter(5) - 1 },
    want: ['clear-failure', 'post-update 5', 'record-progress 5'],
  },
  {
    name: 'still updates an acknowledged alert (acknowledging does not silence it)',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad', 'bad'],
    progress: 4,
    open: { days: [3, 4], acknowledgedBy: 'U0REQUEST' },
    want: ['clear-failure', 'post-update 5', 'record-progress 5'],
  },
  {
    name: 'posts the recovery of an acknowledged alert',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad', 'ok'],
    progress: 4,
    open: { days: [3, 4], acknowledgedBy: 'U0REQUEST' },
    want: ['clear-failure', 'post-recovery', 'record-progress 5'],
  },
  {
    name: 'posts the recovery of a snoozed alert (a recovery is never silenced)',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad', 'ok'],
    progress: 4,
    open: { days: [3, 4], snoozedUntil: justAfter(5) + DAY },
    want: ['clear-failure', 'post-recovery', 'record-progress 5'],
  },
  {
    name: 'stays silent on an open alert whose rule is still violated with nothing new',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad'],
    progress: 4,
    open: { days: [3, 4] },
    now: justAfter(4) + 3_600_000,
    want: ['clear-failure', 'stay-silent', 'record-progress 4'],
  },
  {
    name: 'neither alerts nor recovers on a window without data',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad', 'none'],
    progress: 4,
    open: { days: [3, 4] },
    want: ['clear-failure', 'stay-silent', 'record-progress 5'],
  },
  {
    name: 'catches up after downtime from the last window processed, not from the history',
    kinds: ['ok', 'bad', 'ok', 'ok', 'bad', 'bad', 'bad'],
    progress: 2,
    want: ['clear-failure', 'post-alert 4,5,6', 'record-progress 6'],
  },
  {
    name: 'never alerts twice on a window, even when the progress was lost',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad'],
    open: { days: [3, 4] },
    want: ['clear-failure', 'stay-silent', 'record-progress 4'],
  },
  {
    name: 'posts again an alert whose message never reached Slack, with the windows new since',
    kinds: ['ok', 'ok', 'ok', 'bad', 'bad', 'bad'],
    progress: 4,
    open: { days: [3, 4], ts: undefined },
    want: ['clear-failure', 'repost-alert 5', 'record-progress 5'],
  },
  {
    name: 'alerts on a window still in progress but does not mark it processed',
    kinds: ['ok', 'ok', 'ok', 'bad'],
    progress: 2,
    now: day(3) + 3_600_000,
    want: ['clear-failure', 'post-alert 3', 'record-progress 2'],
  },
  {
    name: 'alerts on a processed window that violates only now (labels arrived late), within the recheck horizon',
    kinds: ['ok', 'ok', 'bad', 'ok', 'ok'],
    progress: 3,
    recheckFrom: 0,
    want: ['clear-failure', 'post-alert 2', 'record-progress 4'],
  },
  {
    name: 'leaves a processed window alone once it is older than the recheck horizon',
    kinds: ['ok', 'ok', 'bad', 'ok', 'ok'],
    progress: 3,
    recheckFrom: 3,
    want: ['clear-failure', 'stay-silent', 'record-progress 4'],
  },
  {
    name: 'never alerts again on a window judged again that a closed alert reported',
    kinds: ['ok', 'ok', 'bad', 'ok', 'ok'],
    progress: 3,
    recheckFrom: 0,
    reported: [2],
    want: ['clear-failure', 'stay-silent', 'record-progress 4'],
  },
  {
    name: 'alerts only the windows judged again that no alert reported',
    kinds: ['bad', 'ok', 'bad', 'bad', 'ok'],
    progress: 3,
    recheckFrom: 0,
    reported: [0, 3],
    want: ['clear-failure', 'post-alert 2', 'record-progress 4'],
  },
  {
    name: "puts a late violation into the open alert's thread",
    kinds: ['ok', 'bad', 'ok', 'bad', 'bad'],
    progress: 4,
    open: { days: [3, 4] },
    now: justAfter(4) + 3_600_000,
    recheckFrom: 0,
    want: ['clear-failure', 'post-update 1', 'record-progress 4'],
  },
  {
    name: 'records a late violation silently while the alert is snoozed',
    kinds: ['ok', 'bad', 'ok', 'bad', 'bad'],
    progress: 4,
    open: { days: [3, 4], snoozedUntil: justAfter(4) + DAY },
    recheckFrom: 0,
    want: ['clear-failure', 'record-windows 1', 'record-progress 4'],
  },
  {
    name: 'does not hold back the recovery for a window judged again that stays healthy',
    kinds: ['ok', 'ok', 'ok', 'bad', 'ok'],
    progress: 4,
    open: { days: [3] },
    now: justAfter(4) + 3_600_000,
    recheckFrom: 0,
    want: ['clear-failure', 'post-recovery', 'record-progress 4'],
  },
  {
    name: 'reports the silent rules when the check was asked for by hand',
    kinds: ['ok', 'ok', 'ok'],
    report: true,
    want: ['clear-failure', 'stay-silent', 'post-report 1 to C0ASKED', 'record-progress 2'],
  },
  {
    name: 'reports nothing more by hand when the rule alerted',
    kinds: ['ok', 'ok', 'bad'],
    report: true,
    want: ['clear-failure', 'post-alert 2', 'record-progress 2'],
  },
];

describe('decide', () => {
  for (const c of cases) {
    it(c.name, () => {
      const now = c.now ?? justAfter(c.kinds.length - 1);
      const models = evaluateMonitor(
        { rules, config },
        { modelIds: ['*'], windows: new Map([['*', windowsOf(c.kinds)]]) },
        now,
      );
      const actions = decide({
        monitor,
        read: {
          ok: true,
          models,
          openAlerts: c.open ? [openAlert(c.open, now, c.kinds)] : [],
          progress: new Map(c.progress === undefined ? [] : [['*', day(c.progress)]]),
          ...(c.recheckFrom !== undefined ? { recheckFrom: day(c.recheckFrom) } : {}),
          ...(c.reported
            ? { reported: new Map([['*', new Map([['performance', new Set(c.reported.map(day))]])]]) }
            : {}),
        },
        now,
        ...(c.report ? { report: { channel: 'C0ASKED' } } : {}),
      });
      expect(actions.map(summarise)).toEqual(c.want);
    });
  }

  const failures = [
    {
      name: 'records a failure in its own words when the read failed with a UserError',
      error: new WarehouseError('warehouse_starting', {}),
      want: {
        code: 'warehouse_starting',
        message: 'The SQL warehouse is starting up.',
        hint: 'The SQL warehouse was stopped and is starting up, which can take a few minutes. Try again shortly, or keep it running (auto-stop) while the bot is in use.',
      },
    },
    {
      name: 'records an unexpected failure with a generic line',
      error: new Error('socket hang up'),
      want: { code: 'internal', message: 'The check stopped on an unexpected error.' },
    },
  ];
  for (const f of failures) {
    it(f.name, () => {
      const actions = decide({ monitor, read: { ok: false, error: f.error }, now: justAfter(0) });
      expect(actions).toHaveLength(1);
      expect(actions[0]).toMatchObject({ kind: 'record-failure', cause: f.error });
      // The failure is data; its words are the Slack edge's.
      const failure = (actions[0] as Extract<DriftAction, { kind: 'record-failure' }>).failure;
      const words = describeCheckFailure(failure);
      expect({ code: failure.code, message: words.text, hint: words.hint }).toMatchObject(f.want);
    });
  }

  it('redraws an updated alert with every window it reported, keeping its chart', () => {
    const kinds = ['ok', 'ok', 'ok', 'bad', 'bad', 'bad'] as const;
    const now = justAfter(5);
    const open = openAlert({ days: [3, 4] }, now, kinds);
    const models = evaluateMonitor(
      { rules, config },
      { modelIds: ['*'], windows: new Map([['*', windowsOf(kinds)]]) },
      now,
    );
    const update = decide({
      monitor,
      read: { ok: true, models, openAlerts: [open], progress: new Map([['*', day(4)]]) },
      now,
    }).find((a) => a.kind === 'post-update');
    expect(update?.kind).toBe('post-update');
    if (update?.kind !== 'post-update') return;
    expect(update.update.windows.map((w) => dayOf(w.start))).toEqual([5]);
    expect(update.view.windows.map((w) => dayOf(w.start))).toEqual([3, 4, 5]);
    expect(update.view.chartUrl).toBe('https://quickchart.example/chart/1');
    expect(update.update.chartUrl).toBeUndefined();
  });

  it('marks the windows judged again as late in the alert, and says so in its words', () => {
    const kinds = ['ok', 'bad', 'ok', 'ok', 'bad'] as const;
    const now = justAfter(4);
    const models = evaluateMonitor(
      { rules, config },
      { modelIds: ['*'], windows: new Map([['*', windowsOf(kinds)]]) },
      now,
    );
    const alert = decide({
      monitor,
      read: { ok: true, models, openAlerts: [], progress: new Map([['*', day(3)]]), recheckFrom: day(0) },
      now,
    }).find((a) => a.kind === 'post-alert');
    if (alert?.kind !== 'post-alert') throw new Error('expected a new alert');
    expect(alert.alert.view.windows.map((w) => [dayOf(w.start), w.late ?? false])).toEqual([
      [1, true],
      [4, false],
    ]);
    const message = buildDriftAlertMessage(alert.alert.view, { id: 'a1', status: 'open' }, now);
    expect(message.text).toMatch(
      /2 new violating windows \(2026-10-02 to 2026-10-05\) \(1 of them violates only since its first check: late labels or a monitor refresh\)/,
    );
    // The alert says so in its headline; Details mark the window in the table.
    expect(JSON.stringify(message.blocks)).toMatch(/late labels: judged again after its first check/);
    const details = buildDriftDetailsReply({ ...alert.alert, view: alert.alert.view });
    expect(JSON.stringify(details.blocks)).toMatch(/2026-10-02 \(late\)/);
  });
});
