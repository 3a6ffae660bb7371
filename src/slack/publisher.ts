/**
 * The drift publisher over Slack's Web API: messages through the messenger, chart PNGs uploaded into
 * threads with files.uploadV2, and permalinks to alerts.
 */
import type { webApi } from '@slack/bolt';
import type { DriftPublisher } from '../drift/types.js';
import { createSlackMessenger } from './messenger.js';

type Client = Pick<webApi.WebClient, 'chat' | 'filesUploadV2'>;

/**
 * @example const publisher = createSlackDriftPublisher(app.client);
 */
export function createSlackDriftPublisher(client: Client): DriftPublisher {
  const messenger = createSlackMessenger(client);
  return {
    post: messenger.post,
    update: messenger.update,
    async upload(channel, threadTs, file) {
      await client.filesUploadV2({
        channel_id: channel,
        thread_ts: threadTs,
        file: file.png,
        filename: file.filename,
        title: file.title,
        alt_text: file.altText,
      });
    },
    async permalink(ref) {
      const res = await client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts });
      return res.permalink;
    },
  };
}
