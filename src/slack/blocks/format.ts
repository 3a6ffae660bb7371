/**
 * Small pure helpers shared by the Block Kit builders: escaping, truncation, dates, monospace
 * tables, and the block shapes we use. No Slack calls here.
 */
import { shortModel } from '../../changes/describe.js';
import type { SlackBlock } from './block-kit.js';
import { BLOCK_LIMITS } from './limits.js';

/**
 * Escapes the three characters Slack's mrkdwn treats as control characters.
 *
 * @example escapeMrkdwn('a <b> & c') // 'a &lt;b&gt; &amp; c'
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Escapes text that came from outside (a user, a service) for mrkdwn without escaping it twice:
 * every `<` and `>`, and every `&` that does not already start `&amp;`, `&lt;` or `&gt;`. Nothing it
 * returns can form a mention, a broadcast or a link, so it suits data that may or may not have been
 * escaped on its way (error details that carry an earlier error's words).
 *
 * @example escapeOnce('<!here> &amp; <https://x.test|x>') // '&lt;!here&gt; &amp; &lt;https://x.test|x&gt;'
 */
export function escapeOnce(text: string): string {
  return text
    .replace(/&(?!(?:amp|lt|gt);)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

// Our own messages mention people and channels and link to pages; they never broadcast, so
// `<!here>`, `<!channel>`, `<!everyone>` and `<!subteam^…>` are escaped wherever they come from.
const SLACK_TOKEN =
  /<(?:[@#][A-Z0-9]+|https?:\/\/[^\s<>|]+(?:\|[^<>]*)?|!date\^\d+\^[^<>|]*(?:\|[^<>]*)?)>|&(?:amp|lt|gt);/g;

/**
 * Like escapeMrkdwn, but keeps the mentions, links and dates our own messages put in on purpose
 * (`<@U…>`, `<#C…>`, `<https://…|label>`, `<!date^…|…>`), so error texts can point at people and channels, and
 * leaves text escaped already (`&lt;`) as it is instead of escaping it twice. Only for text we
 * wrote: anything a user typed or a service sent goes through escapeMrkdwn (or escapeOnce) first,
 * since a link in it would be kept. Broadcasts are never kept.
 *
 * @example escapeKeepingLinks('Ask <@U1> in <#C2> & retry') // 'Ask <@U1> in <#C2> &amp; retry'
 * @example escapeKeepingLinks(`job ${escapeMrkdwn('<b>')}`) // 'job &lt;b&gt;'
 */
export function escapeKeepingLinks(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(SLACK_TOKEN)) {
    out += escapeMrkdwn(text.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + escapeMrkdwn(text.slice(last));
}

/**
 * Cuts a string to `max` characters, marking the cut with an ellipsis.
 *
 * @example truncate('churn_model', 6) // 'churn…'
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return max <= 1 ? text.slice(0, max) : `${text.slice(0, max - 1)}…`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * A date as people read it in a message, always in UTC.
 *
 * @example formatUtc(new Date('2026-11-20T14:03:59Z')) // '2026-11-20 14:03 UTC'
 */
export function formatUtc(date: Date): string {
  if (Number.isNaN(date.getTime())) return 'unknown';
  return `${date.getUTCFullYear()}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())} ${pad2(
    date.getUTCHours(),
  )}:${pad2(date.getUTCMinutes())} UTC`;
}

export { shortModel };

/** 'churn_model v3' */
export function versionLabel(modelName: string, version: string | number): string {
  return `${shortModel(modelName)} v${version}`;
}

/** A Slack link in mrkdwn, with the label escaped. */
export function link(url: string, label: string): string {
  return `<${url}|${escapeMrkdwn(label).replace(/\|/g, '¦')}>`;
}

export const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: false });
export const mrkdwn = (text: string) => ({ type: 'mrkdwn' as const, text });

/** A header block; the text is cut to Slack's limit. */
export function headerBlock(text: string): SlackBlock {
  return { type: 'header', text: plain(truncate(text, BLOCK_LIMITS.headerText)) };
}

/** A section of mrkdwn text; the text is cut to Slack's limit. */
export function sectionBlock(text: string): SlackBlock {
  return { type: 'section', text: mrkdwn(truncate(text, BLOCK_LIMITS.sectionText)) };
}

/** A section of up to ten short mrkdwn fields. */
export function fieldsBlock(fields: string[]): SlackBlock {
  return {
    type: 'section',
    fields: fields
      .slice(0, BLOCK_LIMITS.sectionFields)
      .map((f) => mrkdwn(truncate(f, BLOCK_LIMITS.sectionFieldText))),
  };
}

/** A context block of mrkdwn lines (at most ten). */
export function contextBlock(lines: string[]): SlackBlock {
  return {
    type: 'context',
    elements: lines
      .filter((l) => l.length > 0)
      .slice(0, BLOCK_LIMITS.contextElements)
      .map((l) => mrkdwn(truncate(l, BLOCK_LIMITS.sectionText))),
  };
}

/** Text that is safe inside a ``` block: escaped, and no backticks that would end it. */
function codeSafe(text: string): string {
  return escapeMrkdwn(text.replace(/`/g, "'").replace(/[\r\n\t]+/g, ' '));
}

export interface TableOptions {
  /** Widest a cell may be before it is cut. */
  maxCellWidth?: number;
}

/**
 * Lays rows out as a fixed-width table (first row = column titles), one string per line. Cells
 * are cut to `maxCellWidth`; nothing is escaped yet (codeBlocks does that).
 *
 * @example formatTable([['version', 'traffic'], ['2', '100%']]) // ['version  traffic', '2        100%']
 */
export function formatTable(rows: string[][], options: TableOptions = {}): string[] {
  const max = options.maxCellWidth ?? 32;
  const cells = rows.map((r) => r.map((c) => truncate(c, max)));
  const widths: number[] = [];
  for (const r of cells) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '));
}

/**
 * Monospace sections holding the given lines, split over as many sections as needed so each stays
 * within Slack's 3000-character limit. A line longer than that is cut.
 *
 * @example codeBlocks(formatTable(rows)) // [{ type: 'section', text: { type: 'mrkdwn', text: '```…```' } }]
 */
export function codeBlocks(lines: string[]): SlackBlock[] {
  const budget = BLOCK_LIMITS.sectionText - 8;
  const chunks: string[][] = [[]];
  let size = 0;
  for (const raw of lines) {
    const line = truncate(codeSafe(raw), budget);
    const current = chunks[chunks.length - 1]!;
    if (current.length > 0 && size + line.length + 1 > budget) {
      chunks.push([line]);
      size = line.length;
    } else {
      current.push(line);
      size += line.length + 1;
    }
  }
  return chunks
    .filter((c) => c.length > 0)
    .map((c) => ({ type: 'section', text: mrkdwn(`\`\`\`${c.join('\n')}\`\`\``) }));
}

/** Whole-number percentages as people write them. */
export const percent = (n: number) => `${n}%`;

/**
 * A time as Slack shows it in each reader's own zone, with a UTC fallback for old clients.
 *
 * @example slackTime(Date.parse('2026-11-20T12:00:00Z')) // '<!date^1795176000^{date_short_pretty} at {time}|2026-11-20 12:00 UTC>'
 */
export function slackTime(ms: number): string {
  const fallback = new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time}|${fallback} UTC>`;
}
