/**
 * A throwaway PostgreSQL server for the tests: Debian's binaries (the newest under
 * /usr/lib/postgresql/<n>/bin), initdb into a temporary folder as a non-root user (the `postgres`
 * OS user when we run as root: initdb refuses root), listening on 127.0.0.1 on a free port with its
 * socket in that folder, tuned for speed (no fsync), stopped and removed afterwards. The recipe
 * is the one in shared/reference/slack-postgres-round2.md (B1).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** How to get PostgreSQL where it is missing: the one message the suite prints. */
export const POSTGRES_HOW_TO =
  'the Postgres cases did not run: PostgreSQL is not installed. Install it with `apt-get install -y postgresql` ' +
  '(as root; `sh scripts/ensure-postgres.sh` does it), then run the tests again.';

/** Debian's newest PostgreSQL bin folder, if installed. */
export function findPostgresBin(): string | undefined {
  if (process.env.PGBIN && existsSync(join(process.env.PGBIN, 'initdb'))) return process.env.PGBIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest ? join(root, newest, 'bin') : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PostgresServer {
  /** `postgres://app@127.0.0.1:<port>/postgres`: a passwordless superuser, loopback only. */
  url: string;
  host: string;
  port: number;
  user: string;
  stop(): void;
}

/**
 * Starts a server (about 1 s). Throws when PostgreSQL is not installed.
 *
 * @example const pg = await startPostgresServer(); try { … pg.url … } finally { pg.stop(); }
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(POSTGRES_HOW_TO);
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-pg-'));
  // initdb refuses to run as root: the server runs as the `postgres` user, in a folder it owns.
  const as = (cmd: string, args: string[]) =>
    root
      ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: dir, stdio: 'pipe' })
      : execFileSync(cmd, args, { cwd: dir, stdio: 'pipe' });
  if (root) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), -1);
  const data = join(dir, 'data');
  const stop = () => {
    try {
      as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Not running (it failed to start, or was stopped already).
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    as(join(bin, 'initdb'), [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'app',
      '--no-sync',
      '--no-instructions',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
    const port = await freePort();
    as(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`,
      'start',
    ]);
    return { url: `postgres://app@127.0.0.1:${port}/postgres`, host: '127.0.0.1', port, user: 'app', stop };
  } catch (e) {
    stop();
    throw e;
  }
}
