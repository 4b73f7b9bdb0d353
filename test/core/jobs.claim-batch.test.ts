/**
 * A runner whose jobs take slots (a node's call lines) holds them only for a small batch while its claim
 * query runs, so work that cannot wait for a poll (an inbound call) still finds a free line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { JobRunner, enqueueJob } from '../../src/jobs/runner.js';
import type { Store } from '../../src/store/index.js';
import { openTestPglite } from '../helpers/backends.js';

describe('job claims with slots', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestPglite();
  });
  afterAll(async () => {
    await store.close();
  });

  it('holds at most claimBatch slots beyond running jobs, and still runs every job', async () => {
    const LINES = 100;
    let free = LINES;
    let running = 0;
    let worstHeldForClaims = 0;
    const slots = {
      take(max: number) {
        const n = Math.min(max, free);
        free -= n;
        worstHeldForClaims = Math.max(worstHeldForClaims, LINES - free - running);
        return n;
      },
      give(n: number) {
        free += n;
      },
    };
    const runner = new JobRunner(store.db, pino({ level: 'silent' }), { nodeId: 'n1', pollMs: 20, concurrency: LINES, slots, claimBatch: 4, onlyRegisteredKinds: true });
    const done = new Set<number>();
    runner.register('line.job', async (payload: { n: number }) => {
      running++;
      await new Promise((r) => setTimeout(r, 5));
      done.add(payload.n);
      running--;
      slots.give(1);
    });
    for (let n = 0; n < 30; n++) await enqueueJob(store.db, { kind: 'line.job', payload: { n } });
    await runner.start();
    await expect.poll(() => done.size, { timeout: 20_000 }).toBe(30);
    await runner.stop(1000);
    expect(worstHeldForClaims).toBeLessThanOrEqual(4);
    // stop waits for a poll that was claiming when it came: every slot is back once it returns.
    expect(free).toBe(LINES);
  });

  it('gives back, untouched, jobs a claim under way at stop found, and stop waits for that claim', async () => {
    let admitted!: () => void;
    const admitting = new Promise<void>((r) => (admitted = r));
    let claimStarted!: () => void;
    const claimStartedP = new Promise<void>((r) => (claimStarted = r));
    const ran: number[] = [];
    const runner = new JobRunner(store.db, pino({ level: 'silent' }), {
      nodeId: 'n2',
      pollMs: 20,
      onlyRegisteredKinds: true,
      // A cluster-wide limit's check inside the claim's transaction: held open until the test lets it go.
      admit: async (_trx, n) => {
        claimStarted();
        await admitting;
        return n;
      },
    });
    runner.register('stop.job', async (payload: { n: number }) => {
      ran.push(payload.n);
    });
    const job = await enqueueJob(store.db, { kind: 'stop.job', payload: { n: 1 } });
    const id = job!.id;
    await runner.start();
    await claimStartedP;
    let stopped = false;
    const stopping = runner.stop(5_000).then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false); // the claim is still under way
    admitted();
    await stopping;
    expect(ran).toEqual([]);
    const row = await store.db.selectFrom('jobs').select(['locked_by', 'locked_at', 'attempts']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toEqual({ locked_by: null, locked_at: null, attempts: 0 });
  });
});
