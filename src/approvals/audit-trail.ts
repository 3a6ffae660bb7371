/**
 * The audit log told as a list of changes, pure: rows grouped by the request or change they belong
 * to, each with who asked, who approved (or applied), when, and how it ended. A pipeline change an
 * approved request ran (its trigger id is `approval:<request id>:<step>`) is folded into that
 * request, so a promotion to Production reads as one line.
 */
import type { AuditEntry } from '../changes/audit.js';
import { changeTitle } from '../changes/describe.js';
import type { ChangeStore } from '../changes/store.js';
import { approvalTitle } from './request-plan.js';
import type { ApprovalStore } from './store.js';

export interface AuditItem {
  /** The request or change id. */
  id: string;
  kind: 'approval' | 'change';
  title: string;
  target: string;
  requester?: string;
  /** Who approved (requests) or applied (plain changes). */
  approvers: string[];
  /** Who rejected or withdrew it. */
  rejectedBy?: string;
  /** When it was asked, and when it last moved (ms). */
  askedAt: number;
  at: number;
  /** How it stands: executed, failed, rejected, expired, superseded, pending, succeeded, … */
  outcome: string;
  detail?: string;
}

export interface AuditLookups {
  /** Title of a request, if the id is one. */
  requestTitle(id: string): string | undefined;
  /** Title and trigger id of a pipeline change, if the id is one. */
  change(id: string): { title: string; triggerId?: string } | undefined;
}

const TERMINAL = new Set([
  'executed',
  'failed',
  'rejected',
  'withdrawn',
  'expired',
  'superseded',
  'succeeded',
  'timed_out',
  'cancelled',
  'stale',
]);

/** The request id of a change an approved request ran, from its trigger id. */
export function requestOfTrigger(triggerId: string | undefined): string | undefined {
  const m = /^approval:([^:]+):\d+$/.exec(triggerId ?? '');
  return m?.[1];
}

/**
 * Groups audit rows (any order) into items, newest first.
 *
 * @example summariseAudit(await store.recentAudit({ limit: 200 }), lookups).slice(0, 15)
 */
export function summariseAudit(rows: readonly AuditEntry[], lookups: AuditLookups): AuditItem[] {
  const items = new Map<string, AuditItem>();
  const ordered = [...rows].sort((a, b) => a.seq - b.seq);
  for (const row of ordered) {
    if (row.changeId === undefined) continue;
    const change = lookups.change(row.changeId);
    const parent = requestOfTrigger(change?.triggerId);
    const id = parent ?? row.changeId;
    const requestTitle = lookups.requestTitle(id);
    let item = items.get(id);
    if (!item) {
      item = {
        id,
        kind: requestTitle !== undefined ? 'approval' : 'change',
        title: requestTitle ?? change?.title ?? row.target,
        target: row.target,
        approvers: [],
        askedAt: row.at,
        at: row.at,
        outcome: requestTitle !== undefined ? 'pending' : 'proposed',
      };
      items.set(id, item);
    }
    item.at = Math.max(item.at, row.at);
    const fromStep = parent !== undefined;
    switch (row.action) {
      case 'approval_requested':
        item.requester = row.actor;
        item.target = row.target;
        item.askedAt = row.at;
        break;
      case 'proposed':
        if (!fromStep) item.requester ??= row.actor;
        break;
      case 'approval_vote':
        if (!item.approvers.includes(row.actor)) item.approvers.push(row.actor);
        break;
      case 'approved':
        if (!item.approvers.includes(row.actor)) item.approvers.push(row.actor);
        item.outcome = 'approved';
        break;
      case 'applied':
        if (!fromStep && !item.approvers.includes(row.actor)) item.approvers.push(row.actor);
        if (!fromStep) item.outcome = 'applying';
        break;
      case 'executing':
      case 'execution_resumed':
        item.outcome = 'executing';
        break;
      default:
        // A step's own ending is part of the request's story, not its outcome.
        if (TERMINAL.has(row.action) && !fromStep) {
          item.outcome = row.action === 'withdrawn' ? 'withdrawn' : row.action;
          if (row.action === 'rejected' || row.action === 'withdrawn') item.rejectedBy = row.actor;
          if (row.detail !== undefined) item.detail = row.detail;
        }
    }
  }
  return [...items.values()].sort((a, b) => b.at - a.at);
}

/**
 * The latest changes and requests (for one model or endpoint, or all), newest first, read from
 * the store: a request's steps file their rows under their own target, so the request's rows are
 * fetched too.
 *
 * @example auditTrailOf(store, approvals, { endpoint: 'churn-endpoint', limit: 15 })
 */
export async function auditTrailOf(
  store: Pick<ChangeStore, 'recentAudit' | 'get'>,
  approvals: Pick<ApprovalStore, 'auditFor' | 'get'>,
  filter: { model?: string; endpoint?: string; limit?: number },
): Promise<AuditItem[]> {
  const targets: string[] = [];
  const prefixes: string[] = [];
  if (filter.endpoint) targets.push(`endpoint:${filter.endpoint}`);
  if (filter.model) {
    prefixes.push(`alias:${filter.model}@`);
    targets.push(`retrain:${filter.model}`);
    prefixes.push(`deployment:${filter.model}@`);
  }
  const rows =
    targets.length + prefixes.length > 0
      ? await approvals.auditFor({ targets, prefixes, limit: 500 })
      : await store.recentAudit({ limit: 500 });
  // Read every change and request the rows name once, so the summary looks them up in memory.
  const changes = new Map<string, Awaited<ReturnType<typeof store.get>>>();
  const changeOf = async (id: string) => {
    if (!changes.has(id)) changes.set(id, await store.get(id));
    return changes.get(id);
  };
  const requestIds = new Set<string>();
  for (const row of rows) {
    const id = requestOfTrigger(row.changeId ? (await changeOf(row.changeId))?.triggerId : undefined);
    if (id) requestIds.add(id);
  }
  const extra = [];
  for (const id of requestIds) extra.push(...(await store.recentAudit({ changeId: id, limit: 100 })));
  const seen = new Set(rows.map((r) => r.seq));
  const all = [...rows, ...extra.filter((r) => !seen.has(r.seq))];
  const requests = new Map<string, Awaited<ReturnType<typeof approvals.get>>>();
  for (const row of all) {
    if (!row.changeId) continue;
    const id = requestOfTrigger((await changeOf(row.changeId))?.triggerId) ?? row.changeId;
    if (!requests.has(id)) requests.set(id, await approvals.get(id));
  }
  return summariseAudit(all, {
    requestTitle: (id) => {
      const r = requests.get(id);
      return r ? approvalTitle(r.plan) : undefined;
    },
    change: (id) => {
      const c = changes.get(id);
      return c
        ? { title: changeTitle(c.plan), ...(c.triggerId ? { triggerId: c.triggerId } : {}) }
        : undefined;
    },
  }).slice(0, filter.limit ?? 15);
}
