/**
 * The people ports the approvals need beyond posting: who the approver groups are (their Slack ids,
 * to mention them, and their members, to DM them), and opening a DM. Implemented in slack/
 * (directory.ts, dm.ts); the approvals see only these.
 */

/** One group reference of a policy (`@handle` or `S…`) as Slack knows it. */
export interface ResolvedGroup {
  /** The reference as the policy wrote it. */
  ref: string;
  /** The group's id (`S…`); absent when Slack has no such group. */
  id?: string;
  /** Its members (user ids); empty when unknown. */
  members: string[];
}

/** The user groups approvals name, resolved through Slack (cached for a short while). */
export interface ApproverGroups {
  /** Each reference, resolved; throws when Slack cannot be asked. */
  resolve(refs: readonly string[]): Promise<ResolvedGroup[]>;
}

/** Opening the bot's DM with a person. */
export interface DirectMessages {
  /**
   * The DM channel id (`D…`) with `userId`. Throws UndeliverableError (ports/messenger.ts) when
   * no DM can be had with them (deactivated, a bot, DMs not allowed), anything else when Slack
   * could not be asked.
   */
  open(userId: string): Promise<string>;
}
