/**
 * The ledger's delivery: records the decided entries (each a compare-and-set on its target's last
 * entry), then posts every entry still owed to a channel, this tick's and those an earlier post
 * failed to deliver. An entry is written before it is posted, so a crash or a Slack failure never
 * loses the notice: the next tick posts it.
 */
import type { Messenger } from '../domain/ports/messenger.js';
import type { LedgerStore } from './store.js';
import type { LedgerEntry, LedgerViews, NewLedgerEntry, Snapshot } from './types.js';

/** How long a process holds an entry it is posting (longer than Slack's slowest answer). */
const POST_CLAIM_MS = 5 * 60_000;

export interface LedgerDeliverDeps {
  store: LedgerStore;
  messenger: Pick<Messenger, 'post'>;
  views: LedgerViews;
}

export interface LedgerDelivery {
  recorded: LedgerEntry[];
  /** Entries another process recorded first (their compare-and-set lost). */
  lost: number;
  posted: number;
  postFailures: Array<{ seq: number; error: unknown }>;
}

/**
 * @example await deliverLedger({ store, messenger, views }, decideLedger(input), snapshots, now)
 */
export async function deliverLedger(
  deps: LedgerDeliverDeps,
  entries: readonly NewLedgerEntry[],
  snapshots: ReadonlyMap<string, Snapshot>,
  now: number,
): Promise<LedgerDelivery> {
  const out: LedgerDelivery = { recorded: [], lost: 0, posted: 0, postFailures: [] };
  for (const entry of entries) {
    const stored = await deps.store.record(entry, snapshots.get(entry.key)?.seq ?? null);
    if (stored) out.recorded.push(stored);
    else out.lost++;
  }
  for (const entry of await deps.store.unposted()) {
    if (!entry.notify) continue;
    // A crash between post and mark leaves the claim to expire: the notice is posted again, never lost.
    if (!(await deps.store.claimPost(entry.seq, now, now + POST_CLAIM_MS))) continue;
    try {
      const ref = await deps.messenger.post(entry.notify, deps.views.outOfBand(entry));
      await deps.store.markPosted(entry.seq, ref, now);
      out.posted++;
    } catch (error) {
      await deps.store.markPostFailed(entry.seq, error instanceof Error ? error.message : String(error));
      out.postFailures.push({ seq: entry.seq, error });
    }
  }
  return out;
}
