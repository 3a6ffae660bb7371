/** Types of mrkdwn.js (plain JavaScript served to the browser as is). */
export interface MentionNames {
  userName?: (id: string) => string | undefined;
  channelName?: (id: string) => string | undefined;
  groupHandle?: (id: string) => string | undefined;
}
export function escapeHtml(text: unknown): string;
export function replaceEmoji(html: string): string;
export function renderMrkdwn(text: string | undefined, ctx?: MentionNames): string;
export function renderPlain(text: string | undefined, emoji?: boolean): string;
export function renderTextObject(object: unknown, ctx?: MentionNames): string;
