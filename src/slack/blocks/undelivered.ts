/**
 * What a requester is told, ephemerally or in a DM, when Slack refused a message for good: where it
 * should have gone, why, what to do, and the message itself (without its buttons, which would not
 * work from there).
 */
import type { UndeliveredNotice } from '../../outbox/outbox.js';
import type { SlackBlock } from './block-kit.js';
import { contextBlock, escapeMrkdwn, sectionBlock, truncate } from './format.js';
import { BLOCK_LIMITS } from './limits.js';

/** What to do about each refusal, where there is something to do. */
const FIXES: Partial<Record<string, string>> = {
  channel_not_found:
    'invite the bot to the channel (`/invite @modelgate`), or check the channel in the policy',
  not_in_channel: 'invite the bot to the channel (`/invite @modelgate`)',
  is_archived: 'the channel is archived: unarchive it, or point the policy at another channel',
  invalid_auth:
    "the bot's Slack token is no longer valid: an admin should reinstall the app and update SLACK_BOT_TOKEN",
  not_authed: 'the bot has no Slack token: an admin should set SLACK_BOT_TOKEN',
  account_inactive:
    "the bot's Slack token belongs to a deactivated install: an admin should reinstall the app",
  token_revoked:
    "the bot's Slack token was revoked: an admin should reinstall the app and update SLACK_BOT_TOKEN",
  missing_scope: 'an admin should reinstall the app with the scopes in manifest.yml',
  message_not_found: 'the message was deleted; this is how it ends',
};

/**
 * @example buildUndeliveredNotice({ channel: 'C1', error: 'channel_not_found', message: { text: 'Deploy done' }, final: true })
 */
export function buildUndeliveredNotice(n: UndeliveredNotice): { text: string; blocks: SlackBlock[] } {
  const where = /^[CGD][A-Z0-9]+$/.test(n.channel) ? `<#${n.channel}>` : escapeMrkdwn(n.channel);
  const fix = FIXES[n.error];
  const lead = `I could not post ${n.final ? 'how this ended' : 'this message'} in ${where}: Slack said \`${escapeMrkdwn(n.error)}\`.`;
  const own = ((n.message.blocks ?? []) as SlackBlock[]).filter((b) => b.type !== 'actions');
  const blocks: SlackBlock[] = [
    sectionBlock(lead),
    ...(fix ? [contextBlock([`To fix: ${fix}.`])] : []),
    ...(own.length > 0
      ? own
      : [sectionBlock(truncate(escapeMrkdwn(n.message.text), BLOCK_LIMITS.sectionText))]),
  ].slice(0, BLOCK_LIMITS.blocksPerMessage);
  return {
    text: truncate(
      `I could not post in ${n.channel} (${n.error}): ${n.message.text}`,
      BLOCK_LIMITS.sectionText,
    ),
    blocks,
  };
}
