/**
 * The one live process a SQLite store admits. Two bots on one file would both follow the same
 * rollouts and settle each other's work from half-seen state, so the second is refused with who
 * holds the file and what to do. The holder proves it is alive by a heartbeat; a holder that stops
 * heartbeating (kill -9, a lost host) loses the file once its lease has run out.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type Database from 'better-sqlite3';
import { z } from 'zod';

/** Who a process is, as the lock, the work it owns and the logs name it. */
export interface ProcessIdentity {
  /** Unique per process start: `<host>:<pid>:<random>`. */
  instance: string;
  pid: number;
  host: string;
}

/** The identity of this process, made once at start-up. */
export function newProcessIdentity(): ProcessIdentity {
  const host = hostname();
  return { instance: `${host}:${process.pid}:${randomBytes(3).toString('hex')}`, pid: process.pid, host };
}

/** The process that holds a store, as its lock row says. */
export interface LockHolder extends ProcessIdentity {
  since: number;
  heartbeatAt: number;
}

const holderRowSchema = z.object({
  instance: z.string(),
  pid: z.number().int(),
  host: z.string(),
  acquired_at: z.number().int(),
  heartbeat_at: z.number().int(),
});

/** A second live process asked for a store another one holds. */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
  constructor(
    readonly file: string,
    readonly holder: LockHolder,
    readonly leaseMs: number,
    readonly now: number,
  ) {
    const ago = Math.max(0, Math.round((now - holder.heartbeatAt) / 1000));
    const freeIn = Math.max(0, Math.ceil((holder.heartbeatAt + leaseMs - now) / 1000));
    super(
      `The store ${file} is in use by another modelgate process: pid ${holder.pid} on host ${holder.host} ` +
        `(instance ${holder.instance}), holding it since ${new Date(holder.since).toISOString()}, ` +
        `last heartbeat ${ago} s ago. Two processes on one SQLite file would split the record, so this one does not start. ` +
        'Stop that process first (a rolling deploy on SQLite must stop the old process before the new one starts), ' +
        'or point MODELGATE_DB at another file. ' +
        `If that process is gone (killed, its host lost), the store frees itself ${Math.round(leaseMs / 1000)} s after its last heartbeat ` +
        `(in about ${freeIn} s); set MODELGATE_STORE_WAIT_SECONDS to wait for it at start-up.`,
    );
  }
}

/** The lock a process holds on its store. */
export interface ProcessLock {
  /** The process that held the lock before this one, when its lease had run out (it died). */
  readonly took: LockHolder | undefined;
  /** Proves this process is alive. False when another process has taken the store meanwhile. */
  heartbeat(): boolean;
  /** Gives the store up at shutdown (the next process need not wait out the lease). */
  release(): void;
}

export interface LockSettings {
  /** How long a holder stays the holder without a heartbeat. */
  leaseMs: number;
  now: () => number;
}

const hasLockTable = (db: Database.Database): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'process_lock'").get() !==
  undefined;

function holderOf(db: Database.Database): LockHolder | undefined {
  if (!hasLockTable(db)) return undefined;
  const raw = db.prepare('SELECT * FROM process_lock WHERE id = 1').get();
  if (raw === undefined) return undefined;
  const row = holderRowSchema.parse(raw);
  return {
    instance: row.instance,
    pid: row.pid,
    host: row.host,
    since: row.acquired_at,
    heartbeatAt: row.heartbeat_at,
  };
}

/**
 * Refuses (StoreLockedError) when another process holds the store and its lease is live. Meant to
 * run inside the transaction that then migrates and takes the lock, so a newer modelgate never
 * migrates a file under a live older one. Returns the holder whose lease ran out, if any.
 */
export function checkProcessLock(
  db: Database.Database,
  me: ProcessIdentity,
  s: LockSettings,
): LockHolder | undefined {
  const holder = holderOf(db);
  if (!holder || holder.instance === me.instance) return undefined;
  const now = s.now();
  if (holder.heartbeatAt + s.leaseMs > now) throw new StoreLockedError(db.name, holder, s.leaseMs, now);
  return holder;
}

/**
 * Takes the lock (the caller checked it in the same transaction) and returns its handle.
 *
 * @example
 * const lock = takeProcessLock(db, newProcessIdentity(), { leaseMs: 30_000, now: Date.now }, undefined);
 * setInterval(() => lock.heartbeat(), 10_000);
 * // at shutdown
 * lock.release();
 */
export function takeProcessLock(
  db: Database.Database,
  me: ProcessIdentity,
  s: LockSettings,
  took: LockHolder | undefined,
): ProcessLock {
  const at = Math.round(s.now());
  db.prepare(
    `INSERT INTO process_lock (id, instance, pid, host, acquired_at, heartbeat_at)
     VALUES (1, @instance, @pid, @host, @at, @at)
     ON CONFLICT (id) DO UPDATE SET instance = @instance, pid = @pid, host = @host, acquired_at = @at, heartbeat_at = @at`,
  ).run({ instance: me.instance, pid: me.pid, host: me.host, at });
  const beat = db.prepare('UPDATE process_lock SET heartbeat_at = ? WHERE id = 1 AND instance = ?');
  const drop = db.prepare('DELETE FROM process_lock WHERE id = 1 AND instance = ?');
  return {
    took,
    heartbeat: () => beat.run(Math.round(s.now()), me.instance).changes === 1,
    release() {
      if (db.open) drop.run(me.instance);
    },
  };
}
