/**
 * The few places where SQLite and Postgres differ, for the stores' SQL: what "now" is for a lease,
 * how many rows a compare-and-set moved, which unique index refused a row, and row locks.
 */
import { type Kysely, type QueryResult, type RawBuilder, sql } from 'kysely';

/** Which engine a connection speaks. */
export type StoreKind = 'sqlite' | 'postgres';

/** Any Kysely over the store, a transaction included: the stores write raw SQL through it. */
// biome-ignore lint/suspicious/noExplicitAny: the stores use sql`` templates, not the typed builder
export type Queryable = Kysely<any>;

/**
 * Postgres's clock in epoch ms. Every replica compares leases against it, so a replica whose own
 * clock runs minutes fast cannot judge a live lease expired and take it.
 */
export const POSTGRES_NOW_MS = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * "Now" in epoch ms for lease writes and comparisons: the database's clock on Postgres (several
 * replicas, each with its own clock), the injected clock on SQLite (one process; tests drive it).
 *
 * @example sql`UPDATE changes SET heartbeat_at = ${leaseNow(kind, clock.now)} WHERE owner = ${me}`
 */
export function leaseNow(kind: StoreKind, now: () => number): RawBuilder<number> {
  return kind === 'postgres' ? POSTGRES_NOW_MS : sql<number>`${Math.round(now())}`;
}

/**
 * Whether work in flight may be taken over: nobody owns it, or its owner's heartbeat is older than
 * the lease (by the database's clock on Postgres). On SQLite the process lock already guarantees
 * that the previous process is dead, so everything in flight is free there.
 *
 * @example sql`UPDATE score_runs SET owner = ${me} WHERE id = ${id} AND ${ownerGone(kind, clock.now, leaseMs)}`
 */
export function ownerGone(kind: StoreKind, now: () => number, leaseMs: number): RawBuilder<unknown> {
  if (kind === 'sqlite') return sql`1 = 1`;
  return sql`(owner IS NULL OR heartbeat_at IS NULL OR heartbeat_at <= ${leaseNow(kind, now)} - ${leaseMs})`;
}

/** Rows an INSERT, UPDATE or DELETE touched (a bigint in Kysely). */
export const affected = (r: QueryResult<unknown>): number => Number(r.numAffectedRows ?? 0n);

/** ` FOR UPDATE` on Postgres, where a read-decide-write transaction must lock its row first. */
export const forUpdate = (kind: StoreKind): RawBuilder<unknown> =>
  sql.raw(kind === 'postgres' ? ' FOR UPDATE' : '');

/**
 * Whether `e` is a unique violation on one index: SQLite names the columns
 * (`UNIQUE constraint failed: changes.target`), Postgres the index (`changes_one_active_per_target`).
 */
export function isUniqueViolation(e: unknown, on: { sqlite: string; postgres: string }): boolean {
  if (!(e instanceof Error)) return false;
  const { code, constraint } = e as { code?: string; constraint?: string };
  if (code === '23505') return constraint === on.postgres;
  return (
    (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') &&
    e.message.includes(on.sqlite)
  );
}

/**
 * Runs a query and returns its rows.
 *
 * @example const rows = await all(q, sql`SELECT * FROM changes WHERE id = ${id}`);
 */
export async function all(q: Queryable, query: RawBuilder<unknown>): Promise<unknown[]> {
  return (await query.execute(q)).rows as unknown[];
}

/** The first row of a query, if any. */
export async function first(q: Queryable, query: RawBuilder<unknown>): Promise<unknown | undefined> {
  return (await query.execute(q)).rows[0];
}

/** Runs a statement and returns how many rows it touched. */
export async function run(q: Queryable, query: RawBuilder<unknown>): Promise<number> {
  return affected(await query.execute(q));
}
