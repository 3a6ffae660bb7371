/**
 * The durable change store: every change request with its plan, status and outcome, and an
 * append-only audit log, in the store (SQLite or Postgres, storage/). The database itself enforces
 * the rules that must survive races and restarts:
 * - status moves are compare-and-set (`UPDATE … WHERE status IN (…)`), so a double click or a Slack
 *   retry can win at most once;
 * - a UNIQUE partial index allows one change per target in `applying`/`rolling_out`;
 * - a UNIQUE trigger id drops a Slack retry of the same command;
 * - triggers refuse any UPDATE or DELETE of an audit row.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { z } from 'zod';
import type { EndpointConfig } from '../domain/ports/serving.js';
import { type MessageRef, MUTATING_SUBCOMMANDS, type MutatingCommand } from '../domain/vocabulary.js';
import { type Clock, systemClock } from '../lib/clock.js';
import type { StoreDatabase } from '../storage/database.js';
import { all, first, forUpdate, isUniqueViolation, leaseNow, type Queryable, run } from '../storage/sql.js';
import type { AuditEntry, AuditFilter, AuditInput } from './audit.js';

export type { AuditEntry, AuditFilter, AuditInput } from './audit.js';

import { type ChangeStatus, type Plan, planTarget } from '../domain/change.js';
import type { MutatingSubcommand } from '../domain/vocabulary.js';

// ---------------------------------------------------------------------------------------------
// Row schemas and the domain types derived from them
// ---------------------------------------------------------------------------------------------

export const CHANGE_STATUSES = [
  'proposed',
  'cancelled',
  'stale',
  'applying',
  'rolling_out',
  'succeeded',
  'failed',
  'timed_out',
] as const satisfies readonly ChangeStatus[];

/** Statuses in which a change holds its target (at most one per target, enforced by an index). */
export const ACTIVE_STATUSES = ['applying', 'rolling_out'] as const satisfies readonly ChangeStatus[];

export const changeRowSchema = z.object({
  id: z.string(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  requester: z.string(),
  channel: z.string(),
  subcommand: z.enum(MUTATING_SUBCOMMANDS),
  target: z.string(),
  input_json: z.string(),
  plan_json: z.string(),
  status: z.enum(CHANGE_STATUSES),
  applied_by: z.string().nullable(),
  applied_at: z.number().int().nullable(),
  expect_config_version: z.number().int().nullable(),
  message_channel: z.string().nullable(),
  message_ts: z.string().nullable(),
  message_finished: z.number().int(),
  outcome: z.string().nullable(),
  error: z.string().nullable(),
  replaced_by: z.string().nullable(),
  trigger_id: z.string().nullable(),
  owner: z.string().nullable(),
  heartbeat_at: z.number().int().nullable(),
});

export const auditRowSchema = z.object({
  seq: z.number().int(),
  at: z.number().int(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  change_id: z.string().nullable(),
  before_json: z.string().nullable(),
  after_json: z.string().nullable(),
  outcome: z.string().nullable(),
  detail: z.string().nullable(),
});

// The JSON columns hold values this code wrote; a shallow check catches a foreign or corrupted row
// without restating the Plan and command types as schemas.
const storedPlanSchema = z.looseObject({
  kind: z.enum(['endpoint', 'alias']),
  subcommand: z.enum(MUTATING_SUBCOMMANDS),
  fingerprint: z.string(),
});
const storedInputSchema = z.looseObject({ subcommand: z.enum(MUTATING_SUBCOMMANDS), dryRun: z.boolean() });

/** A change request as the pipeline sees it. */
export interface Change {
  id: string;
  createdAt: number;
  updatedAt: number;
  /** Slack user id of whoever typed the command. */
  requester: string;
  /** Channel the command was typed in; the progress message goes there. */
  channel: string;
  subcommand: MutatingSubcommand;
  /** `planTarget(plan)`: `endpoint:<name>` or `alias:<model>@<alias>`. */
  target: string;
  input: MutatingCommand;
  plan: Plan;
  status: ChangeStatus;
  appliedBy?: string;
  appliedAt?: number;
  /** Endpoint config version Databricks gave the rollout, when known. */
  expectConfigVersion?: number;
  /** The channel message that follows the rollout. */
  message?: MessageRef;
  /** Whether that message shows the final outcome. */
  messageFinished: boolean;
  /** One-line summary of how it ended (readable, safe for Slack). */
  outcome?: string;
  /** Why it failed (readable, safe for Slack). */
  error?: string;
  /** The proposal that replaced this one when it went stale. */
  replacedBy?: string;
  triggerId?: string;
  /** The process that runs it while it is in flight (its instance id), when ownership is on. */
  owner?: string;
  /** When that process last said it still runs it; NULL once it let go (a clean shutdown). */
  heartbeatAt?: number;
}

/** Fields a transition may set at the same time as the status; `null` clears a field. */
export interface ChangePatch {
  plan?: Plan;
  appliedBy?: string | null;
  appliedAt?: number | null;
  expectConfigVersion?: number | null;
  outcome?: string | null;
  error?: string | null;
  replacedBy?: string | null;
  /** Written in the same transaction, only when the transition wins. */
  audit?: AuditInput;
}

export type TransitionResult =
  | { won: true; change: Change }
  /** The change was not in any of the `from` statuses (someone else moved it first). */
  | { won: false; reason: 'status'; change: Change | undefined }
  /** Another change holds the target (`applying` or `rolling_out`); the index refused. */
  | { won: false; reason: 'target_busy'; holder: Change | undefined };

export interface NewProposal {
  requester: string;
  channel: string;
  input: MutatingCommand;
  plan: Plan;
  /** Slack's trigger id of the command; a second proposal with the same id is a retry. */
  triggerId?: string;
  /** Who the audit row names; defaults to the requester. */
  actor?: string;
}

/** A take-over of work in flight: who had it and when they last said so. */
export type ClaimResult =
  | { won: true; change: Change; from?: { owner: string; heartbeatAt?: number } }
  /** Its owner is alive (a live lease), or it is no longer in flight. */
  | { won: false; change: Change | undefined };

/** Who this store writes as owner of work in flight, and how long an owner's lease lasts. */
export interface Ownership {
  /** The process's instance id (storage/process-lock.ts). */
  instance: string;
  /** An owner silent for this long has let go (it died). */
  leaseMs: number;
}

export interface ChangeStore {
  /**
   * Stores a proposal (status `proposed`) and audits it. A proposal whose trigger id was seen
   * before is a Slack retry: nothing is written and the earlier change comes back with
   * `duplicate: true`.
   */
  createProposal(proposal: NewProposal): Promise<{ change: Change; duplicate: boolean }>;
  get(id: string): Promise<Change | undefined>;
  /** Compare-and-set: moves the change to `to` only if its status is one of `from`. */
  transition(
    id: string,
    from: ChangeStatus | readonly ChangeStatus[],
    to: ChangeStatus,
    patch?: ChangePatch,
  ): Promise<TransitionResult>;
  /** The change holding a target, if any (`applying` or `rolling_out`). */
  activeFor(target: string): Promise<Change | undefined>;
  setMessage(id: string, ref: MessageRef): Promise<void>;
  /** Records that the progress message shows the final outcome. */
  markMessageFinished(id: string): Promise<void>;
  /** Changes in `applying` or `rolling_out`, oldest first (what a restart must pick up). */
  inFlight(): Promise<Change[]>;
  /**
   * Takes over a change in flight whose owner has let go (no owner, a released or expired lease):
   * compare-and-set, so of any number of processes one wins; audits who had it. On Postgres the
   * lease is judged by the database's clock.
   */
  claim(id: string): Promise<ClaimResult>;
  /** Refreshes the lease of every change in flight this process owns; returns how many. */
  heartbeat(): Promise<number>;
  /** Lets go of one change at shutdown: the next process may take it over at once. */
  release(id: string): Promise<void>;
  /** Ends the leases of a process known dead (its lock ran out): its work may be taken over at once. */
  expireLeasesOf(instance: string): Promise<number>;
  /** What this store writes as owner; undefined without ownership (tests, tools). */
  readonly owner: string | undefined;
  /** Changes that ended but whose progress message was not finished (Slack was down, or a crash). */
  unfinishedMessages(): Promise<Change[]>;
  /**
   * The config an endpoint had before its latest succeeded change: what `rollback` restores.
   * A rollback is itself such a change, so two rollbacks in a row go back and forth.
   */
  previousConfig(endpoint: string): Promise<EndpointConfig | undefined>;
  /** Appends an audit row outside any transition. */
  audit(entry: AuditInput): Promise<void>;
  recentAudit(filter?: AuditFilter): Promise<AuditEntry[]>;
}

// ---------------------------------------------------------------------------------------------
// Statement fragments (the tables themselves are in storage/migrations.ts)
// ---------------------------------------------------------------------------------------------

const activeList = ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ');

// ---------------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------------

/** A short random id, safe in a button value and readable in a message: 10 chars of [a-z0-9]. */
export function newChangeId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join('');
}

function toChange(raw: unknown): Change {
  const row = changeRowSchema.parse(raw);
  const plan = storedPlanSchema.safeParse(JSON.parse(row.plan_json));
  const input = storedInputSchema.safeParse(JSON.parse(row.input_json));
  if (!plan.success || !input.success) {
    throw new Error(`change ${row.id} in the store is unreadable (plan or input does not match)`);
  }
  const change: Change = {
    id: row.id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    requester: row.requester,
    channel: row.channel,
    subcommand: row.subcommand,
    target: row.target,
    input: input.data as unknown as MutatingCommand,
    plan: plan.data as unknown as Plan,
    status: row.status,
    messageFinished: row.message_finished !== 0,
  };
  if (row.applied_by !== null) change.appliedBy = row.applied_by;
  if (row.applied_at !== null) change.appliedAt = row.applied_at;
  if (row.expect_config_version !== null) change.expectConfigVersion = row.expect_config_version;
  if (row.message_channel !== null && row.message_ts !== null) {
    change.message = { channel: row.message_channel, ts: row.message_ts };
  }
  if (row.outcome !== null) change.outcome = row.outcome;
  if (row.error !== null) change.error = row.error;
  if (row.replaced_by !== null) change.replacedBy = row.replaced_by;
  if (row.trigger_id !== null) change.triggerId = row.trigger_id;
  if (row.owner !== null) change.owner = row.owner;
  if (row.heartbeat_at !== null) change.heartbeatAt = row.heartbeat_at;
  return change;
}

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/** What an audit row records as "before" and "after" for a plan. */
export function planStates(plan: Plan): { before: unknown; after: unknown } {
  if (plan.kind === 'endpoint') return { before: plan.before ?? null, after: plan.after };
  return {
    before: { alias: plan.alias, version: plan.fromVersion ?? null },
    after: { alias: plan.alias, version: plan.toVersion },
  };
}

/** A served-version list as a rollback wants it: without the deployment state of the moment. */
function stripState(config: EndpointConfig): EndpointConfig {
  return {
    ...config,
    servedVersions: config.servedVersions.map(({ state: _s, stateMessage: _m, ...v }) => v),
    traffic: config.traffic.map((r) => ({ ...r })),
  };
}

/**
 * Appends one audit row through `q` (the store, or the transaction a move runs in).
 *
 * @example await writeAuditRow(trx, { actor: 'U1', action: 'approved', target: 'endpoint:churn' }, Date.now);
 */
export async function writeAuditRow(q: Queryable, entry: AuditInput, now: () => number): Promise<void> {
  await sql`
    INSERT INTO audit (at, actor, action, target, change_id, before_json, after_json, outcome, detail)
    VALUES (${Math.round(entry.at ?? now())}, ${entry.actor}, ${entry.action}, ${entry.target},
      ${entry.changeId ?? null}, ${json(entry.before)}, ${json(entry.after)}, ${entry.outcome ?? null},
      ${entry.detail ?? null})`.execute(q);
}

/** An audit row as read back. */
export function toAuditEntry(raw: unknown): AuditEntry {
  const row = auditRowSchema.parse(raw);
  const entry: AuditEntry = {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
  };
  if (row.change_id !== null) entry.changeId = row.change_id;
  if (row.before_json !== null) entry.before = JSON.parse(row.before_json);
  if (row.after_json !== null) entry.after = JSON.parse(row.after_json);
  if (row.outcome !== null) entry.outcome = row.outcome;
  if (row.detail !== null) entry.detail = row.detail;
  return entry;
}

const ACTIVE_INDEX = { sqlite: 'changes.target', postgres: 'changes_one_active_per_target' };
const TRIGGER_INDEX = { sqlite: 'changes.trigger_id', postgres: 'changes_trigger_id' };

/** A transition lost to the unique index on active targets: rolled back, then reported. */
class TargetBusy extends Error {}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

/**
 * The change store over the process's database (storage/database.ts opens and migrates it;
 * whoever opened it closes it). A second store over another connection to the same database sees
 * everything that was committed.
 *
 * @example
 * const store = createChangeStore(openDatabase(process.env.MODELGATE_DB ?? '.data/modelgate.db'), clock,
 *   { instance: me.instance, leaseMs: 30_000 });
 * const { change } = await store.createProposal({ requester: 'U1', channel: 'C1', input, plan });
 * (await store.transition(change.id, 'proposed', 'applying', { appliedBy: 'U1' })).won; // true once
 */
export function createChangeStore(
  database: StoreDatabase,
  clock: Clock = systemClock,
  ownership?: Ownership,
): ChangeStore {
  const db = database.kysely;
  const kind = database.kind;
  // Simulated clocks back off by fractions of a millisecond; the columns hold whole milliseconds.
  const now = (): number => Math.round(clock.now());
  const leaseClock = () => leaseNow(kind, now);
  const active = sql.raw(activeList);
  const owner = ownership?.instance ?? null;
  const leaseMs = ownership?.leaseMs ?? 0;

  // Column names come from this fixed map only; values always go in as parameters.
  const PATCH_COLUMNS = {
    plan: 'plan_json',
    appliedBy: 'applied_by',
    appliedAt: 'applied_at',
    expectConfigVersion: 'expect_config_version',
    outcome: 'outcome',
    error: 'error',
    replacedBy: 'replaced_by',
  } as const satisfies Record<Exclude<keyof ChangePatch, 'audit'>, string>;

  const writeAudit = (q: Queryable, entry: AuditInput) => writeAuditRow(q, entry, now);

  async function get(id: string, q: Queryable = db, lock = false): Promise<Change | undefined> {
    const row = await first(q, sql`SELECT * FROM changes WHERE id = ${id}${lock ? forUpdate(kind) : sql``}`);
    return row === undefined ? undefined : toChange(row);
  }

  async function activeFor(target: string): Promise<Change | undefined> {
    const row = await first(
      db,
      sql`SELECT * FROM changes WHERE target = ${target} AND status IN (${active})`,
    );
    return row === undefined ? undefined : toChange(row);
  }

  async function createProposalOnce(p: NewProposal): Promise<{ change: Change; duplicate: boolean }> {
    return db.transaction().execute(async (trx) => {
      if (p.triggerId !== undefined) {
        const seen = await first(trx, sql`SELECT * FROM changes WHERE trigger_id = ${p.triggerId}`);
        if (seen !== undefined) return { change: toChange(seen), duplicate: true };
      }
      const id = newChangeId();
      const target = planTarget(p.plan);
      const at = now();
      await sql`
        INSERT INTO changes (id, created_at, updated_at, requester, channel, subcommand, target, input_json,
                             plan_json, status, trigger_id)
        VALUES (${id}, ${at}, ${at}, ${p.requester}, ${p.channel}, ${p.input.subcommand}, ${target},
                ${JSON.stringify(p.input)}, ${JSON.stringify(p.plan)}, 'proposed', ${p.triggerId ?? null})`.execute(
        trx,
      );
      await writeAudit(trx, {
        at,
        actor: p.actor ?? p.requester,
        action: 'proposed',
        target,
        changeId: id,
        ...planStates(p.plan),
      });
      return { change: (await get(id, trx))!, duplicate: false };
    });
  }

  async function transitionOnce(
    id: string,
    from: readonly ChangeStatus[],
    to: ChangeStatus,
    patch: ChangePatch,
  ): Promise<TransitionResult> {
    return db.transaction().execute(async (trx) => {
      const sets = [sql`status = ${to}`, sql`updated_at = ${now()}`];
      // Whoever moves a change into flight runs it: it owns the change from here.
      if (owner !== null && (ACTIVE_STATUSES as readonly string[]).includes(to)) {
        sets.push(sql`owner = ${owner}`, sql`heartbeat_at = ${leaseClock()}`);
      }
      for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<
        [keyof typeof PATCH_COLUMNS, string]
      >) {
        const value = patch[key];
        if (value === undefined) continue;
        const bound =
          key === 'plan' ? JSON.stringify(value) : typeof value === 'number' ? Math.round(value) : value;
        sets.push(sql`${sql.ref(column)} = ${bound}`);
      }
      const fromList = sql.join(from.map((s) => sql`${s}`));
      let changed: number;
      try {
        changed = await run(
          trx,
          sql`UPDATE changes SET ${sql.join(sets)} WHERE id = ${id} AND status IN (${fromList})`,
        );
      } catch (e) {
        if (isUniqueViolation(e, ACTIVE_INDEX)) throw new TargetBusy();
        throw e;
      }
      if (changed === 0) return { won: false, reason: 'status', change: await get(id, trx) };
      const change = (await get(id, trx))!;
      if (patch.audit) await writeAudit(trx, { changeId: id, ...patch.audit });
      return { won: true, change };
    });
  }

  async function claimOnce(id: string): Promise<ClaimResult> {
    return db.transaction().execute(async (trx) => {
      const before = await get(id, trx);
      const at = now();
      // Without an owner (no ownership) nothing is ever held: every change in flight may be taken over.
      const changed = await run(
        trx,
        sql`UPDATE changes SET owner = ${owner}, heartbeat_at = ${leaseClock()}
            WHERE id = ${id} AND status IN (${active})
              AND (owner IS NULL OR heartbeat_at IS NULL OR heartbeat_at <= ${leaseClock()} - ${leaseMs})`,
      );
      if (changed !== 1) return { won: false, change: before };
      const change = (await get(id, trx))!;
      const from = before?.owner;
      if (from !== undefined && from !== owner) {
        const silent = before?.heartbeatAt;
        await writeAudit(trx, {
          at,
          actor: 'modelgate',
          action: 'taken_over',
          target: change.target,
          changeId: id,
          detail:
            `${owner ?? 'this process'} took the change over (${change.status}) from ${from}, ` +
            (silent === undefined
              ? 'which had let go of it.'
              : `silent since ${new Date(silent).toISOString()}.`),
        });
        return {
          won: true,
          change,
          from: { owner: from, ...(silent !== undefined ? { heartbeatAt: silent } : {}) },
        };
      }
      return { won: true, change };
    });
  }

  const orderInFlight = sql.raw('ORDER BY created_at, rowid');

  return {
    owner: owner ?? undefined,

    claim: claimOnce,

    heartbeat: async () =>
      owner === null
        ? 0
        : run(
            db,
            sql`UPDATE changes SET heartbeat_at = ${leaseClock()} WHERE owner = ${owner} AND status IN (${active})`,
          ),

    async release(id) {
      if (owner === null || !database.open) return;
      await sql`UPDATE changes SET heartbeat_at = NULL
                WHERE id = ${id} AND owner = ${owner} AND status IN (${active})`.execute(db);
    },

    expireLeasesOf: (instance) =>
      run(
        db,
        sql`UPDATE changes SET heartbeat_at = NULL WHERE owner = ${instance} AND status IN (${active})`,
      ),

    async createProposal(p) {
      try {
        return await createProposalOnce(p);
      } catch (e) {
        // Two replicas took the same Slack retry at once: the one that lost reads the winner's.
        if (p.triggerId === undefined || !isUniqueViolation(e, TRIGGER_INDEX)) throw e;
        const seen = await first(db, sql`SELECT * FROM changes WHERE trigger_id = ${p.triggerId}`);
        if (seen === undefined) throw e;
        return { change: toChange(seen), duplicate: true };
      }
    },

    get: (id) => get(id),

    async transition(id, from, to, patch = {}) {
      const fromList = typeof from === 'string' ? [from] : from;
      if (fromList.length === 0) throw new Error('transition needs at least one status to move from');
      try {
        return await transitionOnce(id, fromList, to, patch);
      } catch (e) {
        if (!(e instanceof TargetBusy)) throw e;
        const target = (await get(id))?.target;
        return { won: false, reason: 'target_busy', holder: target ? await activeFor(target) : undefined };
      }
    },

    activeFor,

    async setMessage(id, ref) {
      await sql`UPDATE changes SET message_channel = ${ref.channel}, message_ts = ${ref.ts}, message_finished = 0,
                  updated_at = ${now()} WHERE id = ${id}`.execute(db);
    },

    async markMessageFinished(id) {
      await sql`UPDATE changes SET message_finished = 1 WHERE id = ${id}`.execute(db);
    },

    inFlight: async () =>
      (await all(db, sql`SELECT * FROM changes WHERE status IN (${active}) ${orderInFlight}`)).map(toChange),

    unfinishedMessages: async () =>
      (
        await all(
          db,
          sql`SELECT * FROM changes
              WHERE status NOT IN ('proposed', ${active}) AND message_ts IS NOT NULL AND message_finished = 0
              ORDER BY updated_at, rowid`,
        )
      ).map(toChange),

    async previousConfig(endpoint) {
      const row = await first(
        db,
        sql`SELECT * FROM changes WHERE target = ${`endpoint:${endpoint}`} AND status = 'succeeded'
            ORDER BY updated_at DESC, rowid DESC LIMIT 1`,
      );
      if (row === undefined) return undefined;
      const plan = toChange(row).plan;
      return plan.kind === 'endpoint' && plan.before ? stripState(plan.before) : undefined;
    },

    audit: (entry) => writeAudit(db, entry),

    async recentAudit(filter = {}) {
      const where = [];
      if (filter.target !== undefined) where.push(sql`target = ${filter.target}`);
      if (filter.changeId !== undefined) where.push(sql`change_id = ${filter.changeId}`);
      if (filter.actor !== undefined) where.push(sql`actor = ${filter.actor}`);
      if (filter.action !== undefined) where.push(sql`action = ${filter.action}`);
      if (filter.since !== undefined) where.push(sql`at >= ${filter.since}`);
      const clause = where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``;
      return (
        await all(db, sql`SELECT * FROM audit ${clause} ORDER BY seq DESC LIMIT ${filter.limit ?? 50}`)
      ).map(toAuditEntry);
    },
  };
}
