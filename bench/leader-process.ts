/**
 * One replica for the leadership bench: the real lease (15 s, renewed every 5 s) over its own
 * connection to the bench's store file, and a guarded job that runs every second while it leads.
 * Tells the parent each transition and each job run, with the wall-clock time.
 */
import { createLeadership } from '../src/leadership/leader.js';
import { createLeadershipStore } from '../src/leadership/store.js';
import type { Logger } from '../src/lib/logger.js';
import { openDatabase } from '../src/storage/database.js';

const name = process.env.BENCH_REPLICA ?? 'replica';
const db = openDatabase(process.env.BENCH_DB ?? '');
const send = (m: Record<string, unknown>) => process.send?.({ ...m, name, at: Date.now() });
const logger: Logger = {
  debug() {},
  info: (...m) => send({ log: m.join(' ') }),
  warn: (...m) => send({ log: m.join(' ') }),
  error: (...m) => send({ log: m.join(' ') }),
};
const leadership = createLeadership({
  store: createLeadershipStore(db, { nowMs: Date.now }),
  me: name,
  logger,
});
const job = leadership.guard({
  name: 'tick',
  cron: '* * * * * *',
  run: async () => {
    send({ ran: true });
  },
});
await leadership.start();
setInterval(() => void job.run(new Date()), 1_000);
send({ ready: true });
