/**
 * The embedded store's single connection serves reads (an API's `GET`s) before queued writes and
 * transactions (the calls' records), without starving the writes. Asserts order, never time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { FOREGROUND_BURST, PriorityLock } from '../../src/store/pglite-pool.js';
import type { Store } from '../../src/store/index.js';
import { openTestPglite } from '../helpers/backends.js';

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

describe('PGlite store: reads first', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestPglite();
    await sql`create table prio_probe (n int)`.execute(store.db);
  });
  afterAll(() => store.close());

  const count = async () => (await sql<{ n: number }>`select count(*)::int as n from prio_probe`.execute(store.db)).rows[0].n;

  /** Holds the only connection, as a long engine transaction would, until `release()`; `done` once it let go. */
  async function holdConnection(): Promise<{ release: () => void; done: Promise<void> }> {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    const done = store.db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      held();
      await gate;
    });
    await holding;
    return { release, done };
  }

  /** Lets the statements asked for reach the lock's lines before the holder lets go. */
  const queued = () => new Promise((r) => setImmediate(r));

  it('runs a read before writes that were queued ahead of it', async () => {
    const holder = await holdConnection();
    const writes = Promise.all([1, 2, 3].map((n) => sql`insert into prio_probe (n) values (${n})`.execute(store.db)));
    const read = count();
    await queued();
    holder.release();
    await holder.done;
    const seen = await read;
    await writes;
    expect(seen).toBe(0); // the read went first although the writes were asked for before it
    expect(await count()).toBe(3);
  });

  it('queues a transaction, and a write given as a CTE, with the writes: a read asked for after them goes first', async () => {
    const before = await count();
    const holder = await holdConnection();
    const order: string[] = [];
    const tx = store.db.transaction().execute(async (trx) => {
      await sql`insert into prio_probe (n) values (10)`.execute(trx);
      order.push('transaction');
    });
    const cte = sql`with w as (insert into prio_probe (n) values (20) returning n) select n from w`.execute(store.db).then(() => order.push('cte'));
    const read = count().then((n) => {
      order.push('read');
      return n;
    });
    await queued();
    holder.release();
    await Promise.all([holder.done, tx, cte]);
    expect(await read).toBe(before); // neither write had run
    expect(order[0]).toBe('read');
    expect(order.slice(1).sort()).toEqual(['cte', 'transaction']);
    expect(await count()).toBe(before + 2);
  });
});
