/**
 * When job runners first look for due jobs. `serve` starts its runners without that first look and wakes them
 * once the server listens (SwitchboardOverrides.firstJobPoll), so that a start's own statements do not queue
 * behind their claims on the embedded store's one connection. A due job left by the previous process must
 * still run: only later, never lost.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/index.js';
import { createSwitchboard } from '../../src/app.js';
import { createLogger } from '../../src/lib/logger.js';
import { JobRunner, enqueueJob } from '../../src/jobs/runner.js';
import { BACKENDS, openTestPglite } from '../helpers/backends.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of BACKENDS) {
  describe(`a runner started without its first poll [${backend.name}]`, () => {
    const closing: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const close of closing.reverse()) await close();
    });

    it('claims nothing until woken, then runs the job that was due', async () => {
      const store = await backend.open();
      closing.push(() => store.close());
      const runner = new JobRunner(store.db, pino({ level: 'silent' }), { nodeId: 'n-first-poll', pollMs: 20, onlyRegisteredKinds: true });
      closing.push(() => runner.stop(1000));
      const ran: number[] = [];
      runner.register('first-poll.due', async (p: { n: number }) => {
        ran.push(p.n);
      });
      await enqueueJob(store.db, { kind: 'first-poll.due', payload: { n: 1 } });

      await runner.start({ firstPoll: false });
      // Polling every 20 ms once started normally: 25 polls' worth of time and nothing claimed.
      await sleep(500);
      expect(ran).toEqual([]);
      const row = await store.db.selectFrom('jobs').select(['locked_by']).where('kind', '=', 'first-poll.due').executeTakeFirstOrThrow();
      expect(row.locked_by).toBeNull();

      runner.wake();
      await expect.poll(() => ran, { timeout: 20_000 }).toEqual([1]);
    });
  });
}

describe('a Switchboard whose runners first poll after listen (as `serve` starts it)', () => {
  it('leaves a due job alone until the server listens, then runs it', async () => {
    const store = await openTestPglite();
    // Left by "the previous process": due now, of a kind the general runner takes.
    await enqueueJob(store.db, { kind: 'first-poll.left', payload: { n: 7 } });
    const config = loadConfig({ LOG_LEVEL: 'silent', NODE_ENV: 'test', PORT: '0' });
    const sb = await createSwitchboard(config, { log: createLogger('silent'), jobPollMs: 50, store, firstJobPoll: 'after-listen' });
    try {
      const ran: number[] = [];
      // Registered after the start: had the runner looked at start, it would have found no handler (and given up).
      sb.jobs.register('first-poll.left', async (p: { n: number }) => {
        ran.push(p.n);
      });
      await sleep(500);
      expect(ran).toEqual([]);
      await sb.listen();
      await expect.poll(() => ran, { timeout: 20_000 }).toEqual([7]);
    } finally {
      await sb.shutdown();
      await store.close();
    }
  });
});
