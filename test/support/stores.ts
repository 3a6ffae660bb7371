import { createApprovalStore } from '../../src/approvals/store.js';
import { createChangeStore } from '../../src/changes/store.js';
import type { Clock } from '../../src/lib/clock.js';
import { systemClock } from '../../src/lib/clock.js';
import type { StoreDatabase } from '../../src/storage/database.js';

/** The change store and the approval store over one connection, wired as the composition root does. */
export function openStores(db: StoreDatabase, clock: Clock = systemClock) {
  const changes = createChangeStore(db, clock);
  const approvals = createApprovalStore(db, clock.now);
  return { changes, approvals };
}
