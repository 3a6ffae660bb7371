/**
 * The plan message: what is there now and what will be after, with Apply and Cancel buttons that
 * carry only the change id. A dry run shows the same plan without buttons.
 */

import type { PlanReplyOptions } from '../../changes/pipeline.js';
import { diffPlan, summarisePlan } from '../../changes/plan/index.js';
import type { DiffLine, Plan } from '../../domain/change.js';
import type { Reply } from '../../domain/vocabulary.js';
import { endpointUrl, modelVersionUrl } from '../../domain/workspace-links.js';
import { ACTION_APPLY, ACTION_CANCEL } from './action-ids.js';
import type { SlackBlock } from './block-kit.js';
import {
  codeBlocks,
  contextBlock,
  escapeMrkdwn,
  formatTable,
  headerBlock,
  link,
  plain,
  sectionBlock,
  shortModel,
  truncate,
} from './format.js';
import { BLOCK_LIMITS } from './limits.js';

export type { PlanReplyOptions };

const MARK: Record<DiffLine['change'], string> = { added: '+', removed: '-', changed: '~', unchanged: ' ' };

/** The diff as a monospace table: marker, what, now, after. */
export function diffTable(lines: DiffLine[]): string[] {
  return formatTable(
    [[' ', 'what', 'now', 'after'], ...lines.map((l) => [MARK[l.change], l.label, l.before, l.after])],
    { maxCellWidth: 48 },
  );
}

function targetLink(plan: Plan, host: string): string {
  return plan.kind === 'endpoint'
    ? link(endpointUrl(host, plan.endpoint), plan.endpoint)
    : link(modelVersionUrl(host, plan.model, plan.toVersion), `${shortModel(plan.model)} v${plan.toVersion}`);
}

/**
 * @example buildPlanReply(plan, { changeId: 'chg_1', dryRun: false, requesterId: 'U0REQUEST', workspaceHost })
 */
export function buildPlanReply(plan: Plan, options: PlanReplyOptions): Reply {
  const summary = summarisePlan(plan);
  const lines = diffPlan(plan);
  const withButtons = !options.dryRun && options.changeId !== undefined;
  const blocks: SlackBlock[] = [
    headerBlock(options.dryRun ? `Dry run: ${summary}` : `Plan: ${summary}`),
    sectionBlock(
      `Requested by <@${escapeMrkdwn(options.requesterId)}> · ${targetLink(plan, options.workspaceHost)}`,
    ),
  ];
  if (options.note) blocks.push(sectionBlock(options.note));
  blocks.push(...codeBlocks(diffTable(lines)));
  if (options.dryRun) {
    blocks.push(
      contextBlock(['Dry run: nothing was changed. Run the command again without --dry-run to apply it.']),
    );
  } else if (withButtons) {
    const changeId = options.changeId!;
    const confirm = options.confirm === true || /protected/i.test(options.note ?? '');
    blocks.push(
      contextBlock([`Only <@${escapeMrkdwn(options.requesterId)}> can apply or cancel this plan.`]),
      {
        type: 'actions',
        block_id: truncate(`plan-actions-${changeId}`, BLOCK_LIMITS.blockId),
        elements: [
          {
            type: 'button',
            action_id: ACTION_APPLY,
            text: plain('Apply'),
            style: 'primary',
            value: changeId,
            ...(confirm
              ? {
                  confirm: {
                    title: plain('Apply this change?'),
                    text: plain(
                      truncate(
                        `${summary}. This target is protected: check the plan before applying.`,
                        BLOCK_LIMITS.confirmText,
                      ),
                    ),
                    confirm: plain('Apply'),
                    deny: plain('Go back'),
                  },
                }
              : {}),
          },
          { type: 'button', action_id: ACTION_CANCEL, text: plain('Cancel'), value: changeId },
        ],
      },
    );
  }
  const changes = lines.filter((l) => l.change !== 'unchanged');
  const detail = changes.map((l) => `${l.label}: ${l.before} → ${l.after}`).join('; ');
  const text = `${options.dryRun ? 'Dry run' : 'Plan'}: ${summary}${detail ? ` (${detail})` : ''}.${
    withButtons ? ' Apply or Cancel.' : ''
  }`;
  return {
    text: truncate(text, 3000),
    blocks,
    visibility: options.dryRun ? 'ephemeral' : 'in_channel',
  };
}
