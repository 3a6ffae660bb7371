/**
 * The answer to a command or click the bot had no room to queue: nothing was done, try again.
 * Pure.
 */
import type { Reply } from '../../domain/vocabulary.js';
import { sectionBlock } from './format.js';

/**
 * @example buildBusyReply('command').text // 'modelgate is busy, try again in a moment: your command was not run.'
 */
export function buildBusyReply(what: 'command' | 'click'): Reply {
  const text = `modelgate is busy, try again in a moment: your ${what} was not ${what === 'command' ? 'run' : 'acted on'}.`;
  return { text, blocks: [sectionBlock(`:hourglass: ${text}`)], visibility: 'ephemeral' };
}
