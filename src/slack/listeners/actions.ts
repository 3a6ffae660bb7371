/**
 * What a button listener is: the click as our handlers see it, and what they answer. Every button
 * of the bot is one entry of an action table; app.ts registers one Bolt listener that looks the
 * clicked action up, so each click runs one middleware chain instead of one per button.
 */
import type { BlockAction } from '@slack/bolt';
import type { Actor, Reply } from '../../domain/vocabulary.js';

export interface Click {
  actor: Actor;
  /** Where the button was ('' when Slack did not say). */
  channelId: string;
  /** The button's value: the id of the change, request or alert it acts on. */
  value: string;
  body: BlockAction;
}

export interface ActionHandler {
  /** Which lane serves it after the ack: approval clicks get a narrow one of their own. */
  lane: 'default' | 'approvals';
  handle(click: Click): Promise<Reply>;
}

export type ActionTable = Readonly<Record<string, ActionHandler>>;
