/**
 * The Slack surface: registers the /mlops command and the change buttons on a Bolt app. Listeners
 * acknowledge at once, then do the slow work and answer through response_url. Transport (HTTP,
 * Socket Mode, the sandbox) is chosen by the caller; nothing here does I/O on import.
 */
import type { App, BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import type { ApprovalService } from './approvals/service.js';
import type { RunningChangePipeline } from './changes/pipeline.js';
import type { ChangeStore } from './changes/store.js';
import type { CommandDeps } from './commands/deps.js';
import { dispatch, endpointOf, parseCommand } from './commands/index.js';
import type { Policy } from './config/policy.js';
import type { Actor, Origin, Reply } from './domain/vocabulary.js';
import { newCorrelationId } from './lib/correlation-id.js';
import type { Logger } from './lib/logger.js';
import { ACTION_APPLY, ACTION_CANCEL } from './slack/blocks/action-ids.js';
import type { Directory } from './slack/directory.js';
import { createAuthorise, createGuard, sendReply } from './slack/listener-kit.js';
import { registerApprovalListeners } from './slack/listeners/approvals.js';
import { createSlowLane } from './slack/slow-lane.js';

export interface AppDeps {
  policy: Policy;
  commands: CommandDeps;
  pipeline: RunningChangePipeline;
  /** Read-only use: which subcommand and endpoint a clicked change is about. */
  store: Pick<ChangeStore, 'get'>;
  directory: Directory;
  logger: Logger;
  /** Approve / Reject of approval requests (slack/approval-listeners.ts); absent: not registered. */
  approvals?: ApprovalService;
  correlationId?: () => string;
  /** How many commands and clicks are served at once after their ack (default 8). */
  slowWorkSlots?: number;
}

/**
 * Registers every listener. The one boundary that turns errors into replies lives here: a
 * UserError becomes an ephemeral answer with its hint; anything else a short apology with a
 * correlation id that is also logged.
 *
 * @example registerListeners(new App({ token, signingSecret }), deps);
 */
export function registerListeners(app: App, deps: AppDeps): void {
  const { policy, logger } = deps;
  const newId = deps.correlationId ?? newCorrelationId;
  const lane = createSlowLane(deps.slowWorkSlots ?? 8);

  const guarded = createGuard(logger, newId);

  const send = (respond: RespondFn, reply: Reply, what: string) => sendReply(respond, reply, what, logger);

  /** Channel and policy rights, checked on every command and every click. */
  const authorise = createAuthorise(deps.policy, deps.directory);

  app.command('/mlops', async ({ command, ack, respond }) => {
    await ack();
    const actor: Actor = { userId: command.user_id, userName: command.user_name, teamId: command.team_id };
    const origin: Origin = {
      channelId: command.channel_id,
      channelName: command.channel_name,
      triggerId: command.trigger_id,
    };
    await lane.run(async () => {
      const reply = await guarded(`/mlops ${command.text.split(' ')[0] ?? ''}`, async () => {
        const parsed = parseCommand(command.text, policy.defaults);
        await authorise(actor, origin.channelId, parsed.subcommand, endpointOf(parsed, policy.defaults));
        return dispatch(parsed, deps.commands, actor, origin);
      });
      await send(respond, reply, '/mlops');
    });
  });

  for (const [actionId, verb] of [
    [ACTION_APPLY, 'apply'],
    [ACTION_CANCEL, 'cancel'],
  ] as const) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      await lane.run(async () => {
        const actor: Actor = { userId: body.user.id, userName: body.user.name, teamId: body.team?.id };
        const channelId = body.channel?.id ?? body.container?.channel_id ?? '';
        const reply = await guarded(`${verb} button`, async () => {
          const change = deps.store.get(action.value ?? '');
          if (change) {
            const endpoint = change.plan.kind === 'endpoint' ? change.plan.endpoint : undefined;
            await authorise(actor, channelId || change.channel, change.plan.subcommand, endpoint);
          }
          return verb === 'apply'
            ? deps.pipeline.apply(action.value ?? '', actor)
            : deps.pipeline.cancel(action.value ?? '', actor);
        });
        await send(respond, reply, `${verb} button`);
      });
    });
  }

  if (deps.approvals) registerApprovalListeners(app, { approvals: deps.approvals, policy, logger });

  app.error(async (err) => {
    logger.error('unhandled listener error:', err);
  });
}
