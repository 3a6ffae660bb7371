import { describe, expect, it } from 'vitest';
import type { AlertView } from '../../src/drift/alert-view.js';
import {
  ACTION_DRIFT_ACKNOWLEDGE,
  ACTION_DRIFT_DETAILS,
  ACTION_DRIFT_RETRAIN,
  ACTION_DRIFT_SNOOZE,
} from '../../src/slack/blocks/action-ids.js';
import {
  buildDriftAlertMessage,
  buildDriftCheckReply,
  buildDriftDetailsReply,
  buildDriftFailureMessage,
  buildDriftRecoveryMessage,
  buildDriftReportMessage,
  buildDriftUpdateMessage,
  buildRetrainAlreadyRequestedReply,
} from '../../src/slack/blocks/drift.js';
import { checkBlocks } from '../../src/slack/blocks/limits.js';

const DAY = 86_400_000;
const d = (i: number) => Date.parse('2026-11-14T00:00:00Z') + i * DAY;
const NOW = d(6) + 15 * 3_600_000;

const window = (i: number, f1: number | null, loss: number) => ({
  start: d(i),
  end: d(i + 1),
  partial: d(i + 1) > NOW,
  status: 'violation' as const,
  values: { f1, loss },
});

const view: AlertView = {
  monitor: 'churn',
  rule: 'performance',
  description: 'F1 below 0.5 while the expected loss is above $30',
  ruleText: 'f1_score.macro < 0.5 AND |expected_loss| > 30',
  model: 'acme.mlops.churn_model',
  modelId: '*',
  terms: [
    { key: 'f1', label: 'f1_score.macro', direction: 'below', threshold: 0.5 },
    { key: 'loss', label: '|expected_loss|', direction: 'above', threshold: 30 },
  ],
  windows: [window(4, 0.43, 33.35), window(5, 0.41, 40.2), window(6, 0.3786, 51.76)],
  latest: window(6, 0.3786, 51.76),
  counts: { rule: 7, perRule: { performance: 7, drift: 7 }, total: 14, windows: 29, history: 30 },
  trends: [{ label: 'f1_score.macro', from: 0.7543, to: 0.3786, span: 7, verdict: 'worsening' }],
  retrain: true,
  checkedAt: NOW,
};

const text = (m: { text: string; blocks?: unknown[] }) => `${m.text}\n${JSON.stringify(m.blocks)}`;
const actionIds = (m: { blocks?: unknown[] }) =>
  (m.blocks as Array<{ type: string; elements?: Array<{ action_id?: string }> }>)
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements?.map((e) => e.action_id));

/** What a phone shows of a message: its blocks' text, minus the buttons. */
const lines = (m: { blocks?: unknown[] }) =>
  (m.blocks as Array<{ type: string; text?: { text: string }; elements?: Array<{ text?: unknown }> }>)
    .filter((b) => b.type !== 'actions')
    .flatMap((b) =>
      b.type === 'context'
        ? (b.elements ?? []).map((e) => String(e.text ?? ''))
        : b.text
          ? b.text.text.split('\n')
          : [b.type],
    );

describe('buildDriftAlertMessage', () => {
  const open = { id: 'da_1', status: 'open' as const, chartInThread: true };

  it('fits a phone: a headline with model, threshold crossed and since when, three lines of figures at most, the chart, the buttons', () => {
    const m = buildDriftAlertMessage(view, open, NOW);
    expect(checkBlocks(m.blocks)).toEqual([]);
    expect(m.blocks).toHaveLength(5);
    expect(lines(m)).toEqual([
      'Drift alert: churn · performance',
      '*churn_model* (all versions): f1_score.macro below 0.5 and |expected_loss| above 30 since *2026-11-18*',
      '7 violating windows in the last 30 · F1 below 0.5 while the expected loss is above $30',
      'f1_score.macro *0.3786* ✗ (limit &lt; 0.5) · was 0.7543 7 windows ago · 2026-11-20, in progress',
      '|expected_loss| *51.76* ✗ (limit &gt; 30)',
      'The chart is in the thread.',
    ]);
    // The notification text still says it all in one line.
    expect(m.text).toBe(
      'Drift alert: churn · performance (acme.mlops.churn_model, model id *): 3 new violating windows (2026-11-18 to 2026-11-20); latest 2026-11-20: f1_score.macro 0.3786 (threshold < 0.5), |expected_loss| 51.76 (threshold > 30).',
    );
  });

  it('keeps the per-window table and how the counting works behind Details', () => {
    const all = text(buildDriftAlertMessage(view, open, NOW));
    expect(all).not.toContain('2026-11-19');
    expect(all).not.toContain('reference design');
    const details = buildDriftDetailsReply({ monitor: 'churn', rule: 'performance', modelId: '*', view });
    expect(details.visibility).toBe('ephemeral');
    expect(checkBlocks(details.blocks)).toEqual([]);
    const shown = text(details);
    expect(shown).toContain('2026-11-19   0.41 ✗');
    expect(shown).toContain('2026-11-20*');
    expect(shown).toContain('window still in progress');
    expect(shown).toMatch(/Trend\* f1_score.macro 0.7543 → 0.3786 over 7 windows \(worsening\)/);
    expect(shown).toMatch(
      /7 violating windows\* of 29 counted in the last 30 windows \(per rule: performance 7, drift 7; all rules: 14\)/,
    );
    expect(shown).toMatch(/Latest window\* 2026-11-20 \(in progress\) violates the rule/);
    expect(shown).toContain('alerts each window once');
  });

  it('names at most three figures and sends the rest to Details', () => {
    const terms = ['a', 'b', 'c', 'd', 'e'].map((k) => ({
      key: k,
      label: `psi(${k})`,
      direction: 'above' as const,
      threshold: 0.2,
    }));
    const wide = {
      ...view,
      terms,
      latest: { ...window(6, 0, 0), values: Object.fromEntries(terms.map((t) => [t.key, 0.3])) },
    };
    const figures = lines(buildDriftAlertMessage(wide, open, NOW)).filter((l) => l.startsWith('psi'));
    expect(figures).toHaveLength(3);
    expect(figures[2]).toMatch(/3 more in Details$/);
  });

  it('offers Retrain, Snooze 24 h, Acknowledge and Details while open, carrying the alert id', () => {
    const m = buildDriftAlertMessage(view, { id: 'da_1', status: 'open' }, NOW);
    expect(actionIds(m)).toEqual([
      ACTION_DRIFT_RETRAIN,
      ACTION_DRIFT_SNOOZE,
      ACTION_DRIFT_ACKNOWLEDGE,
      ACTION_DRIFT_DETAILS,
    ]);
    expect(JSON.stringify(m.blocks)).toContain('"value":"da_1"');
    expect(
      actionIds(buildDriftAlertMessage({ ...view, retrain: false }, { id: 'da_1', status: 'open' }, NOW)),
    ).toEqual([ACTION_DRIFT_SNOOZE, ACTION_DRIFT_ACKNOWLEDGE, ACTION_DRIFT_DETAILS]);
  });

  const states = [
    {
      name: 'snoozed, saying by whom',
      state: { id: 'da_1', status: 'open' as const, snoozedUntil: NOW + DAY, snoozedBy: 'U0REQUEST' },
      want: /Snoozed until 2026-11-21 15:00 UTC by <@U0REQUEST>/,
      buttons: [ACTION_DRIFT_RETRAIN, ACTION_DRIFT_SNOOZE, ACTION_DRIFT_ACKNOWLEDGE, ACTION_DRIFT_DETAILS],
    },
    {
      name: 'acknowledged, saying by whom',
      state: { id: 'da_1', status: 'open' as const, acknowledgedBy: 'U0APPROVE', acknowledgedAt: NOW },
      want: /Acknowledged by <@U0APPROVE> 2026-11-20 15:00 UTC/,
      buttons: [ACTION_DRIFT_RETRAIN, ACTION_DRIFT_SNOOZE, ACTION_DRIFT_DETAILS],
    },
    {
      name: 'retrain-requested, linking the request instead of a Retrain button',
      state: {
        id: 'da_1',
        status: 'open' as const,
        retrainRequest: {
          by: 'U0REQUEST',
          at: NOW,
          state: 'requested' as const,
          requestId: 'ar_1',
          link: 'https://sandbox.slack.com/archives/C0APPROVALS/p1',
        },
      },
      want: /Retrain requested by <@U0REQUEST> 15:00 UTC — <https:\/\/sandbox\.slack\.com\/archives\/C0APPROVALS\/p1\|see the request>/,
      buttons: [ACTION_DRIFT_SNOOZE, ACTION_DRIFT_ACKNOWLEDGE, ACTION_DRIFT_DETAILS],
    },
    {
      name: 'retrain-requested without a link yet, naming where the request is',
      state: {
        id: 'da_1',
        status: 'open' as const,
        retrainRequest: {
          by: 'U0REQUEST',
          at: NOW,
          state: 'requested' as const,
          requestId: 'ar_1',
          channel: 'C0APPROVALS',
        },
      },
      want: /Retrain requested by <@U0REQUEST> 15:00 UTC — the request `ar_1` is in <#C0APPROVALS>/,
      buttons: [ACTION_DRIFT_SNOOZE, ACTION_DRIFT_ACKNOWLEDGE, ACTION_DRIFT_DETAILS],
    },
    {
      name: 'closed (Details only)',
      state: { id: 'da_1', status: 'closed' as const, closedAt: NOW },
      want: /^Resolved: churn · performance/,
      buttons: [ACTION_DRIFT_DETAILS],
    },
  ];
  for (const s of states) {
    it(`shows an alert that is ${s.name}`, () => {
      const m = buildDriftAlertMessage(view, s.state, NOW);
      expect(text(m)).toMatch(s.want);
      expect(actionIds(m)).toEqual(s.buttons);
      expect(checkBlocks(m.blocks)).toEqual([]);
    });
  }

  it('answers a second Retrain in the episode with the request made already', () => {
    const r = buildRetrainAlreadyRequestedReply(
      { monitor: 'churn', rule: 'drift', modelId: '*', view },
      { by: 'U0APPROVE', at: NOW, state: 'requested', channel: 'C0APPROVALS', requestId: 'ar_1' },
    );
    expect(r.visibility).toBe('ephemeral');
    expect(text(r)).toMatch(/Retrain requested by <@U0APPROVE>.*no second request was made for churn_model/s);
  });

  it('shows a QuickChart image inside the message, and says so when no chart could be drawn', () => {
    const withUrl = buildDriftAlertMessage(
      { ...view, chartUrl: 'https://quickchart.io/chart/render/zf-1', chartAlt: 'Line chart' },
      { id: 'da_1', status: 'open' },
      NOW,
    );
    expect(withUrl.blocks).toContainEqual(
      expect.objectContaining({
        type: 'image',
        image_url: 'https://quickchart.io/chart/render/zf-1',
        alt_text: 'Line chart',
      }),
    );
    const without = buildDriftAlertMessage(
      { ...view, chartProblem: 'QuickChart answered HTTP 500.' },
      { id: 'da_1', status: 'open' },
      NOW,
    );
    expect(text(without)).toContain('No chart this time: QuickChart answered HTTP 500.');
    expect(without.text).toContain('f1_score.macro 0.3786');
  });

  it('keeps a long streak of windows within Slack’s limits, in the alert and in its Details', () => {
    const many = { ...view, windows: Array.from({ length: 200 }, (_, i) => window(i - 200, 0.4, 40)) };
    const m = buildDriftAlertMessage(many, { id: 'da_1', status: 'open' }, NOW);
    expect(checkBlocks(m.blocks)).toEqual([]);
    const details = buildDriftDetailsReply({
      monitor: 'churn',
      rule: 'performance',
      modelId: '*',
      view: many,
    });
    expect(checkBlocks(details.blocks)).toEqual([]);
    expect(text(details)).toContain('… and 188 earlier');
  });
});

describe('the other drift messages', () => {
  it('a thread update names the new windows with their values', () => {
    const m = buildDriftUpdateMessage({ ...view, windows: [window(6, 0.3786, 51.76)] });
    expect(m.text).toBe(
      'churn · performance: 1 more violating window (latest 2026-11-20: f1_score.macro 0.3786 (threshold < 0.5), |expected_loss| 51.76 (threshold > 30)).',
    );
    expect(checkBlocks(m.blocks)).toEqual([]);
  });

  it('a recovery names the healthy window and closes the alert', () => {
    const latest = { ...window(7, 0.72, 12), status: 'ok' as const };
    expect(buildDriftRecoveryMessage({ ...view, latest }).text).toBe(
      'Recovered: churn · performance (model id *). The latest window 2026-11-21 is within the thresholds: f1_score.macro 0.72 (threshold < 0.5), |expected_loss| 12 (threshold > 30). The alert is closed.',
    );
  });

  it('a failing check gives the reason and the fix, and says it is posted once', () => {
    const m = buildDriftFailureMessage({
      monitor: 'churn',
      model: 'acme.mlops.churn_model',
      message: 'The SQL warehouse is starting up.',
      hint: 'Try again shortly.',
      since: NOW,
    });
    expect(m.text).toBe(
      'Drift check for churn failed: The SQL warehouse is starting up. Fix: Try again shortly.',
    );
    expect(text(m)).toContain('This is posted once');
    expect(checkBlocks(m.blocks)).toEqual([]);
  });

  it('a report shows each rule, healthy or not, and links an open alert', () => {
    const healthy = {
      ...view,
      rule: 'drift',
      windows: [],
      latest: { ...window(6, 0.1, 0.1), status: 'ok' as const },
    };
    const m = buildDriftReportMessage({
      monitor: 'churn',
      model: 'acme.mlops.churn_model',
      modelId: '*',
      rules: [
        { view, openAlert: { channel: 'C0MLOPS', permalink: 'https://slack.test/p1' } },
        { view: healthy },
      ],
      chartsInThread: true,
    });
    expect(m.text).toBe('Drift check of churn (acme.mlops.churn_model, model id *): 1 rule violated.');
    expect(text(m)).toContain('*performance*: alert open (<https://slack.test/p1|see the alert>)');
    expect(text(m)).toContain('*drift*: ok');
    expect(checkBlocks(m.blocks)).toEqual([]);
  });

  it('the command reply says what was posted where, or why the check failed', () => {
    const reply = buildDriftCheckReply([
      {
        monitor: 'churn',
        channel: 'C0MLOPS',
        outcome: 'ok',
        alertsPosted: 2,
        updatesPosted: 0,
        recoveries: 1,
        reportPosted: false,
      },
      {
        monitor: 'fraud',
        channel: 'C0MLOPS',
        outcome: 'failed',
        alertsPosted: 0,
        updatesPosted: 0,
        recoveries: 0,
        reportPosted: false,
        error: { message: 'No SQL warehouse is configured.', hint: 'Set DATABRICKS_WAREHOUSE_ID.' },
      },
    ]);
    expect(reply.visibility).toBe('ephemeral');
    expect(reply.text).toBe(
      'churn: checked; posted 2 new alerts, 1 recovery in <#C0MLOPS>.\nfraud: the check failed: No SQL warehouse is configured. Set DATABRICKS_WAREHOUSE_ID.',
    );
  });
});
