/**
 * The rollout store: one row per canary rollout, over the process's store (SQLite or Postgres; the
 * table is the 'canary rollouts' migration). Every method is async, and every write is ONE statement:
 * - a move is a compare-and-set on `rev` (`UPDATE … WHERE id = ? AND rev = ?`, one row or stale);
 * - a UNIQUE partial index allows one rollout per endpoint in a holding state (stepping, analysing,
 *   paused, promoting, rolling_back): a second start is refused with who holds it;
 * - a lease (`owner`, `lease_until`) says which process drives it, so two never step it at once; on
 *   Postgres it is judged by the database's clock (sql.ts `leaseNow`), as several replicas share it.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { MessageRef } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, isUniqueViolation, leaseNow, run } from '../storage/sql.js';
import {
  HOLDING_STATES,
  ROLLOUT_STATES,
  type Rollout,
  type RolloutPlan,
  type RolloutState,
} from './types.js';

const rowSchema = z.object({
  id: z.string(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  rev: z.number().int(),
  requester: z.string(),
  channel: z.string(),
  endpoint: z.string(),
  state: z.enum(ROLLOUT_STATES),
  plan_json: z.string(),
  body_json: z.string(),
  next_at: z.number().int().nullable(),
  message_channel: z.string().nullable(),
  message_ts: z.string().nullable(),
  owner: z.string().nullable(),
  lease_until: z.number().int().nullable(),
});

/** The fields a write may change; the rest of the record is fixed at creation. */
export type RolloutPatch = Partial<
  Pick<
    Rollout,
    | 'state'
    | 'stepIndex'
    | 'stepLiveAt'
    | 'nextAt'
    | 'expectConfigVersion'
    | 'failures'
    | 'inconclusive'
    | 'lastCheck'
    | 'hold'
    | 'pause'
    | 'end'
    | 'approvals'
    | 'startedBy'
    | 'startedAt'
    | 'message'
  >
>;

/** The record minus what lives in columns of its own. */
type Body = Omit<
  Rollout,
  | 'id'
  | 'createdAt'
  | 'updatedAt'
  | 'rev'
  | 'requester'
  | 'channel'
  | 'plan'
  | 'state'
  | 'nextAt'
  | 'message'
  | 'owner'
  | 'leaseUntil'
>;

export type WriteResult =
  | { won: true; rollout: Rollout }
  /** Someone wrote it since it was read (`current` is how it stands now). */
  | { won: false; reason: 'stale'; current: Rollout | undefined }
  /** Another rollout holds the endpoint (the index refused). */
  | { won: false; reason: 'endpoint_busy'; holder: Rollout | undefined };

export interface NewRollout {
  requester: string;
  channel: string;
  plan: RolloutPlan;
  state: Extract<RolloutState, 'proposed' | 'awaiting_approval'>;
  /** Slack's trigger id: a retry of the same command returns the first rollout. */
  triggerId?: string | undefined;
}

/** The rollout store's port. All methods are async. */
export interface RolloutStore {
  create(input: NewRollout): Promise<{ rollout: Rollout; duplicate: boolean }>;
  get(id: string): Promise<Rollout | undefined>;
  /** Compare-and-set on `read.rev`: applies `patch` only if nobody wrote the rollout since. */
  write(read: Rollout, patch: RolloutPatch): Promise<WriteResult>;
  /** The rollout holding an endpoint, if any. */
  holderOf(endpoint: string): Promise<Rollout | undefined>;
  /** Rollouts in a holding state, oldest first (what the driver looks at). */
  holding(): Promise<Rollout[]>;
  /**
   * Takes (or extends) the lease of a rollout for `owner` until `now + leaseMs`, unless another
   * owner's lease is still running. Returns whether this owner holds it now.
   */
  claim(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Lets the lease go (a clean stop, or the work of a tick done). */
  release(id: string, owner: string): Promise<void>;
}

/** One rollout per endpoint in a holding state. */
const HOLDING_INDEX = { sqlite: 'rollouts.endpoint', postgres: 'rollouts_one_per_endpoint' };

/**
 * @example const rollouts = createRolloutStore(db, clock); const { rollout } = await rollouts.create({ … });
 */
export function createRolloutStore(database: StoreDatabase, clock: Clock): RolloutStore {
  const db = database.kysely;
  // Simulated clocks may give fractions of a millisecond; the columns hold whole milliseconds.
  const now = (): number => Math.round(clock.now());
  const leaseClock = () => leaseNow(database.kind, now);
  const holdingList = sql.join(HOLDING_STATES.map((s) => sql`${s}`));
  const byTrigger = (triggerId: string) =>
    first(db, sql`SELECT * FROM rollouts WHERE trigger_id = ${triggerId}`);
  const holderRow = (endpoint: string) =>
    first(db, sql`SELECT * FROM rollouts WHERE endpoint = ${endpoint} AND state IN (${holdingList})`);

  function fromRow(raw: unknown): Rollout {
    const row = rowSchema.parse(raw);
    const body = JSON.parse(row.body_json) as Body;
    return {
      ...body,
      id: row.id,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      rev: row.rev,
      requester: row.requester,
      channel: row.channel,
      plan: JSON.parse(row.plan_json) as RolloutPlan,
      state: row.state,
      ...(row.next_at !== null ? { nextAt: row.next_at } : {}),
      ...(row.message_channel && row.message_ts
        ? { message: { channel: row.message_channel, ts: row.message_ts } satisfies MessageRef }
        : {}),
      ...(row.owner ? { owner: row.owner } : {}),
      ...(row.lease_until !== null ? { leaseUntil: row.lease_until } : {}),
    };
  }

  function bodyOf(r: Rollout): string {
    const {
      id: _id,
      createdAt: _c,
      updatedAt: _u,
      rev: _rev,
      requester: _req,
      channel: _ch,
      plan: _plan,
      state: _state,
      nextAt: _next,
      message: _msg,
      owner: _owner,
      leaseUntil: _lease,
      ...body
    } = r;
    return JSON.stringify(body);
  }

  const getNow = async (id: string) => {
    const row = await first(db, sql`SELECT * FROM rollouts WHERE id = ${id}`);
    return row ? fromRow(row) : undefined;
  };

  return {
    async create(input) {
      if (input.triggerId) {
        const seen = await byTrigger(input.triggerId);
        if (seen) return { rollout: fromRow(seen), duplicate: true };
      }
      const id = `ro_${randomBytes(6).toString('hex')}`;
      const at = now();
      const draft: Rollout = {
        id,
        createdAt: at,
        updatedAt: at,
        rev: 1,
        requester: input.requester,
        channel: input.channel,
        plan: input.plan,
        state: input.state,
        stepIndex: -1,
        failures: 0,
        inconclusive: 0,
        approvals: [],
      };
      // A retry of the same command that raced this one: the trigger id's index keeps one row.
      const inserted = await run(
        db,
        sql`INSERT INTO rollouts (id, created_at, updated_at, rev, requester, channel, endpoint, state, plan_json,
              body_json, next_at, trigger_id, message_channel, message_ts, owner, lease_until)
            VALUES (${id}, ${at}, ${at}, 1, ${input.requester}, ${input.channel}, ${input.plan.endpoint},
              ${input.state}, ${JSON.stringify(input.plan)}, ${bodyOf(draft)}, NULL, ${input.triggerId ?? null},
              NULL, NULL, NULL, NULL)
            ON CONFLICT (trigger_id) DO NOTHING`,
      );
      if (inserted === 0 && input.triggerId) {
        const seen = await byTrigger(input.triggerId);
        if (seen) return { rollout: fromRow(seen), duplicate: true };
      }
      return { rollout: (await getNow(id)) ?? draft, duplicate: false };
    },

    get: getNow,

    async write(read, patch) {
      const next: Rollout = { ...read, ...patch };
      // `undefined` in a patch clears the field.
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete (next as never)[k];
      let written: unknown;
      try {
        written = await first(
          db,
          sql`UPDATE rollouts SET state = ${next.state}, body_json = ${bodyOf(next)}, next_at = ${next.nextAt ?? null},
                message_channel = ${next.message?.channel ?? null}, message_ts = ${next.message?.ts ?? null},
                updated_at = ${now()}, rev = rev + 1
              WHERE id = ${read.id} AND rev = ${read.rev}
              RETURNING *`,
        );
      } catch (e) {
        // Another rollout of the endpoint moved into a holding state first: the index kept one.
        if (!isUniqueViolation(e, HOLDING_INDEX)) throw e;
        const holder = await holderRow(read.plan.endpoint);
        return { won: false, reason: 'endpoint_busy', holder: holder ? fromRow(holder) : undefined };
      }
      if (!written) return { won: false, reason: 'stale', current: await getNow(read.id) };
      return { won: true, rollout: fromRow(written) };
    },

    async holderOf(endpoint) {
      const row = await holderRow(endpoint);
      return row ? fromRow(row) : undefined;
    },

    holding: async () =>
      (
        await all(db, sql`SELECT * FROM rollouts WHERE state IN (${holdingList}) ORDER BY created_at, id`)
      ).map(fromRow),

    claim: async (id, owner, leaseMs) =>
      (await run(
        db,
        sql`UPDATE rollouts SET owner = ${owner}, lease_until = ${leaseClock()} + ${Math.round(leaseMs)}
            WHERE id = ${id}
              AND (owner IS NULL OR owner = ${owner} OR lease_until IS NULL OR lease_until < ${leaseClock()})`,
      )) === 1,

    async release(id, owner) {
      await sql`UPDATE rollouts SET owner = NULL, lease_until = NULL WHERE id = ${id} AND owner = ${owner}`.execute(
        db,
      );
    },
  };
}
