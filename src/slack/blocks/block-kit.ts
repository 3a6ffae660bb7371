import type { types } from '@slack/bolt';

/** A Block Kit block as the builders make it: Bolt's own types, so Slack's shapes are checked. */
export type SlackBlock = types.KnownBlock | types.Block;
