/**
 * What the alert buttons do, like command handlers: each takes the alert and the clicker, changes the
 * state, writes the audit log, redraws the alert and returns the Reply for the clicker. The Slack
 * listener (slack/listeners/drift.ts) only reads the click, authorises and sends the reply.
 * Retrain asks once per model per alert episode (retrain-store.ts holds the claim).
 */
import { UserError } from '../domain/errors.js';
import type { Actor, Origin, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import { redrawAlert } from './deliver.js';
import { activeClaim, retrainRequestView } from './retrain-episode.js';
import type { DriftRetrainStore } from './retrain-store.js';
import type { DriftAlert, DriftStateStore } from './state-store.js';
import type { DriftActionViews, DriftAudit, DriftPublisher, DriftRetrainer, DriftViews } from './types.js';

export const SNOOZE_MS = 24 * 60 * 60_000;

export interface DriftAlertActions {
  /** The alert a button names; throws UserError when it is unknown or (unless `closedToo`) closed. */
  find(alertId: string, options?: { closedToo?: boolean }): Promise<DriftAlert>;
  /** Snooze 24 h (the monitor's responders): new windows are recorded without posting. */
  snooze(alertId: string, actor: Actor): Promise<Reply>;
  /** Acknowledge (the monitor's responders): the alert shows who is on it. */
  acknowledge(alertId: string, actor: Actor): Promise<Reply>;
  /**
   * Retrain (the `retrain` right): the gated retraining request, in the alert's thread; one per model
   * per alert episode: a second click, on this alert or another of the same model id, gets the
   * request made already.
   */
  retrain(alertId: string, actor: Actor, origin: Origin): Promise<Reply>;
  /** Details, to the clicker only: the per-window table and how the counting works. */
  details(alertId: string): Promise<Reply>;
}

export interface DriftAlertActionDeps {
  state: DriftStateStore;
  audit: DriftAudit;
  /** Creates the gated retraining request; without it, Retrain explains why it cannot. */
  retrain?: DriftRetrainer;
  /** Retraining claims per alert episode; without it every Retrain click asks the approvals service. */
  retrains?: DriftRetrainStore;
  /** The rule names of a monitor: the alerts of one model id that an episode's request covers. */
  rulesOf?: (monitor: string) => readonly string[];
  publisher: DriftPublisher;
  views: Pick<DriftViews, 'alert'>;
  actionViews: DriftActionViews;
  clock: Clock;
}

const targetOf = (a: DriftAlert) => `drift:${a.monitor}/${a.rule}/${a.modelId}`;

/**
 * @example const actions = createDriftAlertActions({ state, audit: store, retrain: approvals, retrains, rulesOf, publisher, views, actionViews, clock });
 * await actions.snooze(alertId, actor); // { text: 'Snoozed churn · performance until …', visibility: 'ephemeral' }
 */
export function createDriftAlertActions(deps: DriftAlertActionDeps): DriftAlertActions {
  async function find(id: string, options: { closedToo?: boolean } = {}): Promise<DriftAlert> {
    const alert = await deps.state.alert(id);
    if (!alert) {
      throw new UserError('unknown_alert', {});
    }
    if (alert.status === 'closed' && !options.closedToo) {
      throw new UserError('alert_closed', {
        monitor: alert.monitor,
        rule: alert.rule,
        ...(alert.closedAt !== undefined ? { closedAt: alert.closedAt } : {}),
      });
    }
    return alert;
  }

  /** The open alerts of the same monitor and model id (this one included): one episode's alerts. */
  const siblingsOf = async (alert: DriftAlert): Promise<DriftAlert[]> => {
    const rules = deps.rulesOf?.(alert.monitor) ?? [alert.rule];
    const found = await Promise.all(rules.map((r) => deps.state.openAlert(alert.monitor, r, alert.modelId)));
    const open = found.filter((a): a is DriftAlert => a !== undefined);
    return open.some((a) => a.id === alert.id) ? open : [alert, ...open];
  };

  const redrawAll = async (alerts: readonly DriftAlert[], now: number) => {
    for (const a of alerts) {
      const fresh = await deps.state.alert(a.id);
      if (fresh) await redrawAlert(deps, fresh, now);
    }
  };

  /** Asks the approvals service; the claim (when there is a store) settles with the outcome. */
  async function requestRetrain(alert: DriftAlert, actor: Actor, origin: Origin, retrain: DriftRetrainer) {
    // The monitor's retrainJob, else the policy's retraining entry for its model (approvals' rule).
    const target = retrain.retrainTarget(alert.monitor);
    const reply = await retrain.requestRetrain({
      model: target.model,
      jobId: target.jobId,
      monitor: alert.monitor,
      reason: deps.actionViews.retrainReason(alert),
      actor,
      origin: { channelId: origin.channelId },
      ...(alert.ts ? { threadTs: alert.ts } : {}),
      ...(Object.keys(target.parameters ?? {}).length > 0 ? { parameters: target.parameters } : {}),
    });
    await deps.audit.audit({
      actor: actor.userId,
      action: 'drift.retrain_requested',
      target: targetOf(alert),
      after: { model: target.model, jobId: target.jobId },
      detail: `alert ${alert.id}`,
    });
    return { reply, model: target.model };
  }

  /** Where the request is, for the alert's "see the request" link. */
  async function requestRef(retrain: DriftRetrainer, model: string) {
    const found = await retrain.findRetrainRequest?.(model).catch(() => undefined);
    if (!found) return {};
    const link =
      found.channel && found.ts && deps.publisher.permalink
        ? await deps.publisher.permalink({ channel: found.channel, ts: found.ts }).catch(() => undefined)
        : undefined;
    return {
      id: found.id,
      ...(found.channel ? { channel: found.channel } : {}),
      ...(found.ts ? { ts: found.ts } : {}),
      ...(link ? { link } : {}),
    };
  }

  return {
    find,
    async snooze(alertId, actor) {
      const alert = await find(alertId);
      const now = deps.clock.now();
      // A click on an out-of-date alert message: say who snoozed it, and change nothing.
      if (alert.snoozedUntil !== undefined && alert.snoozedUntil > now) {
        throw new UserError('alert_already_snoozed', {
          monitor: alert.monitor,
          rule: alert.rule,
          until: alert.snoozedUntil,
          ...(alert.snoozedBy ? { by: alert.snoozedBy } : {}),
        });
      }
      const until = now + SNOOZE_MS;
      const updated = (await deps.state.snooze(alert.id, until, actor.userId)) ?? alert;
      await deps.audit.audit({
        actor: actor.userId,
        action: 'drift.snooze',
        target: targetOf(alert),
        before: { snoozedUntil: alert.snoozedUntil ?? null },
        after: { snoozedUntil: until },
        detail: `alert ${alert.id}`,
      });
      await redrawAlert(deps, updated, now);
      return deps.actionViews.snoozed(alert, until);
    },
    async acknowledge(alertId, actor) {
      const alert = await find(alertId);
      if (alert.acknowledgedBy) {
        throw new UserError('alert_already_acknowledged', {
          monitor: alert.monitor,
          rule: alert.rule,
          by: alert.acknowledgedBy,
          ...(alert.acknowledgedAt !== undefined ? { at: alert.acknowledgedAt } : {}),
        });
      }
      const now = deps.clock.now();
      const updated = (await deps.state.acknowledge(alert.id, actor.userId, now)) ?? alert;
      await deps.audit.audit({
        actor: actor.userId,
        action: 'drift.acknowledge',
        target: targetOf(alert),
        after: { acknowledgedBy: actor.userId },
        detail: `alert ${alert.id}`,
      });
      await redrawAlert(deps, updated, now);
      return deps.actionViews.acknowledged(alert);
    },
    async retrain(alertId, actor, origin) {
      const alert = await find(alertId);
      const retrain = deps.retrain;
      if (!retrain) {
        throw new UserError('retrain_unavailable', {});
      }
      const store = deps.retrains;
      if (!store) return (await requestRetrain(alert, actor, origin, retrain)).reply;

      const now = deps.clock.now();
      const episode = { retrains: store, state: deps.state };
      const answerMadeAlready = async (): Promise<Reply | undefined> => {
        const active = await activeClaim(episode, alert.monitor, alert.modelId, now);
        const shown = active && retrainRequestView(active, now);
        if (!active || !shown) return undefined;
        // This alert joins the episode (it may have opened after the request) and shows the request.
        const before = await store.forAlert(alert.id);
        await store.cover(alert.id, active);
        if (before?.generation !== active.generation) await redrawAlert(deps, alert, now);
        return deps.actionViews.retrainAlreadyRequested(alert, shown);
      };

      const already = await answerMadeAlready();
      if (already) return already;
      const seen = await store.current(alert.monitor, alert.modelId);
      const claim = await store.claim({
        monitor: alert.monitor,
        modelId: alert.modelId,
        by: actor.userId,
        at: now,
        seen: seen?.generation,
      });
      // Another click claimed it between the read and the write: its request is the episode's.
      if (!claim)
        return (
          (await answerMadeAlready()) ??
          deps.actionViews.retrainAlreadyRequested(alert, {
            by: seen?.requestedBy ?? actor.userId,
            at: seen?.requestedAt ?? now,
            state: 'requesting',
          })
        );
      const siblings = await siblingsOf(alert);
      for (const a of siblings) await store.cover(a.id, claim);

      let made: Awaited<ReturnType<typeof requestRetrain>>;
      try {
        made = await requestRetrain(alert, actor, origin, retrain);
      } catch (e) {
        // Nothing was asked for: the button stays, and the error reply says why.
        await store.settle(claim, { state: 'failed' });
        throw e;
      }
      await store.settle(claim, { state: 'requested', request: await requestRef(retrain, made.model) });
      await redrawAll(siblings, now);
      return made.reply;
    },
    async details(alertId) {
      return deps.actionViews.details(await find(alertId, { closedToo: true }));
    },
  };
}
