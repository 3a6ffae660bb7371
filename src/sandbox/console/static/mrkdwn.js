// Slack mrkdwn to HTML for the sandbox console. Pure functions, no DOM: the page and the unit tests
// both import this file. Everything that reaches the page goes through escapeHtml first.

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Slack escapes only these three in message text. */
function decodeSlackEntities(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The emoji shortcodes the bot and the demo use; others stay as `:name:`. */
const EMOJI = {
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  x: '❌',
  warning: '⚠️',
  hourglass_flowing_sand: '⏳',
  hourglass: '⌛',
  arrow_forward: '▶️',
  rotating_light: '🚨',
  chart_with_upwards_trend: '📈',
  chart_with_downwards_trend: '📉',
  bar_chart: '📊',
  lock: '🔒',
  key: '🔑',
  eyes: '👀',
  bell: '🔔',
  no_bell: '🔕',
  zzz: '💤',
  sleeping: '😴',
  rocket: '🚀',
  repeat: '🔁',
  leftwards_arrow_with_hook: '↩️',
  recycle: '♻️',
  information_source: 'ℹ️',
  question: '❓',
  memo: '📝',
  package: '📦',
  robot_face: '🤖',
  large_green_circle: '🟢',
  large_yellow_circle: '🟡',
  red_circle: '🔴',
  white_circle: '⚪',
  stopwatch: '⏱️',
  mag: '🔍',
  tada: '🎉',
  ok: '🆗',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  thumbsup: '👍',
  '+1': '👍',
  thumbsdown: '👎',
  arrows_counterclockwise: '🔄',
  construction: '🚧',
  hammer_and_wrench: '🛠️',
  gear: '⚙️',
  label: '🏷️',
  crown: '👑',
  trophy: '🏆',
  test_tube: '🧪',
};

/** Replaces `:shortcode:` with the emoji, in text that is already HTML-escaped. */
export function replaceEmoji(html) {
  return html.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

const SAFE_URL = /^(https?:|mailto:)/i;

/** One `<…>` control sequence: a mention, a channel, a special mention, a date or a link. */
function renderToken(body, ctx) {
  const bar = body.indexOf('|');
  const target = bar >= 0 ? body.slice(0, bar) : body;
  const label = bar >= 0 ? decodeSlackEntities(body.slice(bar + 1)) : undefined;
  if (target.startsWith('@')) {
    const id = target.slice(1);
    const name = ctx.userName?.(id) ?? label ?? id;
    return `<span class="mention" data-user="${escapeHtml(id)}">@${escapeHtml(name)}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    const name = ctx.channelName?.(id) ?? label ?? id;
    return `<span class="mention mention-channel">#${escapeHtml(name)}</span>`;
  }
  if (target.startsWith('!subteam^')) {
    const id = target.slice('!subteam^'.length);
    const handle = ctx.groupHandle?.(id) ?? label?.replace(/^@/, '') ?? id;
    return `<span class="mention">@${escapeHtml(handle)}</span>`;
  }
  if (target.startsWith('!date^')) return escapeHtml(label ?? target);
  if (target.startsWith('!')) return `<span class="mention">@${escapeHtml(target.slice(1))}</span>`;
  const url = decodeSlackEntities(target);
  if (!SAFE_URL.test(url)) return escapeHtml(label ?? url);
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(label ?? url)}</a>`;
}

/** Bold, italics and strike on HTML-escaped text, as Slack reads them: markers at word edges. */
function formatInline(html) {
  return html
    .replace(/(^|[^\w*])\*(?!\s)([^*\n]*?[^\s*])\*(?![\w*])/g, '$1<b>$2</b>')
    .replace(/(^|[^\w_])_(?!\s)([^_\n]*?[^\s_])_(?![\w_])/g, '$1<i>$2</i>')
    .replace(/(^|[^\w~])~(?!\s)([^~\n]*?[^\s~])~(?![\w~])/g, '$1<s>$2</s>');
}

/** Text outside code: control sequences become placeholders so formatting may wrap them. */
function renderText(text, ctx) {
  const tokens = [];
  const withPlaceholders = text.replace(/<([^<>\n]+)>/g, (_, body) => {
    tokens.push(renderToken(body, ctx));
    return `\uE000${tokens.length - 1}\uE001`;
  });
  const escaped = escapeHtml(decodeSlackEntities(withPlaceholders));
  const lines = formatInline(replaceEmoji(escaped)).split('\n');
  const out = [];
  let quote = [];
  const flushQuote = () => {
    if (quote.length > 0) out.push(`<blockquote>${quote.join('<br>')}</blockquote>`);
    quote = [];
  };
  for (const line of lines) {
    const q = /^&gt;\s?(.*)$/.exec(line);
    if (q) {
      quote.push(q[1]);
      continue;
    }
    flushQuote();
    out.push(line);
  }
  flushQuote();
  return out
    .join('<br>')
    .replace(/<br><blockquote>/g, '<blockquote>')
    .replace(/<\/blockquote><br>/g, '</blockquote>')
    .replace(/\uE000(\d+)\uE001/g, (_, i) => tokens[Number(i)] ?? '');
}

/**
 * Slack mrkdwn to HTML: *bold*, _italics_, ~strike~, `code`, ```code blocks```, > quotes,
 * <url|links>, <@U…> and <#C…> mentions (named through ctx), and emoji shortcodes.
 *
 * @param {string} text mrkdwn as Slack receives it (&amp; &lt; &gt; escaped)
 * @param {{ userName?: (id: string) => string | undefined, channelName?: (id: string) => string | undefined, groupHandle?: (id: string) => string | undefined }} [ctx]
 * @returns {string} HTML
 */
export function renderMrkdwn(text, ctx = {}) {
  const source = String(text ?? '');
  const parts = [];
  let last = 0;
  for (const m of source.matchAll(/```([\s\S]*?)```/g)) {
    parts.push({ code: false, text: source.slice(last, m.index) });
    parts.push({ code: 'block', text: m[1] });
    last = m.index + m[0].length;
  }
  parts.push({ code: false, text: source.slice(last) });
  const html = [];
  for (const part of parts) {
    if (part.code === 'block') {
      const body = part.text.replace(/^\n/, '');
      html.push(`<pre class="code-block">${escapeHtml(decodeSlackEntities(body))}</pre>`);
      continue;
    }
    let at = 0;
    for (const m of part.text.matchAll(/`([^`\n]+)`/g)) {
      html.push(renderText(part.text.slice(at, m.index), ctx));
      html.push(`<code>${escapeHtml(decodeSlackEntities(m[1]))}</code>`);
      at = m.index + m[0].length;
    }
    html.push(renderText(part.text.slice(at), ctx));
  }
  return html.join('');
}

/**
 * A plain_text object as HTML: escaped, line breaks kept, emoji shortcodes when `emoji` is not false.
 *
 * @param {string} text
 * @param {boolean} [emoji]
 */
export function renderPlain(text, emoji = true) {
  const escaped = escapeHtml(String(text ?? ''));
  return (emoji ? replaceEmoji(escaped) : escaped).replace(/\n/g, '<br>');
}

/** A text object (`plain_text` or `mrkdwn`) as HTML. */
export function renderTextObject(object, ctx = {}) {
  if (!object || typeof object !== 'object') return '';
  if (object.type === 'mrkdwn') return renderMrkdwn(object.text, ctx);
  return renderPlain(object.text, object.emoji !== false);
}
