/**
 * Replies for errors: a UserError shows its words and hint (slack/blocks/errors.ts); anything else
 * gets a short apology with a correlation id, and never the error's own text (it may hold tokens
 * or internals).
 */

import type { UserError } from '../../domain/errors.js';
import type { Reply } from '../../domain/vocabulary.js';
import { describeError } from './errors.js';
import { contextBlock, escapeKeepingLinks, escapeMrkdwn, sectionBlock } from './format.js';

/**
 * @example buildErrorReply(new UserError('endpoint_not_found', { endpoint: 'churn' }))
 */
export function buildErrorReply(err: UserError): Reply {
  const { text, hint } = describeError(err);
  const blocks = [sectionBlock(escapeKeepingLinks(text))];
  if (hint) blocks.push(contextBlock([escapeKeepingLinks(hint)]));
  return {
    // Slack parses the fallback as mrkdwn too (notifications show it), so it is escaped alike.
    text: escapeKeepingLinks(hint ? `${text} ${hint}` : text),
    blocks,
    visibility: 'ephemeral',
  };
}

/**
 * @example buildInternalErrorReply('c0ffee42') // "Sorry, something went wrong … Reference: c0ffee42"
 */
export function buildInternalErrorReply(correlationId: string): Reply {
  const id = escapeMrkdwn(correlationId);
  const text = `Sorry, something went wrong on the bot's side. If it happens again, give this reference to whoever runs modelgate: ${correlationId}`;
  return {
    text,
    blocks: [
      sectionBlock("Sorry, something went wrong on the bot's side."),
      contextBlock([`If it happens again, give this reference to whoever runs modelgate: \`${id}\``]),
    ],
    visibility: 'ephemeral',
  };
}
