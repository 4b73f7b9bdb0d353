import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own database (PGlite in memory, or its own PostgreSQL schema).
    pool: 'forks',
    // One migrated embedded database per run, loaded by every PGlite store the tests open (much faster than
    // creating and migrating one each time).
    globalSetup: ['./test/helpers/pglite-template.setup.ts'],
    maxWorkers: 2,
    // The usual report, then one line naming the backends the run exercised (PGlite, PostgreSQL, Redis).
    reporters: ['default', './test/helpers/backends-reporter.ts'],
  },
});
