import type { PGlite } from '@electric-sql/pglite';

/**
 * Makes one PGlite instance look like a `pg` pool of one connection, so that Kysely's own
 * PostgresDialect (and so the same SQL, migrations and tests) serves both stores.
 * We write this small adapter ourselves because the published Kysely PGlite dialects do not yet support
 * PGlite 0.5. PGlite is a single connection: `connect()` hands it out to one holder at a time (a promise
 * queue of our own), which keeps one request's transaction from interleaving with another's.
 */
export function pgliteAsPool(db: PGlite) {
  const client = {
    async query(sql: string, params?: readonly unknown[]) {
      if (!params || params.length === 0) {
        // Parameterless text may hold several statements (migrations); exec runs them all.
        const all = await db.exec(sql);
        const last = all[all.length - 1] ?? { rows: [], affectedRows: 0, fields: [] };
        return { rows: last.rows, rowCount: last.rowCount ?? last.affectedRows ?? last.rows.length, command: last.command ?? '' };
      }
      const r = await db.query(sql, params as unknown[]);
      return { rows: r.rows, rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length, command: r.command ?? '' };
    },
    release() {
      /* replaced per checkout */
    },
  };
  // Our own lock, not PGlite's `runExclusive`: in PGlite 0.5 `query`/`exec` take the same internal mutex
  // that `runExclusive` holds, so a query issued by the holder waited for itself forever.
  let tail: Promise<void> = Promise.resolve();
  return {
    connect(): Promise<typeof client> {
      const prev = tail;
      let releaseLock!: () => void;
      tail = new Promise<void>((r) => (releaseLock = r));
      return prev.then(() => ({ ...client, release: () => releaseLock() }));
    },
    async end() {
      await db.close();
    },
  };
}
