/**
 * Which store the bot keeps its record in: Postgres when MODELGATE_DATABASE_URL holds a
 * postgres:// (or postgresql://) URL, or when PGHOST is set and the URL is not (the standard PG*
 * variables: PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE); otherwise the SQLite file at
 * MODELGATE_DB. A malformed URL is a configuration error with the fix, reported with the others.
 */
import { z } from 'zod';
import type { ConfigIssue } from './databricks-connection.js';

/** Where Postgres is and who to log in as (never printed with its password). */
export interface PostgresSettings {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
}

export type DatabaseSettings =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; postgres: PostgresSettings };

const URL_FIX =
  'set MODELGATE_DATABASE_URL to postgres://user:password@host:5432/database (percent-encode special characters in the password), or unset it to keep the SQLite file at MODELGATE_DB';

/** Why a database URL cannot be used, or undefined when it can. */
function urlProblem(v: string): string | undefined {
  if (!/^postgres(ql)?:\/\//.test(v)) return 'is not a postgres:// or postgresql:// URL';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'is not a URL modelgate can read (malformed)';
  }
  if (u.hostname === '' && !u.searchParams.has('host')) return 'names no host';
  if (u.port !== '' && !(Number(u.port) >= 1 && Number(u.port) <= 65_535)) {
    return 'has a port that is not a number from 1 to 65535';
  }
  return undefined;
}

const postgresUrlSchema = z.string().superRefine((v, ctx) => {
  const problem = urlProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const portSchema = z.coerce.number().int().min(1).max(65_535);

/**
 * The store settings from the raw variables; problems go into `issues`.
 *
 * @example databaseSettings({ MODELGATE_DATABASE_URL: 'postgres://app@db:5432/modelgate' }, '.data/modelgate.db', [])
 * // { kind: 'postgres', postgres: { connectionString: 'postgres://app@db:5432/modelgate' } }
 */
export function databaseSettings(
  raw: {
    MODELGATE_DATABASE_URL?: string | undefined;
    PGHOST?: string | undefined;
    PGPORT?: string | undefined;
    PGUSER?: string | undefined;
    PGPASSWORD?: string | undefined;
    PGDATABASE?: string | undefined;
  },
  sqlitePath: string,
  issues: ConfigIssue[],
): DatabaseSettings {
  const url = raw.MODELGATE_DATABASE_URL;
  if (url !== undefined) {
    const parsed = postgresUrlSchema.safeParse(url);
    if (!parsed.success) {
      // Never echo the value: it may hold a password.
      issues.push({
        key: 'MODELGATE_DATABASE_URL',
        problem: parsed.error.issues[0]?.message ?? 'is malformed',
        fix: URL_FIX,
      });
      return { kind: 'sqlite', path: sqlitePath };
    }
    return { kind: 'postgres', postgres: { connectionString: url } };
  }
  if (raw.PGHOST === undefined) return { kind: 'sqlite', path: sqlitePath };
  let port: number | undefined;
  if (raw.PGPORT !== undefined) {
    const p = portSchema.safeParse(raw.PGPORT);
    if (p.success) port = p.data;
    else
      issues.push({
        key: 'PGPORT',
        problem: `"${raw.PGPORT}" is not a port number`,
        fix: 'set PGPORT to a number from 1 to 65535, or unset it for 5432',
      });
  }
  return {
    kind: 'postgres',
    postgres: {
      host: raw.PGHOST,
      ...(port !== undefined ? { port } : {}),
      ...(raw.PGUSER !== undefined ? { user: raw.PGUSER } : {}),
      ...(raw.PGPASSWORD !== undefined ? { password: raw.PGPASSWORD } : {}),
      ...(raw.PGDATABASE !== undefined ? { database: raw.PGDATABASE } : {}),
    },
  };
}

/** `host:port/database` for the start-up line; never the password. */
export function describeDatabase(d: DatabaseSettings): string {
  if (d.kind === 'sqlite') return d.path;
  const p = d.postgres;
  if (p.connectionString) {
    const u = new URL(p.connectionString);
    return `Postgres ${u.hostname}:${u.port || '5432'}${u.pathname}`;
  }
  return `Postgres ${p.host}:${p.port ?? 5432}/${p.database ?? p.user ?? ''}`;
}
