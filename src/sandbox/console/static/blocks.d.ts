/** Types of blocks.js (plain JavaScript served to the browser as is). */
import type { MentionNames } from './mrkdwn.js';

export interface MessageContext extends MentionNames {
  user?: (id: string) => { name: string; realName?: string; isBot?: boolean } | undefined;
  isExpanded?: (ts: string) => boolean;
}
export function renderBlock(block: unknown, ctx?: MentionNames): string;
export function renderBlocks(blocks: unknown, ctx?: MentionNames): string;
export function renderFiles(files: unknown): string;
export function renderMessageBody(
  message: { text?: string; blocks?: unknown[]; files?: unknown[] },
  ctx?: MentionNames,
): string;
export function renderMessage(message: object, replies?: object[], ctx?: MessageContext): string;
