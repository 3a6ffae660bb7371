/**
 * The Slack surface, registered in one place: the slash command and every button. Listeners
 * acknowledge at once, then do the slow work in a lane and answer through response_url. The one
 * error boundary lives here: a UserError becomes an ephemeral answer with its hint; anything else
 * a short apology with a correlation id that is also logged. Transport (HTTP, Socket Mode, the
 * sandbox) is chosen by the caller; nothing here does I/O on import.
 */
import type { App, BlockAction, RespondFn } from '@slack/bolt';
import type { ApprovalService } from './approvals/service.js';
import type { RunningChangePipeline } from './changes/pipeline.js';
import type { ChangeStore } from './changes/store.js';
import type { CommandDeps } from './commands/deps.js';
import { dispatch, endpointOf, parseCommand, SLASH_COMMANDS } from './commands/index.js';
import type { Policy } from './config/policy.js';
import { unavailableError } from './domain/ports/databricks-errors.js';
import type { Actor, Origin, Reply } from './domain/vocabulary.js';
import type { DriftAlertActions } from './drift/alert-actions.js';
import { observeCalls } from './lib/call-observer.js';
import { newCorrelationId } from './lib/correlation-id.js';
import type { Logger } from './lib/logger.js';
import type { AckGate } from './slack/ack-gate.js';
import { buildBusyReply } from './slack/blocks/busy.js';
import type { Directory } from './slack/directory.js';
import {
  channelOf,
  clickerOf,
  createAuthorise,
  createGuard,
  type Guard,
  sendReply,
} from './slack/listener-kit.js';
import type { ActionTable } from './slack/listeners/actions.js';
import { approvalActions } from './slack/listeners/approvals.js';
import { changeActions } from './slack/listeners/changes.js';
import { driftActions } from './slack/listeners/drift.js';
import { createRetryNotice } from './slack/retry-notice.js';
import { createSlowLane } from './slack/slow-lane.js';

const [SLASH_COMMAND] = SLASH_COMMANDS;

export interface AppDeps {
  policy: Policy;
  commands: CommandDeps;
  pipeline: Pick<RunningChangePipeline, 'apply' | 'cancel'>;
  /** Read-only use: which subcommand and endpoint a clicked change is about. */
  store: Pick<ChangeStore, 'get'>;
  directory: Directory;
  logger: Logger;
  approvals: Pick<ApprovalService, 'approve' | 'promptReject' | 'reject'>;
  /** The drift alert buttons, when the policy has monitors. */
  drift?: { actions: DriftAlertActions } | undefined;
  correlationId?: () => string;
  /** How many commands and clicks are served at once after their ack (default 8). */
  slowWorkSlots?: number;
  /**
   * How many approval clicks are served at once (default 2). Few on purpose: a burst of clicks on
   * one request is acknowledged first and decided after, and commands keep their own lane.
   */
  approvalSlots?: number;
  /** Acks first: requests not yet answered hold back post-ack work (HTTP mode; wiring watches the server). */
  ackGate?: AckGate;
  /** How long a command's Databricks call retries before the user is told (default 1 s). */
  retryNoticeDelayMs?: number;
  /** How much acknowledged work may wait per lane; past it, more gets a busy reply (default 200). */
  queueLimit?: number;
  /** Keeps each user's latest response_url: the outbox tells them there when Slack refuses a message. */
  replyUrls?: { rememberReplyUrl(userId: string, url: string): Promise<void> };
}

/**
 * Registers every listener on a Bolt app and returns it.
 *
 * @example createApp(adapters.app, { policy, commands, pipeline, store, directory, logger, approvals });
 */
export function createApp(app: App, deps: AppDeps): App {
  const { policy, logger } = deps;
  const gated = {
    ...(deps.ackGate ? { gate: deps.ackGate } : {}),
    ...(deps.queueLimit !== undefined ? { queueLimit: deps.queueLimit } : {}),
  };
  const lanes = {
    default: createSlowLane(deps.slowWorkSlots ?? 8, gated),
    approvals: createSlowLane(deps.approvalSlots ?? 2, gated),
  };
  const guard = createGuard(logger, deps.correlationId ?? newCorrelationId);
  // A Databricks outage that outlasted the retries is news for the user, not a bug of ours.
  const guarded: Guard = (what, work) =>
    guard(what, () =>
      work().catch((e: unknown) => {
        throw unavailableError(e) ?? e;
      }),
    );
  const send = (respond: RespondFn, reply: Reply, what: string) => sendReply(respond, reply, what, logger);
  // Work the lane has no room for is answered at once and never run.
  const shed = (respond: RespondFn, kind: 'command' | 'click', what: string) => async () => {
    logger.warn(`busy: shed ${what}, the queue is full`);
    await send(respond, buildBusyReply(kind), what);
  };
  // Channel and policy rights, checked on every command and every click.
  const authorise = createAuthorise(policy, deps.directory);

  app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
    await ack();
    const actor: Actor = { userId: command.user_id, userName: command.user_name, teamId: command.team_id };
    const origin: Origin = {
      channelId: command.channel_id,
      channelName: command.channel_name,
      triggerId: command.trigger_id,
    };
    await lanes.default.run(
      async () => {
        // Retries of Databricks calls inside the command are told to the user while they last.
        const notice = createRetryNotice(respond, {
          logger,
          ...(deps.retryNoticeDelayMs !== undefined ? { delayMs: deps.retryNoticeDelayMs } : {}),
        });
        const reply = await observeCalls(notice, () =>
          guarded(`${SLASH_COMMAND} ${command.text.split(' ')[0] ?? ''}`, async () => {
            // A store write: after the acks, with the rest of the work. The command's first store
            // touch: a lost database answers here (store_unavailable), before anything reaches Databricks.
            if (command.response_url)
              await deps.replyUrls?.rememberReplyUrl(command.user_id, command.response_url);
            const parsed = parseCommand(command.text, policy.defaults);
            await authorise(actor, origin.channelId, parsed.subcommand, endpointOf(parsed, policy.defaults));
            return dispatch(parsed, deps.commands, actor, origin);
          }),
        );
        await send(respond, await notice.settle(reply), SLASH_COMMAND);
      },
      shed(respond, 'command', SLASH_COMMAND),
    );
  });

  const actions: ActionTable = {
    ...changeActions({ pipeline: deps.pipeline, store: deps.store, authorise }),
    ...approvalActions({ approvals: deps.approvals, policy }),
    ...(deps.drift ? driftActions({ actions: deps.drift.actions, authorise }) : {}),
  };
  // One listener for every button: Bolt runs one middleware chain per click, not one per button.
  app.action<BlockAction>({ type: 'block_actions' }, async ({ ack, body, action, respond }) => {
    await ack();
    const handler = actions[action.action_id];
    // Link buttons and inputs send actions too; acknowledging them is all they need.
    if (!handler) return;
    await lanes[handler.lane].run(
      async () => {
        const what = `${action.action_id} button`;
        const click = {
          actor: clickerOf(body),
          channelId: channelOf(body),
          value: 'value' in action && typeof action.value === 'string' ? action.value : '',
          body,
        };
        const reply = await guarded(what, async () => {
          // The click's first store touch, as for commands.
          if (body.response_url) await deps.replyUrls?.rememberReplyUrl(body.user.id, body.response_url);
          return handler.handle(click);
        });
        await send(respond, reply, what);
      },
      shed(respond, 'click', `${action.action_id} button`),
    );
  });

  app.error(async (err) => {
    logger.error('unhandled listener error:', err);
  });
  return app;
}
