// Block Kit and messages to HTML for the sandbox console. Pure functions, no DOM: the page and the
// unit tests import this file. Buttons carry their action and block ids as data attributes; the
// page turns a click into a block_actions request through the console server.
import { escapeHtml, renderMrkdwn, renderPlain, renderTextObject } from './mrkdwn.js';

const SAFE_SRC = /^(https?:\/\/|\/)/i;

/** An image address the page may load: http(s) or a path on the console's own origin. */
function safeSrc(url) {
  return typeof url === 'string' && SAFE_SRC.test(url) ? url : '';
}

/** Where a `slack_file` object's bytes are: its url, or the twin's file route for its id. */
function slackFileSrc(file) {
  if (!file || typeof file !== 'object') return '';
  if (typeof file.url === 'string') return safeSrc(file.url);
  if (typeof file.id === 'string') return `/files/${encodeURIComponent(file.id)}`;
  return '';
}

function imageSrc(element) {
  return element.image_url ? safeSrc(element.image_url) : slackFileSrc(element.slack_file);
}

function renderButton(element, blockId) {
  const style = element.style === 'primary' || element.style === 'danger' ? ` btn-${element.style}` : '';
  const attrs = [
    `type="button"`,
    `class="btn${style}"`,
    `data-action-id="${escapeHtml(element.action_id ?? '')}"`,
  ];
  if (blockId) attrs.push(`data-block-id="${escapeHtml(blockId)}"`);
  if (element.url) attrs.push(`data-url="${escapeHtml(element.url)}"`);
  if (element.confirm) attrs.push(`data-confirm="${escapeHtml(JSON.stringify(element.confirm))}"`);
  return `<button ${attrs.join(' ')}>${renderPlain(element.text?.text ?? '', element.text?.emoji !== false)}</button>`;
}

function renderElement(element, blockId, ctx) {
  if (!element || typeof element !== 'object') return '';
  switch (element.type) {
    case 'button':
      return renderButton(element, blockId);
    case 'image': {
      const src = imageSrc(element);
      return src
        ? `<img class="el-image" src="${escapeHtml(src)}" alt="${escapeHtml(element.alt_text ?? '')}">`
        : '';
    }
    case 'mrkdwn':
    case 'plain_text':
      return `<span class="el-text">${renderTextObject(element, ctx)}</span>`;
    default:
      return `<span class="el-unsupported" title="not rendered by the sandbox console">[${escapeHtml(element.type)}]</span>`;
  }
}

/**
 * A plain_text_input of an input block. Its typed value is read when a button of the same message is
 * pressed and sent as the payload's `state.values`, as Slack does.
 */
function renderInput(element, blockId) {
  if (element?.type === 'external_select') {
    // Options come from the app (block_suggestion) when the select is opened; the console asks for them.
    const initial = element.initial_option
      ? `<option value="${escapeHtml(element.initial_option.value)}" selected>${escapeHtml(element.initial_option.text?.text ?? '')}</option>`
      : '';
    return (
      `<select class="el-select" data-external="1" data-input-block="${escapeHtml(blockId)}" data-input-action="${escapeHtml(element.action_id ?? '')}">` +
      `<option value="">${escapeHtml(element.placeholder?.text ?? 'Pick one')}</option>${initial}</select>`
    );
  }
  if (element?.type !== 'plain_text_input') {
    return `<span class="el-unsupported" title="not rendered by the sandbox console">[${escapeHtml(element?.type ?? 'input')}]</span>`;
  }
  const attrs = [
    'class="el-input"',
    `data-input-block="${escapeHtml(blockId)}"`,
    `data-input-action="${escapeHtml(element.action_id ?? '')}"`,
    `placeholder="${escapeHtml(element.placeholder?.text ?? '')}"`,
  ];
  if (typeof element.max_length === 'number') attrs.push(`maxlength="${element.max_length}"`);
  const initial = escapeHtml(element.initial_value ?? '');
  return element.multiline
    ? `<textarea rows="3" ${attrs.join(' ')}>${initial}</textarea>`
    : `<input type="text" ${attrs.join(' ')} value="${initial}">`;
}

function renderRichTextElements(elements, ctx) {
  return (elements ?? [])
    .map((e) => {
      if (e.type === 'text') {
        let html = renderPlain(e.text ?? '', true);
        if (e.style?.code) html = `<code>${html}</code>`;
        if (e.style?.bold) html = `<b>${html}</b>`;
        if (e.style?.italic) html = `<i>${html}</i>`;
        if (e.style?.strike) html = `<s>${html}</s>`;
        return html;
      }
      if (e.type === 'link') {
        const url = safeSrc(e.url);
        const label = renderPlain(e.text ?? e.url ?? '', false);
        return url
          ? `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${label}</a>`
          : label;
      }
      if (e.type === 'user') return renderMrkdwn(`<@${e.user_id}>`, ctx);
      if (e.type === 'channel') return renderMrkdwn(`<#${e.channel_id}>`, ctx);
      if (e.type === 'usergroup') return renderMrkdwn(`<!subteam^${e.usergroup_id}>`, ctx);
      if (e.type === 'emoji') return renderPlain(`:${e.name}:`, true);
      return '';
    })
    .join('');
}

function renderRichText(block, ctx) {
  return (block.elements ?? [])
    .map((part) => {
      if (part.type === 'rich_text_preformatted') {
        return `<pre class="code-block">${renderRichTextElements(part.elements, ctx)}</pre>`;
      }
      if (part.type === 'rich_text_quote') {
        return `<blockquote>${renderRichTextElements(part.elements, ctx)}</blockquote>`;
      }
      if (part.type === 'rich_text_list') {
        const tag = part.style === 'ordered' ? 'ol' : 'ul';
        const items = (part.elements ?? [])
          .map((item) => `<li>${renderRichTextElements(item.elements, ctx)}</li>`)
          .join('');
        return `<${tag}>${items}</${tag}>`;
      }
      return `<div>${renderRichTextElements(part.elements, ctx)}</div>`;
    })
    .join('');
}

/**
 * One Block Kit block as HTML.
 *
 * @param {Record<string, any>} block
 * @param {object} [ctx] names for mentions (see renderMrkdwn)
 */
export function renderBlock(block, ctx = {}) {
  if (!block || typeof block !== 'object') return '';
  const blockId = typeof block.block_id === 'string' ? block.block_id : '';
  const data = blockId ? ` data-block-id="${escapeHtml(blockId)}"` : '';
  switch (block.type) {
    case 'header':
      return `<div class="blk blk-header"${data}>${renderTextObject(block.text, ctx)}</div>`;
    case 'section': {
      const text = block.text ? `<div class="blk-text">${renderTextObject(block.text, ctx)}</div>` : '';
      const fields = Array.isArray(block.fields)
        ? `<div class="blk-fields">${block.fields.map((f) => `<div class="blk-field">${renderTextObject(f, ctx)}</div>`).join('')}</div>`
        : '';
      const accessory = block.accessory
        ? `<div class="blk-accessory">${renderElement(block.accessory, blockId, ctx)}</div>`
        : '';
      return `<div class="blk blk-section"${data}><div class="blk-main">${text}${fields}</div>${accessory}</div>`;
    }
    case 'divider':
      return `<hr class="blk blk-divider"${data}>`;
    case 'context':
      return `<div class="blk blk-context"${data}>${(block.elements ?? []).map((e) => renderElement(e, blockId, ctx)).join('')}</div>`;
    case 'image': {
      const src = imageSrc(block);
      const title = block.title ? `<figcaption>${renderTextObject(block.title, ctx)}</figcaption>` : '';
      const img = src ? `<img src="${escapeHtml(src)}" alt="${escapeHtml(block.alt_text ?? '')}">` : '';
      return `<figure class="blk blk-image"${data}>${title}${img}</figure>`;
    }
    case 'actions':
      return `<div class="blk blk-actions"${data}>${(block.elements ?? []).map((e) => renderElement(e, blockId, ctx)).join('')}</div>`;
    case 'input': {
      const label = block.label
        ? `<label class="blk-input-label">${renderTextObject(block.label, ctx)}</label>`
        : '';
      const hint = block.hint ? `<div class="blk-input-hint">${renderTextObject(block.hint, ctx)}</div>` : '';
      const optional = block.optional ? ' <span class="blk-input-optional">(optional)</span>' : '';
      return `<div class="blk blk-input"${data}>${label}${optional}${renderInput(block.element, blockId)}${hint}</div>`;
    }
    case 'rich_text':
      return `<div class="blk blk-rich-text"${data}>${renderRichText(block, ctx)}</div>`;
    default:
      return `<div class="blk blk-unsupported"${data}>The sandbox console does not render ${escapeHtml(block.type)} blocks.</div>`;
  }
}

/** Every block of a message, in order. */
export function renderBlocks(blocks, ctx = {}) {
  return (Array.isArray(blocks) ? blocks : []).map((b) => renderBlock(b, ctx)).join('');
}

/** Files shared with a message: images inline, anything else as a download link. */
export function renderFiles(files) {
  return (Array.isArray(files) ? files : [])
    .map((f) => {
      const src = safeSrc(f.url_private);
      const name = escapeHtml(f.title || f.name || f.id);
      if (src && String(f.mimetype).startsWith('image/')) {
        return `<figure class="msg-file"><figcaption>${name}</figcaption><img src="${escapeHtml(src)}" alt="${escapeHtml(f.alt_txt ?? f.title ?? '')}"></figure>`;
      }
      return src
        ? `<a class="msg-file-link" href="${escapeHtml(src)}" target="_blank" rel="noopener noreferrer">📎 ${name}</a>`
        : `<span class="msg-file-link">📎 ${name}</span>`;
    })
    .join('');
}

/** A message's content as Slack shows it: its blocks when it has any, else its text; then its files. */
export function renderMessageBody(message, ctx = {}) {
  const content =
    Array.isArray(message.blocks) && message.blocks.length > 0
      ? renderBlocks(message.blocks, ctx)
      : message.text
        ? `<div class="msg-text">${renderMrkdwn(message.text, ctx)}</div>`
        : '';
  return content + renderFiles(message.files);
}

function initials(name) {
  return escapeHtml((name || '?').slice(0, 1).toUpperCase());
}

function formatTime(ts) {
  const date = new Date(Number(ts) * 1000);
  if (Number.isNaN(date.getTime())) return '';
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/**
 * A whole message: author, time, "edited", the "Only visible to you" mark of an ephemeral, its
 * content and, for a thread parent, its replies (shown when ctx.isExpanded(ts) says so).
 *
 * @param {Record<string, any>} message a stored message (TwinMessage)
 * @param {Record<string, any>[]} replies its thread replies, oldest first
 * @param {{ user?: (id: string) => { name: string, realName?: string, isBot?: boolean } | undefined, isExpanded?: (ts: string) => boolean }} ctx plus the mention names of renderMrkdwn
 */
export function renderMessage(message, replies = [], ctx = {}) {
  const author = ctx.user?.(message.user);
  const isBot = Boolean(message.bot_id) || author?.isBot === true;
  const name = author?.name ?? message.user;
  const classes = ['msg'];
  if (isBot) classes.push('msg-bot');
  if (message.ephemeral_to) classes.push('msg-ephemeral');
  const meta = [
    `<span class="msg-author">${escapeHtml(name)}</span>`,
    isBot ? '<span class="app-badge">APP</span>' : '',
    `<span class="msg-time" title="${escapeHtml(message.ts)}">${formatTime(message.ts)}</span>`,
    message.edited ? '<span class="msg-edited">(edited)</span>' : '',
  ].join('');
  const ephemeral = message.ephemeral_to
    ? '<div class="ephemeral-note"><span aria-hidden="true">👁</span> Only visible to you</div>'
    : '';
  let thread = '';
  if (replies.length > 0) {
    const expanded = ctx.isExpanded?.(message.ts) ?? false;
    const label = `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`;
    thread = `<button type="button" class="thread-toggle" data-thread="${escapeHtml(message.ts)}" aria-expanded="${expanded}">${label}</button>`;
    if (expanded) {
      thread += `<div class="thread">${replies.map((r) => renderMessage(r, [], ctx)).join('')}</div>`;
    }
  }
  return (
    `<div class="${classes.join(' ')}" data-ts="${escapeHtml(message.ts)}" data-channel="${escapeHtml(message.channel)}">` +
    `<div class="avatar${isBot ? ' avatar-bot' : ''}">${initials(name)}</div>` +
    `<div class="msg-main"><div class="msg-meta">${meta}</div>${ephemeral}<div class="msg-body">${renderMessageBody(message, ctx)}</div>${thread}</div>` +
    '</div>'
  );
}
