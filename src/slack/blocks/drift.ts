/**
 * The drift watch's messages, pure: an alert made to be read on a phone (headline, at most three lines
 * of figures, the chart, who did what, the buttons) with its Details (the per-window table and how the
 * counting works, to the clicker only), its thread updates and recovery, a failing check and its
 * recovery, the `/mlops drift` report, and the buttons' and the command's own replies.
 * The summary never depends on the chart: a chart that cannot be drawn leaves a note, not a gap.
 */
import type { ErrorWords } from '../../domain/errors.js';
import type { Reply } from '../../domain/vocabulary.js';
import type { AlertView, CheckFailure, WindowView } from '../../drift/alert-view.js';
import type {
  AlertRef,
  AlertState,
  CheckSummary,
  DriftActionViews,
  FailureView,
  ReportRule,
  RetrainRequestView,
} from '../../drift/types.js';
import {
  ACTION_DRIFT_ACKNOWLEDGE,
  ACTION_DRIFT_DETAILS,
  ACTION_DRIFT_RETRAIN,
  ACTION_DRIFT_SNOOZE,
} from './action-ids.js';
import type { SlackBlock } from './block-kit.js';
import { wordsOfCoded } from './errors.js';
import {
  codeBlocks,
  contextBlock,
  escapeKeepingLinks,
  escapeMrkdwn,
  formatTable,
  formatUtc,
  headerBlock,
  plain,
  sectionBlock,
  shortModel,
  truncate,
} from './format.js';
import { BLOCK_LIMITS } from './limits.js';

type Message = Pick<Reply, 'text' | 'blocks'>;

export type { AlertState, CheckSummary, FailureView, ReportRule };

/** A failing check with its failure in words, as buildDriftFailureMessage takes it. */
export type WordedFailureView = Omit<FailureView, 'failure'> & { message: string; hint?: string };

/** A check summary with its failure in words, as buildDriftCheckReply takes it. */
export type WordedCheckSummary = Omit<CheckSummary, 'error'> & { error?: { message: string; hint?: string } };

const CHECK_STOPPED: ErrorWords = {
  text: 'The check stopped on an unexpected error.',
  hint: 'The bot log has the details; the check runs again on schedule.',
};
const CHART_FAILED: ErrorWords = { text: 'the chart renderer failed (see the bot log).' };

/**
 * The words for why a check (or its chart) failed: a coded error's own, `internal`'s given words, or
 * the words an older row stored.
 *
 * @example describeCheckFailure({ code: 'internal' }).text // 'The check stopped on an unexpected error.'
 */
export function describeCheckFailure(
  f: CheckFailure | string,
  internal: ErrorWords = CHECK_STOPPED,
): ErrorWords {
  if (typeof f === 'string') return { text: f };
  return f.code === 'internal' ? internal : wordsOfCoded(f);
}

const wordedError = (f: CheckFailure): { message: string; hint?: string } => {
  const w = describeCheckFailure(f);
  return { message: w.text, ...(w.hint ? { hint: w.hint } : {}) };
};

/** DriftViews.failure: the failure put into words, then buildDriftFailureMessage. */
export function driftFailureMessage(f: FailureView): Message {
  const { failure, ...rest } = f;
  return buildDriftFailureMessage({ ...rest, ...wordedError(failure) });
}

/** DriftViews.checkReply: each failure put into words, then buildDriftCheckReply. */
export function driftCheckReply(summaries: readonly CheckSummary[]): Reply {
  return buildDriftCheckReply(
    summaries.map(({ error, ...s }) => ({ ...s, ...(error ? { error: wordedError(error) } : {}) })),
  );
}

/** Rows of the window table before "and N more". */
const MAX_TABLE_ROWS = 12;

/** A metric value as people read it: four significant digits. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'no data';
  return String(Number(v.toPrecision(4)));
}

/**
 * A window as a date in UTC: `2026-11-14`, or with the time below a day.
 *
 * @example formatWindow({ start: Date.parse('2026-11-14T00:00:00Z'), end: Date.parse('2026-11-15T00:00:00Z') }) // '2026-11-14'
 */
export function formatWindow(w: Pick<WindowView, 'start' | 'end'>): string {
  const day = formatUtc(new Date(w.start)).slice(0, 10);
  return w.end - w.start < 86_400_000 ? `${day} ${formatUtc(new Date(w.start)).slice(11, 16)}` : day;
}

const sign = (d: 'above' | 'below') => (d === 'above' ? '>' : '<');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `f1_score.macro 0.3335 (< 0.5)` for each term of a window. */
function observed(view: AlertView, w: WindowView): string {
  return view.terms
    .map((t) => `${t.label} ${formatValue(w.values[t.key])} (threshold ${sign(t.direction)} ${t.threshold})`)
    .join(', ');
}

function breachedMark(t: AlertView['terms'][number], v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  return (t.direction === 'above' ? v > t.threshold : v < t.threshold) ? ' ✗' : '';
}

const LATE_NOTE =
  'violates only since its first check: its metrics changed later (labels that arrived late, or a monitor refresh)';

/** The table of windows: each term's value against its threshold, breached values marked ✗. */
export function windowTable(view: AlertView, windows: readonly WindowView[]): SlackBlock[] {
  const shown = windows.slice(-MAX_TABLE_ROWS);
  const rows = [
    ['window', ...view.terms.map((t) => `${t.label} ${sign(t.direction)} ${t.threshold}`)],
    ...shown.map((w) => [
      `${formatWindow(w)}${w.partial ? '*' : ''}${w.late ? ' (late)' : ''}`,
      ...view.terms.map((t) => `${formatValue(w.values[t.key])}${breachedMark(t, w.values[t.key])}`),
    ]),
  ];
  const lines = formatTable(rows, { maxCellWidth: 40 });
  if (windows.length > shown.length) lines.push(`… and ${windows.length - shown.length} earlier`);
  if (shown.some((w) => w.partial)) lines.push('* window still in progress');
  if (shown.some((w) => w.late)) lines.push(`(late) ${LATE_NOTE}`);
  return codeBlocks(lines);
}

/** ` (2 of them judged again: …)` when some reported windows violate only since their first check. */
function lateClause(windows: readonly WindowView[]): string {
  const late = windows.filter((w) => w.late).length;
  if (late === 0) return '';
  const which = late === windows.length ? (late === 1 ? 'it' : 'all of them') : `${late} of them`;
  return ` (${which} ${late === 1 ? 'violates' : 'violate'} only since ${late === 1 ? 'its' : 'their'} first check: late labels or a monitor refresh)`;
}

function trendLine(view: AlertView): string | undefined {
  if (view.trends.length === 0) return undefined;
  const parts = view.trends.map(
    (t) =>
      `${escapeMrkdwn(t.label)} ${formatValue(t.from)} → ${formatValue(t.to)} over ${plural(t.span, 'window')} (${t.verdict})`,
  );
  return `*Trend* ${parts.join('; ')}`;
}

function countLine(view: AlertView): string {
  const c = view.counts;
  const others = Object.entries(c.perRule)
    .map(([rule, n]) => `${escapeMrkdwn(rule)} ${n}`)
    .join(', ');
  return `*${plural(c.rule, 'violating window')}* of ${c.windows} counted in the last ${plural(c.history, 'window')} (per rule: ${others}; all rules: ${c.total}).`;
}

function latestLine(view: AlertView): string | undefined {
  const l = view.latest;
  if (!l) return undefined;
  const state =
    l.status === 'violation'
      ? 'violates the rule'
      : l.status === 'ok'
        ? 'is within the thresholds'
        : 'has no data';
  return `*Latest window* ${formatWindow(l)}${l.partial ? ' (in progress)' : ''} ${state}: ${escapeMrkdwn(observed(view, l))}`;
}

function ruleLine(view: AlertView): string {
  const desc = view.description ? ` — ${escapeMrkdwn(view.description)}` : '';
  return `*Rule* \`${escapeMrkdwn(view.ruleText)}\`${desc}\n*Model* ${escapeMrkdwn(view.model)}, model id \`${escapeMrkdwn(view.modelId)}\``;
}

function chartBlocks(view: AlertView, state: Pick<AlertState, 'chartInThread'>): SlackBlock[] {
  if (view.chartUrl) {
    return [
      {
        type: 'image',
        image_url: view.chartUrl,
        alt_text: truncate(view.chartAlt ?? `Chart of ${view.rule}`, BLOCK_LIMITS.imageAltText),
        title: plain(truncate(`${view.monitor} · ${view.rule}`, BLOCK_LIMITS.imageTitle)),
      },
    ];
  }
  if (view.chartProblem)
    return [
      contextBlock([
        `No chart this time: ${escapeKeepingLinks(describeCheckFailure(view.chartProblem, CHART_FAILED).text)}`,
      ]),
    ];
  if (state.chartInThread) return [contextBlock(['The chart is in the thread.'])];
  return [];
}

const METHOD_NOTE =
  'Counted like the reference design: while the drift table has rows, only windows found in both metric tables count. Unlike it, the bot alerts each window once, flags the latest window, and treats a missing metric as no data, never as a pass.';

/** Figure lines an alert shows at most; the rest are in Details. */
const MAX_FIGURES = 3;

/** `f1_score.macro below 0.5` */
const crossed = (t: AlertView['terms'][number]) =>
  `${t.label} ${t.direction === 'above' ? 'above' : 'below'} ${t.threshold}`;

/** `f1_score.macro below 0.5 and |expected_loss| above 30`: what crossed, in words. */
function thresholdWords(view: AlertView): string {
  const joiner = / OR /.test(view.ruleText) ? ' or ' : ' and ';
  return view.terms.map(crossed).join(joiner);
}

/**
 * The headline: which model crossed which threshold, since when, how often.
 * `*churn_model* (model id *): f1_score.macro below 0.5 and |expected_loss| above 30 since 2026-11-18`
 */
function headline(view: AlertView): string {
  const first = view.windows[0];
  const id = view.modelId === '*' ? 'all versions' : `model id \`${escapeMrkdwn(view.modelId)}\``;
  const since = first ? ` since *${formatWindow(first)}*` : '';
  const late = view.windows.some((w) => w.late) ? ' _(late labels: judged again after its first check)_' : '';
  const c = view.counts;
  return `*${escapeMrkdwn(shortModel(view.model))}* (${id}): ${escapeMrkdwn(thresholdWords(view))}${since}${late}\n${plural(c.rule, 'violating window')} in the last ${c.history}${view.description ? ` · ${escapeMrkdwn(view.description)}` : ''}`;
}

/** One line per term, at most three: the value now (latest window with data), its limit, its trend. */
function figureLines(view: AlertView): string[] {
  const w = view.latest ?? view.windows[view.windows.length - 1];
  if (!w) return [];
  const when = `${formatWindow(w)}${w.partial ? ', in progress' : ''}`;
  const lines = view.terms.slice(0, MAX_FIGURES).map((t) => {
    const trend = view.trends.find((x) => x.label === t.label);
    const was = trend ? ` · was ${formatValue(trend.from)} ${plural(trend.span, 'window')} ago` : '';
    return `${escapeMrkdwn(t.label)} *${formatValue(w.values[t.key])}*${breachedMark(t, w.values[t.key])} ${escapeMrkdwn(`(limit ${sign(t.direction)} ${t.threshold})`)}${was}`;
  });
  if (view.terms.length > MAX_FIGURES) {
    lines[MAX_FIGURES - 1] += ` · ${view.terms.length - MAX_FIGURES + 1} more in Details`;
  }
  return lines.map((l, i) => (i === 0 ? `${l} · ${when}` : l));
}

const button = (action_id: string, label: string, value: string, style?: 'primary') => ({
  type: 'button',
  action_id,
  text: plain(label),
  value,
  ...(style ? { style } : {}),
});

/** `Retrain requested by <@U1> 15:04 UTC — see the request` */
function retrainLine(r: NonNullable<AlertState['retrainRequest']>): string {
  const where = r.link
    ? ` — <${r.link}|see the request>`
    : r.channel
      ? ` — the request${r.requestId ? ` \`${escapeMrkdwn(r.requestId)}\`` : ''} is in <#${r.channel}>`
      : ' — see `/mlops approvals`';
  return r.state === 'requesting'
    ? `Retrain being requested by <@${r.by}>…`
    : `Retrain requested by <@${r.by}> ${formatUtc(new Date(r.at)).slice(11)}${where}`;
}

/**
 * The alert message (and its redraws after Snooze, Acknowledge, Retrain, new windows or recovery):
 * made to be read on a phone. A headline (model, which threshold was crossed, since when), at most
 * three lines of figures, the chart, who did what, and the buttons; the per-window table and how the
 * counting works are behind Details.
 *
 * @example const { text, blocks } = buildDriftAlertMessage(view, { id: alert.id, status: 'open' }, Date.now());
 */
export function buildDriftAlertMessage(view: AlertView, state: AlertState, now: number): Message {
  const open = state.status === 'open';
  const title = `${open ? 'Drift alert' : 'Resolved'}: ${view.monitor} · ${view.rule}`;
  const first = view.windows[0];
  const last = view.windows[view.windows.length - 1];
  const span =
    first && last
      ? first === last
        ? formatWindow(first)
        : `${formatWindow(first)} to ${formatWindow(last)}`
      : '';
  const lead = last
    ? `${plural(view.windows.length, 'new violating window')} (${span})${lateClause(view.windows)}; latest ${formatWindow(last)}: ${observed(view, last)}`
    : 'no new violating windows';
  const text = `${title} (${view.model}, model id ${view.modelId}): ${lead}.`;

  const statusLines: string[] = [];
  if (!open)
    statusLines.push(
      `Closed ${state.closedAt ? formatUtc(new Date(state.closedAt)) : ''}: the rule holds again.`,
    );
  if (open && state.snoozedUntil !== undefined && state.snoozedUntil > now) {
    statusLines.push(
      `Snoozed until ${formatUtc(new Date(state.snoozedUntil))}${state.snoozedBy ? ` by <@${state.snoozedBy}>` : ''}`,
    );
  }
  if (state.acknowledgedBy) {
    statusLines.push(
      `Acknowledged by <@${state.acknowledgedBy}>${state.acknowledgedAt ? ` ${formatUtc(new Date(state.acknowledgedAt))}` : ''}`,
    );
  }
  if (state.retrainRequest) statusLines.push(retrainLine(state.retrainRequest));

  const figures = figureLines(view);
  const blocks: SlackBlock[] = [
    headerBlock(title),
    sectionBlock(headline(view)),
    ...(figures.length > 0 ? [sectionBlock(figures.join('\n'))] : []),
    ...chartBlocks(view, state),
  ];
  if (statusLines.length > 0) blocks.push(contextBlock(statusLines));
  const buttons = [
    ...(open && view.retrain && !state.retrainRequest
      ? [button(ACTION_DRIFT_RETRAIN, 'Retrain', state.id, 'primary')]
      : []),
    ...(open ? [button(ACTION_DRIFT_SNOOZE, 'Snooze 24 h', state.id)] : []),
    ...(open && !state.acknowledgedBy ? [button(ACTION_DRIFT_ACKNOWLEDGE, 'Acknowledge', state.id)] : []),
    // Details stay available on a resolved alert: the table is what a post-mortem reads.
    button(ACTION_DRIFT_DETAILS, 'Details', state.id),
  ];
  blocks.push({
    type: 'actions',
    block_id: truncate(`drift-actions-${state.id}`, BLOCK_LIMITS.blockId),
    elements: buttons,
  } as SlackBlock);
  return { text, blocks };
}

/**
 * Details, to the clicker only: the rule, the per-window table, the counts, the trends, the latest
 * window, and how the counting works.
 *
 * @example buildDriftDetailsReply(alert) // { visibility: 'ephemeral', text: 'Details of churn · performance …' }
 */
export function buildDriftDetailsReply(alert: AlertRef): Reply {
  const view = alert.view;
  const windows = view.windows;
  const text = `Details of ${view.monitor} · ${view.rule} (model id ${view.modelId}): ${plural(windows.length, 'reported window')}.`;
  const blocks: SlackBlock[] = [
    sectionBlock(`*Details: ${escapeMrkdwn(view.monitor)} · ${escapeMrkdwn(view.rule)}*\n${ruleLine(view)}`),
    ...(windows.length > 0
      ? [
          sectionBlock(
            `*Violating windows*${escapeMrkdwn(lateClause(windows))} — observed value against threshold:`,
          ),
          ...windowTable(view, windows),
        ]
      : []),
    sectionBlock([countLine(view), trendLine(view), latestLine(view)].filter(Boolean).join('\n')),
    contextBlock([METHOD_NOTE]),
  ];
  return { text, blocks: blocks.slice(0, BLOCK_LIMITS.blocksPerMessage), visibility: 'ephemeral' };
}

/** Retrain clicked in an episode whose retraining was asked for already: nothing new is requested. */
export function buildRetrainAlreadyRequestedReply(alert: AlertRef, r: RetrainRequestView): Reply {
  const line = retrainLine(r);
  return {
    text: `${alert.monitor} · ${alert.rule}: ${line.replace(/<@(\w+)>/g, '@$1')}. No second request was made.`,
    blocks: [
      sectionBlock(
        `${line}.\nOne retraining per model per alert episode: no second request was made for ${escapeMrkdwn(shortModel(alert.view.model))}.`,
      ),
    ],
    visibility: 'ephemeral',
  };
}

/**
 * A thread reply: more violating windows for an open alert.
 *
 * @example buildDriftUpdateMessage(view) // 'churn · performance: 1 more violating window (2026-11-21) …'
 */
export function buildDriftUpdateMessage(view: AlertView): Message {
  const last = view.windows[view.windows.length - 1];
  const text = `${view.monitor} · ${view.rule}: ${plural(view.windows.length, 'more violating window')}${
    last ? ` (latest ${formatWindow(last)}: ${observed(view, last)})` : ''
  }${lateClause(view.windows)}.`;
  const blocks: SlackBlock[] = [
    sectionBlock(
      `*${escapeMrkdwn(view.monitor)} · ${escapeMrkdwn(view.rule)}*: ${plural(view.windows.length, 'more violating window')}${escapeMrkdwn(lateClause(view.windows))}`,
    ),
    ...windowTable(view, view.windows),
    sectionBlock([countLine(view), trendLine(view)].filter(Boolean).join('\n')),
    ...chartBlocks(view, {}),
  ];
  return { text, blocks };
}

/** The recovery, posted once in the alert's thread; the alert closes with it. */
export function buildDriftRecoveryMessage(view: AlertView): Message {
  const l = view.latest;
  const where = l
    ? ` The latest window ${formatWindow(l)} is within the thresholds: ${observed(view, l)}.`
    : '';
  const text = `Recovered: ${view.monitor} · ${view.rule} (model id ${view.modelId}).${where} The alert is closed.`;
  return { text, blocks: [sectionBlock(`:white_check_mark: ${escapeMrkdwn(text)}`)] };
}

/** A failing check, posted once per failing streak. */
export function buildDriftFailureMessage(f: WordedFailureView): Message {
  const text = `Drift check for ${f.monitor} failed: ${f.message}${f.hint ? ` Fix: ${f.hint}` : ''}`;
  return {
    text,
    blocks: [
      headerBlock(`Drift check failing: ${f.monitor}`),
      sectionBlock(
        `*Why* ${escapeKeepingLinks(f.message)}${f.hint ? `\n*Fix* ${escapeKeepingLinks(f.hint)}` : ''}`,
      ),
      contextBlock([
        `${escapeMrkdwn(f.model)} · failing since ${formatUtc(new Date(f.since))}. This is posted once: the schedule keeps running, and the thread will say when the check works again.`,
      ]),
    ],
  };
}

/** The failing check works again (thread reply and redraw of the failure message). */
export function buildDriftFailureRecoveredMessage(f: {
  monitor: string;
  since: number;
  attempts: number;
  at: number;
}): Message {
  const text = `The drift check for ${f.monitor} works again (failed ${plural(f.attempts, 'time')} since ${formatUtc(new Date(f.since))}; recovered ${formatUtc(new Date(f.at))}).`;
  return { text, blocks: [sectionBlock(`:white_check_mark: ${escapeMrkdwn(text)}`)] };
}

/** `/mlops drift`: the result of a check that posted no alert, healthy or not, with its charts. */
export function buildDriftReportMessage(input: {
  monitor: string;
  model: string;
  modelId: string;
  rules: readonly ReportRule[];
  chartsInThread: boolean;
}): Message {
  const bad = input.rules.filter((r) => r.view.latest?.status === 'violation' || r.openAlert);
  const headline = bad.length === 0 ? 'healthy' : `${plural(bad.length, 'rule')} violated`;
  const text = `Drift check of ${input.monitor} (${input.model}, model id ${input.modelId}): ${headline}.`;
  const blocks: SlackBlock[] = [
    headerBlock(`Drift check: ${input.monitor} · model id ${input.modelId} · ${headline}`),
  ];
  for (const r of input.rules) {
    const v = r.view;
    const state = r.openAlert
      ? `alert open${r.openAlert.permalink ? ` (<${r.openAlert.permalink}|see the alert>)` : ` in <#${r.openAlert.channel}>`}`
      : v.latest?.status === 'violation'
        ? 'violated'
        : v.latest?.status === 'ok'
          ? 'ok'
          : 'no data';
    blocks.push(
      sectionBlock(
        [
          `*${escapeMrkdwn(v.rule)}*: ${state} — \`${escapeMrkdwn(v.ruleText)}\``,
          countLine(v),
          trendLine(v),
          latestLine(v),
        ]
          .filter(Boolean)
          .join('\n'),
      ),
    );
    blocks.push(...chartBlocks(v, {}));
  }
  if (input.chartsInThread) blocks.push(contextBlock(['The charts are in the thread.']));
  blocks.push(contextBlock([METHOD_NOTE]));
  return { text, blocks: blocks.slice(0, BLOCK_LIMITS.blocksPerMessage) };
}

/** ` Its scheduled check of … did not run on time …` for a missed check of the past week. */
function missedLine(m: WordedCheckSummary['missed']): string {
  if (!m) return '';
  const runs = m.runs === 1 ? 'Its scheduled check' : `${m.runs} scheduled checks from`;
  const after = m.caughtUpAt
    ? `; it caught up at ${formatUtc(new Date(m.caughtUpAt))}`
    : '; it catches up at the next check';
  return ` ${runs} ${formatUtc(new Date(m.scheduledAt))} did not run on time (the bot was blocked or down)${after}.`;
}

/** The ephemeral answer to `/mlops drift`: what the check did and where to look. */
export function buildDriftCheckReply(summaries: readonly WordedCheckSummary[]): Reply {
  const lines = summaries.map((s) => {
    if (s.outcome === 'failed') {
      return `*${escapeMrkdwn(s.monitor)}*: the check failed: ${escapeKeepingLinks(s.error?.message ?? 'unknown error')}${
        s.error?.hint ? ` ${escapeKeepingLinks(s.error.hint)}` : ''
      }`;
    }
    const did = [
      s.alertsPosted ? plural(s.alertsPosted, 'new alert') : '',
      s.updatesPosted ? plural(s.updatesPosted, 'alert update') : '',
      s.recoveries ? `${s.recoveries} ${s.recoveries === 1 ? 'recovery' : 'recoveries'}` : '',
      s.reportPosted ? 'the result' : '',
    ].filter(Boolean);
    return `*${escapeMrkdwn(s.monitor)}*: checked; posted ${did.length ? did.join(', ') : 'nothing new'} in <#${s.channel}>.${missedLine(s.missed)}`;
  });
  const text = lines.join('\n').replace(/\*/g, '');
  return { text, blocks: [sectionBlock(lines.join('\n'))], visibility: 'ephemeral' };
}

/** Snooze 24 h worked: the clicker's ephemeral answer. */
export function buildSnoozedReply(alert: AlertRef, until: number): Reply {
  return {
    text: `Snoozed ${alert.monitor} · ${alert.rule} until ${formatUtc(new Date(until))}. New violating windows are recorded without posting; a recovery is still posted.`,
    visibility: 'ephemeral',
  };
}

/** Acknowledge worked: the clicker's ephemeral answer. */
export function buildAcknowledgedReply(alert: AlertRef): Reply {
  return {
    text: `Acknowledged ${alert.monitor} · ${alert.rule}: the alert now shows you are on it. New violating windows still go into its thread.`,
    visibility: 'ephemeral',
  };
}

/** Why Retrain asks for retraining, as approvers read it. */
export function retrainReasonOf(alert: AlertRef): string {
  const v = alert.view;
  const last = v.windows[v.windows.length - 1];
  return `Drift alert ${alert.monitor} · ${alert.rule} (model id ${alert.modelId}): ${v.ruleText}; ${v.counts.rule} violating window(s) in the last ${v.counts.history}${last ? `, latest ${formatWindow(last)}` : ''}.`;
}

/** The alert buttons' answers (drift/alert-actions.ts takes them). */
export const driftActionViews: DriftActionViews = {
  snoozed: buildSnoozedReply,
  acknowledged: buildAcknowledgedReply,
  retrainReason: retrainReasonOf,
  retrainAlreadyRequested: buildRetrainAlreadyRequestedReply,
  details: buildDriftDetailsReply,
};
