/**
 * /healthz reports the store: 200 with `store: "ok"` while it answers, 503 `unavailable` / `down` while it
 * does not (every connection held by a transaction that never ends, or the store closed), and 200 again
 * once it answers. On every backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

const health = async (t: TestSwitchboard) => {
  const r = await t.sb.app.inject({ method: 'GET', url: '/healthz' });
  return { code: r.statusCode, body: r.json() };
};

/** Holds `n` store connections in open transactions until the returned function is called. */
async function holdConnections(t: TestSwitchboard, n: number): Promise<() => Promise<void>> {
  let unblock!: () => void;
  const gate = new Promise<void>((r) => (unblock = r));
  let started = 0;
  const holders = Array.from({ length: n }, () =>
    t.sb.store.db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      started++;
      await gate;
    }),
  );
  await until(async () => started === n, 15_000, 'connections held');
  return async () => {
    unblock();
    await Promise.all(holders);
  };
}

describe.each(BACKENDS)('/healthz and the store ($name)', (backend) => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(backend);
  });
  afterAll(() => t.close());

  it('answers 200 with the store state and 004 fields', async () => {
    const r = await health(t);
    expect(r.code).toBe(200);
    expect(r.body).toEqual({ status: 'ok', store: 'ok', uptime: expect.any(Number), activeCalls: 0 });
  });

  it('answers 503 unavailable while the store does not answer, and 200 again once it does', async () => {
    // PGlite has one connection; the PostgreSQL test pool has five.
    const release = await holdConnections(t, backend.name === 'pglite' ? 1 : 5);
    try {
      const down = await until(async () => {
        const r = await health(t);
        return r.code === 503 ? r : null;
      }, 30_000, '/healthz 503');
      expect(down.body).toEqual({ status: 'unavailable', store: 'down', uptime: expect.any(Number), activeCalls: 0 });
    } finally {
      await release();
    }
    const up = await until(async () => {
      const r = await health(t);
      return r.code === 200 ? r : null;
    }, 30_000, '/healthz 200');
    expect(up.body).toMatchObject({ status: 'ok', store: 'ok' });
  });

  it('declares both answers in the OpenAPI document', async () => {
    const doc = (await t.sb.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/healthz'].get.responses)).toEqual(expect.arrayContaining(['200', '503']));
  });
});

describe.each(BACKENDS)('/healthz on a closed store ($name)', (backend) => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(backend);
  });
  afterAll(async () => {
    await t.sb.shutdown().catch(() => {});
  });

  it('answers 503 once the store is closed', async () => {
    expect((await health(t)).code).toBe(200);
    await t.sb.store.close();
    const down = await until(async () => {
      const r = await health(t);
      return r.code === 503 ? r : null;
    }, 30_000, '/healthz 503');
    expect(down.body).toMatchObject({ status: 'unavailable', store: 'down' });
  });
});
