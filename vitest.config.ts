import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Twins bind port 0 on loopback, so files can run in parallel without clashing.
    pool: 'forks',
    // One PostgreSQL server for the run; each file makes its own databases (test/support/backends.ts).
    globalSetup: ['test/support/postgres-global.ts'],
  },
});
