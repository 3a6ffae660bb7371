/** The messenger port: posting and updating channel messages. The adapter is slack/messenger.ts. */
import type { MessageRef, Reply } from '../vocabulary.js';

/** Posting and updating channel messages; implemented over Slack's Web API in slack/. */
export interface Messenger {
  post(channel: string, message: Pick<Reply, 'text' | 'blocks'>, threadTs?: string): Promise<MessageRef>;
  update(ref: MessageRef, message: Pick<Reply, 'text' | 'blocks'>): Promise<void>;
  ephemeral(channel: string, user: string, message: Pick<Reply, 'text' | 'blocks'>): Promise<void>;
}
