/**
 * Replies for errors: a UserError shows its message and hint; anything else gets a short apology
 * with a correlation id, and never the error's own text (it may hold tokens or internals).
 */

import type { UserError } from '../../domain/errors.js';
import type { Reply } from '../../domain/vocabulary.js';
import { contextBlock, escapeKeepingLinks, escapeMrkdwn, sectionBlock } from './format.js';

/**
 * @example buildErrorReply(new UserError('bad_input', 'Say which model.', 'Usage: /mlops models <model>'))
 */
export function buildErrorReply(err: UserError): Reply {
  const blocks = [sectionBlock(escapeKeepingLinks(err.message))];
  if (err.hint) blocks.push(contextBlock([escapeKeepingLinks(err.hint)]));
  return {
    text: err.hint ? `${err.message} ${err.hint}` : err.message,
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
