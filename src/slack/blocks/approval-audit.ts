/**
 * The `/mlops audit` answer: the latest changes and approval requests, one line each, with who
 * asked, who approved (or applied), when and how it ended. Pure.
 */

import type { AuditItem } from '../../approvals/audit-trail.js';
import { parseExecutionResult } from '../../approvals/execution-result.js';
import type { Reply } from '../../domain/vocabulary.js';
import { describeExecution } from './approval-outcome.js';
import type { SlackBlock } from './block-kit.js';
import {
  contextBlock,
  escapeKeepingLinks,
  escapeMrkdwn,
  escapeOnce,
  formatUtc,
  headerBlock,
  sectionBlock,
  truncate,
} from './format.js';
import { BLOCK_LIMITS } from './limits.js';

const ICONS: Record<string, string> = {
  executed: ':white_check_mark:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  timed_out: ':warning:',
  rejected: ':no_entry:',
  withdrawn: ':leftwards_arrow_with_hook:',
  expired: ':alarm_clock:',
  superseded: ':warning:',
  stale: ':warning:',
  cancelled: ':heavy_minus_sign:',
  pending: ':ballot_box_with_ballot:',
  proposed: ':memo:',
  approved: ':hourglass_flowing_sand:',
  executing: ':hourglass_flowing_sand:',
  applying: ':hourglass_flowing_sand:',
};

const OUTCOME_WORDS: Record<string, string> = {
  timed_out: 'timed out',
  stale: 'out of date',
  pending: 'waiting for approval',
  proposed: 'not applied',
};

/**
 * An audit row's detail in mrkdwn: an execution's facts worded by us (links kept), any other
 * detail as stored text that may hold what someone typed (a reject reason), so escaped whole.
 */
function detailText(detail: string): string {
  const result = parseExecutionResult(detail);
  const text = result ? escapeKeepingLinks(describeExecution(result)) : escapeOnce(detail);
  return truncate(text, 300);
}

/** One line of the audit answer. */
export function auditLine(item: AuditItem): string {
  const who = item.requester ? `asked by <@${item.requester}>` : '';
  const approved =
    item.approvers.length > 0
      ? `${item.kind === 'approval' ? 'approved by' : 'applied by'} ${item.approvers.map((a) => `<@${a}>`).join(', ')}`
      : '';
  const rejected = item.rejectedBy
    ? `${item.outcome === 'withdrawn' ? 'withdrawn' : 'rejected'} by <@${item.rejectedBy}>`
    : '';
  const outcome = OUTCOME_WORDS[item.outcome] ?? item.outcome.replace(/_/g, ' ');
  const detail = item.detail ? ` — ${detailText(item.detail)}` : '';
  const parts = [who, approved, rejected].filter((p) => p !== '').join(', ');
  return `${ICONS[item.outcome] ?? '•'} *${escapeMrkdwn(item.title)}* \`${item.id}\` · ${formatUtc(new Date(item.at))} · *${outcome}*${parts ? ` · ${parts}` : ''}${detail}`;
}

/**
 * @example buildAuditReply(approvals.auditTrail({ endpoint: 'churn-endpoint' }), { now, subject: 'churn-endpoint' })
 */
export function buildAuditReply(
  items: readonly AuditItem[],
  options: { now: number; subject?: string },
): Reply {
  const about = options.subject ? ` of ${options.subject}` : '';
  if (items.length === 0) {
    const text = `The audit log has no changes${about} yet.`;
    return { text: escapeMrkdwn(text), blocks: [sectionBlock(escapeMrkdwn(text))], visibility: 'ephemeral' };
  }
  const blocks: SlackBlock[] = [headerBlock(`Latest changes${about}`)];
  let chunk: string[] = [];
  for (const line of items.map(auditLine)) {
    if ([...chunk, line].join('\n').length > BLOCK_LIMITS.sectionText - 50) {
      blocks.push(sectionBlock(chunk.join('\n')));
      chunk = [];
    }
    chunk.push(line);
  }
  if (chunk.length > 0) blocks.push(sectionBlock(chunk.join('\n')));
  blocks.push(
    contextBlock([`Newest first, as of ${formatUtc(new Date(options.now))}. The audit log is append-only.`]),
  );
  return {
    text: truncate(
      `Latest changes${escapeMrkdwn(about)}: ${items.map((i) => `${escapeMrkdwn(i.title)} (${OUTCOME_WORDS[i.outcome] ?? i.outcome})`).join('; ')}`,
      3000,
    ),
    blocks,
    visibility: 'ephemeral',
  };
}
