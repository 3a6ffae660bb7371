/**
 * What the notifications remember, in the process's store (SQLite or Postgres; tables in
 * storage/migrations.ts, "approval notifications"): each approver's DM of a request, each
 * requester notice claimed once per (request, event), and each person's DM channel. Every write
 * is one statement: a claim is an insert that does nothing on conflict, a settle an update that
 * only moves an unsettled row, so two replicas never send one notice twice.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import type { MessageRef } from '../domain/vocabulary.js';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, run } from '../storage/sql.js';

/** An approver's DM of a request: claimed, then posted (`ref`) or refused (`error`). */
export interface ApproverDm {
  requestId: string;
  userId: string;
  ref?: MessageRef;
  error?: string;
}

/** The requester events a notice is sent for, once each. */
export const REQUESTER_EVENTS = [
  'approved',
  'rejected',
  'expired',
  'superseded',
  'executed',
  'failed',
] as const;
export type RequesterEvent = (typeof REQUESTER_EVENTS)[number];

export interface NotifyStore {
  /** Claims the DM of `userId` for a request; false when it was claimed before. */
  claimApproverDm(requestId: string, userId: string, at: number): Promise<boolean>;
  /** Records where the claimed DM was posted. */
  setApproverDm(requestId: string, userId: string, ref: MessageRef): Promise<void>;
  /** Records why the claimed DM could not be sent. */
  failApproverDm(requestId: string, userId: string, error: string): Promise<void>;
  /** The DMs of a request, in the order they were claimed. */
  approverDms(requestId: string): Promise<ApproverDm[]>;
  /** Claims the notice of `event` to the requester; false when it was claimed before. */
  claimNotice(requestId: string, event: RequesterEvent, recipient: string, at: number): Promise<boolean>;
  /** How the claimed notice went out (`dm`, `thread`, `thread after the DM failed: …`). */
  settleNotice(requestId: string, event: RequesterEvent, how: string): Promise<void>;
  /** The notices of a request: event → how (undefined while unsettled). */
  notices(requestId: string): Promise<Map<RequesterEvent, string | undefined>>;
  /** The DM channel of a person, once opened. */
  dmChannel(userId: string): Promise<string | undefined>;
  rememberDmChannel(userId: string, channel: string, at: number): Promise<void>;
}

const dmRowSchema = z.object({
  request_id: z.string(),
  user_id: z.string(),
  channel: z.string().nullable(),
  ts: z.string().nullable(),
  error: z.string().nullable(),
});
const noticeRowSchema = z.object({ event: z.enum(REQUESTER_EVENTS), how: z.string().nullable() });
const channelRowSchema = z.object({ channel: z.string() });

/**
 * @example const notes = createNotifyStore(db); if (await notes.claimNotice('apr-1', 'approved', 'U1', now)) …
 */
export function createNotifyStore(database: StoreDatabase): NotifyStore {
  const db = database.kysely;
  const ms = (t: number) => Math.round(t);

  return {
    claimApproverDm: async (requestId, userId, at) =>
      (await run(
        db,
        sql`INSERT INTO approval_dms (request_id, user_id, created_at) VALUES (${requestId}, ${userId}, ${ms(at)})
            ON CONFLICT (request_id, user_id) DO NOTHING`,
      )) === 1,
    async setApproverDm(requestId, userId, ref) {
      await sql`UPDATE approval_dms SET channel = ${ref.channel}, ts = ${ref.ts}
                WHERE request_id = ${requestId} AND user_id = ${userId} AND ts IS NULL`.execute(db);
    },
    async failApproverDm(requestId, userId, error) {
      await sql`UPDATE approval_dms SET error = ${error}
                WHERE request_id = ${requestId} AND user_id = ${userId} AND ts IS NULL AND error IS NULL`.execute(
        db,
      );
    },
    async approverDms(requestId) {
      const rows = await all(
        db,
        sql`SELECT request_id, user_id, channel, ts, error FROM approval_dms WHERE request_id = ${requestId}
            ORDER BY created_at, user_id`,
      );
      return rows.map((raw) => {
        const r = dmRowSchema.parse(raw);
        return {
          requestId: r.request_id,
          userId: r.user_id,
          ...(r.channel !== null && r.ts !== null ? { ref: { channel: r.channel, ts: r.ts } } : {}),
          ...(r.error !== null ? { error: r.error } : {}),
        };
      });
    },
    claimNotice: async (requestId, event, recipient, at) =>
      (await run(
        db,
        sql`INSERT INTO approval_notices (request_id, event, recipient, created_at)
            VALUES (${requestId}, ${event}, ${recipient}, ${ms(at)})
            ON CONFLICT (request_id, event) DO NOTHING`,
      )) === 1,
    async settleNotice(requestId, event, how) {
      await sql`UPDATE approval_notices SET how = ${how}
                WHERE request_id = ${requestId} AND event = ${event} AND how IS NULL`.execute(db);
    },
    async notices(requestId) {
      const out = new Map<RequesterEvent, string | undefined>();
      for (const raw of await all(
        db,
        sql`SELECT event, how FROM approval_notices WHERE request_id = ${requestId}`,
      )) {
        const r = noticeRowSchema.parse(raw);
        out.set(r.event, r.how ?? undefined);
      }
      return out;
    },
    async dmChannel(userId) {
      const raw = await first(db, sql`SELECT channel FROM dm_channels WHERE user_id = ${userId}`);
      return raw ? channelRowSchema.parse(raw).channel : undefined;
    },
    async rememberDmChannel(userId, channel, at) {
      await sql`INSERT INTO dm_channels (user_id, channel, opened_at) VALUES (${userId}, ${channel}, ${ms(at)})
                ON CONFLICT (user_id) DO NOTHING`.execute(db);
    },
  };
}
