/**
 * Says at the end of `npm test` which backends the run exercised, so a run without PostgreSQL or Redis
 * cannot pass for a full one:
 *
 *   backends: PGlite ✓ 212 tests · PostgreSQL ✓ 198 tests (TEST_DATABASE_URL) · Redis ✗ not run (TEST_REDIS_URL unset)
 *
 * A test counts for a backend when its name or one of its describe blocks names it (the suites put the
 * backend in their titles: `[pglite]`, `[postgres]`, `(PostgreSQL + Redis)`).
 */
import type { Reporter, TestModule } from 'vitest/node';

interface Backend {
  label: string;
  /** Matches the titles of the tests that run on it. */
  named: RegExp;
  /** The variable that turns it on (PGlite is always on: it is embedded). */
  env?: string;
}

const BACKENDS: Backend[] = [
  { label: 'PGlite', named: /\bpglite\b/i },
  { label: 'PostgreSQL', named: /\bpostgres(ql)?\b/i, env: 'TEST_DATABASE_URL' },
  { label: 'Redis', named: /\bredis\b/i, env: 'TEST_REDIS_URL' },
];

export default class BackendsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const parts = BACKENDS.map((b) => {
      let passed = 0;
      let failed = 0;
      for (const m of testModules) {
        for (const t of m.children.allTests()) {
          if (!b.named.test(t.fullName)) continue;
          const state = t.result().state;
          if (state === 'passed') passed++;
          else if (state === 'failed') failed++;
        }
      }
      const source = b.env ? ` (${b.env})` : '';
      if (b.env && !process.env[b.env]) return `${b.label} ✗ not run (${b.env} unset)`;
      if (failed > 0) return `${b.label} ✗ ${failed} of ${passed + failed} tests failed${source}`;
      if (passed === 0) return `${b.label} – no test for it ran${source}`;
      return `${b.label} ✓ ${passed} tests${source}`;
    });
    process.stdout.write(`\n backends: ${parts.join(' · ')}\n\n`);
  }
}
