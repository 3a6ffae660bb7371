/**
 * The channel message that follows one change: posted once, updated as the rollout moves, and
 * finished with how it ended. Through the outbox (a durable Messenger) every post and update is
 * owed until Slack takes it, and the requester is told another way when Slack refuses it for good;
 * with a plain Messenger, Slack trouble is reported and the change goes on.
 */
import type { Delivery, Messenger } from '../domain/ports/messenger.js';
import type { MessageRef } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { PipelineViews, ProgressPhase, ProgressView } from './contracts.js';
import type { Change, ChangeStore } from './store.js';

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
  /** Posts the message once; undefined when Slack refused it. */
  post(change: Change, v: ProgressView): Promise<MessageRef | undefined>;
  /** Updates the message; false when there is none or Slack refused. */
  show(ref: MessageRef | undefined, v: ProgressView): Promise<boolean>;
  /** Shows a final state: updates the message, or posts one when there is none yet. */
  showFinal(change: Change, ref: MessageRef | undefined, v: ProgressView): Promise<void>;
  /** The final message of a change that ended, rebuilt from the store. */
  finalView(change: Change): ProgressView;
}

const FINAL_PHASES = new Set<ProgressPhase>(['succeeded', 'failed', 'timed_out']);

/** @example const message = createProgressMessage({ store, messenger, views, clock, workspaceHost, report }); */
export function createProgressMessage(deps: ProgressMessageDeps): ProgressMessage {
  const { store, messenger, views, clock, workspaceHost, report } = deps;

  function view(change: Change, phase: ProgressPhase, extra: Partial<ProgressView> = {}): ProgressView {
    return {
      changeId: change.id,
      plan: change.plan,
      phase,
      requester: change.requester,
      ...(change.appliedBy !== undefined ? { appliedBy: change.appliedBy } : {}),
      startedAt: change.appliedAt ?? change.createdAt,
      now: clock.now(),
      workspaceHost,
      ...extra,
    };
  }

  /** Who hears of it when Slack refuses it for good, and which change the audit row names. */
  function delivery(change: Pick<Change, 'id' | 'requester' | 'target'>, v: ProgressView): Delivery {
    return {
      requester: change.requester,
      about: { target: change.target, changeId: change.id },
      final: FINAL_PHASES.has(v.phase),
    };
  }

  /** Posts the message once; a failure to post is logged and the change goes on without it. */
  async function post(change: Change, v: ProgressView): Promise<MessageRef | undefined> {
    try {
      const ref = await messenger.post(change.channel, views.progress(v), undefined, delivery(change, v));
      await store.setMessage(change.id, ref);
      return ref;
    } catch (e) {
      report(e);
      return undefined;
    }
  }

  async function show(ref: MessageRef | undefined, v: ProgressView): Promise<boolean> {
    if (!ref) return false;
    const change = await store.get(v.changeId);
    try {
      await messenger.update(ref, views.progress(v), change ? delivery(change, v) : {});
      return true;
    } catch (e) {
      report(e);
      return false;
    }
  }

  /** Shows a final state: updates the message, or posts one when there is none yet. */
  async function showFinal(change: Change, ref: MessageRef | undefined, v: ProgressView): Promise<void> {
    const shown = ref ? await show(ref, v) : (await post(change, v)) !== undefined;
    if (shown) await store.markMessageFinished(change.id);
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

  return { view, post, show, showFinal, finalView };
}
