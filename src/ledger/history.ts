/**
 * `/mlops history`, pure: a target's entries → what it held at a time. An entry's `at` is the best
 * known time of the change; the state at T is the one of the last entry at or before T, and nothing
 * is claimed before the ledger first saw the target.
 */
import type { HistoryView, LedgerEntry, TargetState } from './types.js';

/**
 * The state a target held at `at` (ms), from its entries oldest first; undefined before the first.
 *
 * @example stateAt(entries, Date.parse('2026-12-01T10:00Z')) // { kind: 'alias', version: 3 }
 */
export function stateAt(entries: readonly LedgerEntry[], at: number): TargetState | undefined {
  let state: TargetState | undefined;
  for (const e of entries) {
    if (e.at > at) break;
    state = e.after;
  }
  return state;
}

/**
 * The history view of several targets (an endpoint, and/or the aliases of a model).
 *
 * @example buildHistoryView('churn-endpoint', [entriesOfEndpoint], undefined, now)
 */
export function buildHistoryView(
  subject: string,
  targets: ReadonlyArray<readonly LedgerEntry[]>,
  at: number | undefined,
  now: number,
): HistoryView {
  return {
    subject,
    now,
    ...(at !== undefined ? { at } : {}),
    targets: targets
      .filter((entries) => entries.length > 0)
      .map((entries) => {
        // `at` can run ahead of detection by the endpoint's own update time; keep the order by time.
        const sorted = [...entries].sort((a, b) => a.at - b.at || a.seq - b.seq);
        const first = sorted[0]!;
        const state = stateAt(sorted, at ?? now);
        return {
          target: first.target,
          since: first.at,
          ...(state ? { stateAt: state } : {}),
          entries: [...sorted].reverse(),
        };
      }),
  };
}
