/**
 * PGlite's array types, known before it starts. At every start PGlite asks the database which array type
 * belongs to which element type (`_initArrayTypes`: a join over `pg_type`, the start's first statement), to
 * parse and serialise arrays. On a warm start that one statement was ≈ 60 ms of the store's boot beyond the
 * first statement's own cost (docs/performance.md §16). PostgreSQL's built-in types, which are all the element
 * types Switchboard's tables use, have fixed identifiers: their pairs are listed once, when `npm run build`
 * makes the database template, by asking a new database the very same question (pglite-template.ts), and the
 * store's PGlite registers them from that list instead (`withKnownArrayTypes`). Types made later in a database
 * (a table's row type; Switchboard makes no enum or domain, test/store/pglite-array-types.test.ts checks) are
 * not in it: an array of one would come back as text. Without the list PGlite asks as before.
 */
import type { PGlite } from '@electric-sql/pglite';

/** [element type, its array type] pairs, as PGlite's own query finds them on a new database. */
export type KnownArrayTypes = ReadonlyArray<readonly [number, number]>;

/** PGlite's own question (its `_initArrayTypes`, PGlite 0.5), asked of a new database at build time. */
export const ARRAY_TYPES_SQL = `
  SELECT b.oid, b.typarray
  FROM pg_catalog.pg_type a
  LEFT JOIN pg_catalog.pg_type b ON b.oid = a.typelem
  WHERE a.typcategory = 'A'
  GROUP BY b.oid, b.typarray
  ORDER BY b.oid`;

/** The pairs of a result of `ARRAY_TYPES_SQL`. */
export function arrayTypesOf(rows: ReadonlyArray<{ oid: number | null; typarray: number | null }>): KnownArrayTypes {
  return rows.filter((r) => r.oid !== null && r.typarray !== null).map((r) => [r.oid!, r.typarray!] as const);
}

/** Whether `value` is a list of pairs of type identifiers (a file read back, not trusted blindly). */
export function isKnownArrayTypes(value: unknown): value is KnownArrayTypes {
  return Array.isArray(value) && value.length > 0 && value.every((p) => Array.isArray(p) && p.length === 2 && p.every((n) => Number.isInteger(n) && n > 0));
}

type PGliteModule = typeof import('@electric-sql/pglite');

/**
 * PGlite's class, registering `known` as PGlite itself registers what its query finds (the same functions of
 * its `types`), without the query. `refreshArrayTypes()` still asks the database.
 */
export function withKnownArrayTypes(pg: PGliteModule, known: KnownArrayTypes): typeof PGlite {
  const { arrayParser, arraySerializer } = pg.types;
  return class extends pg.PGlite {
    override async _initArrayTypes(opts?: { force?: boolean }): Promise<void> {
      if (opts?.force) return super._initArrayTypes(opts);
      for (const [oid, typarray] of known) {
        this.serializers[typarray] = (x) => arraySerializer(x, this.serializers[oid], typarray);
        this.parsers[typarray] = (x) => arrayParser(x, this.parsers[oid], typarray);
      }
    }
  };
}
