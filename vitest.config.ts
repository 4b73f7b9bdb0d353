import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/helpers/slow-first.sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own database (PGlite in memory, or its own PostgreSQL schema).
    pool: 'forks',
    // A worker keeps its loaded modules from one file to the next instead of importing the whole server
    // again for each of the 160 files (that import was half the suite's CPU: test/faces alone went from
    // 166 s to 81 s of CPU). The files share no state through modules: each opens its own store and app,
    // and the few that replace a global (fetch, timers) put it back in afterAll/finally.
    isolate: false,
    sequence: { sequencer: SlowFirstSequencer },
    // One migrated embedded database per run, loaded by every PGlite store the tests open (much faster than
    // creating and migrating one each time).
    globalSetup: ['./test/helpers/pglite-template.setup.ts'],
    maxWorkers: 2,
    // The usual report, then one line naming the backends the run exercised (PGlite, PostgreSQL, Redis).
    reporters: ['default', './test/helpers/backends-reporter.ts'],
  },
});
