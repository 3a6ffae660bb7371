/**
 * Opening the bot's DM with a person (conversations.open, scope im:write). A refusal for good
 * (a deactivated user, a bot, DMs not allowed) becomes UndeliverableError, so the caller falls back
 * to the request's thread; anything else (Slack down) is thrown as it came.
 */
import type { webApi } from '@slack/bolt';
import type { DirectMessages } from '../domain/ports/people.js';
import { classifySlackError } from './messenger.js';

type Client = Pick<webApi.WebClient, 'conversations'>;

/**
 * @example const dms = createSlackDirectMessages(app.client); const channel = await dms.open('U0APPROVE'); // 'DU0APPROVE'
 */
export function createSlackDirectMessages(client: Client): DirectMessages {
  return {
    async open(userId) {
      try {
        const res = await client.conversations.open({ users: userId });
        const id = res.channel?.id;
        if (!id) throw new Error('conversations.open answered without a channel id');
        return id;
      } catch (e) {
        throw classifySlackError(e);
      }
    },
  };
}
