/**
 * The ledger tick: read (ledger/read.ts: one endpoint list, GETs only where something moved, one
 * GET per model), decide (ledger/decide.ts, pure), deliver (ledger/deliver.ts: record, then post
 * out-of-band changes of gated targets). Runs once and takes `now`; never throws.
 */
import { decideLedger } from '../ledger/decide.js';
import { deliverLedger } from '../ledger/deliver.js';
import { readLedger } from '../ledger/read.js';
import { expectedAliases, notifyChannelFor, watchSet } from '../ledger/targets.js';
import type { LedgerTickDeps, LedgerTickResult } from '../ledger/tick.js';

export type { LedgerTickDeps, LedgerTickResult } from '../ledger/tick.js';

const DAY_MS = 86_400_000;

/**
 * @example await runLedger({ policy, cache, serving, registry, changes, store, messenger, views }, clock.now())
 */
export async function runLedger(deps: LedgerTickDeps, now: number): Promise<LedgerTickResult | undefined> {
  try {
    const lookbackMs = deps.lookbackMs ?? DAY_MS;
    const snapshots = await deps.store.snapshots();
    // Targets the bot changed join the watch set, even when the policy does not name them.
    const applied = (await deps.changes.recentAudit({ action: 'applied', limit: 500 })).map((r) => r.target);
    const watch = watchSet(deps.policy, [...snapshots.keys(), ...applied]);
    const read = await readLedger(deps, watch, snapshots, deps.cache, {
      now,
      lookbackMs,
      fullReadEvery: deps.fullReadEvery ?? 10,
      expectedAliases: (model) => expectedAliases(deps.policy, model),
    });
    const ids = [...read.botChanges.values()].flat().map((c) => c.changeId);
    const entries = decideLedger({
      observations: read.observations,
      snapshots,
      botChanges: read.botChanges,
      claimed: await deps.store.claimed(ids),
      notifyChannel: (o) => notifyChannelFor(deps.policy, o.target),
      now,
      lookbackMs,
    });
    const delivery = await deliverLedger(deps, entries, snapshots, now);
    const result = { ...delivery, readFailures: read.failures };
    deps.report?.({ kind: 'ok', result });
    return result;
  } catch (error) {
    deps.report?.({ kind: 'error', error });
    return undefined;
  }
}
