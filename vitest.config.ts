import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Transitional: see test/support/error-wording.ts.
    setupFiles: ['test/support/error-wording.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Twins bind port 0 on loopback, so files can run in parallel without clashing.
    pool: 'forks',
  },
});
