/**
 * The embedded store's PGlite registers the array types listed at build time instead of asking the database at
 * each start (pglite-array-types.ts). The list must be what PGlite's own question finds on a new database, the
 * arrays of every element type must come back exactly as PGlite's own start would parse and serialise them,
 * and Switchboard's migrations must make no type whose arrays the list would miss.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as pg from '@electric-sql/pglite';
import { ARRAY_TYPES_SQL, arrayTypesOf, isKnownArrayTypes, withKnownArrayTypes, type KnownArrayTypes } from '../../src/store/pglite-array-types.js';
import { loadArrayTypes, makeTemplate, pgliteModules } from '../../src/store/pglite-template.js';
import { pgliteTemplate } from '../helpers/backends.js';

/** PostgreSQL's first identifier for objects made in a database (below it: made by initdb, the same everywhere). */
const FIRST_NORMAL_OID = 16384;

let listed: KnownArrayTypes;
let plain: pg.PGlite;
let known: pg.PGlite;

beforeAll(async () => {
  await makeTemplate(); // normally made by `npm run build`, with the list
  listed = loadArrayTypes()!;
  const modules = await pgliteModules();
  // The migrated database the suite's stores start from: its tables' row types are there too.
  plain = new pg.PGlite({ ...modules, loadDataDir: pgliteTemplate() });
  known = new (withKnownArrayTypes(pg, listed))({ ...modules, loadDataDir: pgliteTemplate() });
  await Promise.all([plain.waitReady, known.waitReady]);
}, 120_000);

afterAll(async () => {
  await Promise.all([plain?.close(), known?.close()]);
});

describe("PGlite's array types listed at build time", () => {
  it("are what PGlite's own start finds on a new database", async () => {
    expect(isKnownArrayTypes(listed)).toBe(true);
    const fresh = new pg.PGlite(await pgliteModules());
    try {
      const found = arrayTypesOf((await fresh.query<{ oid: number | null; typarray: number | null }>(ARRAY_TYPES_SQL)).rows);
      expect(listed).toEqual(found);
    } finally {
      await fresh.close();
    }
  });

  it('register the same parsers and serialisers as PGlite does for every listed type', () => {
    for (const [, typarray] of listed) {
      expect(known.parsers[typarray], `parser of type ${typarray}`).toBeTypeOf('function');
      expect(known.serializers[typarray], `serialiser of type ${typarray}`).toBeTypeOf('function');
    }
    // Beyond them PGlite's own start registers only the arrays of types made in this database (from 16384 on).
    const ids = (db: pg.PGlite) => Object.keys(db.parsers).filter((k) => /^\d+$/.test(k));
    expect(ids(known).sort()).toEqual(ids(plain).filter((oid) => Number(oid) < FIRST_NORMAL_OID).sort());
    expect(Object.keys(known.serializers).sort()).toEqual(Object.keys(plain.serializers).filter((k) => !/^\d+$/.test(k) || Number(k) < FIRST_NORMAL_OID).sort());
  });

  it('give arrays of every kind back as PGlite does, both ways', async () => {
    const ddl = `create temp table arrays (
      texts text[], ints integer[], smalls smallint[], bigs bigint[], bools boolean[], ats timestamptz[], days date[],
      nums numeric[], floats double precision[], uuids uuid[], docs jsonb[], blobs bytea[], nested integer[][]
    )`;
    const values = [
      ['a', 'b"c', 'ü \u{1F600}', null, ''], [1, -2, 3], [7], ['9007199254740993'], [true, false, null],
      [new Date('2026-05-04T03:02:01.123Z')], ['2026-05-04'], ['12.50', '-0.1'], [0.25, 1e-9], ['00000000-0000-4000-8000-000000000001'],
      [{ a: [1, 'x'] }, null], [new Uint8Array([0, 1, 255])], [[1, 2], [3, 4]],
    ];
    const insert = `insert into arrays values (${values.map((_, i) => `$${i + 1}`).join(', ')})`;
    const results = [];
    for (const db of [plain, known]) {
      await db.exec(ddl);
      await db.query(insert, values);
      results.push((await db.query('select * from arrays')).rows);
      results.push((await db.query<{ lit: string[]; big: bigint[] }>("select array['x','y'] as lit, '{1,2}'::int8[] as big")).rows);
    }
    expect(results[2]).toEqual(results[0]);
    expect(results[3]).toEqual(results[1]);
    expect((results[2] as Array<Record<string, unknown>>)[0].ints).toEqual([1, -2, 3]); // parsed, not text
  });

  it("miss no type Switchboard's migrations make: every other array type is a table's row type", async () => {
    const others = (
      await plain.query<{ name: string; kind: string }>(`
        select a.typname as name, e.typtype as kind
        from pg_catalog.pg_type a join pg_catalog.pg_type e on e.oid = a.typelem
        where a.typcategory = 'A' and a.oid >= $1`, [FIRST_NORMAL_OID])
    ).rows;
    expect(others.length).toBeGreaterThan(0); // the tables' row types are there
    // 'c': a composite, a table's row; an enum ('e'), a domain ('d') or a range ('r') of ours would be missed.
    expect(others.filter((t) => t.kind !== 'c')).toEqual([]);
  });
});
