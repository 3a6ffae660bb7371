/**
 * The one message of a change: the plan (posted at propose, with Apply / Cancel), then updated in
 * place to the end: applying → rolling out, with progress → done, failed or timed out; or closed
 * as cancelled or out of date. Through the outbox (a durable Messenger) every post and update is
 * owed until Slack takes it, and the requester is told another way when Slack refuses it for
 * good; with a plain Messenger, Slack trouble is reported and the change goes on.
 *
 * Calls per change are bounded whatever the rollout's length: the plan's post, at most
 * MAX_PROGRESS_UPDATES updates while it runs (an update that shows nothing new is not sent), and
 * the final one. The outbox adds the pacing: one send in flight per message, latest wins, at least
 * its minimum interval apart.
 */
import type { Delivery, Messenger } from '../domain/ports/messenger.js';
import type { MessageRef, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { PipelineViews, ProgressPhase, ProgressView } from './contracts.js';
import { nextStepOf } from './next-step.js';
import type { Change, ChangeStore } from './store.js';

/**
 * Updates between Apply and the end of a change: with the plan's post and the final update, a
 * change costs at most 4 Web API calls. Later progress past the budget is folded into the end.
 */
export const MAX_PROGRESS_UPDATES = 2;

/**
 * How long after Apply the message waits for Databricks to take the change before it says
 * "sending to Databricks": a quicker answer goes straight to rolling out, and the budget's slot
 * is left for progress. About Slack's 1-message-per-second guidance for a channel.
 */
export const APPLY_GRACE_MS = 1_000;

export interface ProgressMessageDeps {
  store: ChangeStore;
  messenger: Messenger;
  views: Pick<PipelineViews, 'progress'>;
  clock: Clock;
  workspaceHost: string;
  report: (err: unknown) => string;
}

export interface ProgressMessage {
  /** What the message shows of a change in a phase. */
  view(change: Change, phase: ProgressPhase, extra?: Partial<ProgressView>): ProgressView;
  /** Posts the message once; undefined when Slack refused it or another message tells of it. */
  post(change: Change, v: ProgressView): Promise<MessageRef | undefined>;
  /**
   * Updates the message with a state on the way (within the budget, and only when it shows
   * something new); false when there is none or Slack refused.
   */
  show(ref: MessageRef | undefined, v: ProgressView): Promise<boolean>;
  /** Shows a final state: updates the message, or posts one when there is none yet. */
  showFinal(change: Change, ref: MessageRef | undefined, v: ProgressView): Promise<void>;
  /** Shows how a plan ended without running (cancelled, out of date), and marks it finished. */
  close(change: Change, message: Pick<Reply, 'text' | 'blocks'>): Promise<void>;
  /** The final message of a change that ended, rebuilt from the store. */
  finalView(change: Change): ProgressView;
}

const FINAL_PHASES = new Set<ProgressPhase>(['succeeded', 'failed', 'timed_out']);
const isFinal = (p: ProgressPhase): p is 'succeeded' | 'failed' | 'timed_out' => FINAL_PHASES.has(p);

/**
 * A change run for an approval request has no message of its own: the request's card follows it.
 * It is marked finished before it runs (execute), so neither a run nor a restart posts one.
 */
export const toldElsewhere = (change: Change): boolean =>
  change.message === undefined && change.messageFinished;

/** @example const message = createProgressMessage({ store, messenger, views, clock, workspaceHost, report }); */
export function createProgressMessage(deps: ProgressMessageDeps): ProgressMessage {
  const { store, messenger, views, clock, workspaceHost, report } = deps;
  /** Per change run by this process: updates sent on the way, and what the last one showed. */
  const shown = new Map<string, { updates: number; body: string }>();

  function view(change: Change, phase: ProgressPhase, extra: Partial<ProgressView> = {}): ProgressView {
    const next = isFinal(phase) ? nextStepOf(change.plan, phase) : undefined;
    return {
      changeId: change.id,
      plan: change.plan,
      phase,
      requester: change.requester,
      ...(change.appliedBy !== undefined ? { appliedBy: change.appliedBy } : {}),
      startedAt: change.appliedAt ?? change.createdAt,
      now: clock.now(),
      workspaceHost,
      ...(next ? { next } : {}),
      ...extra,
    };
  }

  /** Who hears of it when Slack refuses it for good, and which change the audit row names. */
  function delivery(change: Pick<Change, 'id' | 'requester' | 'target'>, final: boolean): Delivery {
    return {
      requester: change.requester,
      about: { target: change.target, changeId: change.id },
      final,
    };
  }

  /** Posts the message once; a failure to post is logged and the change goes on without it. */
  async function post(change: Change, v: ProgressView): Promise<MessageRef | undefined> {
    if (toldElsewhere(change)) return undefined;
    try {
      const body = views.progress(v);
      const ref = await messenger.post(
        change.channel,
        body,
        undefined,
        delivery(change, FINAL_PHASES.has(v.phase)),
      );
      await store.setMessage(change.id, ref);
      shown.set(change.id, { updates: 0, body: JSON.stringify(body) });
      return ref;
    } catch (e) {
      report(e);
      return undefined;
    }
  }

  async function send(
    ref: MessageRef,
    v: ProgressView,
    body: Pick<Reply, 'text' | 'blocks'>,
  ): Promise<boolean> {
    const change = await store.get(v.changeId);
    try {
      await messenger.update(ref, body, change ? delivery(change, FINAL_PHASES.has(v.phase)) : {});
      return true;
    } catch (e) {
      report(e);
      return false;
    }
  }

  async function show(ref: MessageRef | undefined, v: ProgressView): Promise<boolean> {
    if (!ref) return false;
    const body = views.progress(v);
    if (FINAL_PHASES.has(v.phase)) {
      shown.delete(v.changeId);
      return send(ref, v, body);
    }
    const key = JSON.stringify(body);
    const seen = shown.get(v.changeId) ?? { updates: 0, body: '' };
    // Nothing new, or the budget is spent: the message keeps what it shows until the end.
    if (seen.body === key || seen.updates >= MAX_PROGRESS_UPDATES) return true;
    shown.set(v.changeId, { updates: seen.updates + 1, body: key });
    return send(ref, v, body);
  }

  /** Shows a final state: updates the message, or posts one when there is none yet. */
  async function showFinal(change: Change, ref: MessageRef | undefined, v: ProgressView): Promise<void> {
    if (!ref && toldElsewhere(change)) return;
    const done = ref ? await show(ref, v) : (await post(change, v)) !== undefined;
    if (done) await store.markMessageFinished(change.id);
  }

  async function close(change: Change, message: Pick<Reply, 'text' | 'blocks'>): Promise<void> {
    if (!change.message) return;
    try {
      await messenger.update(change.message, message, delivery(change, true));
      await store.markMessageFinished(change.id);
    } catch (e) {
      report(e);
    }
  }

  /** The final message of a change that ended, rebuilt from the store. */
  function finalView(change: Change): ProgressView {
    switch (change.status) {
      case 'succeeded':
        return view(change, 'succeeded', change.outcome ? { summary: change.outcome } : {});
      case 'timed_out':
        return view(change, 'timed_out', change.error ? { reason: change.error } : {});
      default:
        return view(change, 'failed', { reason: change.error ?? `The change ended as ${change.status}.` });
    }
  }

  return { view, post, show, showFinal, close, finalView };
}
