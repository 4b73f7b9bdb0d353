/**
 * The embedded store on its worker thread (the default) behaves as PGlite on the server's thread did:
 * the same values and the same errors; a transaction's statements are not mixed with anyone else's; and
 * it no longer stalls the server's thread. A thread that stops fails what waits on it, turns /healthz to
 * 503 and leaves the process running; closing ends the thread and lets the data folder go.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { messages } from '@electric-sql/pglite';
import { DataDirBusyError, openStore, pgliteThreadMode, StoreHealth, type Store } from '../../src/store/index.js';
import { openLocalPglite, PGLITE_SHARED_BUFFERS } from '../../src/store/pglite-local.js';
import { DatabaseError, type PgliteConnection } from '../../src/store/pglite-protocol.js';
import { PgliteThread } from '../../src/store/pglite-thread.js';
import { prewarmPglite, STORE_THREAD_NICE } from '../../src/store/pglite.js';
import { pgliteModules } from '../../src/store/pglite-template.js';
import { openTestPglite, pgliteTemplate } from '../helpers/backends.js';
import { startSwitchboard } from '../helpers/switchboard.js';
import { threadNice } from '../helpers/threads.js';

const quiet = { error: () => {} };

/** The same database twice: on a worker thread, and on this thread as before. */
let worker: PgliteThread;
let local: PgliteConnection;

beforeAll(async () => {
  const spec = { ...(await pgliteModules()), loadDataDir: pgliteTemplate() };
  worker = await PgliteThread.start(quiet);
  await worker.open(spec);
  local = await openLocalPglite(spec);
  const table = `create table kinds (
    id uuid primary key, name text not null unique, n integer, small smallint, big bigint, ok boolean,
    at timestamptz, day date, price numeric, ratio double precision, doc jsonb, plain json, tags text[],
    counts integer[], bytes bytea, span interval, parent uuid references kinds (id)
  )`;
  await Promise.all([worker.query(table), local.query(table)]);
});

afterAll(async () => {
  await Promise.all([worker.close(), local.close()]);
});

describe('PGlite on its worker thread', () => {
  it('gives every kind of value exactly as PGlite on this thread does, both ways', async () => {
    const at = new Date('2026-05-04T03:02:01.123Z');
    const rows: unknown[][] = [
      ['00000000-0000-4000-8000-000000000001', 'plain', 42, 7, '9007199254740993', true, at, '2026-05-04', '12.50', 0.25,
        JSON.stringify({ a: [1, 'x'], b: null, c: { d: true } }), '{"k": 1}', ['a', 'b"c', 'ü \u{1F600}'], [1, 2, 3],
        Buffer.from([0, 1, 2, 255]), '1 day 02:03:04', null],
      ['00000000-0000-4000-8000-000000000002', 'nulls', null, null, null, false, null, null, null, null, null, null, null, null, null, null,
        '00000000-0000-4000-8000-000000000001'],
      ['00000000-0000-4000-8000-000000000003', 'edges', -2147483648, -32768, '12', null, '2026-01-01T00:00:00Z', '1999-12-31', '-0.000001',
        -1e300, '"just a string"', '[]', [], [], new Uint8Array(0), '-1 mons', null],
    ];
    const insert = `insert into kinds (id, name, n, small, big, ok, at, day, price, ratio, doc, plain, tags, counts, bytes, span, parent)
      values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) returning *`;
    for (const row of rows) {
      const [theirs, ours] = [await local.query(insert, row), await worker.query(insert, row)];
      expect(ours).toEqual(theirs);
    }
    const all = 'select *, big * 2 as doubled, count(*) over () as total from kinds order by name';
    const [theirs, ours] = [await local.query(all), await worker.query(all)];
    expect(ours).toEqual(theirs);
    expect(ours.rows).toHaveLength(3);
    // What toEqual alone would not tell apart: the classes of the values.
    const edges = ours.rows[0];
    expect(edges.at).toBeInstanceOf(Date);
    expect(edges.bytes).toBeInstanceOf(Uint8Array);
    const plain = ours.rows[2];
    expect(plain).toMatchObject({ n: 42, doc: { a: [1, 'x'], b: null, c: { d: true } }, plain: { k: 1 }, tags: ['a', 'b"c', 'ü \u{1F600}'] });
    expect([typeof plain.big, typeof plain.doubled, typeof plain.price]).toEqual([typeof theirs.rows[2].big, typeof theirs.rows[2].doubled, 'string']);
    expect(Array.from(plain.bytes as Uint8Array)).toEqual([0, 1, 2, 255]);
  });

  it('reports row counts and commands as PGlite on this thread does', async () => {
    for (const [text, params] of [
      ['update kinds set n = n + $1 where n is not null', [1]],
      ['delete from kinds where name = $1', ['nobody']],
      ['select 1 as one; select 2 as two', undefined],
    ] as const) {
      expect(await worker.query(text, params)).toEqual(await local.query(text, params));
    }
  });

  it('raises the same errors, with every field PostgreSQL gave, and goes on working after them', async () => {
    const failing: Array<[string, unknown[]]> = [
      ['insert into kinds (id, name) values ($1, $2)', ['00000000-0000-4000-8000-000000000009', 'plain']], // 23505
      ['insert into kinds (id, name, parent) values ($1, $2, $3)', ['00000000-0000-4000-8000-00000000000a', 'x', '00000000-0000-4000-8000-0000000000ff']], // 23503
      ['insert into kinds (id, name) values ($1, $2)', ['00000000-0000-4000-8000-00000000000b', null]], // 23502
      ['select nonsense from kinds where id = $1', ['00000000-0000-4000-8000-000000000001']], // 42703
      ['select $1::int / 0 as x', [1]], // 22012
    ];
    const codes: unknown[] = [];
    for (const [text, params] of failing) {
      const theirs = await local.query(text, params).then(() => undefined, (e: Error) => e);
      const ours = await worker.query(text, params).then(() => undefined, (e: Error) => e);
      expect(theirs).toBeInstanceOf(Error);
      expect(ours).toBeInstanceOf(Error);
      expect(theirs).toBeInstanceOf(messages.DatabaseError);
      expect(ours).toBeInstanceOf(DatabaseError);
      expect(ours!.message).toBe(theirs!.message);
      expect({ ...ours }).toEqual({ ...theirs }); // code, detail, constraint, table, column, schema, severity, position…
      codes.push((ours as Error & { code: string }).code);
    }
    expect(codes).toEqual(['23505', '23503', '23502', '42703', '22012']);
    expect((await worker.query('select count(*)::int as n from kinds where name <> $1', ['nobody'])).rows).toEqual([{ n: 3 }]);
  });

  it('makes the same tarball as PGlite on this thread (the dump a template is made from)', async () => {
    const dump = await worker.dump();
    expect(dump).toBeInstanceOf(Blob);
    const copy = await openLocalPglite({ ...(await pgliteModules()), loadDataDir: dump });
    try {
      expect((await copy.query('select count(*)::int as n from kinds')).rows).toEqual([{ n: 3 }]);
    } finally {
      await copy.close();
    }
  });

  it('fails a statement whose parameter cannot be sent, and not the connection', async () => {
    await expect(worker.query('select $1::text as t', [() => 1])).rejects.toThrow();
    expect((await worker.query('select $1::text as t', ['still here'])).rows).toEqual([{ t: 'still here' }]);
    // Sent in the same turn as others (they travel together): only that one fails.
    const [before, bad, after] = await Promise.allSettled([
      worker.query('select 1 as n'),
      worker.query('select $1::text as t', [() => 1]),
      worker.query('select $1::text as t', ['after']),
    ]);
    expect(before).toMatchObject({ status: 'fulfilled', value: { rows: [{ n: 1 }] } });
    expect(bad.status).toBe('rejected');
    expect(after).toMatchObject({ status: 'fulfilled', value: { rows: [{ t: 'after' }] } });
  });

  it('answers many statements sent in one turn each with its own result, in order', async () => {
    const order: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        worker.query('select $1::int as n', [i]).then((r) => {
          order.push(i);
          return r.rows;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => [{ n: i }]));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('keeps running timers and requests on this thread while a statement takes long', async () => {
    const ticksDuring = async (db: PgliteConnection) => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      try {
        await db.query('select pg_sleep(0.5)');
      } finally {
        clearInterval(timer);
      }
      return ticks;
    };
    // Half a second of sleeping in PostgreSQL: dozens of 10 ms ticks when this thread is free, none when
    // the WebAssembly runs on it.
    expect(await ticksDuring(worker)).toBeGreaterThanOrEqual(5);
    expect(await ticksDuring(local)).toBeLessThanOrEqual(1);
  });

  it.runIf(process.platform === 'linux')('opened with a niceness, its thread alone yields the CPU (a one-CPU node); opened without, it does not', async () => {
    const mine = threadNice(process.pid, process.pid);
    const niced = await PgliteThread.start(quiet);
    try {
      await niced.open({ ...(await pgliteModules()), loadDataDir: pgliteTemplate() }, STORE_THREAD_NICE);
      const { threadId, nice } = niced.osThread;
      expect(threadId).toBeGreaterThan(0);
      expect(threadId).not.toBe(process.pid);
      expect(nice).toBe(Math.max(STORE_THREAD_NICE, mine));
      expect(threadNice(process.pid, threadId!)).toBe(nice);
      // This thread, and the store opened without a niceness, keep theirs.
      expect(threadNice(process.pid, process.pid)).toBe(mine);
      expect(threadNice(process.pid, worker.osThread.threadId!)).toBe(mine);
      expect((await niced.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await niced.close();
    }
  });
});

describe('the embedded store on its worker (Kysely, the pool)', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestPglite();
    await sql`create table turns (id serial primary key, who text not null)`.execute(store.db);
  });
  afterAll(() => store.close());

  it('runs on a worker thread by default', () => {
    expect(pgliteThreadMode({})).toBe('worker');
    expect(store.thread).toBeDefined();
    expect(() => pgliteThreadMode({ PGLITE_THREAD: 'elsewhere' })).toThrow(/PGLITE_THREAD/);
  });

  it('runs PostgreSQL with the smaller buffer pool, not the 128 MB of the data folder\'s postgresql.conf', async () => {
    const r = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(store.db);
    expect(r.rows[0].shared_buffers).toBe(PGLITE_SHARED_BUFFERS);
  });

  it("keeps the unique-violation code the core matches on (23505: 'email taken', 'name taken')", async () => {
    const org = { id: '00000000-0000-4000-8000-0000000000a1', name: 'twice', webhook_secret: null, subscription_active: false };
    await store.db.insertInto('orgs').values(org).execute();
    await expect(store.db.insertInto('orgs').values({ ...org, id: '00000000-0000-4000-8000-0000000000a2' }).execute()).rejects.toMatchObject({ code: '23505' });
  });

  it("runs a transaction's statements back to back, with nobody else's between them", async () => {
    let begun!: () => void;
    const started = new Promise<void>((r) => (begun = r));
    const holder = store.db.transaction().execute(async (trx) => {
      await sql`insert into turns (who) values ('tx 1')`.execute(trx);
      begun();
      // Others ask for the connection now, and must wait for the commit.
      await new Promise((r) => setTimeout(r, 50));
      await sql`insert into turns (who) values ('tx 2')`.execute(trx);
      await new Promise((r) => setImmediate(r));
      await sql`insert into turns (who) values ('tx 3')`.execute(trx);
    });
    await started;
    const others = Promise.all([
      sql`insert into turns (who) values ('other')`.execute(store.db),
      sql<{ n: number }>`select count(*)::int as n from turns`.execute(store.db),
      sql`insert into turns (who) values ('other')`.execute(store.db),
    ]);
    const [, [, read]] = await Promise.all([holder, others]);
    const order = await sql<{ who: string }>`select who from turns order by id`.execute(store.db);
    expect(order.rows.map((r) => r.who)).toEqual(['tx 1', 'tx 2', 'tx 3', 'other', 'other']);
    // The read waited for the commit, then went before the writes asked for ahead of it (reads first).
    expect(read.rows[0].n).toBe(3);
  });
});

describe('a worker that stops', () => {
  it('fails the statements waiting on it and every later one, logs it, and the store reads as down', async () => {
    const errors: unknown[] = [];
    const store = await openStore({ inMemory: true, template: pgliteTemplate(), log: { error: (o: unknown) => errors.push(o), warn: () => {} } });
    try {
      const waiting = sql`select pg_sleep(30)`.execute(store.db);
      const queued = sql`select 1 as one`.execute(store.db);
      await store.thread!.terminate();
      // PostgreSQL's code for a lost connection: the faces answer 503 SB_ERR_UNAVAILABLE as for PostgreSQL.
      await expect(waiting).rejects.toMatchObject({ code: '08006' });
      await expect(queued).rejects.toMatchObject({ code: '08006' });
      await expect(sql`select 1 as one`.execute(store.db)).rejects.toMatchObject({ code: '08006' });
      expect(await new StoreHealth(store.db).state()).toBe('down');
      expect(errors).toHaveLength(1);
    } finally {
      await store.close(); // nothing left to close: it resolves
    }
  });

  it('turns /healthz to 503 and the server goes on answering', async () => {
    const t = await startSwitchboard({ name: 'pglite', open: () => openStore({ inMemory: true, template: pgliteTemplate(), log: { ...quiet, warn: () => {} } }) });
    try {
      expect((await t.sb.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      await t.sb.store.thread!.terminate();
      // The last answer is kept a second (store/health.ts); then the probe fails at once.
      let r = await t.sb.app.inject({ method: 'GET', url: '/healthz' });
      for (let i = 0; i < 100 && r.statusCode !== 503; i++) {
        await new Promise((res) => setTimeout(res, 50));
        r = await t.sb.app.inject({ method: 'GET', url: '/healthz' });
      }
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ status: 'unavailable', store: 'down' });
      const read = await t.sb.app.inject({ method: 'GET', url: '/v1/calls', headers: { authorization: `Bearer ${t.key}` } });
      expect(read.statusCode).toBe(503);
    } finally {
      await t.close().catch(() => {});
    }
  });
});

describe('opening and closing the embedded store in a data folder', () => {
  it('ends the thread on close and lets the folder go; a prewarmed open is taken over, and its failure reported by the open', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-worker-'));
    try {
      prewarmPglite({ dataDir: dir });
      const a = await openStore({ dataDir: dir });
      await a.db.insertInto('orgs').values({ id: '00000000-0000-4000-8000-0000000000b1', name: 'kept', webhook_secret: null, subscription_active: true }).execute();
      // The folder is this store's: a second open (prewarmed or not) is refused, by the open.
      prewarmPglite({ dataDir: dir });
      await expect(openStore({ dataDir: dir })).rejects.toBeInstanceOf(DataDirBusyError);
      const exited = new Promise<number>((r) => a.thread!.once('exit', r));
      await a.close();
      await exited;
      expect(fs.existsSync(path.join(dir, 'switchboard.lock'))).toBe(false);
      const b = await openStore({ dataDir: dir });
      expect(await b.db.selectFrom('orgs').select('subscription_active').where('name', '=', 'kept').executeTakeFirst()).toEqual({ subscription_active: true });
      await b.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
