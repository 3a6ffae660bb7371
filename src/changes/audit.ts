/**
 * The audit log's entries: who did what to which target, when, before and after. Rows are
 * written by the change store (store.ts) and, for approvals, by approval-store.ts.
 */

/** One audit row: who did what to which target, when, with the state before and after. */
export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  changeId?: string;
  before?: unknown;
  after?: unknown;
  outcome?: string;
  detail?: string;
}

export type AuditInput = Omit<AuditEntry, 'seq' | 'at'> & { at?: number };

export interface AuditFilter {
  target?: string;
  changeId?: string;
  actor?: string;
  action?: string;
  /** Only rows at or after this time (ms). */
  since?: number;
  /** Newest first; default 50. */
  limit?: number;
}
