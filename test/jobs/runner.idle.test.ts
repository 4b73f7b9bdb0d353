/**
 * A job runner in idle mode (the embedded store's): with nothing due it does not poll the store over and
 * over; an enqueue followed by `wake` runs the job at once, a job due later runs at its time, and jobs due
 * but not claimable (the cluster's task limit) are still looked for every pollMs. The runners here poll
 * only once a minute otherwise, so each job that runs within the test's wait ran because of idle mode's
 * wake-ups, not because of a poll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { JobRunner, RetryJob, enqueueJob, type JobRunnerOptions } from '../../src/jobs/runner.js';
import type { Store } from '../../src/store/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { countStatements, type StatementLog } from '../helpers/statements.js';

const MINUTE = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of BACKENDS) {
  describe(`job runner, idle mode [${backend.name}]`, () => {
    let store: Store;
    let counted: StatementLog;
    const runners: JobRunner[] = [];
    beforeAll(async () => {
      store = await backend.open();
      counted = countStatements(store);
    });
    afterAll(async () => {
      for (const r of runners) await r.stop(1000);
      await store.close();
    });

    /** A runner of its own kind (tests share the table), idle mode on, polling once a minute otherwise. */
    function runner(kind: string, opts: Partial<JobRunnerOptions> = {}): { r: JobRunner; ran: Array<{ n: number; at: number }> } {
      const r = new JobRunner(counted.store.db, pino({ level: 'silent' }), { nodeId: `n-${kind}`, pollMs: MINUTE, idlePollMs: MINUTE, onlyRegisteredKinds: true, ...opts });
      const ran: Array<{ n: number; at: number }> = [];
      r.register(kind, async (payload: { n: number }) => {
        ran.push({ n: payload.n, at: Date.now() });
      });
      runners.push(r);
      return { r, ran };
    }

    it('does not poll the store again and again while nothing is due', async () => {
      // Control: without idle mode, a runner polling every 20 ms keeps claiming.
      const busy = runner('idle.busy', { pollMs: 20, idlePollMs: undefined });
      await busy.r.start();
      counted.reset();
      const t0 = Date.now();
      await expect.poll(() => counted.statements.length, { timeout: 20_000 }).toBeGreaterThan(5);
      const busyFor = Date.now() - t0;
      await busy.r.stop(1000);

      // As long as the control took to poll six times (or longer), the idle runner looks once.
      const idle = runner('idle.quiet', { pollMs: 20, idlePollMs: MINUTE });
      counted.reset();
      await idle.r.start();
      await sleep(Math.max(600, busyFor));
      // Its first look: one claim, then when the next job is due (none): and then it sleeps.
      expect(counted.statements.length, counted.statements.map((s) => s.sql).join('\n')).toBeLessThanOrEqual(2);
    });

    it('runs a job enqueued for now at once when woken', async () => {
      const { r, ran } = runner('idle.now');
      await r.start();
      await sleep(100); // asleep: it found nothing
      await enqueueJob(store.db, { kind: 'idle.now', payload: { n: 1 } });
      r.wake();
      await expect.poll(() => ran.map((j) => j.n), { timeout: 10_000 }).toEqual([1]);
      expect(await store.db.selectFrom('jobs').select('id').where('kind', '=', 'idle.now').execute()).toEqual([]);
    });

    it('runs a job due later at its time, told by the enqueuer or found at start', async () => {
      const { r, ran } = runner('idle.later');
      const known = new Date(Date.now() + 1500);
      // Already in the table when the runner starts: its first look finds when it is due.
      await enqueueJob(store.db, { kind: 'idle.later', payload: { n: 1 }, runAt: known });
      await r.start();
      await sleep(100);
      const told = new Date(Date.now() + 1000);
      await enqueueJob(store.db, { kind: 'idle.later', payload: { n: 2 }, runAt: told });
      r.wake(told);
      await expect.poll(() => ran.map((j) => j.n).sort(), { timeout: 20_000 }).toEqual([1, 2]);
      expect(ran.find((j) => j.n === 1)!.at).toBeGreaterThanOrEqual(known.getTime());
      expect(ran.find((j) => j.n === 2)!.at).toBeGreaterThanOrEqual(told.getTime());
    });

    it('runs the retry of a job it ran at once (runNow) when the retry is due', async () => {
      const r = new JobRunner(counted.store.db, pino({ level: 'silent' }), { nodeId: 'n-retry', pollMs: MINUTE, idlePollMs: MINUTE, onlyRegisteredKinds: true });
      runners.push(r);
      const attempts: number[] = [];
      r.register('idle.retry', async () => {
        attempts.push(Date.now());
        if (attempts.length === 1) throw new RetryJob(500);
      });
      await r.start();
      const job = await enqueueJob(store.db, { kind: 'idle.retry', payload: {}, maxAttempts: 2, lockedBy: 'n-retry' });
      r.runNow(job!);
      await expect.poll(() => attempts.length, { timeout: 20_000 }).toBe(2);
      expect(attempts[1] - attempts[0]).toBeGreaterThanOrEqual(500);
    });

    it('keeps looking every pollMs while jobs are due that it may not claim yet', async () => {
      let open = false;
      // The cluster-wide task limit: nothing admitted until a slot frees (no wake comes for that).
      const { r, ran } = runner('idle.admit', { pollMs: 50, admit: async (_trx, n) => (open ? n : 0) });
      await enqueueJob(store.db, { kind: 'idle.admit', payload: { n: 1 } });
      await r.start();
      await sleep(200);
      expect(ran).toEqual([]);
      open = true;
      await expect.poll(() => ran.map((j) => j.n), { timeout: 10_000 }).toEqual([1]);
    });
  });
}
