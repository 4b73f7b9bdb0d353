/**
 * Statements on PGlite at a fraction of the cost of its own `query()`. PGlite's `query()` sends a
 * parameterised statement as six separate messages (parse, describe, bind, describe, execute, sync), each a
 * call into its WebAssembly backend with its own reply parsing, and parses and plans the SQL anew every time.
 * The embedded store's one connection is busy for all of it, so it is what an API read waits for while the
 * node carries calls. Here each distinct SQL text is prepared once (a named statement, with its parameter
 * types read once), and every execution is one message (bind, describe, execute, sync) answered in one call.
 *
 * Values are serialised with PGlite's own serialisers for the parameter types PostgreSQL inferred, and rows
 * parsed with its own parsers, exactly as `query()` does: callers see the same values and the same errors.
 * We write this ourselves because PGlite offers no prepared statements of its own (its `query()` always
 * parses anew) and no published Kysely dialect for PGlite 0.5 does either.
 */
import type { PGlite, Results } from '@electric-sql/pglite';
import type { StatementResult } from './pglite-protocol.js';

/**
 * PGlite's wire helpers, handed in by whoever loaded PGlite: a static import here would make the store's worker
 * load PGlite's JavaScript before its first line runs (esbuild hoists it), and the worker starts compiling
 * PGlite's WebAssembly at that line (pglite-worker.ts).
 */
export type PgliteWire = Pick<typeof import('@electric-sql/pglite'), 'parse' | 'protocol'>;

/** Prepared statements kept at most: Kysely's texts are few (one per query shape), but `in (…)` lists vary. */
export const MAX_PREPARED = 500;

interface Prepared {
  name: string;
  /** The parameter types PostgreSQL inferred, to serialise values as PGlite's `query()` would. */
  types: number[];
}

export class PgliteStatements {
  /** By SQL text, oldest first (a Map keeps insertion order: the first key is the one to drop). */
  private readonly prepared = new Map<string, Prepared>();
  /** Names dropped from `prepared`, closed in the backend with the next message. */
  private retired: string[] = [];
  private counter = 0;

  constructor(
    private readonly db: PGlite,
    private readonly wire: PgliteWire,
  ) {}

  private get serialize() {
    return this.wire.protocol.serialize;
  }

  /** Runs one statement; without parameters the text may hold several (migrations), and the last answers. */
  async query(sql: string, params?: readonly unknown[]): Promise<StatementResult> {
    // Waits for a PGlite still starting (outside its lock, which its start-up takes too), refuses a closed one.
    await this.db._checkReady();
    // PGlite's own lock (uncontended: callers hold the pool's) makes `close()` wait for a statement under way.
    return this.db._runExclusiveQuery(async () => {
      await this.db._checkReady(); // closed meanwhile
      try {
        const messages = params && params.length > 0 ? await this.execute(sql, params) : await this.run(this.serialize.query(sql));
        const all = this.wire.parse.parseResults(messages, this.db.parsers);
        const last = all[all.length - 1];
        return { rows: last.rows as Record<string, unknown>[], rowCount: rowCountOf(last), command: last.command ?? '' };
      } finally {
        // As PGlite's `query()`: let the file system persist what the statement wrote (a no-op on Node's own).
        await this.db.syncToFs();
      }
    });
  }

  /** How many statements are prepared (tests). */
  get size(): number {
    return this.prepared.size;
  }

  private async execute(sql: string, params: readonly unknown[]): Promise<Replies> {
    const statement = this.prepared.get(sql) ?? (await this.prepare(sql));
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const serializer = this.db.serializers[statement.types[i]];
      return serializer ? serializer(v) : String(v);
    });
    try {
      return await this.run(
        this.serialize.bind({ statement: statement.name, values }),
        this.serialize.describe({ type: 'P' }),
        this.serialize.execute({}),
        this.serialize.sync(),
      );
    } catch (err) {
      // A table changed under a prepared `select *` (a migration): PostgreSQL refuses the old plan. Prepared
      // anew, the statement runs as a fresh `query()` would have, when no transaction was spoilt by the error.
      if (!isStalePlan(err)) throw err;
      this.forget(sql);
      if (this.db.isInTransaction()) throw err;
      return this.execute(sql, params);
    }
  }

  /** Parses the text once under a new name and reads the parameter types PostgreSQL inferred. */
  private async prepare(sql: string): Promise<Prepared> {
    const name = `sb_${++this.counter}`;
    const described = await this.run(this.serialize.parse({ name, text: sql }), this.serialize.describe({ type: 'S', name }), this.serialize.sync());
    const statement = { name, types: this.wire.parse.parseDescribeStatementResults(described) };
    if (this.prepared.size >= MAX_PREPARED) this.forget(this.prepared.keys().next().value!);
    this.prepared.set(sql, statement);
    return statement;
  }

  private forget(sql: string): void {
    const statement = this.prepared.get(sql);
    if (!statement) return;
    this.prepared.delete(sql);
    this.retired.push(statement.name);
  }

  /** Sends the messages (after closing retired statements) as one, and returns the backend's replies. */
  private run(...messages: Uint8Array[]): Promise<Replies> {
    if (this.retired.length > 0) {
      messages.unshift(...this.retired.map((name) => this.serialize.close({ type: 'S', name })));
      this.retired = [];
    }
    // Errors come back as PGlite's own DatabaseError (code, detail, constraint…), as from `query()`.
    return this.db.execProtocolStream(concat(messages), { syncToFs: false });
  }
}

type Replies = Awaited<ReturnType<PGlite['execProtocolStream']>>;

function rowCountOf(r: Results & { rowCount?: number }): number {
  return r.rowCount ?? r.affectedRows ?? r.rows.length;
}

/** PostgreSQL's "cached plan must not change result type". */
function isStalePlan(err: unknown): boolean {
  return (err as { code?: string }).code === '0A000' && /cached plan/.test(String((err as Error).message));
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
