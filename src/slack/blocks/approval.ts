/**
 * The approval request message and the replies around it. One message per request, posted once
 * and updated in place as the request moves: pending (plan, evidence, Approve / Reject) → approved
 * and executing → executed or failed (with links); or rejected (with the reason), expired or
 * superseded (what changed), all without buttons. Pure: data in, text and blocks out.
 */

import type { Evidence, VersionFacts } from '../../approvals/evidence.js';
import { describeApprovers } from '../../approvals/gate.js';
import {
  type ApprovalPlan,
  approvalTitle,
  type ChangeStep,
  primaryStep,
} from '../../approvals/request-plan.js';
import type { ApprovalMessageOptions } from '../../approvals/service.js';
import type { ApprovalRequest } from '../../approvals/store.js';
import { describeTraffic } from '../../changes/plan/index.js';
import type { Reply } from '../../domain/vocabulary.js';
import { endpointUrl } from '../../domain/workspace-links.js';
import {
  ACTION_APPROVAL_APPROVE,
  ACTION_APPROVAL_REJECT,
  ACTION_APPROVAL_REJECT_CONFIRM,
  ACTION_APPROVAL_REJECT_DISMISS,
  ACTION_APPROVAL_REJECT_REASON,
} from './action-ids.js';
import { executionText } from './approval-outcome.js';
import type { SlackBlock } from './block-kit.js';
import {
  codeBlocks,
  contextBlock,
  escapeKeepingLinks,
  escapeMrkdwn,
  fieldsBlock,
  formatTable,
  formatUtc,
  headerBlock,
  link,
  plain,
  sectionBlock,
  shortModel,
  truncate,
} from './format.js';
import { BLOCK_LIMITS } from './limits.js';
import { formatElapsed } from './progress.js';

/** The block and input ids of the reject-reason prompt; the listener reads the reason there. */
export const REJECT_REASON_BLOCK = 'approval-reject-reason';
export const MAX_REJECT_REASON = 500;

export type { ApprovalMessageOptions };

const STATUS_HEADER: Record<ApprovalRequest['status'], string> = {
  pending: 'Approval needed',
  approved: 'Approved',
  executing: 'Approved, executing',
  executed: 'Done',
  failed: 'Failed',
  rejected: 'Rejected',
  expired: 'Expired',
  superseded: 'Superseded',
};

/** The Jobs UI page of a job. */
export const jobUrl = (host: string, jobId: number): string => `${host.replace(/\/+$/, '')}/jobs/${jobId}`;

const fromTo = (from: number | undefined, to: number) =>
  from === undefined ? `nothing → v${to}` : `v${from} → v${to}`;

function stepLine(step: ChangeStep, host: string): string {
  const p = step.plan;
  if (p.kind === 'alias') {
    const leaves = p.fromVersion === undefined ? 'no version holds it now' : `v${p.fromVersion} leaves it`;
    return `• *${escapeMrkdwn(p.alias)}* of ${escapeMrkdwn(p.model)}: ${fromTo(p.fromVersion, p.toVersion)} (${leaves}, v${p.toVersion} enters)`;
  }
  const now = p.create ? 'it does not exist yet' : `now ${escapeMrkdwn(describeTraffic(p.before))}`;
  return `• ${link(endpointUrl(host, p.endpoint), p.endpoint)} will serve ${escapeMrkdwn(describeTraffic(p.after))} (${now})`;
}

function planLines(plan: ApprovalPlan, host: string): string[] {
  if (plan.kind === 'change') {
    const lines = plan.steps.map((s) => stepLine(s, host));
    if (plan.steps.length > 1)
      lines.push('_The endpoint rolls out first; the alias moves once it serves the version._');
    return lines;
  }
  if (plan.kind === 'deployment') {
    const repaired = plan.latestRepairId !== undefined ? ', repaired before' : '';
    return [
      `• Set tag *${escapeMrkdwn(plan.approvalTask)}=Approved* on ${escapeMrkdwn(plan.model)} v${plan.version}`,
      `• Repair ${link(plan.runUrl, `run ${plan.runId}`)} of ${link(jobUrl(host, plan.jobId), plan.jobName)} (${plan.jobId}${repaired}): rerun task *${escapeMrkdwn(plan.approvalTask)}* and what follows it`,
    ];
  }
  const params = Object.entries(plan.parameters)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return [
    `• Run job ${link(jobUrl(host, plan.jobId), plan.jobName)} (${plan.jobId})${params ? ` with ${escapeMrkdwn(params)}` : ''}`,
    `• Model: ${escapeMrkdwn(plan.model)}${plan.monitor ? ` · monitor *${escapeMrkdwn(plan.monitor)}*` : ''}`,
    `• Reason: ${escapeMrkdwn(truncate(plan.reason, 500))}`,
  ];
}

function versionField(title: string, model: string, v: VersionFacts): string {
  const by = v.createdBy ? ` by ${escapeMrkdwn(v.createdBy)}` : '';
  const aliases = v.aliases.length > 0 ? v.aliases.map(escapeMrkdwn).join(', ') : 'none';
  const status = v.status === 'READY' ? '' : ` · ${escapeMrkdwn(v.status)}`;
  return `*${title}:* ${link(v.url, `${shortModel(model)} v${v.version}`)}${status}\nCreated ${formatUtc(new Date(v.createdAt))}${by}\nAliases: ${aliases}`;
}

const figure = (n: number | null): string => (n === null ? 'no data' : Number(n.toFixed(4)).toString());

function evidenceBlocks(plan: ApprovalPlan, evidence: Evidence | undefined): SlackBlock[] {
  if (!evidence) return [];
  const model =
    plan.kind !== 'change'
      ? plan.model
      : (() => {
          const p = primaryStep(plan).plan;
          return p.kind === 'alias' ? p.model : (p.after.servedVersions[0]?.modelName ?? '');
        })();
  const blocks: SlackBlock[] = [];
  const fields: string[] = [];
  const [inTitle, outTitle] = plan.kind === 'retrain' ? ['Latest', 'Champion'] : ['Incoming', 'Replaces'];
  if (evidence.incoming) fields.push(versionField(inTitle, model, evidence.incoming));
  if (evidence.outgoing) fields.push(versionField(outTitle, model, evidence.outgoing));
  if (fields.length > 0) blocks.push(fieldsBlock(fields));
  if (plan.kind === 'deployment' && plan.metrics.length > 0) {
    blocks.push(sectionBlock('*Evaluation task metrics*'));
    blocks.push(
      ...codeBlocks(formatTable([['metric', 'value'], ...plan.metrics.map((m) => [m.key, figure(m.value)])])),
    );
  }
  const f = evidence.figures;
  if (f && f.rows.length > 0) {
    const inLabel = evidence.incoming ? `v${evidence.incoming.version}` : 'incoming';
    const outLabel = evidence.outgoing ? `v${evidence.outgoing.version}` : 'replaced';
    const when = f.windowStart !== undefined ? `, window of ${formatUtc(new Date(f.windowStart))}` : '';
    blocks.push(sectionBlock(`*Monitor ${escapeMrkdwn(f.monitor)}* (latest figures${when})`));
    blocks.push(
      ...codeBlocks(
        formatTable([
          ['metric', inLabel, outLabel],
          ...f.rows.map((r) => [r.label, figure(r.incoming), figure(r.outgoing)]),
        ]),
      ),
    );
  }
  return blocks;
}

function statusLine(r: ApprovalRequest, options: ApprovalMessageOptions): string {
  const approvedBy = r.votes.map((v) => `<@${v.voter}>`).join(', ');
  switch (r.status) {
    case 'pending':
      return '';
    case 'approved':
    case 'executing':
      return `:hourglass_flowing_sand: Approved by ${approvedBy}. ${escapeMrkdwn(options.progress ?? 'Executing…')}`;
    case 'executed':
      return `:white_check_mark: Approved by ${approvedBy} and done. ${escapeKeepingLinks(executionText(r) ?? '')}`.trim();
    case 'failed':
      return `:x: Approved by ${approvedBy}, but it failed: ${escapeKeepingLinks(truncate(executionText(r) ?? 'unknown reason', 1500))}`;
    case 'rejected': {
      const who =
        r.decidedBy === r.requester
          ? `Withdrawn by <@${r.requester}>`
          : `Rejected by <@${r.decidedBy ?? '?'}>`;
      return `:no_entry: ${who}${r.reason ? `: ${escapeMrkdwn(truncate(r.reason, MAX_REJECT_REASON))}` : '.'} Nothing was changed.`;
    }
    case 'expired':
      return `:alarm_clock: Expired ${formatUtc(new Date(r.expiresAt))} with ${r.votes.length} of ${r.required} approvals. Nothing was changed.`;
    case 'superseded':
      return `:warning: Superseded: ${escapeMrkdwn(r.reason ?? 'the target changed since the request was made')}. Nothing was changed; ask again to make a new request.`;
  }
}

/**
 * Who is asked, as mentions that ping them: each user `<@U…>`, each group `<!subteam^ID>` (its id
 * resolved from the handle; a group given by id needs no lookup). A handle Slack does not know is
 * named as text and listed in `unknown`; without `mentions` (Slack could not be asked) handles stay text.
 *
 * @example approverMentions({ users: ['U1'], groups: ['@ml-approvers'] }, [{ ref: '@ml-approvers', id: 'S1' }]) // { line: '<!subteam^S1> <@U1>', unknown: [] }
 */
export function approverMentions(
  approvers: ApprovalRequest['approvers'],
  mentions: ApprovalMessageOptions['mentions'],
): { line: string; unknown: string[] } {
  const unknown: string[] = [];
  const groups = approvers.groups.map((ref) => {
    const m = mentions?.find((x) => x.ref === ref);
    if (m?.id) return `<!subteam^${m.id}>`;
    if (/^S[A-Z0-9]+$/.test(ref)) return `<!subteam^${ref}>`;
    if (m?.unknown) unknown.push(ref);
    return escapeMrkdwn(ref);
  });
  return { line: [...groups, ...approvers.users.map((u) => `<@${u}>`)].join(' '), unknown };
}

function contextLine(r: ApprovalRequest, now: number): string {
  const by =
    r.plan.kind === 'deployment'
      ? `Asked by deployment job run ${r.plan.runId}`
      : `Requested by <@${r.requester}>`;
  const parts = [by, `gate *${escapeMrkdwn(r.gate)}*`, `request \`${r.id}\``];
  if (r.status === 'pending') {
    const votes = r.votes.length > 0 ? ` (${r.votes.map((v) => `<@${v.voter}>`).join(', ')})` : '';
    parts.push(`${r.votes.length} of ${r.required} approvals${votes}`);
    parts.push(`approvers: ${describeApprovers(r.approvers)}`);
    parts.push(`expires ${formatUtc(new Date(r.expiresAt))} (in ${formatElapsed(r.expiresAt - now)})`);
  } else {
    parts.push(`asked ${formatUtc(new Date(r.createdAt))}`);
  }
  return parts.join(' · ');
}

function buttons(r: ApprovalRequest): SlackBlock {
  const title = approvalTitle(r.plan);
  return {
    type: 'actions',
    block_id: truncate(`approval-actions-${r.id}`, BLOCK_LIMITS.blockId),
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
            truncate(
              `${title}. ${r.plan.kind === 'retrain' ? 'The job runs' : r.plan.kind === 'deployment' ? 'The version is tagged Approved and the run repaired' : 'The change is applied'} ${r.required - r.votes.length <= 1 ? 'as soon as you approve' : `once ${r.required} people have approved`}.`,
              BLOCK_LIMITS.confirmText,
            ),
          ),
          confirm: plain('Approve'),
          deny: plain('Go back'),
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
  };
}

/**
 * The request message for chat.postMessage / chat.update.
 *
 * @example messenger.update(ref, buildApprovalMessage(request, { now: clock.now(), workspaceHost }))
 */
export function buildApprovalMessage(
  r: ApprovalRequest,
  options: ApprovalMessageOptions,
): { text: string; blocks: SlackBlock[] } {
  const title = approvalTitle(r.plan);
  const header = `${STATUS_HEADER[r.status]}: ${title}`;
  const blocks: SlackBlock[] = [headerBlock(header)];
  const status = statusLine(r, options);
  if (status) blocks.push(sectionBlock(status));
  if (options.links && options.links.length > 0 && (r.status === 'executed' || r.status === 'failed')) {
    blocks.push(contextBlock([options.links.map((l) => link(l.url, l.label)).join(' · ')]));
  }
  const asked = r.status === 'pending' ? approverMentions(r.approvers, options.mentions) : undefined;
  if (asked) {
    blocks.push(sectionBlock(`*Approvers:* ${asked.line}`));
    if (asked.unknown.length > 0) {
      blocks.push(
        contextBlock([
          `:warning: ${asked.unknown.map((g) => `\`${escapeMrkdwn(g)}\``).join(', ')} ${asked.unknown.length === 1 ? 'is not a user group' : 'are not user groups'} of this workspace, so nobody in ${asked.unknown.length === 1 ? 'it' : 'them'} was pinged. Fix the handle under \`gates.${escapeMrkdwn(r.gate)}.approvers\` in the policy (\`npm run doctor\` lists it).`,
        ]),
      );
    }
  }
  blocks.push(sectionBlock(`*Plan*\n${planLines(r.plan, options.workspaceHost).join('\n')}`));
  blocks.push(...evidenceBlocks(r.plan, r.evidence));
  blocks.push(contextBlock([contextLine(r, options.now)]));
  if (r.status === 'pending') blocks.push(buttons(r));
  // The fallback text is mrkdwn for Slack too (notifications, search): escaped like the blocks,
  // and a reason someone typed is escaped whole.
  const detail =
    r.status === 'pending'
      ? ` ${r.plan.kind === 'deployment' ? `Asked by deployment job run ${r.plan.runId}` : `Requested by <@${r.requester}>`}; ${r.votes.length} of ${r.required} approvals. Approve or Reject: ${asked?.line ?? ''}`
      : r.status === 'executed' || (r.status === 'failed' && r.result)
        ? ` ${escapeKeepingLinks(executionText(r) ?? '')}`
        : r.status === 'failed'
          ? r.reason
            ? ` ${escapeKeepingLinks(r.reason)}`
            : ''
          : r.status === 'superseded' || r.status === 'rejected'
            ? r.reason
              ? ` ${escapeMrkdwn(r.reason)}`
              : ''
            : '';
  return { text: truncate(`${escapeMrkdwn(header)}.${detail}`.trim(), 3000), blocks };
}

/**
 * A gated change asked with --dry-run: the request as it would be, without buttons.
 */
export function buildApprovalDryRunReply(
  plan: ApprovalPlan,
  info: { gate: string; required: number; approversText: string; workspaceHost: string },
): Reply {
  const title = approvalTitle(plan);
  return {
    text: `Dry run: ${escapeMrkdwn(title)} needs ${info.required} approval(s) from ${info.approversText}. Nothing was requested.`,
    blocks: [
      headerBlock(`Dry run: ${title}`),
      sectionBlock(`*Plan*\n${planLines(plan, info.workspaceHost).join('\n')}`),
      contextBlock([
        `Gate *${escapeMrkdwn(info.gate)}*: ${info.required} approval${info.required === 1 ? '' : 's'} from ${info.approversText}.`,
        'Dry run: nothing was requested. Run the command again without --dry-run to ask for approval.',
      ]),
    ],
    visibility: 'ephemeral',
  };
}

/**
 * What the requester sees once the request is posted.
 *
 * @example buildRequestedReply(request, 'C0APPROVALS', 'C0MLOPS')
 */
export function buildRequestedReply(
  r: ApprovalRequest,
  postedIn: string | undefined,
  askedIn: string,
): Reply {
  const title = approvalTitle(r.plan);
  const where = postedIn === undefined ? '' : postedIn === askedIn ? ' below' : ` in <#${postedIn}>`;
  const text = `Approval requested: ${escapeMrkdwn(title)} (request \`${r.id}\`). It needs ${r.required} approval${r.required === 1 ? '' : 's'} from ${describeApprovers(r.approvers)}; the request is${where || ' recorded'}${where ? '' : ' (it could not be posted; run `/mlops approvals`)'}.`;
  return {
    text,
    blocks: [sectionBlock(`:ballot_box_with_ballot: ${escapeKeepingLinks(text)}`)],
    visibility: 'ephemeral',
  };
}

/** An ephemeral answer to a click, leaving the request message as it is. */
export function buildApprovalNotice(text: string, hint?: string): Reply {
  const blocks: SlackBlock[] = [sectionBlock(escapeKeepingLinks(text))];
  if (hint) blocks.push(contextBlock([escapeKeepingLinks(hint)]));
  return { text: escapeKeepingLinks(hint ? `${text} ${hint}` : text), blocks, visibility: 'ephemeral' };
}

/**
 * The ephemeral prompt a Reject click opens: an optional reason and a confirming button.
 *
 * @example buildRejectPrompt(request) // input block + Reject request / Never mind
 */
export function buildRejectPrompt(r: ApprovalRequest): Reply {
  const title = approvalTitle(r.plan);
  const own = r.votes.length === 0;
  return {
    text: `Reject ${escapeMrkdwn(title)} (request ${r.id})? Give a reason if you like.`,
    blocks: [
      sectionBlock(
        `Reject *${escapeMrkdwn(title)}* (request \`${r.id}\`)?${own ? '' : ' Approvals so far are discarded.'}`,
      ),
      {
        type: 'input',
        block_id: REJECT_REASON_BLOCK,
        optional: true,
        label: plain('Reason (optional)'),
        element: {
          type: 'plain_text_input',
          action_id: ACTION_APPROVAL_REJECT_REASON,
          multiline: true,
          max_length: MAX_REJECT_REASON,
          placeholder: plain('Why it should not go ahead'),
        },
      },
      {
        type: 'actions',
        block_id: truncate(`approval-reject-${r.id}`, BLOCK_LIMITS.blockId),
        elements: [
          {
            type: 'button',
            action_id: ACTION_APPROVAL_REJECT_CONFIRM,
            text: plain('Reject request'),
            style: 'danger',
            value: r.id,
          },
          {
            type: 'button',
            action_id: ACTION_APPROVAL_REJECT_DISMISS,
            text: plain('Never mind'),
            value: r.id,
          },
        ],
      },
    ] satisfies SlackBlock[],
    visibility: 'ephemeral',
  };
}

/** Whether a click's answer is the reject prompt (a modal is opened instead where Slack can). */
export const isRejectPrompt = (reply: Reply): boolean =>
  JSON.stringify(reply.blocks ?? []).includes(`"${ACTION_APPROVAL_REJECT_CONFIRM}"`);

/**
 * The `/mlops approvals` answer: what is pending, with age and who may approve.
 *
 * @example buildApprovalsListReply(store.pending(), clock.now())
 */
export function buildApprovalsListReply(requests: readonly ApprovalRequest[], now: number): Reply {
  if (requests.length === 0) {
    return {
      text: 'No approval requests are pending.',
      blocks: [sectionBlock('No approval requests are pending.')],
      visibility: 'ephemeral',
    };
  }
  const shown = requests.slice(0, 20);
  const lines = shown.map((r) => {
    const where = r.message ? ` · <#${r.message.channel}>` : '';
    return `• *${escapeMrkdwn(approvalTitle(r.plan))}* \`${r.id}\`: asked by <@${r.requester}> ${formatElapsed(now - r.createdAt)} ago · ${r.votes.length} of ${r.required} approvals · approvers: ${describeApprovers(r.approvers)} · expires in ${formatElapsed(r.expiresAt - now)}${where}`;
  });
  const more = requests.length > shown.length ? [`…and ${requests.length - shown.length} more.`] : [];
  const blocks: SlackBlock[] = [headerBlock(`Pending approvals (${requests.length})`)];
  let chunk: string[] = [];
  for (const line of lines) {
    if ([...chunk, line].join('\n').length > BLOCK_LIMITS.sectionText - 50) {
      blocks.push(sectionBlock(chunk.join('\n')));
      chunk = [];
    }
    chunk.push(line);
  }
  if (chunk.length > 0) blocks.push(sectionBlock(chunk.join('\n')));
  if (more.length > 0) blocks.push(contextBlock(more));
  return {
    text: `${requests.length} approval request(s) pending: ${shown.map((r) => escapeMrkdwn(approvalTitle(r.plan))).join('; ')}`,
    blocks,
    visibility: 'ephemeral',
  };
}
