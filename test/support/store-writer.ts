/**
 * A process that opens the store at argv[2] as the bot does, records a change in the audit log, says
 * "written" and then waits to be killed: what a crash (kill -9) right after a write leaves on disk.
 * Run with tsx by test/integration/store-history.test.ts.
 */
import { openDatabase } from '../../src/storage/database.js';

const path = process.argv[2];
if (!path) throw new Error('usage: store-writer <db path> [actor]');
const db = openDatabase(path);
db.sqlite!.prepare(
  "INSERT INTO audit (at, actor, action, target) VALUES (?, ?, 'proposed', 'endpoint:churn-endpoint')",
).run(Date.now(), process.argv[3] ?? 'U0WRITER');
process.stdout.write('written\n');
setInterval(() => {}, 60_000);
