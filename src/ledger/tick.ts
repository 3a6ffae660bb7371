/**
 * The shape of one ledger tick, for the job that runs it (jobs/ledger.ts) and the service that
 * schedules it (service.ts), so neither imports the other's folder the wrong way.
 */
import type { Policy } from '../config/policy.js';
import type { LedgerDeliverDeps, LedgerDelivery } from './deliver.js';
import type { LedgerReadDeps, ReadCache } from './read.js';

export interface LedgerTickDeps extends LedgerReadDeps, LedgerDeliverDeps {
  policy: Policy;
  cache: ReadCache;
  /** How far back a bot change may have started and still explain a difference (default 1 day). */
  lookbackMs?: number;
  /** Read every endpoint in full every N ticks (default 10; 0: never). */
  fullReadEvery?: number;
  report?: (e: { kind: 'ok'; result: LedgerTickResult } | { kind: 'error'; error: unknown }) => void;
}

export interface LedgerTickResult extends LedgerDelivery {
  /** Targets that could not be read (left as they were). */
  readFailures: Array<{ what: string; error: unknown }>;
}

/** One tick: `runLedger` in jobs/ledger.ts. */
export type RunLedgerTick = (deps: LedgerTickDeps, now: number) => Promise<LedgerTickResult | undefined>;
