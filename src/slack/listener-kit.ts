/**
 * Small pieces every Bolt listener of ours uses: the error boundary that turns errors into replies
 * (a UserError becomes its message and hint; anything else an apology with a correlation id that
 * is also logged), sending a Reply through response_url, and yielding after ack() so a burst of
 * clicks is acknowledged first and served after.
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
  try {
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

/**
 * Lets the event loop flush this ack and read the requests already waiting before the slow work
 * starts, so a burst of clicks is acknowledged first and served after.
 */
export const afterAcks = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

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
