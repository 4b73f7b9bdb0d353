/**
 * One PGlite on the thread that calls this: the embedded store's worker (pglite-worker.ts) opens its PGlite
 * here, and so does the server's thread itself with `PGLITE_THREAD=main`. One way to start PGlite, whichever
 * thread it runs on.
 */
import type { PgliteConnection, PgliteSpec } from './pglite-protocol.js';
import { PgliteStatements } from './pglite-statements.js';

/** Starts PGlite as `spec` says and resolves once it answers statements. */
export async function openLocalPglite(spec: PgliteSpec): Promise<PgliteConnection> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { dir, loadDataDir, initdbWasmModule, ...modules } = spec;
  const options = { ...modules, ...(loadDataDir ? { loadDataDir } : initdbWasmModule ? { initdbWasmModule } : {}) };
  const pglite = dir ? new PGlite(dir, options) : new PGlite(options);
  await pglite.waitReady;
  const statements = new PgliteStatements(pglite);
  return {
    query: (sql, params) => statements.query(sql, params),
    dump: () => pglite.dumpDataDir('none'),
    close: () => pglite.close(),
  };
}
