import type { PGlite } from '@electric-sql/pglite';

/**
 * Makes one PGlite instance look like a `pg` pool of one connection, so that Kysely's own
 * PostgresDialect (and so the same SQL, migrations and tests) serves both stores.
 * We write this small adapter ourselves because the published Kysely PGlite dialects do not yet support
 * PGlite 0.5. PGlite is a single connection: `connect()` hands it out to one holder at a time (through
 * PGlite's own `runExclusive`), which keeps one request's transaction from interleaving with another's.
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
  return {
    connect(): Promise<typeof client> {
      return new Promise((resolveClient, rejectClient) => {
        db.runExclusive(
          () =>
            new Promise<void>((releaseLock) => {
              resolveClient({ ...client, release: () => releaseLock() });
            }),
        ).catch(rejectClient);
      });
    },
    async end() {
      await db.close();
    },
  };
}
