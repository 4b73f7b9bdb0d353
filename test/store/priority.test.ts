/**
 * The embedded store's single connection serves API (foreground) statements before queued background
 * work (the engine's writes), without starving the background. Asserts order, never time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { FOREGROUND_BURST, PriorityLock } from '../../src/store/pglite-pool.js';
import { currentPriority, inBackground, type Store } from '../../src/store/index.js';
import { openTestPglite } from '../helpers/backends.js';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('PriorityLock', () => {
  it('hands the lock to a waiting foreground holder first, then the two lines take turns, each in arrival order', async () => {
    const lock = new PriorityLock();
    const release = await lock.acquire(true);
    const order: string[] = [];
    const take = (name: string, fg: boolean) =>
      lock.acquire(fg).then((r) => {
        order.push(name);
        r();
      });
    const all = Promise.all([take('bg1', false), take('bg2', false), take('fg1', true), take('fg2', true)]);
    expect(lock.waiting).toEqual({ foreground: 2, background: 2 });
    release();
    release(); // a second release of one checkout changes nothing
    await all;
    // Turns while both wait: a flood of API reads cannot stall the calls' writes (docs/performance.md §9).
    expect(order).toEqual(['fg1', 'bg1', 'fg2', 'bg2']);
    expect(lock.waiting).toEqual({ foreground: 0, background: 0 });
  });

  it(`lets one background holder through after ${FOREGROUND_BURST} foreground ones in a row`, async () => {
    const lock = new PriorityLock();
    const release = await lock.acquire(false);
    const order: string[] = [];
    const take = (name: string, fg: boolean) =>
      lock.acquire(fg).then((r) => {
        order.push(name);
        r();
      });
    const waits = [take('bg', false)];
    for (let i = 0; i < FOREGROUND_BURST + 2; i++) waits.push(take(`fg${i}`, true));
    release();
    await Promise.all(waits);
    expect(order.indexOf('bg')).toBe(FOREGROUND_BURST);
    expect(order.filter((n) => n.startsWith('fg'))).toHaveLength(FOREGROUND_BURST + 2);
  });
});

describe('the mark, with no embedded store open (a PostgreSQL node)', () => {
  it('marks nothing, so Node runs no async hook for it; an open embedded store turns it on, closing it off', async () => {
    // A process of its own: here the test files share modules (isolate: false), and another file's embedded
    // store may still be open.
    const src = (f: string) => JSON.stringify(pathToFileURL(path.join(ROOT, 'src/store', f)).href);
    const script = `
      const { inBackground, currentPriority } = await import(${src('priority.ts')});
      const { pgliteAsPool } = await import(${src('pglite-pool.ts')});
      const probe = () => inBackground(async () => {
        await new Promise((r) => setTimeout(r, 1));
        return currentPriority();
      });
      const seen = [await probe()];
      const pool = pgliteAsPool({ close: async () => undefined });
      seen.push(await probe());
      await pool.end();
      seen.push(await probe());
      console.log(JSON.stringify(seen));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
    expect(JSON.parse(stdout.trim())).toEqual(['foreground', 'background', 'foreground']);
  });
});

describe('PGlite store priorities', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestPglite();
    await sql`create table prio_probe (n int)`.execute(store.db);
  });
  afterAll(() => store.close());

  it('carries the background mark through promises and timers started inside it', async () => {
    expect(currentPriority()).toBe('foreground');
    const seen = await inBackground(async () => {
      await new Promise((r) => setTimeout(r, 1));
      return new Promise<string>((r) => setImmediate(() => r(currentPriority())));
    });
    expect(seen).toBe('background');
    expect(currentPriority()).toBe('foreground');
  });

  it('runs an API read before engine writes that were queued ahead of it', async () => {
    // Hold the only connection, as a long engine transaction would.
    let unblock!: () => void;
    const gate = new Promise<void>((r) => (unblock = r));
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const holder = inBackground(() =>
      store.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        held();
        await gate;
      }),
    );
    await holding;
    const writes = inBackground(() => Promise.all([1, 2, 3].map((n) => sql`insert into prio_probe (n) values (${n})`.execute(store.db))));
    const read = sql<{ n: number }>`select count(*)::int as n from prio_probe`.execute(store.db);
    // Let the write and the read reach the lock's lines before the holder lets go.
    await new Promise((r) => setImmediate(r));
    unblock();
    await holder;
    const seen = (await read).rows[0].n;
    await writes;
    expect(seen).toBe(0); // the read went first although the writes were asked for before it
    const after = await sql<{ n: number }>`select count(*)::int as n from prio_probe`.execute(store.db);
    expect(after.rows[0].n).toBe(3);
  });
});
