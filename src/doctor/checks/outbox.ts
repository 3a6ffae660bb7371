/**
 * The doctor's look at the Slack outbox: messages the bot still owes Slack after the stuck
 * threshold (Slack down, a token that stopped working, a channel the bot was removed from), read
 * from the store file without migrating or locking it.
 */
import type { DatabaseSettings } from '../../config/database.js';
import { DEFAULT_STUCK_AFTER_MS } from '../../outbox/outbox.js';
import { type CheckResult, fail, ok, plural, skip } from '../report.js';
import { openStoreReader, type StoreReader } from './store-reader.js';

const NAME = 'Slack outbox';

/**
 * Undefined when there is nothing to look at yet (no store file, or one without an outbox).
 *
 * @example await outboxCheck({ kind: 'sqlite', path: '/data/modelgate.db' }, Date.now()) // ok: nothing owed for more than 5 minutes
 */
export async function outboxCheck(
  d: DatabaseSettings,
  now: number,
  stuckAfterMs = DEFAULT_STUCK_AFTER_MS,
): Promise<CheckResult | undefined> {
  let db: StoreReader | undefined;
  try {
    db = await openStoreReader(d);
    if (!db || !(await db.tables()).has('outbox')) return undefined;
    const stuck = await db.rows<{
      channel: string;
      owed_since: number;
      attempts: number;
      last_error: string | null;
    }>(
      "SELECT channel, owed_since, attempts, last_error FROM outbox WHERE status = 'owed' AND owed_since < ? ORDER BY owed_since",
      now - stuckAfterMs,
    );
    const refused = Number(
      (
        await db.rows<{ n: number | string }>(
          "SELECT count(*) AS n FROM outbox WHERE status = 'undeliverable' AND updated_at > ?",
          now - 24 * 3_600_000,
        )
      )[0]?.n ?? 0,
    );
    const oldest = stuck[0];
    if (oldest) {
      const minutes = Math.round((now - oldest.owed_since) / 60_000);
      const channels = [...new Set(stuck.map((s) => s.channel))].join(', ');
      return fail(
        NAME,
        `${plural(stuck.length, 'message')} still owed to Slack (oldest ${minutes} min, ${plural(oldest.attempts, 'attempt')}; last error: ${oldest.last_error ?? 'none'}) for ${channels}`,
        'check that Slack is reachable from the bot and that SLACK_BOT_TOKEN still works (the Slack token line above); the bot keeps retrying and delivers them once Slack answers',
      );
    }
    return ok(
      NAME,
      `nothing owed for more than ${Math.round(stuckAfterMs / 60_000)} min${refused > 0 ? `; ${plural(refused, 'message')} refused by Slack in the last day (see /mlops audit)` : ''}`,
    );
  } catch (e) {
    return skip(NAME, `could not read the store: ${(e as Error).message}`);
  } finally {
    await db?.close();
  }
}
