/**
 * Monitor set-up in Slack: the create plan (what the bot will ask Databricks for) with Create and
 * Cancel, the one channel message of a create or a refresh, and `/mlops monitor status`.
 */
import { formatElapsed } from '../../changes/describe.js';
import type { MonitorSpec } from '../../domain/ports/monitors.js';
import type { Reply } from '../../domain/vocabulary.js';
import type { MonitorStatusView, MonitorViews } from '../../monitoring/service.js';
import type { MonitorOp, MonitorOpResult } from '../../monitoring/store.js';
import { ACTION_MONITOR_CANCEL, ACTION_MONITOR_CREATE } from './action-ids.js';
import type { SlackBlock } from './block-kit.js';
import { describeError } from './errors.js';
import {
  codeBlocks,
  contextBlock,
  escapeMrkdwn,
  fieldsBlock,
  formatUtc,
  headerBlock,
  link,
  plain,
  sectionBlock,
  truncate,
} from './format.js';
import { BLOCK_LIMITS } from './limits.js';

const trim = (host: string) => host.replace(/\/+$/, '');

/** The table's Quality tab in Catalog Explorer (where Databricks shows the monitor). */
export function monitorPageUrl(host: string, table: string): string {
  const path = table.split('.').map(encodeURIComponent).join('/');
  return `${trim(host)}/explore/data/${path}?activeTab=quality`;
}

/** The monitor's generated (Lakeview) dashboard. */
export function dashboardUrl(host: string, dashboardId: string): string {
  return `${trim(host)}/sql/dashboardsv3/${encodeURIComponent(dashboardId)}`;
}

/** What the plan says will be created, one line each. */
export function specLines(spec: MonitorSpec): string[] {
  return [
    `table          ${spec.table}`,
    `profile        inference log, ${spec.problemType}`,
    `columns        prediction=${spec.predictionColumn} label=${spec.labelColumn ?? '(none)'} timestamp=${spec.timestampColumn} model id=${spec.modelIdColumn}`,
    `granularities  ${spec.granularities.join(', ')}`,
    `slices         ${spec.slicingExprs.length > 0 ? spec.slicingExprs.join(' | ') : '(none)'}`,
    `custom metrics ${spec.customMetrics.length > 0 ? spec.customMetrics.map((m) => `${m.name} (${m.type}, ${m.outputType})`).join(', ') : '(none)'}`,
    `baseline       ${spec.baselineTable ?? '(none)'}`,
    `output schema  ${spec.outputSchema}`,
    `refresh        ${spec.refreshSchedule ? `${spec.refreshSchedule.quartz} (${spec.refreshSchedule.timezone})` : 'on request (/mlops monitor refresh)'}`,
  ];
}

function buildPlan(
  op: MonitorOp & { spec: MonitorSpec },
  options: { expiresAfterMs: number; workspaceHost: string },
): Reply {
  const title = `Plan: create monitor ${op.monitor} on ${op.spec.table}`;
  const blocks: SlackBlock[] = [
    headerBlock(title),
    sectionBlock(
      `Requested by <@${escapeMrkdwn(op.requester)}> · ${link(monitorPageUrl(options.workspaceHost, op.spec.table), op.spec.table)}`,
    ),
    ...codeBlocks(specLines(op.spec)),
    contextBlock([
      `Only <@${escapeMrkdwn(op.requester)}> can create or cancel this; the plan is good for ${formatElapsed(options.expiresAfterMs)}.`,
    ]),
    {
      type: 'actions',
      block_id: truncate(`monitor-plan-${op.id}`, BLOCK_LIMITS.blockId),
      elements: [
        {
          type: 'button',
          action_id: ACTION_MONITOR_CREATE,
          text: plain('Create'),
          style: 'primary',
          value: op.id,
        },
        { type: 'button', action_id: ACTION_MONITOR_CANCEL, text: plain('Cancel'), value: op.id },
      ],
    },
  ];
  return { text: `${title}. Create or Cancel.`, blocks, visibility: 'in_channel' };
}

const whatOf = (op: MonitorOp) =>
  op.kind === 'create'
    ? `Creating monitor ${op.monitor} on ${op.table}`
    : `Refreshing monitor ${op.monitor} (${op.table})`;

function buildProgress(op: MonitorOp): Pick<Reply, 'text' | 'blocks'> {
  const text = `${whatOf(op)}…`;
  return {
    text,
    blocks: [
      sectionBlock(`:hourglass_flowing_sand: ${escapeMrkdwn(text)}`),
      contextBlock([
        `Asked by <@${escapeMrkdwn(op.requester)}>${op.refreshId ? ` · refresh ${escapeMrkdwn(op.refreshId)}` : ''}`,
      ]),
    ],
  };
}

function buildFinished(op: MonitorOp, result: MonitorOpResult, host: string): Pick<Reply, 'text' | 'blocks'> {
  const page = link(monitorPageUrl(host, op.table), op.table);
  const who = `Asked by <@${escapeMrkdwn(op.requester)}>`;
  switch (result.kind) {
    case 'created': {
      const text = `Monitor ${op.monitor} created on ${op.table} (${result.api === 'legacy' ? 'legacy quality-monitors API' : 'data-quality API'})`;
      const lines = [
        `:white_check_mark: *Monitor ${escapeMrkdwn(op.monitor)} created* on ${page}${result.found ? ' (found on Databricks after the answer was lost)' : ''}.`,
        ...(result.profileTable ? [`Profile metrics: \`${escapeMrkdwn(result.profileTable)}\``] : []),
        ...(result.driftTable ? [`Drift metrics: \`${escapeMrkdwn(result.driftTable)}\``] : []),
        ...(result.dashboardId ? [link(dashboardUrl(host, result.dashboardId), 'Dashboard')] : []),
      ];
      return {
        text,
        blocks: [
          sectionBlock(lines.join('\n')),
          contextBlock([
            `${who} · ${result.api === 'legacy' ? 'legacy quality-monitors API' : 'data-quality API'} · the first refresh is under way`,
          ]),
        ],
      };
    }
    case 'refreshed': {
      const took = result.tookMs !== undefined ? ` in ${formatElapsed(result.tookMs)}` : '';
      return {
        text: `Monitor ${op.monitor} refreshed${took}`,
        blocks: [
          sectionBlock(`:white_check_mark: *Monitor ${escapeMrkdwn(op.monitor)} refreshed*${took}: ${page}`),
          contextBlock([`${who} · refresh ${escapeMrkdwn(result.refreshId)}`]),
        ],
      };
    }
    case 'failed': {
      const verb =
        op.kind === 'create'
          ? 'could not be created'
          : result.state === 'CANCELED'
            ? 'refresh was cancelled'
            : 'refresh failed';
      const reason =
        result.reason ??
        result.message ??
        (result.state ? `Databricks says ${result.state}.` : 'Databricks gave no reason.');
      return {
        text: `Monitor ${op.monitor} ${verb}: ${reason}`,
        blocks: [
          sectionBlock(
            `:x: *Monitor ${escapeMrkdwn(op.monitor)} ${verb}* (${page})\n>${escapeMrkdwn(reason)}`,
          ),
          ...(result.hint ? [contextBlock([escapeMrkdwn(result.hint)])] : []),
          contextBlock([`${who}${result.refreshId ? ` · refresh ${escapeMrkdwn(result.refreshId)}` : ''}`]),
        ],
      };
    }
    case 'cancelled':
      return {
        text: `Monitor ${op.monitor}: cancelled`,
        blocks: [sectionBlock(`Monitor ${escapeMrkdwn(op.monitor)}: cancelled.`)],
      };
  }
}

function buildClicked(op: MonitorOp, what: 'creating' | 'cancelled'): Reply {
  const text =
    what === 'creating'
      ? `Creating monitor ${op.monitor} on ${op.table}: the channel message says how it ends.`
      : `Cancelled: monitor ${op.monitor} was not created.`;
  return {
    text,
    blocks: [sectionBlock(escapeMrkdwn(text))],
    visibility: 'in_channel',
    replaceOriginal: true,
  };
}

function buildRefreshAccepted(op: MonitorOp, started: boolean): Reply {
  const text = started
    ? `Refresh ${op.refreshId} of monitor ${op.monitor} started; the channel message says how it ends.`
    : `Monitor ${op.monitor} was refreshing already (refresh ${op.refreshId}); the bot follows that one.`;
  return { text, blocks: [sectionBlock(escapeMrkdwn(text))], visibility: 'ephemeral' };
}

function statusBlocks(v: MonitorStatusView): SlackBlock[] {
  if (v.direct) {
    return [
      sectionBlock(
        `*${escapeMrkdwn(v.monitor)}*: reads the metric tables the policy names, \`${escapeMrkdwn(v.direct.profileTable)}\` and \`${escapeMrkdwn(v.direct.driftTable)}\`; the bot does not manage its monitor.`,
      ),
    ];
  }
  const page = link(monitorPageUrl(v.workspaceHost, v.table), v.table);
  if (v.missingTable) {
    return [
      sectionBlock(
        `*${escapeMrkdwn(v.monitor)}*: there is no table ${escapeMrkdwn(v.table)} (or the bot cannot see it).`,
      ),
      contextBlock([
        `Fix monitors.${v.monitor}.table in the policy file, or give the bot USE CATALOG, USE SCHEMA and SELECT on it.`,
      ]),
    ];
  }
  if (!v.info) {
    return [
      sectionBlock(`*${escapeMrkdwn(v.monitor)}*: ${page} has no monitor.`),
      contextBlock([
        v.canCreate
          ? `Create it with \`/mlops monitor create ${v.monitor}\`.`
          : `Add monitors.${v.monitor}.setup to the policy file, then run \`/mlops monitor create ${v.monitor}\`.`,
      ]),
    ];
  }
  const i = v.info;
  const last = i.lastRefresh;
  const refresh = last
    ? `${last.state}${last.startedAt ? `, started ${formatUtc(last.startedAt)}` : ''}${last.endedAt ? `, ended ${formatUtc(last.endedAt)}` : ''}${last.message ? `: ${last.message}` : ''}`
    : 'none yet';
  return [
    sectionBlock(`*${escapeMrkdwn(v.monitor)}*: ${page}`),
    fieldsBlock([
      `*State*\n${escapeMrkdwn(i.status ?? 'unknown')}`,
      `*Last refresh*\n${escapeMrkdwn(refresh)}`,
      `*Profile metrics*\n${escapeMrkdwn(i.profileTable ?? '(not yet)')}`,
      `*Drift metrics*\n${escapeMrkdwn(i.driftTable ?? '(not yet)')}`,
      `*Dashboard*\n${i.dashboardId ? link(dashboardUrl(v.workspaceHost, i.dashboardId), 'open') : '(none)'}`,
      `*API*\n${i.api === 'legacy' ? 'legacy quality monitors' : 'data quality'}`,
    ]),
    ...(i.failureMessage ? [contextBlock([`Last failure: ${escapeMrkdwn(i.failureMessage)}`])] : []),
  ];
}

function buildStatus(views: MonitorStatusView[]): Reply {
  const text = views
    .map((v) =>
      v.direct
        ? `${v.monitor}: metric tables named in the policy`
        : v.missingTable
          ? `${v.monitor}: no table ${v.table}`
          : v.info
            ? `${v.monitor}: ${v.info.status ?? 'unknown'}, last refresh ${v.info.lastRefresh?.state ?? 'none'}`
            : `${v.monitor}: no monitor on ${v.table}`,
    )
    .join('; ');
  return {
    text: `Monitors: ${text}`,
    blocks: [headerBlock('Monitors'), ...views.flatMap(statusBlocks)].slice(0, BLOCK_LIMITS.blocksPerMessage),
    visibility: 'ephemeral',
  };
}

export const monitorViews: MonitorViews = {
  plan: buildPlan,
  progress: buildProgress,
  finished: buildFinished,
  clicked: buildClicked,
  refreshAccepted: buildRefreshAccepted,
  status: buildStatus,
  describeError,
};
