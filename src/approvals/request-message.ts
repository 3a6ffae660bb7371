/**
 * The request message: posted once, then kept up to date with the store, plus the lines told in
 * its thread. Through the outbox (a durable Messenger) each is owed until Slack takes it, and the
 * requester is told another way when Slack refuses it for good. Slack trouble is reported, never thrown.
 */
import type { Delivery, Messenger } from '../domain/ports/messenger.js';
import type { MessageRef, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { ApprovalMessageOptions, ApprovalViews } from './contracts.js';
import type { ApprovalNotifier } from './notify.js';
import { isFinalApproval } from './state.js';
import type { ApprovalRequest, ApprovalStore } from './store.js';

export interface RequestMessageDeps {
  approvals: ApprovalStore;
  messenger: Messenger;
  views: Pick<ApprovalViews, 'message'>;
  clock: Clock;
  workspaceHost: string;
  report: (err: unknown) => string;
  /** Mentions for the card, and the DMs that follow it (approvers') and its outcomes (requester's). */
  notifier?: ApprovalNotifier;
}

export interface RequestMessage {
  /** Posts the request message; false when Slack refused it. */
  post(r: ApprovalRequest, channel: string, threadTs?: string): Promise<boolean>;
  /** Brings the message up to date with the store. */
  refresh(id: string): Promise<void>;
  /** Posts a line in the request's thread (and in the thread it was asked from). */
  tell(r: ApprovalRequest, said: Pick<Reply, 'text' | 'blocks'>): Promise<void>;
  /** Sets (or, with undefined, clears) the line about the execution under way. */
  setProgress(id: string, line: string | undefined): void;
  /** Resolves when no message update is in flight. */
  settled(): Promise<void>;
}

/** @example const message = createRequestMessage({ approvals, messenger, views, clock, workspaceHost, report }); */
export function createRequestMessage(deps: RequestMessageDeps): RequestMessage {
  const { approvals, messenger, views, clock, workspaceHost, report, notifier } = deps;
  /** Approver DMs on their way (settled() waits for them). */
  const notifying = new Set<Promise<void>>();
  /** What a render shows: the groups resolved for mentions while the request is pending. */
  async function optionsFor(r: ApprovalRequest, note?: string): Promise<ApprovalMessageOptions> {
    const mentions =
      notifier && r.status === 'pending' && r.approvers.groups.length > 0
        ? await notifier.mentions(r)
        : undefined;
    return {
      now: clock.now(),
      workspaceHost,
      ...(note ? { progress: note } : {}),
      ...(mentions ? { mentions } : {}),
    };
  }
  /** Per request: the message update in flight, and the one queued behind it (if any). */
  const renders = new Map<string, { running: Promise<void>; queued: Promise<void> | undefined }>();
  /** Per request: a line about the execution under way, shown in the message. */
  const progress = new Map<string, string>();
  /** Who hears of it when Slack refuses it for good, and what the audit row names. */
  const delivery = (r: ApprovalRequest, final = isFinalApproval(r.status)): Delivery => ({
    requester: r.requester,
    about: { target: r.target },
    final,
  });

  /**
   * Updates of one request go out one at a time, in order, and each reads the store when it
   * starts: so a burst of clicks costs at most one update in flight plus one queued, and the last
   * one always shows the latest state.
   */
  function refresh(id: string): Promise<void> {
    const entry = renders.get(id);
    if (entry?.queued) return entry.queued;
    const render = async () => {
      const current = renders.get(id);
      if (current) current.queued = undefined;
      const r = await approvals.get(id);
      if (!r) return;
      const options = await optionsFor(r, progress.get(id));
      if (r.message) {
        try {
          await messenger.update(r.message, views.message(r, options), delivery(r));
          await approvals.markShown(id, r.status);
        } catch (e) {
          report(e);
        }
      }
      // The DMs show what the card shows, and the requester hears of what happened (once per event),
      // even when the card itself could never be posted.
      try {
        await notifier?.refreshed(r, options);
      } catch (e) {
        report(e);
      }
    };
    const next = (entry?.running ?? Promise.resolve()).then(render);
    const state = { running: next, queued: entry ? next : undefined };
    renders.set(id, state);
    void next.finally(() => {
      if (renders.get(id) === state) renders.delete(id);
    });
    return next;
  }

  return {
    refresh,

    async post(r, channel, threadTs) {
      const options = await optionsFor(r);
      let ref: MessageRef;
      try {
        ref = await messenger.post(channel, views.message(r, options), threadTs, delivery(r));
        await approvals.setMessage(r.id, ref);
      } catch (e) {
        report(e);
        return false;
      }
      if (notifier) {
        // The DMs go out after the requester's answer, not before it.
        const sending = notifier
          .posted({ ...r, message: ref }, options)
          .catch((e: unknown) => void report(e))
          .finally(() => notifying.delete(sending));
        notifying.add(sending);
      }
      return true;
    },

    async tell(r, said) {
      const fresh = (await approvals.get(r.id)) ?? r;
      const targets: Array<{ channel: string; ts: string }> = [];
      if (fresh.message) {
        // A request posted inside the thread it came from answers in that same thread.
        const inOrigin = fresh.threadTs !== undefined && fresh.message.channel === fresh.channel;
        targets.push({ channel: fresh.message.channel, ts: inOrigin ? fresh.threadTs! : fresh.message.ts });
        if (fresh.threadTs && !inOrigin) targets.push({ channel: fresh.channel, ts: fresh.threadTs });
      }
      for (const t of targets) {
        try {
          await messenger.post(t.channel, said, t.ts, delivery(fresh, false));
        } catch (e) {
          report(e);
        }
      }
    },

    setProgress(id, line) {
      if (line === undefined) progress.delete(id);
      else progress.set(id, line);
    },

    async settled() {
      await Promise.allSettled([...renders.values()].map((r) => r.running));
      await Promise.allSettled([...notifying]);
    },
  };
}
