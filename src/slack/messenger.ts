import type { webApi } from '@slack/bolt';
import type { Messenger } from '../domain/ports/messenger.js';

type Client = Pick<webApi.WebClient, 'chat'>;

/**
 * Channel messages over Slack's Web API. Blocks are sent with their fallback text always, so
 * notifications and screen readers have something to say.
 */
export function createSlackMessenger(client: Client): Messenger {
  return {
    async post(channel, message, threadTs) {
      const res = await client.chat.postMessage({
        channel,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
      });
      return { channel: res.channel ?? channel, ts: res.ts ?? '' };
    },
    async update(ref, message) {
      await client.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
      });
    },
    async ephemeral(channel, user, message) {
      await client.chat.postEphemeral({
        channel,
        user,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
      });
    },
  };
}
