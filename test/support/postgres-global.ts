/**
 * vitest globalSetup: ONE PostgreSQL server for the whole run (each test file makes its own
 * databases on it, test/support/backends.ts). Its URL goes to the test files through
 * `inject('postgresUrl')`. Without PostgreSQL the Postgres cases are reported as not run, with one
 * message saying how to get it; with MODELGATE_REQUIRE_POSTGRES=1 (CI) the run fails instead.
 */
import type { TestProject } from 'vitest/node';
import { POSTGRES_HOW_TO, type PostgresServer, startPostgresServer } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Empty when no server runs. */
    postgresUrl: string;
  }
}

let server: PostgresServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  try {
    server = await startPostgresServer();
    project.provide('postgresUrl', server.url);
  } catch (e) {
    if (process.env.MODELGATE_REQUIRE_POSTGRES === '1') {
      throw new Error(`MODELGATE_REQUIRE_POSTGRES=1 but ${(e as Error).message}`);
    }
    console.warn(
      `\n${(e as Error).message === POSTGRES_HOW_TO ? POSTGRES_HOW_TO : `the Postgres cases did not run: ${(e as Error).message}`}\n`,
    );
    project.provide('postgresUrl', '');
  }
}

export function teardown(): void {
  server?.stop();
}
