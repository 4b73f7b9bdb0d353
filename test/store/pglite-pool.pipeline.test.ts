/**
 * The embedded store's pool posts the next holder's statement while PGlite still runs the previous one (at
 * most PIPELINE_DEPTH unanswered), except inside a transaction, whose statements nobody else's come between.
 * Asserts what reaches the connection and in which order, with a connection whose answers the test gives.
 */
import { describe, expect, it } from 'vitest';
import { PIPELINE_DEPTH, pgliteAsPool } from '../../src/store/pglite-pool.js';
import type { PgliteConnection, StatementResult } from '../../src/store/pglite-protocol.js';

/** A connection that records each statement as it is posted and answers only when told. */
function heldConnection() {
  const posted: string[] = [];
  const answers: Array<() => void> = [];
  const connection: PgliteConnection = {
    query(sql) {
      posted.push(sql);
      return new Promise<StatementResult>((resolve) => answers.push(() => resolve({ rows: [], rowCount: 0, command: 'SELECT' })));
    },
    dump: () => Promise.resolve(new Blob([])),
    close: () => Promise.resolve(),
  };
  /** Answers the oldest statement not yet answered. */
  const answer = () => answers.shift()!();
  return { connection, posted, answer };
}

/** Lets every promise and immediate that is due run (a background turn waits for one immediate: pglite-pool.ts). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** One statement on its own checkout, as Kysely sends a query outside a transaction. */
async function statement(pool: ReturnType<typeof pgliteAsPool>, sql: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(sql);
  } finally {
    client.release();
  }
}

describe('PGlite pool pipelining', () => {
  it(`posts up to ${PIPELINE_DEPTH} single statements before the first is answered, then one per answer, in order`, async () => {
    const { connection, posted, answer } = heldConnection();
    const pool = pgliteAsPool(connection);
    const done = Promise.all(['s1', 's2', 's3', 's4'].map((s) => statement(pool, s)));
    await settle();
    expect(posted).toEqual(['s1', 's2'].slice(0, PIPELINE_DEPTH));
    answer();
    await settle();
    expect(posted).toEqual(['s1', 's2', 's3'].slice(0, PIPELINE_DEPTH + 1));
    for (let i = 0; i < 3; i++) {
      answer();
      await settle();
    }
    await done;
    expect(posted).toEqual(['s1', 's2', 's3', 's4']);
  });

  it("keeps everyone else's statements out of a transaction until its holder releases the connection", async () => {
    const { connection, posted, answer } = heldConnection();
    const pool = pgliteAsPool(connection);
    const trx = await pool.connect();
    const begun = trx.query('begin');
    const other = statement(pool, 'other');
    await settle();
    expect(posted).toEqual(['begin']);
    answer();
    await begun;
    const insert = trx.query('insert 1');
    await settle();
    answer();
    await insert;
    const commit = trx.query('commit');
    await settle();
    expect(posted).toEqual(['begin', 'insert 1', 'commit']);
    answer();
    await commit;
    trx.release();
    await settle();
    expect(posted).toEqual(['begin', 'insert 1', 'commit', 'other']);
    answer();
    await other;
  });

  it('still serves a waiting read before waiting writes, which cannot pile up on the thread', async () => {
    const { connection, posted, answer } = heldConnection();
    const pool = pgliteAsPool(connection);
    // A transaction holds the connection while background writes and then an API read queue up.
    const trx = await pool.connect();
    const begun = trx.query('begin');
    await settle();
    answer();
    await begun;
    const writes = Promise.all(['insert 1', 'insert 2', 'insert 3'].map((s) => statement(pool, s)));
    const read = statement(pool, 'select 1');
    await settle();
    trx.release();
    await settle();
    // The read goes first; the lines then take turns, and no more than PIPELINE_DEPTH are posted unanswered.
    expect(posted).toEqual(['begin', 'select 1', 'insert 1'].slice(0, 1 + PIPELINE_DEPTH));
    for (let i = 0; i < 4; i++) {
      answer();
      await settle();
    }
    await Promise.all([writes, read]);
    expect(posted).toEqual(['begin', 'select 1', 'insert 1', 'insert 2', 'insert 3']);
  });
});
