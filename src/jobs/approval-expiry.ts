/**
 * Job: expire the approval requests whose time is up. Runs every minute (scheduled in bot.ts);
 * each expired request's message turns to "expired" and loses its buttons. A click on a request
 * whose time is up expires it at once too, so the minute between runs never lets one through.
 */

export interface ApprovalExpiryDeps {
  approvals: { expireDue(now: number): Promise<number> };
  /** Start, ok and error reports (a log line, a monitoring check-in). */
  report?: (event: ApprovalExpiryEvent) => void;
}

export type ApprovalExpiryEvent =
  | { kind: 'start'; at: number }
  | { kind: 'ok'; at: number; expired: number }
  | { kind: 'error'; at: number; error: unknown };

/**
 * Expires what is due at `now`. Never throws: a failure is reported and the next run tries again.
 *
 * @example await runApprovalExpiry({ approvals }, Date.now()) // 2 (requests expired)
 */
export async function runApprovalExpiry(deps: ApprovalExpiryDeps, now: number): Promise<number | undefined> {
  deps.report?.({ kind: 'start', at: now });
  try {
    const expired = await deps.approvals.expireDue(now);
    deps.report?.({ kind: 'ok', at: now, expired });
    return expired;
  } catch (error) {
    deps.report?.({ kind: 'error', at: now, error });
    return undefined;
  }
}
