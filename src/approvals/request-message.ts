/**
 * The request message: posted once, then kept up to date with the store, plus the lines told in
 * its thread. Through the outbox (a durable Messenger) each is owed until Slack takes it, and the
 * requester is told another way when Slack refuses it for good. Slack trouble is reported, never thrown.
 */
import type { Delivery, Messenger } from '../domain/ports/messenger.js';
import type { Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { ApprovalViews } from './contracts.js';
import { isFinalApproval } from './state.js';
import type { ApprovalRequest, ApprovalStore } from './store.js';

export interface RequestMessageDeps {
  approvals: ApprovalStore;
  messenger: Messenger;
  views: Pick<ApprovalViews, 'message'>;
  clock: Clock;
  workspaceHost: string;
  report: (err: unknown) => string;
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
  const { approvals, messenger, views, clock, workspaceHost, report } = deps;
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
      if (!r?.message) return;
      const note = progress.get(id);
      try {
        await messenger.update(
          r.message,
          views.message(r, { now: clock.now(), workspaceHost, ...(note ? { progress: note } : {}) }),
          delivery(r),
        );
        await approvals.markShown(id, r.status);
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
      try {
        const ref = await messenger.post(
          channel,
          views.message(r, { now: clock.now(), workspaceHost }),
          threadTs,
          delivery(r),
        );
        await approvals.setMessage(r.id, ref);
        return true;
      } catch (e) {
        report(e);
        return false;
      }
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
    },
  };
}
