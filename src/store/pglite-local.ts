/**
 * One PGlite on the thread that calls this: the embedded store's worker (pglite-worker.ts) opens its PGlite
 * here, and so does the server's thread itself with `PGLITE_THREAD=main`. One way to start PGlite, whichever
 * thread it runs on.
 */
import v8 from 'node:v8';
import type { PgliteConnection, PgliteSpec } from './pglite-protocol.js';
import { PgliteStatements } from './pglite-statements.js';
import { withKnownArrayTypes } from './pglite-array-types.js';

/**
 * V8's budget for optimising a WebAssembly function (roughly the bytes of it run before TurboFan compiles it
 * on V8's helper threads): its default, and the one while PostgreSQL boots. The boot runs much of
 * PostgreSQL's code a few times; with the default budget V8 spent ≈ 0.3–0.5 s of CPU optimising code that
 * then mostly never runs again, on the same two cores the start-up needs (docs/performance.md §12). With a
 * budget 20 times larger only the code that is really hot gets optimised; the default is back for what
 * follows, so the statements of a running server are optimised as before.
 */
const WASM_TIERING_BUDGET = 1_800_000; // V8's default in Node 20 (`node --v8-options`)
const BOOT_WASM_TIERING_BUDGET = 20 * WASM_TIERING_BUDGET;
/**
 * Only on the V8 whose default is known (Node 20's 11.3): V8 cannot report a flag's value, and setting a
 * newer V8's budget "back" to another version's default would change how a running server is optimised.
 */
const TUNE_BOOT_TIERING = process.versions.v8.startsWith('11.3.');

/**
 * PostgreSQL's buffer pool in PGlite. The data folder's postgresql.conf says 128 MB (initdb's choice for a
 * server), and PGlite zeroes the whole of it in WebAssembly at every boot: ≈ 0.1 s of the store's thread on the
 * start's critical path, and ≈ 110 MB more resident memory (docs/performance.md §14a). A buffer that misses
 * here is read from the operating system's page cache (the data folder's files), not from the disk.
 */
export const PGLITE_SHARED_BUFFERS = '32MB';

/**
 * V8's budget for optimising WebAssembly set for PGlite's boot (on) or back to the default (off). A module is
 * optimised by the budget in force when it is compiled and run, so a worker that compiles PGlite early
 * (pglite-worker.ts) sets it first too.
 */
export function bootTiering(on: boolean): void {
  if (TUNE_BOOT_TIERING) v8.setFlagsFromString(`--wasm-tiering-budget=${on ? BOOT_WASM_TIERING_BUDGET : WASM_TIERING_BUDGET}`);
}

/** Starts PGlite as `spec` says and resolves once it answers statements. */
export async function openLocalPglite(spec: PgliteSpec): Promise<PgliteConnection> {
  const pg = await import('@electric-sql/pglite');
  const { dir, loadDataDir, initdbWasmModule, arrayTypes, ...modules } = spec;
  const PGlite = arrayTypes ? withKnownArrayTypes(pg, arrayTypes) : pg.PGlite;
  const options = {
    ...modules,
    ...(loadDataDir ? { loadDataDir } : initdbWasmModule ? { initdbWasmModule } : {}),
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  };
  bootTiering(true);
  let pglite;
  try {
    pglite = dir ? new PGlite(dir, options) : new PGlite(options);
    await pglite.waitReady;
  } finally {
    bootTiering(false);
  }
  const statements = new PgliteStatements(pglite, pg);
  return {
    query: (sql, params) => statements.query(sql, params),
    dump: () => pglite.dumpDataDir('none'),
    close: () => pglite.close(),
  };
}
