/**
 * The drift alert's buttons on Bolt, and the Slack side of the drift publisher (messages, and chart
 * PNGs uploaded into threads with files.uploadV2).
 *
 * Every click acknowledges at once, checks channel and rights like a command (Retrain: the `retrain`
 * right, and the request is then gated by the approvals service; Snooze and Acknowledge: the `drift`
 * right), records the click in the audit log, redraws the alert and answers the clicker ephemerally.
 */
import type { App, BlockAction, ButtonAction, webApi } from '@slack/bolt';
import { retrainTargetFor } from '../../approvals/gate.js';
import type { RetrainRequester } from '../../approvals/service.js';
import type { ChangeStore } from '../../changes/store.js';
import type { Policy } from '../../config/policy.js';
import { newCorrelationId, UserError } from '../../domain/errors.js';
import type { Actor, Reply } from '../../domain/vocabulary.js';
import type { DriftAlert, DriftStateStore } from '../../drift/state-store.js';
import type { DriftPublisher, DriftViews, WatchedMonitor } from '../../drift/types.js';
import { redrawAlert } from '../../jobs/drift-check.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { ACTION_DRIFT_ACKNOWLEDGE, ACTION_DRIFT_RETRAIN, ACTION_DRIFT_SNOOZE } from '../blocks/action-ids.js';
import { formatWindow } from '../blocks/drift.js';
import { formatUtc } from '../blocks/format.js';
import type { Directory } from '../directory.js';
import { afterAcks, clickerOf, createAuthorise, createGuard, sendReply } from '../listener-kit.js';
import { createSlackMessenger } from '../messenger.js';

export const SNOOZE_MS = 24 * 60 * 60_000;

type Client = Pick<webApi.WebClient, 'chat' | 'filesUploadV2'>;

/**
 * The drift publisher over Slack's Web API.
 *
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

export interface DriftListenerDeps {
  policy: Policy;
  monitors: readonly WatchedMonitor[];
  state: DriftStateStore;
  /** Clicks go to the audit log. */
  audit: Pick<ChangeStore, 'audit'>;
  /** Creates the gated retraining request (approvals); without it, Retrain explains why it cannot. */
  retrain?: RetrainRequester;
  publisher: DriftPublisher;
  /** How alerts are drawn when a click changes them. */
  views: DriftViews;
  directory: Directory;
  clock: Clock;
  logger: Logger;
  correlationId?: () => string;
}

const targetOf = (a: DriftAlert) => `drift:${a.monitor}/${a.rule}/${a.modelId}`;

/**
 * Registers the Retrain, Snooze 24 h and Acknowledge buttons of drift alerts.
 *
 * @example registerDriftListeners(app, { policy, monitors: watch.monitors, state, audit: store, retrain, publisher, directory, clock, logger });
 */
export function registerDriftListeners(app: App, deps: DriftListenerDeps): void {
  const newId = deps.correlationId ?? newCorrelationId;

  const authorise = createAuthorise(deps.policy, deps.directory);

  function openAlertOf(id: string): DriftAlert {
    const alert = deps.state.alert(id);
    if (!alert) {
      throw new UserError('unknown_alert', {});
    }
    if (alert.status === 'closed') {
      throw new UserError('alert_closed', { monitor: alert.monitor, rule: alert.rule });
    }
    return alert;
  }

  const handlers: Record<string, (alert: DriftAlert, actor: Actor, channelId: string) => Promise<Reply>> = {
    async [ACTION_DRIFT_SNOOZE](alert, actor) {
      const now = deps.clock.now();
      const until = now + SNOOZE_MS;
      const updated = deps.state.snooze(alert.id, until, actor.userId) ?? alert;
      deps.audit.audit({
        actor: actor.userId,
        action: 'drift.snooze',
        target: targetOf(alert),
        before: { snoozedUntil: alert.snoozedUntil ?? null },
        after: { snoozedUntil: until },
        detail: `alert ${alert.id}`,
      });
      await redrawAlert(deps, updated, now);
      return {
        text: `Snoozed ${alert.monitor} · ${alert.rule} until ${formatUtc(new Date(until))}. New violating windows are recorded without posting; a recovery is still posted.`,
        visibility: 'ephemeral',
      };
    },
    async [ACTION_DRIFT_ACKNOWLEDGE](alert, actor) {
      const now = deps.clock.now();
      const updated = deps.state.acknowledge(alert.id, actor.userId, now) ?? alert;
      deps.audit.audit({
        actor: actor.userId,
        action: 'drift.acknowledge',
        target: targetOf(alert),
        after: { acknowledgedBy: actor.userId },
        detail: `alert ${alert.id}`,
      });
      await redrawAlert(deps, updated, now);
      return {
        text: `Acknowledged ${alert.monitor} · ${alert.rule}: the alert now shows you are on it. New violating windows still go into its thread.`,
        visibility: 'ephemeral',
      };
    },
    async [ACTION_DRIFT_RETRAIN](alert, actor, channelId) {
      // The monitor's retrainJob, else the policy's retraining entry for its model (approvals' rule).
      const target = retrainTargetFor(deps.policy, alert.monitor, deps.policy.defaults);
      if (!deps.retrain) {
        throw new UserError('retrain_unavailable', {});
      }
      const v = alert.view;
      const last = v.windows[v.windows.length - 1];
      const reason = `Drift alert ${alert.monitor} · ${alert.rule} (model id ${alert.modelId}): ${v.ruleText}; ${v.counts.rule} violating window(s) in the last ${v.counts.history}${last ? `, latest ${formatWindow(last)}` : ''}.`;
      const reply = await deps.retrain.requestRetrain({
        model: target.model,
        jobId: target.jobId,
        monitor: alert.monitor,
        reason,
        actor,
        origin: { channelId },
        ...(alert.ts ? { threadTs: alert.ts } : {}),
        ...(Object.keys(target.parameters ?? {}).length > 0 ? { parameters: target.parameters } : {}),
      });
      deps.audit.audit({
        actor: actor.userId,
        action: 'drift.retrain_requested',
        target: targetOf(alert),
        after: { model: target.model, jobId: target.jobId },
        detail: `alert ${alert.id}`,
      });
      return reply;
    },
  };

  const guarded = createGuard(deps.logger, newId);
  for (const [actionId, handle] of Object.entries(handlers)) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      await afterAcks();
      const actor = clickerOf(body);
      const reply = await guarded(actionId, async () => {
        const alert = openAlertOf(action.value ?? '');
        const channelId = body.channel?.id ?? body.container?.channel_id ?? alert.channel;
        // Retraining is its own right (the request is then gated by approvals); the rest is the drift right.
        await authorise(actor, channelId, actionId === ACTION_DRIFT_RETRAIN ? 'retrain' : 'drift');
        return handle(alert, actor, channelId);
      });
      await sendReply(respond, reply, actionId, deps.logger);
    });
  }
}
