/**
 * The rollout store: one row per canary rollout, over the process's one connection. Every method is
 * async (the storage port moves to Kysely), and every write is ONE statement:
 * - a move is a compare-and-set on `rev` (`UPDATE … WHERE id = ? AND rev = ?`, `changes` checked);
 * - a UNIQUE partial index allows one rollout per endpoint in a holding state (stepping, analysing,
 *   paused, promoting, rolling_back): a second start is refused with who holds it;
 * - a lease (`owner`, `lease_until`) says which process drives it, so two never step it at once.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { MessageRef } from '../domain/vocabulary.js';
import type { Clock } from '../lib/clock.js';
import type { SqliteDatabase } from '../storage/database.js';
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

const isUniqueViolation = (e: unknown): boolean =>
  typeof e === 'object' &&
  e !== null &&
  String((e as { code?: unknown }).code).startsWith('SQLITE_CONSTRAINT');

/**
 * @example const rollouts = createRolloutStore(db, clock); const { rollout } = await rollouts.create({ … });
 */
export function createRolloutStore(db: SqliteDatabase, clock: Clock): RolloutStore {
  const holdingList = HOLDING_STATES.map((s) => `'${s}'`).join(', ');
  const select = db.prepare('SELECT * FROM rollouts WHERE id = ?');
  const byTrigger = db.prepare('SELECT * FROM rollouts WHERE trigger_id = ?');
  const holderStmt = db.prepare(`SELECT * FROM rollouts WHERE endpoint = ? AND state IN (${holdingList})`);
  const holdingStmt = db.prepare(
    `SELECT * FROM rollouts WHERE state IN (${holdingList}) ORDER BY created_at, id`,
  );
  const insert = db.prepare(
    `INSERT INTO rollouts (id, created_at, updated_at, rev, requester, channel, endpoint, state, plan_json,
       body_json, next_at, trigger_id, message_channel, message_ts, owner, lease_until)
     VALUES (@id, @now, @now, 1, @requester, @channel, @endpoint, @state, @plan, @body, NULL, @trigger,
       NULL, NULL, NULL, NULL)
     ON CONFLICT DO NOTHING`,
  );
  const update = db.prepare(
    `UPDATE rollouts SET state = @state, body_json = @body, next_at = @nextAt, message_channel = @mc,
       message_ts = @mts, updated_at = @now, rev = rev + 1
     WHERE id = @id AND rev = @rev`,
  );
  const claimStmt = db.prepare(
    `UPDATE rollouts SET owner = @owner, lease_until = @until
     WHERE id = @id AND (owner IS NULL OR owner = @owner OR lease_until IS NULL OR lease_until < @now)`,
  );
  const releaseStmt = db.prepare(
    'UPDATE rollouts SET owner = NULL, lease_until = NULL WHERE id = @id AND owner = @owner',
  );

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
    const row = select.get(id);
    return row ? fromRow(row) : undefined;
  };

  return {
    async create(input) {
      if (input.triggerId) {
        const seen = byTrigger.get(input.triggerId);
        if (seen) return { rollout: fromRow(seen), duplicate: true };
      }
      const id = `ro_${randomBytes(6).toString('hex')}`;
      const now = clock.now();
      const draft: Rollout = {
        id,
        createdAt: now,
        updatedAt: now,
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
      const r = insert.run({
        id,
        now,
        requester: input.requester,
        channel: input.channel,
        endpoint: input.plan.endpoint,
        state: input.state,
        plan: JSON.stringify(input.plan),
        body: bodyOf(draft),
        trigger: input.triggerId ?? null,
      });
      if (r.changes === 0 && input.triggerId) {
        const seen = byTrigger.get(input.triggerId);
        if (seen) return { rollout: fromRow(seen), duplicate: true };
      }
      return { rollout: (await getNow(id)) ?? draft, duplicate: false };
    },

    get: getNow,

    async write(read, patch) {
      const next: Rollout = { ...read, ...patch };
      // `undefined` in a patch clears the field.
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete (next as never)[k];
      try {
        const r = update.run({
          id: read.id,
          rev: read.rev,
          state: next.state,
          body: bodyOf(next),
          nextAt: next.nextAt ?? null,
          mc: next.message?.channel ?? null,
          mts: next.message?.ts ?? null,
          now: clock.now(),
        });
        if (r.changes === 0) return { won: false, reason: 'stale', current: await getNow(read.id) };
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        const holderRow = holderStmt.get(read.plan.endpoint);
        return { won: false, reason: 'endpoint_busy', holder: holderRow ? fromRow(holderRow) : undefined };
      }
      const written = await getNow(read.id);
      if (!written) return { won: false, reason: 'stale', current: undefined };
      return { won: true, rollout: written };
    },

    async holderOf(endpoint) {
      const row = holderStmt.get(endpoint);
      return row ? fromRow(row) : undefined;
    },

    async holding() {
      return holdingStmt.all().map(fromRow);
    },

    async claim(id, owner, leaseMs) {
      const now = clock.now();
      return claimStmt.run({ id, owner, until: now + leaseMs, now }).changes > 0;
    },

    async release(id, owner) {
      releaseStmt.run({ id, owner });
    },
  };
}
