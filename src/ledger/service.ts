/**
 * The ledger as a service of one process: the store over the one connection, the read cache kept
 * between ticks, `tick(now)` for the schedule, and `history` for `/mlops history`.
 */
import type { Policy } from '../config/policy.js';
import type { Logger } from '../lib/logger.js';
import type { StoreDatabase } from '../storage/database.js';
import { buildHistoryView } from './history.js';
import { newReadCache } from './read.js';
import { createLedgerStore, type LedgerStore } from './store.js';
import { targetKey } from './targets.js';
import type { LedgerTickDeps, LedgerTickResult, RunLedgerTick } from './tick.js';
import type { LedgerReader } from './types.js';

export interface LedgerService extends LedgerReader {
  store: LedgerStore;
  /** One pass: read, decide, record, post. Never throws (failures are logged). */
  tick(now: number): Promise<LedgerTickResult | undefined>;
}

export type LedgerServiceDeps = Omit<LedgerTickDeps, 'store' | 'cache' | 'report'> & {
  db: StoreDatabase;
  policy: Policy;
  logger: Logger;
  /** The tick itself (jobs/ledger.ts `runLedger`), passed in so ledger/ never imports jobs/. */
  runTick: RunLedgerTick;
};

/**
 * @example const ledger = createLedgerService({ db, policy, serving, registry, changes, messenger, views, logger });
 */
export function createLedgerService(deps: LedgerServiceDeps): LedgerService {
  const store = createLedgerStore(deps.db);
  const cache = newReadCache();
  const { db: _db, logger, runTick, ...rest } = deps;
  return {
    store,
    tick: (now) =>
      runTick(
        {
          ...rest,
          store,
          cache,
          report: (e) => {
            if (e.kind === 'error') {
              logger.error('ledger tick failed:', e.error);
              return;
            }
            for (const f of e.result.readFailures) logger.warn(`ledger could not read ${f.what}:`, f.error);
            for (const f of e.result.postFailures)
              logger.warn(`ledger entry ${f.seq} not posted yet:`, f.error);
          },
        },
        now,
      ),
    async history(subject, at, now) {
      const lists = [];
      if (subject.endpoint)
        lists.push(await store.entriesOf(targetKey({ kind: 'endpoint', endpoint: subject.endpoint })));
      if (subject.model) {
        const prefix = `alias:${subject.model.toLowerCase()}@`;
        for (const key of (await store.keys()).filter((k) => k.toLowerCase().startsWith(prefix)).sort()) {
          lists.push(await store.entriesOf(key));
        }
      }
      return buildHistoryView(subject.text, lists, at, now);
    },
  };
}
