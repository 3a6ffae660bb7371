/**
 * The App Home tab of one user, from HomeData: the answer to their last click, what waits for
 * their vote (Approve / Reject, the same buttons as the request card), their own requests and
 * changes, what each endpoint serves, the open drift alerts, and a short "getting started" on
 * their first visit. Pure: facts in, a Home view out, within 100 blocks.
 */
import { approvalTitle } from '../../approvals/request-plan.js';
import type { ApprovalRequest } from '../../approvals/store.js';
import { changeTitle } from '../../changes/describe.js';
import type { HomeData, HomeEndpoint } from '../../home/types.js';
import { ACTION_APPROVAL_APPROVE, ACTION_APPROVAL_REJECT } from './action-ids.js';
import type { SlackBlock } from './block-kit.js';
import {
  contextBlock,
  escapeKeepingLinks,
  escapeMrkdwn,
  formatUtc,
  headerBlock,
  plain,
  sectionBlock,
  shortModel,
  truncate,
} from './format.js';
import { BLOCK_LIMITS } from './limits.js';

/** Most items a Home section lists; the rest are counted. */
export const HOME_SECTION_MAX = 8;
/** Most blocks of a Home view (Slack's limit). */
export const HOME_MAX_BLOCKS = 100;

export interface HomeView {
  type: 'home';
  callback_id: string;
  blocks: SlackBlock[];
}

const CHANGE_STATUS: Record<string, string> = {
  proposed: 'waiting for Apply',
  applying: 'applying',
  rolling_out: 'rolling out',
};

const ago = (now: number, at: number): string => {
  const min = Math.max(0, Math.round((now - at) / 60_000));
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  return h < 48 ? `${h} h ago` : `${Math.round(h / 24)} days ago`;
};

function more(count: number): SlackBlock[] {
  return count > HOME_SECTION_MAX
    ? [contextBlock([`…and ${count - HOME_SECTION_MAX} more: \`/mlops approvals\` lists them all.`])]
    : [];
}

function approvalBlocks(r: ApprovalRequest, now: number): SlackBlock[] {
  const title = approvalTitle(r.plan);
  return [
    sectionBlock(
      `*${escapeMrkdwn(title)}*\nAsked by <@${r.requester}> ${ago(now, r.createdAt)} · ${r.votes.length} of ${r.required} approval(s) · expires ${formatUtc(new Date(r.expiresAt))}`,
    ),
    {
      type: 'actions',
      block_id: truncate(`home-approval-${r.id}`, BLOCK_LIMITS.blockId),
      elements: [
        {
          type: 'button',
          action_id: ACTION_APPROVAL_APPROVE,
          text: plain('Approve'),
          style: 'primary',
          value: r.id,
          confirm: {
            title: plain('Approve this request?'),
            text: plain(
              truncate(`${title}: it runs as soon as enough people approve.`, BLOCK_LIMITS.confirmText),
            ),
            confirm: plain('Approve'),
            deny: plain('Not yet'),
          },
        },
        {
          type: 'button',
          action_id: ACTION_APPROVAL_REJECT,
          text: plain('Reject'),
          style: 'danger',
          value: r.id,
        },
      ],
    },
  ];
}

function endpointLine(e: HomeEndpoint): string {
  const served =
    e.served.length === 0
      ? 'nothing served yet'
      : e.served
          .map(
            (v) =>
              `${escapeMrkdwn(shortModel(v.modelName))} v${escapeMrkdwn(v.modelVersion)}${v.percent !== undefined ? ` ${v.percent}%` : ''}`,
          )
          .join(', ');
  const state = e.updating ? ' · :hourglass_flowing_sand: updating' : e.ready ? '' : ' · not ready';
  return `*${escapeMrkdwn(e.name)}*: ${served}${state}`;
}

/**
 * @example buildHomeView({ userId: 'U1', now, firstVisit: true, toApprove: [], myRequests: [], myChanges: [], endpoints: [], alerts: [] })
 */
export function buildHomeView(data: HomeData): HomeView {
  const blocks: SlackBlock[] = [];
  const { now } = data;
  if (data.notice) blocks.push(sectionBlock(`:speech_balloon: ${escapeKeepingLinks(data.notice)}`));
  if (data.firstVisit) {
    blocks.push(headerBlock('Getting started'));
    blocks.push(
      sectionBlock(
        [
          'modelgate deploys, routes and promotes models on Databricks Model Serving from Slack.',
          '• `/mlops status` shows what an endpoint serves; `/mlops models` lists a model’s versions.',
          '• `/mlops deploy` with nothing after it opens a form; `/mlops query <endpoint>` opens one for records.',
          '• Changes show a plan first; nothing happens until you press Apply. Production needs an approval.',
          '• `/mlops help` lists every command.',
        ].join('\n'),
      ),
    );
    blocks.push({ type: 'divider' });
  }

  blocks.push(headerBlock('Waiting for your approval'));
  if (data.toApprove.length === 0) blocks.push(contextBlock(['Nothing waits for you.']));
  for (const r of data.toApprove.slice(0, HOME_SECTION_MAX)) blocks.push(...approvalBlocks(r, now));
  blocks.push(...more(data.toApprove.length));

  blocks.push(headerBlock('Your requests and changes'));
  const mine = [
    ...data.myRequests.map(
      (r) =>
        `• *${escapeMrkdwn(approvalTitle(r.plan))}*: waiting for approval (${r.votes.length} of ${r.required}), asked ${ago(now, r.createdAt)}`,
    ),
    ...data.myChanges.map(
      (c) =>
        `• *${escapeMrkdwn(changeTitle(c.plan))}*: ${CHANGE_STATUS[c.status] ?? c.status.replace(/_/g, ' ')}, since ${ago(now, c.updatedAt)}`,
    ),
  ];
  if (mine.length === 0) blocks.push(contextBlock(['You have nothing open.']));
  else blocks.push(sectionBlock(mine.slice(0, HOME_SECTION_MAX * 2).join('\n')));

  blocks.push(headerBlock('Endpoints'));
  if (data.endpointsUnavailable) {
    blocks.push(
      contextBlock(['Databricks could not be read just now; this list comes back on the next refresh.']),
    );
  } else if (data.endpoints.length === 0) {
    blocks.push(contextBlock(['No serving endpoints yet.']));
  } else {
    const lines = data.endpoints.slice(0, 20).map(endpointLine);
    blocks.push(sectionBlock(lines.join('\n')));
    if (data.endpoints.length > 20) blocks.push(contextBlock([`…and ${data.endpoints.length - 20} more.`]));
  }

  blocks.push(headerBlock('Open drift alerts'));
  if (data.alerts.length === 0) blocks.push(contextBlock(['No drift alert is open.']));
  else {
    const lines = data.alerts.slice(0, HOME_SECTION_MAX).map((a) => {
      const who = a.acknowledgedBy ? ` · on it: <@${a.acknowledgedBy}>` : '';
      return `• *${escapeMrkdwn(a.monitor)}* (${escapeMrkdwn(shortModel(a.modelId))}): ${escapeMrkdwn(a.rule)}, since ${formatUtc(new Date(a.openedAt))} in <#${a.channel}>${who}`;
    });
    blocks.push(sectionBlock(lines.join('\n')));
    blocks.push(...more(data.alerts.length));
  }
  blocks.push(contextBlock([`Updated ${formatUtc(new Date(now))}`]));
  return { type: 'home', callback_id: 'home', blocks: blocks.slice(0, HOME_MAX_BLOCKS) };
}
