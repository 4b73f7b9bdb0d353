/**
 * The embedded store's worker, started by the built CLI's launcher (src/cli/launch.ts) before it loads the
 * bundle, and taken over by the store that `serve` opens (pglite-thread.ts). Starting a worker thread, and
 * compiling PGlite's WebAssembly in it (`prepare`), is most of what a warm start waits for before PostgreSQL
 * can boot; begun here, ≈ 0.1 s earlier, it overlaps the bundle's loading (docs/performance.md §16).
 *
 * The launcher and the bundle are separate files, each with its own copy of this module: the thread is handed
 * over in a global slot. A thread nobody takes (the command failed before opening its store) does not keep
 * the process alive.
 */
import { Worker } from 'node:worker_threads';
import type { StoreThreadData } from './pglite-protocol.js';

const SLOT = Symbol.for('switchboard.earlyStoreThread');

interface Early {
  thread: Worker;
  /** It failed or ended before it was taken: a new one is started instead. */
  lost: boolean;
}

const slots = globalThis as { [SLOT]?: Early };

/**
 * Whether a command line will open the embedded store in a worker: `serve` without `DATABASE_URL` and without
 * `PGLITE_THREAD=main` (the configuration's rules, src/config and pglite.ts, read here before the bundle that
 * holds them is loaded; when they disagree the thread is only not used).
 */
export function opensEmbeddedStore(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv[2] === 'serve' && !env.DATABASE_URL && (env.PGLITE_THREAD ?? 'worker') === 'worker';
}

/** Starts the store's worker from `workerFile` (the built pglite-worker.js), preparing PGlite at once. */
export function startEarlyStoreThread(workerFile: URL): Worker {
  const early: Early = { thread: new Worker(workerFile, { workerData: { prepare: true } satisfies StoreThreadData }), lost: false };
  early.thread.unref();
  // Events the store would have heard had it been there: it is not, so the thread is only marked as lost.
  early.thread.on('error', () => (early.lost = true));
  early.thread.on('exit', () => (early.lost = true));
  slots[SLOT] = early;
  return early.thread;
}

/** The worker started early, once, if it is still running (the next call gets nothing). */
export function takeEarlyStoreThread(): Worker | undefined {
  const early = slots[SLOT];
  delete slots[SLOT];
  if (!early) return undefined;
  if (!early.lost) return early.thread;
  void early.thread.terminate().catch(() => {});
  return undefined;
}
