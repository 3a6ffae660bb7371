/**
 * Reaching the people a request concerns, beyond its card: the approver groups resolved for the
 * card's mentions; each approver's DM with the same buttons (when the gate says `notify:
 * approvers: dm`), updated with the card; and the requester told once per event (approved,
 * rejected, expired, superseded, executed, failed) by DM or in the request's thread. A DM that
 * cannot be had falls back to the request's thread, and the audit says so. Everything goes through
 * the Messenger (the outbox); every send is claimed in the store first, so none happens twice.
 */
import type { AuditInput } from '../changes/audit.js';
import { DEFAULT_GATE_NOTIFY, type GateNotify } from '../config/policy-gates.js';
import { type Delivery, type Messenger, UndeliverableError } from '../domain/ports/messenger.js';
import type { MessageRef, Reply } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type {
  ApprovalMessageOptions,
  ApprovalServiceDeps,
  ApproverMention,
  NotifyDeps,
} from './contracts.js';
import type { RequesterEvent } from './notify-store.js';
import { DEPLOYMENT_REQUESTER } from './requesters.js';
import type { ApprovalRequest } from './store.js';

/** A group of more members than this gets no DMs beyond the first ones: the card mentions the group. */
export const MAX_APPROVER_DMS = 20;

export interface ApprovalNotifier {
  /** The approver groups of a request as the card mentions them (Slack trouble: plain handles). */
  mentions(r: ApprovalRequest): Promise<ApproverMention[]>;
  /** The card is posted: DM the approvers, when the gate asks for it. */
  posted(r: ApprovalRequest, options: ApprovalMessageOptions): Promise<void>;
  /** The card was brought up to date: update the DMs with it, and tell the requester what happened. */
  refreshed(r: ApprovalRequest, options: ApprovalMessageOptions): Promise<void>;
}

export interface ApprovalNotifierDeps extends NotifyDeps {
  messenger: Messenger;
  views: Pick<ApprovalServiceDeps['views'], 'notify'>;
  gates: ApprovalServiceDeps['policy']['gates'];
  /** The latest state of a request (DMs posted while a vote came in are brought up to date). */
  get: (id: string) => Promise<ApprovalRequest | undefined>;
  audit: (entry: AuditInput) => Promise<void>;
  clock: Clock;
  report: (err: unknown) => string;
}

/**
 * The requester event a request's state stands for, if any. A request its requester withdrew
 * tells them nothing: they did it; nor one the bot raised for a deployment job.
 *
 * @example requesterEvent({ status: 'executing', … }) // 'approved'
 */
export function requesterEvent(
  r: Pick<ApprovalRequest, 'status' | 'decidedBy' | 'requester'>,
): RequesterEvent | undefined {
  // A deployment job's request was raised by the bot itself: nobody to tell, the card and its
  // thread say how it ends.
  if (r.requester === DEPLOYMENT_REQUESTER) return undefined;
  switch (r.status) {
    case 'pending':
      return undefined;
    case 'approved':
    case 'executing':
      return 'approved';
    case 'rejected':
      return r.decidedBy === r.requester ? undefined : 'rejected';
    default:
      return r.status;
  }
}

const slackCode = (e: unknown): string => (e instanceof UndeliverableError ? e.code : 'slack_unavailable');

/** @example const notifier = createApprovalNotifier({ store, dms, groups, messenger, views, gates, get, audit, clock, report }); */
export function createApprovalNotifier(deps: ApprovalNotifierDeps): ApprovalNotifier {
  const { store, messenger, views, clock, report } = deps;
  const notifyOf = (r: ApprovalRequest): GateNotify => deps.gates?.[r.gate]?.notify ?? DEFAULT_GATE_NOTIFY;
  const about = (r: ApprovalRequest): Delivery => ({ about: { target: r.target } });

  async function resolve(r: ApprovalRequest) {
    if (r.approvers.groups.length === 0) return [];
    return deps.groups.resolve(r.approvers.groups);
  }

  /** The DM channel of a person: opened once, then remembered. */
  async function dmOf(userId: string): Promise<string> {
    const known = await store.dmChannel(userId);
    if (known) return known;
    const channel = await deps.dms.open(userId);
    await store.rememberDmChannel(userId, channel, clock.now());
    return channel;
  }

  /** Where the request's thread is: the thread it was asked from, else the card's, else its channel. */
  function threadOf(r: ApprovalRequest): { channel: string; ts?: string } {
    if (r.threadTs) return { channel: r.channel, ts: r.threadTs };
    if (r.message) return { channel: r.message.channel, ts: r.message.ts };
    return { channel: r.channel };
  }

  async function inThread(r: ApprovalRequest, said: Pick<Reply, 'text' | 'blocks'>): Promise<boolean> {
    const t = threadOf(r);
    try {
      await messenger.post(t.channel, said, t.ts, about(r));
      return true;
    } catch (e) {
      report(e);
      return false;
    }
  }

  async function dmApprover(
    r: ApprovalRequest,
    userId: string,
    options: ApprovalMessageOptions,
  ): Promise<void> {
    if (!(await store.claimApproverDm(r.id, userId, clock.now()))) return;
    try {
      const channel = await dmOf(userId);
      const ref = await messenger.post(channel, views.notify.approverDm(r, options), undefined, about(r));
      await store.setApproverDm(r.id, userId, ref);
    } catch (e) {
      const code = slackCode(e);
      if (code === 'slack_unavailable') report(e);
      await store.failApproverDm(r.id, userId, code);
      const told = await inThread(r, views.notify.dmUnreachable(r, userId, code));
      await deps.audit({
        actor: 'modelgate',
        action: 'approval_dm_failed',
        target: r.target,
        outcome: told ? `told <@${userId}> in the request's thread instead` : `could not tell ${userId}`,
        detail: `request ${r.id}: no DM could reach ${userId} (${code})`,
      });
    }
  }

  async function updateDms(r: ApprovalRequest, options: ApprovalMessageOptions): Promise<void> {
    const dms = (await store.approverDms(r.id)).filter((d): d is typeof d & { ref: MessageRef } => !!d.ref);
    if (dms.length === 0) return;
    const view = views.notify.approverDm(r, options);
    await Promise.all(
      dms.map(async (d) => {
        try {
          await messenger.update(d.ref, view, about(r));
        } catch (e) {
          report(e);
        }
      }),
    );
  }

  async function tellRequester(r: ApprovalRequest): Promise<void> {
    const event = requesterEvent(r);
    const mode = notifyOf(r).requester;
    if (!event || mode === 'none') return;
    if (!(await store.claimNotice(r.id, event, r.requester, clock.now()))) return;
    let how: string;
    if (mode === 'thread') {
      how = (await inThread(r, views.notify.requesterNotice(r, event, 'thread'))) ? 'thread' : 'nowhere';
    } else {
      try {
        const channel = await dmOf(r.requester);
        await messenger.post(channel, views.notify.requesterNotice(r, event, 'dm'), undefined, about(r));
        how = 'dm';
      } catch (e) {
        const code = slackCode(e);
        if (code === 'slack_unavailable') report(e);
        const told = await inThread(r, views.notify.requesterNotice(r, event, 'thread'));
        how = told ? `thread (the DM failed: ${code})` : `nowhere (the DM failed: ${code})`;
        await deps.audit({
          actor: 'modelgate',
          action: 'requester_dm_failed',
          target: r.target,
          outcome: told
            ? `told <@${r.requester}> in the request's thread instead`
            : `could not tell ${r.requester}`,
          detail: `request ${r.id} ${event}: no DM could reach ${r.requester} (${code})`,
        });
      }
    }
    await store.settleNotice(r.id, event, how);
  }

  return {
    async mentions(r) {
      try {
        return (await resolve(r)).map((g) =>
          g.id ? { ref: g.ref, id: g.id } : { ref: g.ref, unknown: true },
        );
      } catch (e) {
        // Slack could not be asked: the card names the groups as text, and says nothing false.
        report(e);
        return r.approvers.groups.map((ref) => ({ ref }));
      }
    },

    async posted(r, options) {
      if (notifyOf(r).approvers !== 'dm') return;
      let members: string[] = [];
      try {
        members = (await resolve(r)).flatMap((g) => g.members);
      } catch (e) {
        report(e);
      }
      const approvers = [...new Set([...r.approvers.users, ...members])]
        .filter((u) => u !== r.requester)
        .slice(0, MAX_APPROVER_DMS);
      await Promise.all(approvers.map((u) => dmApprover(r, u, options)));
      // A vote may have come in while the DMs were on their way: show them what the card shows.
      const now = await deps.get(r.id);
      if (now && (now.status !== r.status || now.votes.length !== r.votes.length)) {
        await updateDms(now, { ...options, now: clock.now() });
      }
    },

    async refreshed(r, options) {
      await updateDms(r, options);
      await tellRequester(r);
    },
  };
}
