/**
 * Small pieces every Bolt listener of ours uses: the error boundary that turns errors into replies
 * (a UserError becomes its message and hint; anything else an apology with a correlation id that
 * is also logged), sending a Reply through response_url, who clicked and where, and the rights
 * check. app.ts registers every listener with them; work after an ack goes through a slow lane.
 */
import type { RespondFn } from '@slack/bolt';
import { checkAccess, checkChannel, needsGroups } from '../config/access.js';
import type { Policy } from '../config/policy.js';
import { isUserError, UserError } from '../domain/errors.js';
import type { Actor, Reply, Subcommand } from '../domain/vocabulary.js';
import type { Logger } from '../lib/logger.js';
import { buildErrorReply, buildInternalErrorReply } from './blocks/error.js';
import type { Directory } from './directory.js';

export type Guard = (what: string, work: () => Promise<Reply>) => Promise<Reply>;

/**
 * @example const guarded = createGuard(logger, () => 'c0ffee42'); const reply = await guarded('approve button', work);
 */
export function createGuard(logger: Logger, newId: () => string): Guard {
  return async (what, work) => {
    try {
      return await work();
    } catch (e) {
      if (isUserError(e)) return buildErrorReply(e);
      const id = newId();
      logger.error(`[${id}] ${what} failed:`, e);
      return buildInternalErrorReply(id);
    }
  };
}

/** Sends a Reply through response_url; an expired or used-up URL is logged, not thrown. */
export async function sendReply(
  respond: RespondFn,
  reply: Reply,
  what: string,
  logger: Logger,
): Promise<void> {
  if (reply.silent) return;
  try {
    if (reply.deleteOriginal) {
      await respond({ delete_original: true });
      return;
    }
    await respond({
      response_type: reply.visibility,
      replace_original: reply.replaceOriginal ?? false,
      text: reply.text,
      ...(reply.blocks ? { blocks: reply.blocks } : {}),
    });
  } catch (e) {
    logger.warn(`could not answer ${what}:`, (e as Error).message);
  }
}

/** The clicking user of a block action, as our handlers see them. */
export function clickerOf(body: {
  user: { id: string; name?: string; username?: string };
  team?: { id: string } | null;
}): Actor {
  const name = body.user.name ?? body.user.username;
  return {
    userId: body.user.id,
    ...(name ? { userName: name } : {}),
    ...(body.team?.id ? { teamId: body.team.id } : {}),
  };
}

export type Authorise = (
  actor: Actor,
  channelId: string,
  subcommand: Subcommand,
  endpoint?: string,
) => Promise<void>;

/**
 * The rights check every command and every click makes: the channel is one the bot answers in,
 * and the policy lets this person (directly or through a user group) run this subcommand on this
 * endpoint. Throws a UserError saying who may, and how to get the right.
 *
 * @example const authorise = createAuthorise(policy, directory); await authorise(actor, 'C0MLOPS', 'deploy', 'churn-endpoint');
 */
export function createAuthorise(policy: Policy, directory: Pick<Directory, 'groupsOf'>): Authorise {
  return async (actor, channelId, subcommand, endpoint) => {
    const channel = checkChannel(policy, channelId);
    if (!channel.ok) {
      throw new UserError('channel_not_allowed', { variant: 'access', channels: channel.channels });
    }
    const target = endpoint ? { endpoint } : {};
    const groups = needsGroups(policy, subcommand, target)
      ? await directory.groupsOf(actor.userId)
      : new Set<string>();
    const access = checkAccess(policy, actor, groups, subcommand, target);
    if (!access.ok) {
      throw new UserError('not_allowed', access.refusal);
    }
  };
}

/**
 * The channel a click came from: the message's channel, or the container's (ephemeral messages
 * and threads), or '' when Slack sent neither (a caller may fall back on what it stored).
 */
export function channelOf(body: { channel?: { id: string }; container?: { channel_id?: string } }): string {
  return body.channel?.id ?? body.container?.channel_id ?? '';
}

/**
 * Approval buttons live in the policy's channels and in its approval channel; a click whose
 * channel Slack did not send is judged by the service alone.
 */
export function checkApprovalClickChannel(
  policy: Pick<Policy, 'channels' | 'approvalChannel'>,
  channelId: string,
): void {
  const listed = policy.channels === undefined || policy.channels.includes(channelId);
  if (channelId === '' || channelId === policy.approvalChannel || listed) return;
  throw new UserError('channel_not_allowed', {
    variant: 'approvals',
    ...(policy.approvalChannel ? { approvalChannel: policy.approvalChannel } : {}),
  });
}
