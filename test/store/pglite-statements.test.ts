/**
 * The embedded store's statements (prepared once, one message per execution) give what PGlite's own
 * `query()` gives: the same values both ways, the same errors, a working connection after an error, a
 * statement whose table changed, and a bounded number of prepared statements.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as pg from '@electric-sql/pglite';
import { PGlite } from '@electric-sql/pglite';
import { MAX_PREPARED, PgliteStatements } from '../../src/store/pglite-statements.js';
import { pgliteModules } from '../../src/store/pglite-template.js';
import { pgliteTemplate } from '../helpers/backends.js';

let pglite: PGlite;
let statements: PgliteStatements;

beforeAll(async () => {
  pglite = new PGlite({ ...(await pgliteModules()), loadDataDir: pgliteTemplate() });
  statements = new PgliteStatements(pglite, pg);
  await statements.query(`
    create table kinds (id uuid primary key, name text not null unique, n integer, big bigint, ok boolean, at timestamptz, doc jsonb, tags text[]);
  `);
});

afterAll(async () => {
  await pglite.close();
});

describe('PgliteStatements', () => {
  it('stores and reads every kind of value as PGlite query() does', async () => {
    const at = new Date('2026-05-04T03:02:01.123Z');
    const rows = [
      ['00000000-0000-4000-8000-000000000001', 'plain', 42, '9007199254740993', true, at, JSON.stringify({ a: [1, 'x'], b: null }), ['a', 'b"c']],
      ['00000000-0000-4000-8000-000000000002', 'nulls', null, null, false, null, null, null],
      ['00000000-0000-4000-8000-000000000003', 'text ünïcode \u{1F600}', -1, '0', null, '2026-01-01T00:00:00Z', '"just a string"', []],
    ];
    const insert = 'insert into kinds (id, name, n, big, ok, at, doc, tags) values ($1, $2, $3, $4, $5, $6, $7, $8) returning *';
    const ours = [];
    for (const row of rows) ours.push((await statements.query(insert, row)).rows[0]);
    const select = 'select * from kinds where id = $1';
    for (const [i, row] of rows.entries()) {
      const theirs = (await pglite.query(select, [row[0]])).rows[0];
      expect(ours[i]).toEqual(theirs);
      expect((await statements.query(select, [row[0]])).rows[0]).toEqual(theirs);
    }
    expect(ours[0]).toMatchObject({ n: 42, ok: true, at, doc: { a: [1, 'x'], b: null }, tags: ['a', 'b"c'] });
    // A second run of the same text uses the prepared statement: same answer.
    expect((await statements.query(select, [rows[0][0]])).rows[0]).toEqual(ours[0]);
  });

  it('reports row counts and commands as the driver expects', async () => {
    const r = await statements.query('update kinds set n = n + $1 where n is not null', [1]);
    expect(r).toMatchObject({ command: 'UPDATE', rowCount: 2, rows: [] });
    const none = await statements.query('delete from kinds where name = $1', ['nobody']);
    expect(none).toMatchObject({ command: 'DELETE', rowCount: 0 });
  });

  it("answers a database error with PostgreSQL's code and constraint, and keeps working after it", async () => {
    const dup = statements.query('insert into kinds (id, name) values ($1, $2)', ['00000000-0000-4000-8000-000000000009', 'plain']);
    await expect(dup).rejects.toMatchObject({ code: '23505', constraint: 'kinds_name_key' });
    await expect(statements.query('select nonsense from kinds where id = $1', ['x'])).rejects.toMatchObject({ code: '42703' });
    expect((await statements.query('select count(*)::int as n from kinds where name <> $1', ['nobody'])).rows).toEqual([{ n: 3 }]);
  });

  it('keeps a failed transaction failed until it is rolled back', async () => {
    await statements.query('begin');
    await expect(statements.query('insert into kinds (id, name) values ($1, $2)', ['00000000-0000-4000-8000-000000000010', 'plain'])).rejects.toMatchObject({ code: '23505' });
    await expect(statements.query('select 1 as one where 1 = $1', [1])).rejects.toMatchObject({ code: '25P02' });
    await statements.query('rollback');
    expect((await statements.query('select 1 as one where 1 = $1', [1])).rows).toEqual([{ one: 1 }]);
  });

  it('reads a table changed after its statement was prepared', async () => {
    await statements.query("create table shapes (id int primary key, name text); insert into shapes values (1, 'one')");
    const select = 'select * from shapes where id = $1';
    expect((await statements.query(select, [1])).rows).toEqual([{ id: 1, name: 'one' }]);
    await statements.query('alter table shapes add column extra text');
    expect((await statements.query(select, [1])).rows).toEqual([{ id: 1, name: 'one', extra: null }]);
  });

  it(`keeps at most ${MAX_PREPARED} statements prepared, closing the oldest`, async () => {
    for (let i = 0; i < MAX_PREPARED + 20; i++) {
      expect((await statements.query(`select $1::int + ${i} as v`, [1])).rows).toEqual([{ v: 1 + i }]);
    }
    expect(statements.size).toBe(MAX_PREPARED);
    const held = await statements.query('select count(*)::int as n from pg_prepared_statements');
    expect(held.rows).toEqual([{ n: MAX_PREPARED }]);
  });
});
