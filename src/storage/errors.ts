/**
 * What can go wrong between modelgate and its database, as coded errors: at start-up (each fault
 * named, with its fix, worded here once) and while running (StoreUnavailableError, a UserError the
 * Slack edge words as "modelgate cannot reach its database, nothing was changed").
 */
import { UserError } from '../domain/errors.js';

/** The database went away while the bot runs: the command or click stops before it changes anything. */
export class StoreUnavailableError extends UserError<'store_unavailable'> {
  override readonly name = 'StoreUnavailableError';
  constructor(cause: string) {
    super('store_unavailable', { cause });
  }
}

/** Why the store could not be opened at start-up. */
export type StoreFault = 'unreachable' | 'bad_credentials' | 'database_missing';

const FAULT_WORDS: Record<StoreFault, { what: string; fix: string }> = {
  unreachable: {
    what: 'cannot reach the Postgres server',
    fix: 'check that the server runs and that its host and port (MODELGATE_DATABASE_URL, or PGHOST and PGPORT) are right and reachable from here',
  },
  bad_credentials: {
    what: 'the Postgres server refused the user name or password',
    fix: 'check the user and password in MODELGATE_DATABASE_URL (or PGUSER and PGPASSWORD), and that pg_hba.conf lets that user in from this host',
  },
  database_missing: {
    what: 'the Postgres database does not exist',
    fix: 'create it (CREATE DATABASE …, or createdb) or fix the database name at the end of MODELGATE_DATABASE_URL (or PGDATABASE)',
  },
};

/** The store could not be opened: which fault it was, where, and the fix. */
export class StoreStartError extends Error {
  override readonly name = 'StoreStartError';
  constructor(
    readonly fault: StoreFault,
    /** Where: `host:port/database`, never a password. */
    readonly where: string,
    /** The driver's words, for the log. */
    readonly detail: string,
  ) {
    const w = FAULT_WORDS[fault];
    super(`modelgate ${w.what} (${where}): ${detail}. To fix it, ${w.fix}.`);
  }
}

/** Postgres SQLSTATEs of a refused login and of a database that does not exist. */
const AUTH_CODES = new Set(['28P01', '28000']);
const NO_DATABASE = '3D000';

/** Node's codes for a server that is down, unknown or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * What a driver error says about the connection: a fault of the link (retry later, or tell the user
 * the store is unavailable), a refused login or a missing database (no retry), or none of these (a
 * query's own error, passed on).
 *
 * @example connectionFault({ code: 'ECONNREFUSED' }) // 'unreachable'
 */
export function connectionFault(e: unknown): StoreFault | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (AUTH_CODES.has(code)) return 'bad_credentials';
    if (code === NO_DATABASE) return 'database_missing';
    if (NETWORK_CODES.has(code)) return 'unreachable';
    // SQLSTATE class 08 (connection exceptions); 57P01-57P03: the server shut down or is starting.
    if (/^08/.test(code) || /^57P0[1-3]$/.test(code)) return 'unreachable';
  }
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable/i.test(
    e.message,
  )
    ? 'unreachable'
    : undefined;
}
