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
import type { HomeService } from './home/service.js';
import { observeCalls } from './lib/call-observer.js';
import { newCorrelationId } from './lib/correlation-id.js';
import type { Logger } from './lib/logger.js';
import type { RolloutService } from './rollouts/service.js';
import type { AckGate } from './slack/ack-gate.js';
import { ACTION_APPROVAL_REJECT } from './slack/blocks/action-ids.js';
import { isRejectPrompt } from './slack/blocks/approval.js';
import { buildBusyReply } from './slack/blocks/busy.js';
import { buildNoticeModal, decodeMetadata } from './slack/blocks/modals.js';
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
import {
  createModals,
  modalRequestOf,
  type Submitted,
  type SubmittedView,
} from './slack/listeners/modals.js';
import { monitorActions } from './slack/listeners/monitor.js';
import { rolloutActions } from './slack/listeners/rollouts.js';
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
  approvals: Pick<ApprovalService, 'approve' | 'promptReject' | 'reject' | 'pending'>;
  /** Each user's App Home: published when they open it; clicks there are answered on it. */
  home?: Pick<HomeService, 'opened' | 'tell'> | undefined;
  /** For answers through a modal's response_url (default: the global fetch). */
  fetch?: typeof fetch;
  /** The drift alert buttons, when the policy has monitors. */
  drift?: { actions: DriftAlertActions } | undefined;
  /** The canary rollout buttons. */
  rollouts?: Pick<RolloutService, 'click' | 'endpointOf'> | undefined;
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
  const modals = createModals({
    policy,
    commands: deps.commands,
    approvals: deps.approvals,
    authorise,
    guard: guarded,
    logger,
    home: deps.home,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });

  app.command(SLASH_COMMAND, async ({ command, ack, respond, client }) => {
    await ack();
    // A modal opens with the command's trigger_id, which lives 3 s: at once, not after a lane.
    const wantsModal = modalRequestOf(command.text);
    if (
      wantsModal &&
      command.trigger_id &&
      (await modals.openForCommand(client.views, wantsModal, command))
    ) {
      return;
    }
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
    ...changeActions({
      pipeline: deps.pipeline,
      store: deps.store,
      authorise,
      runCommand: (input, actor, origin) => dispatch(input, deps.commands, actor, origin),
    }),
    ...approvalActions({ approvals: deps.approvals, policy }),
    ...(deps.drift
      ? driftActions({ actions: deps.drift.actions, authorise, policy, directory: deps.directory })
      : {}),
    ...(deps.rollouts ? rolloutActions({ rollouts: deps.rollouts, authorise }) : {}),
    ...(deps.commands.monitoring ? monitorActions({ desk: deps.commands.monitoring, authorise }) : {}),
  };
  // One listener for every button: Bolt runs one middleware chain per click, not one per button.
  app.action<BlockAction>({ type: 'block_actions' }, async ({ ack, body, action, respond, client }) => {
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
        // Rights checked, the request still pending: the reason is asked in a modal where Slack can.
        if (
          action.action_id === ACTION_APPROVAL_REJECT &&
          isRejectPrompt(reply) &&
          body.trigger_id &&
          (await modals.openReject(client.views, {
            triggerId: body.trigger_id,
            requestId: click.value,
            channel: click.channelId,
            ...(body.response_url ? { responseUrl: body.response_url } : {}),
          }))
        ) {
          return;
        }
        // A click on the Home has no response_url: the answer shows on the Home.
        if (!body.response_url && deps.home) {
          if (!reply.deleteOriginal) await deps.home.tell(body.user.id, reply.text);
          return;
        }
        await send(respond, reply, what);
      },
      shed(respond, 'click', `${action.action_id} button`),
    );
  });

  // Every modal submission: checked on the ack path (field errors), the work after it.
  app.view({ type: 'view_submission' }, async ({ ack, body, view }) => {
    const handler = modals.submissions[view.callback_id];
    if (!handler) {
      await ack();
      return;
    }
    let submitted: Submitted;
    try {
      submitted = await handler(clickerOf(body), view as unknown as SubmittedView);
    } catch (e) {
      const id = (deps.correlationId ?? newCorrelationId)();
      logger.error(`[${id}] ${view.callback_id} submission failed:`, e);
      const text = `Sorry, that did not work (correlation id \`${id}\`). Nothing was changed; try again.`;
      submitted = {
        ack: { response_action: 'update', view: buildNoticeModal('Something went wrong', text) },
      };
    }
    await ack(submitted.ack as never);
    if (submitted.after) {
      const after = submitted.after;
      await lanes.default.run(after, async () => logger.warn(`busy: shed a ${view.callback_id} submission`));
    }
  });

  // The deploy modal's selects: options from the registry and serving, for people who may deploy.
  app.options({ type: 'block_suggestion' }, async ({ ack, body }) => {
    const handler = modals.options[body.action_id];
    const view = (body as { view?: SubmittedView }).view;
    try {
      if (!handler) throw new Error(`no options for ${body.action_id}`);
      // Model and endpoint names only for people who may deploy from where the modal was opened.
      await authorise(clickerOf(body), decodeMetadata(view?.private_metadata).channel, 'deploy');
      await ack((await handler(body.value ?? '', view)) as never);
    } catch (e) {
      logger.warn(`options for ${body.action_id}:`, (e as Error).message);
      await ack({ options: [] });
    }
  });

  if (deps.home) {
    const home = deps.home;
    // Events are acknowledged by Bolt; a Home that fails to publish is logged and tried again next time.
    app.event('app_home_opened', async ({ event }) => {
      if (event.tab !== 'home') return;
      await home.opened(event.user);
    });
  }

  app.error(async (err) => {
    logger.error('unhandled listener error:', err);
  });
  return app;
}
