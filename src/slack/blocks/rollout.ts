/**
 * How a canary rollout looks in Slack: its plan (schedule, guardrails, what rolls it back), its one
 * channel message (the current step and the figures against the guardrails, with Pause / Resume /
 * Promote now / Abort, or Approve while a gate waits) and the thread line with the figures that
 * failed it. Pure: data in, text and blocks out. Everything typed by people is escaped.
 */
import { formatElapsed } from '../../changes/describe.js';
import type { Reply } from '../../domain/vocabulary.js';
import { endpointUrl } from '../../domain/workspace-links.js';
import { boundOf } from '../../rollouts/analysis.js';
import type {
  CheckResult,
  EndReason,
  Guardrail,
  GuardrailResult,
  Rollout,
  RolloutPlan,
  RolloutState,
} from '../../rollouts/types.js';
import type { RolloutMessageView, RolloutNotice, RolloutViews } from '../../rollouts/views.js';
import {
  ACTION_ROLLOUT_ABORT,
  ACTION_ROLLOUT_APPROVE,
  ACTION_ROLLOUT_CANCEL,
  ACTION_ROLLOUT_PAUSE,
  ACTION_ROLLOUT_PROMOTE,
  ACTION_ROLLOUT_RESUME,
  ACTION_ROLLOUT_START,
} from './action-ids.js';
import type { SlackBlock } from './block-kit.js';
import { contextBlock, escapeMrkdwn, headerBlock, link, plain, sectionBlock, shortModel } from './format.js';

const METRIC: Record<Guardrail['metric'], string> = {
  error_rate: 'error rate',
  latency_p50: 'p50 latency',
  latency_p99: 'p99 latency',
  quality: 'quality',
};

const metricName = (g: Pick<Guardrail, 'metric' | 'column'>) =>
  g.metric === 'quality' ? `quality ${escapeMrkdwn(g.column ?? '')}` : METRIC[g.metric];

/** A value of a metric, in its unit. */
function value(metric: Guardrail['metric'], v: number): string {
  if (metric === 'error_rate') return `${(v * 100).toFixed(v < 0.01 ? 2 : 1)}%`;
  if (metric === 'quality') return v.toFixed(3);
  return `${Math.round(v)} ms`;
}

/** "error rate ≤ 2%", "p99 latency ≤ 1.5× baseline" */
export function describeGuardrail(g: Guardrail): string {
  const { bound, threshold } = boundOf(g);
  const name = metricName(g);
  switch (bound) {
    case 'max':
      return `${name} ≤ ${value(g.metric, threshold)}`;
    case 'min':
      return `${name} ≥ ${value(g.metric, threshold)}`;
    case 'maxRatio':
      return `${name} ≤ ${threshold}× baseline`;
    case 'minRatio':
      return `${name} ≥ ${threshold}× baseline`;
  }
}

const minutes = (ms: number) => formatElapsed(ms);

const title = (plan: RolloutPlan) => `Canary: ${shortModel(plan.model)} v${plan.version} on ${plan.endpoint}`;

function scheduleLines(plan: RolloutPlan): string[] {
  const a = plan.analysis;
  return [
    `*Schedule:* ${escapeMrkdwn(plan.baseline.name)} → ${escapeMrkdwn(plan.canary.name)}, canary at ${plan.steps.map((s) => `${s}%`).join(' → ')}; each step dwells ${minutes(plan.everyMs)}, then is checked every ${minutes(a.checkEveryMs)} until it passes.`,
    `*Guardrails* (analysis \`${escapeMrkdwn(plan.analysisName)}\`, from ${escapeMrkdwn(plan.payloadTable)}): ${a.guardrails.map(describeGuardrail).join(' · ')}; at least ${a.minRequests} requests before judging.`,
    `*Rolls back on:* ${a.failuresToRollback} failing check${a.failuresToRollback === 1 ? '' : 's'} in a row · ${a.inconclusiveLimit} inconclusive checks in a row · figures unreadable for ${minutes(a.unreadableForMs)} · a step that fails to deploy. Back to ${escapeMrkdwn(plan.baseline.name)} at 100%, the canary removed.`,
    ...(plan.moveAlias
      ? [
          `*On success:* ${escapeMrkdwn(plan.canary.name)} at 100%, ${escapeMrkdwn(plan.baseline.name)} removed, ${escapeMrkdwn(plan.moveAlias)} moves to v${plan.version}.`,
        ]
      : [
          `*On success:* ${escapeMrkdwn(plan.canary.name)} at 100%, ${escapeMrkdwn(plan.baseline.name)} removed.`,
        ]),
    ...(plan.gate
      ? [
          `*Gate:* ${escapeMrkdwn(plan.gate.name)}: ${plan.gate.approvals} approval${plan.gate.approvals === 1 ? '' : 's'} before the first step, none after.`,
        ]
      : []),
  ];
}

function button(text: string, actionId: string, id: string, style?: 'primary' | 'danger', confirm?: string) {
  return {
    type: 'button' as const,
    text: plain(text),
    action_id: actionId,
    value: id,
    ...(style ? { style } : {}),
    ...(confirm
      ? {
          confirm: {
            title: plain('Are you sure?'),
            text: plain(confirm),
            confirm: plain(text),
            deny: plain('Not now'),
          },
        }
      : {}),
  };
}

function buttonsFor(r: Rollout): SlackBlock | undefined {
  const pause = button('Pause', ACTION_ROLLOUT_PAUSE, r.id);
  const resume = button('Resume', ACTION_ROLLOUT_RESUME, r.id, 'primary');
  const promote = button(
    'Promote now',
    ACTION_ROLLOUT_PROMOTE,
    r.id,
    undefined,
    'Skip the remaining steps and their checks, and serve the canary at 100%?',
  );
  const abort = button(
    'Abort',
    ACTION_ROLLOUT_ABORT,
    r.id,
    'danger',
    'Roll back to the baseline at 100% and remove the canary?',
  );
  const by: Partial<Record<RolloutState, object[]>> = {
    awaiting_approval: [
      button('Approve', ACTION_ROLLOUT_APPROVE, r.id, 'primary'),
      button('Cancel', ACTION_ROLLOUT_CANCEL, r.id),
    ],
    stepping: [pause, promote, abort],
    analysing: [pause, promote, abort],
    paused: [resume, promote, abort],
    promoting: [abort],
  };
  const elements = by[r.state];
  return elements ? ({ type: 'actions', block_id: `rollout-${r.id}`, elements } as SlackBlock) : undefined;
}

const stepWords = (r: Rollout) =>
  `step ${Math.max(1, r.stepIndex + 1)} of ${r.plan.steps.length}, canary at ${r.plan.steps[Math.max(0, r.stepIndex)] ?? 0}%`;

/** Why it ended, one sentence. */
export function endWords(end: EndReason): string {
  switch (end.kind) {
    case 'promoted':
      return 'every step passed its checks';
    case 'promoted_now':
      return `<@${end.by}> promoted it early`;
    case 'guardrail':
      return `${end.failures} failing check${end.failures === 1 ? '' : 's'} in a row: ${failedList(end.check)}`;
    case 'inconclusive':
      return `still too few requests after ${end.checks} checks (${tooFewWords(end.check)})`;
    case 'unreadable':
      return `the figures could not be read for ${minutes(end.forMs)}: ${escapeMrkdwn(end.cause)}`;
    case 'aborted':
      return `<@${end.by}> aborted it`;
    case 'update_failed':
      return `step ${end.step + 1} did not deploy: ${escapeMrkdwn(end.reason)}`;
    case 'cancelled':
      return `<@${end.by}> cancelled it`;
    case 'rollback_failed':
      return `the rollback did not deploy: ${escapeMrkdwn(end.reason)} (it was rolling back because ${endWords(end.cause)})`;
  }
}

function failedList(check: CheckResult): string {
  return check.results
    .filter((x) => !x.ok)
    .map((x) => resultWords(x))
    .join('; ');
}

function resultWords(x: GuardrailResult): string {
  const base = x.baseline !== undefined ? ` (baseline ${value(x.metric, x.baseline)})` : '';
  const op = x.bound === 'max' || x.bound === 'maxRatio' ? '≤' : '≥';
  return `${METRIC[x.metric]} ${value(x.metric, x.canary)}${base}, limit ${op} ${value(x.metric, x.limit)}`;
}

const tooFewWords = (check: CheckResult) =>
  check.tooFew
    ? `${check.tooFew.side} ${check.tooFew.requests} of ${check.tooFew.minRequests} requests`
    : 'a metric had no value yet';

function statusLine(r: Rollout, now: number): string {
  switch (r.state) {
    case 'proposed':
      return ':clipboard: Planned; waiting for Start.';
    case 'awaiting_approval': {
      const g = r.plan.gate!;
      const who = [...g.users.map((u) => `<@${u}>`), ...g.groups.map((x) => escapeMrkdwn(x))].join(', ');
      return `:lock: Needs ${g.approvals} approval${g.approvals === 1 ? '' : 's'} (${r.approvals.length} so far) from ${who}; asked by <@${r.requester}>.`;
    }
    case 'stepping':
      return `:hourglass_flowing_sand: ${cap(stepWords(r))}: making the config live${holdWords(r)}.`;
    case 'analysing': {
      const next = r.nextAt !== undefined ? Math.max(0, r.nextAt - now) : 0;
      return `:mag: ${cap(stepWords(r))}: live ${minutes(now - (r.stepLiveAt ?? now))}; next check in ${minutes(next)}${holdWords(r)}.`;
    }
    case 'paused':
      return r.pause?.kind === 'out_of_band'
        ? `:double_vertical_bar: ${escapeMrkdwn(r.plan.endpoint)} changed outside modelgate; rollout paused at ${stepWords(r)}${r.pause.configVersion !== undefined ? ` (config version ${r.pause.configVersion}${r.pause.updating ? ', updating' : ''})` : ''}. Resume makes the step's split live again.`
        : `:double_vertical_bar: Paused by <@${r.pause?.kind === 'by_person' ? r.pause.by : r.requester}> at ${stepWords(r)}.`;
    case 'promoting':
      return `:rocket: Promoting: serving ${escapeMrkdwn(r.plan.canary.name)} at 100%${holdWords(r)}.`;
    case 'rolling_back':
      return `:rewind: Rolling back to ${escapeMrkdwn(r.plan.baseline.name)} at 100%: ${r.end ? endWords(r.end) : 'asked'}${holdWords(r)}.`;
    case 'succeeded':
      return `:white_check_mark: Done: ${escapeMrkdwn(r.plan.endpoint)} serves ${escapeMrkdwn(r.plan.canary.name)} at 100%, ${escapeMrkdwn(r.plan.baseline.name)} removed${r.plan.moveAlias ? `, ${escapeMrkdwn(r.plan.moveAlias)} → v${r.plan.version}` : ''} (${r.end ? endWords(r.end) : ''}).`;
    case 'rolled_back':
      return `:leftwards_arrow_with_hook: Rolled back: ${escapeMrkdwn(r.plan.endpoint)} serves ${escapeMrkdwn(r.plan.baseline.name)} at 100%, the canary removed, because ${r.end ? endWords(r.end) : 'it was asked'}.`;
    case 'failed':
      return `:x: ${r.end ? cap(endWords(r.end)) : 'Failed'}. Check \`/mlops status ${escapeMrkdwn(r.plan.endpoint)}\`.`;
    case 'cancelled':
      return `:heavy_multiplication_x: Cancelled by <@${r.end?.kind === 'cancelled' ? r.end.by : r.requester}>; nothing was changed.`;
  }
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function holdWords(r: Rollout): string {
  const h = r.hold;
  if (!h) return '';
  switch (h.kind) {
    case 'unreadable':
      return `; holding: the figures cannot be read (${escapeMrkdwn(h.cause)}), rolled back if that lasts ${minutes(r.plan.analysis.unreadableForMs)}`;
    case 'update_unsettled':
      return `; holding: ${escapeMrkdwn(h.cause)}; the bot reads Databricks again before anything else`;
    case 'endpoint_busy':
      return '; waiting for the update in flight to end';
  }
}

/** The figures of a check, one line per guardrail. */
export function figuresLines(check: CheckResult): string[] {
  const f = check.figures;
  const head = `*Last check* (${new Date(check.at).toISOString().slice(11, 16)} UTC): ${check.verdict === 'pass' ? ':large_green_circle: pass' : check.verdict === 'fail' ? ':red_circle: fail' : ':white_circle: inconclusive'} · canary ${f.canary.requests} req, ${f.canary.errors} errors · baseline ${f.baseline.requests} req, ${f.baseline.errors} errors`;
  const rows = check.results.map((x) => `${x.ok ? ':white_check_mark:' : ':x:'} ${resultWords(x)}`);
  return [
    head,
    ...rows,
    ...(check.verdict === 'inconclusive' ? [`Inconclusive: ${tooFewWords(check)}.`] : []),
  ];
}

function message({ rollout: r, now, workspaceHost }: RolloutMessageView): {
  text: string;
  blocks: SlackBlock[];
} {
  const status = statusLine(r, now);
  const blocks: SlackBlock[] = [
    headerBlock(title(r.plan)),
    sectionBlock(status),
    ...(r.lastCheck ? [sectionBlock(figuresLines(r.lastCheck).join('\n'))] : []),
    contextBlock(scheduleLines(r.plan)),
    contextBlock([
      `Asked by <@${r.requester}>${r.startedBy ? ` · started by <@${r.startedBy}>` : ''} · ${link(endpointUrl(workspaceHost, r.plan.endpoint), r.plan.endpoint)} · ${r.id}`,
    ]),
  ];
  const buttons = buttonsFor(r);
  if (buttons) blocks.push(buttons);
  return { text: `${title(r.plan)}: ${status}`, blocks };
}

/** @example rolloutViews.planReply(plan, { rolloutId: 'ro_1', dryRun: false }) */
export const rolloutViews: RolloutViews = {
  message,
  failingFigures(r) {
    const lines = [
      `*Why ${escapeMrkdwn(r.plan.canary.name)} was rolled back:* ${r.end ? endWords(r.end) : ''}.`,
      ...(r.lastCheck ? figuresLines(r.lastCheck) : []),
    ];
    return { text: lines[0]!, blocks: [sectionBlock(lines.join('\n'))] };
  },
  planReply(plan, options) {
    const blocks: SlackBlock[] = [
      headerBlock(`${options.dryRun ? 'Dry run: ' : ''}${title(plan)}`),
      ...(options.note ? [sectionBlock(options.note)] : []),
      sectionBlock(scheduleLines(plan).join('\n')),
    ];
    if (!options.dryRun && options.rolloutId) {
      blocks.push({
        type: 'actions',
        elements: [
          button('Start', ACTION_ROLLOUT_START, options.rolloutId, 'primary'),
          button('Cancel', ACTION_ROLLOUT_CANCEL, options.rolloutId),
        ],
      } as SlackBlock);
    } else {
      blocks.push(
        contextBlock(['Dry run: nothing was stored or changed. Run it without --dry-run to start it.']),
      );
    }
    return { text: title(plan), blocks, visibility: 'ephemeral' };
  },
  notice(kind: RolloutNotice, r: Rollout): Reply {
    const where = `<#${r.message?.channel ?? r.channel}>`;
    const text: Record<RolloutNotice, string> = {
      started: `Started the canary of ${escapeMrkdwn(r.plan.canary.name)} on ${escapeMrkdwn(r.plan.endpoint)}; follow it in ${where}.`,
      approval_requested: `The canary of ${escapeMrkdwn(r.plan.canary.name)} on ${escapeMrkdwn(r.plan.endpoint)} needs approval; the request is posted in ${where}.`,
      approved:
        r.state === 'awaiting_approval'
          ? `Approved (${r.approvals.length} of ${r.plan.gate?.approvals ?? 1}).`
          : `Approved; the canary on ${escapeMrkdwn(r.plan.endpoint)} has started.`,
      cancelled: `Cancelled the canary on ${escapeMrkdwn(r.plan.endpoint)}; nothing was changed.`,
      paused: `Paused the canary on ${escapeMrkdwn(r.plan.endpoint)}.`,
      resumed: `Resumed the canary on ${escapeMrkdwn(r.plan.endpoint)}.`,
      promoting: `Promoting ${escapeMrkdwn(r.plan.canary.name)} on ${escapeMrkdwn(r.plan.endpoint)} now.`,
      aborting: `Rolling ${escapeMrkdwn(r.plan.endpoint)} back to ${escapeMrkdwn(r.plan.baseline.name)}.`,
    };
    return {
      text: text[kind],
      visibility: 'ephemeral',
      ...(kind === 'started' ? { replaceOriginal: true } : {}),
    };
  },
};
