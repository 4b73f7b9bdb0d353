/**
 * Opening the embedded store: the data folder's lock, the database a new folder starts from, and the thread
 * PGlite runs on — its own worker (pglite-thread.ts) unless `PGLITE_THREAD=main`. `prewarmPglite` starts all
 * of it before the server's modules load, so that PGlite boots meanwhile on its thread.
 */
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { lockDataDir } from './lock.js';
import type { PgliteConnection, PgliteSpec } from './pglite-protocol.js';
import { initdbModule, isEmptyDataDir, loadArrayTypes, loadTemplate, pgliteModules } from './pglite-template.js';
import { PgliteThread } from './pglite-thread.js';
import { fallbackLogger, type Logger } from '../lib/logger.js';
import { usableCpus } from '../lib/cpus.js';

export interface PgliteOpenOptions {
  dataDir?: string;
  inMemory?: boolean;
  template?: Blob;
  log?: Pick<Logger, 'error'>;
  /**
   * The store's thread reads and compiles PGlite's WebAssembly itself, instead of this thread compiling it
   * once for every store the process opens (`pgliteModules`). Its `open` is then posted at once, not when this
   * thread's event loop next turns: at start-up that loop is busy loading the server's modules for ≈ 0.5 s,
   * which PGlite's boot waited out (docs/performance.md §12). Only with a worker thread. The thread starts
   * compiling at its first line, and the one the CLI's launcher started early is used (early-thread.ts, §16).
   */
  ownModules?: boolean;
}

export interface OpenedPglite {
  connection: PgliteConnection;
  /** The worker running PGlite; absent with `PGLITE_THREAD=main`. */
  thread?: Worker;
  /** Lets the data folder go (after `connection.close()`). */
  release: () => void;
}

/** Which thread runs PGlite (`PGLITE_THREAD`, README): its own worker unless `main`. */
export function pgliteThreadMode(env: NodeJS.ProcessEnv = process.env): 'worker' | 'main' {
  const mode = env.PGLITE_THREAD ?? 'worker';
  if (mode !== 'worker' && mode !== 'main') throw new Error('PGLITE_THREAD must be worker or main');
  return mode;
}

/**
 * The niceness of the store's thread on a node with one CPU (Linux): it yields the core to the server's thread.
 *
 * Why: on one core, a statement the server's thread posts wakes the store's thread, and the kernel runs the
 * woken thread at once, ahead of the server's thread, in the middle of what that was doing — a call's turn,
 * audio frames due — which then waits out the statement's WebAssembly work (docs/performance.md §20: at 250
 * calls on one core the turn's tail and late frames). Niced, the store runs when the server's thread waits for
 * its next event. It is not starved: a request that awaits a statement leaves the server's thread waiting, and
 * at 10 it still gets about a tenth of a core the server's thread keeps busy (the kernel's weights, 110 : 1024).
 * With more CPUs each thread has a core of its own, and nothing changes. A server pinned to one CPU and started
 * without `--single-threaded-gc` lowers its other helper threads to 19 and leaves this one at 10 (src/cli/serve.ts, §27).
 */
export const STORE_THREAD_NICE = 10;

/** The niceness the store's thread is given: STORE_THREAD_NICE on one CPU, else none (0). */
export function storeThreadNice(cpus = usableCpus()): number {
  return cpus > 1 ? 0 : STORE_THREAD_NICE;
}

let prewarmed: { dataDir: string; opened: Promise<OpenedPglite> } | undefined;

/**
 * Starts opening the store in `dataDir` (the lock taken, PGlite booting on its thread) without waiting for
 * it; the next `openPglite` of that folder takes it over. A failure (the folder busy…) is reported by that
 * open, not here.
 */
export function prewarmPglite(opts: { dataDir: string }): void {
  const opened = openPglite({ dataDir: opts.dataDir, ownModules: true });
  opened.catch(() => {}); // not lost: `openPglite` hands this promise on
  prewarmed = { dataDir: path.resolve(opts.dataDir), opened };
}

/** Opens PGlite as `opts` say (or takes over the prewarmed store of the same folder), the folder locked first. */
export async function openPglite(opts: PgliteOpenOptions): Promise<OpenedPglite> {
  const warm = takePrewarmed(opts);
  if (warm) {
    const opened = await warm;
    if (opts.log && opened.connection instanceof PgliteThread) opened.connection.log = opts.log;
    return opened;
  }
  const release = opts.inMemory ? () => {} : lockDataDir(opts.dataDir ?? './data');
  // The thread starts before the spec is ready: Node boots it while this thread reads and compiles PGlite.
  const starting = pgliteThreadMode() === 'worker' ? PgliteThread.start(opts.log ?? fallbackLogger(), opts.ownModules) : undefined;
  starting?.catch(() => {}); // awaited below (a failure to start is reported there)
  try {
    if (!starting) {
      // PGlite's modules are loaded on this thread only when it runs here.
      const spec = await pgliteSpec(opts);
      return { connection: await (await import('./pglite-local.js')).openLocalPglite(spec), release };
    }
    const spec = opts.ownModules ? threadLoadsModules(opts) : await pgliteSpec(opts);
    const thread = await starting;
    await thread.open(spec, storeThreadNice());
    return { connection: thread, thread: thread.thread, release };
  } catch (err) {
    // The error that matters is `err`: a thread that did start is ended quietly.
    const thread = await starting?.catch(() => undefined);
    await thread?.close().catch(() => {});
    release();
    throw err;
  }
}

function takePrewarmed(opts: PgliteOpenOptions): Promise<OpenedPglite> | undefined {
  if (!prewarmed || opts.inMemory || opts.template || path.resolve(opts.dataDir ?? './data') !== prewarmed.dataDir) return undefined;
  const { opened } = prewarmed;
  prewarmed = undefined;
  return opened;
}

/** What PGlite is started with when it reads and compiles its own WebAssembly (`ownModules`): no waiting. */
function threadLoadsModules(opts: PgliteOpenOptions): PgliteSpec {
  const { dir, template } = newDatabase(opts);
  return { ...(dir ? { dir } : {}), ...(template ? { loadDataDir: template } : {}), ...knownArrayTypes() };
}

/** The array types listed at build time, when there is a list (pglite-array-types.ts). */
function knownArrayTypes(): Pick<PgliteSpec, 'arrayTypes'> {
  const arrayTypes = loadArrayTypes();
  return arrayTypes ? { arrayTypes } : {};
}

/** The database folder (none: in memory), and the template a new database starts from, if any. */
function newDatabase(opts: PgliteOpenOptions): { dir?: string; fresh: boolean; template?: Blob } {
  const dir = opts.inMemory ? undefined : path.join(opts.dataDir ?? './data', 'pg');
  const fresh = !dir || isEmptyDataDir(dir);
  return { dir, fresh, template: fresh ? (opts.template ?? loadTemplate()) : undefined };
}

/**
 * What PGlite is started with. A new database loads a template (the install-time one, or the caller's)
 * instead of running initdb: several times faster. Only without any template does initdb run.
 */
async function pgliteSpec(opts: PgliteOpenOptions): Promise<PgliteSpec> {
  const { dir, fresh, template } = newDatabase(opts);
  return {
    ...(dir ? { dir } : {}),
    ...(await pgliteModules()),
    ...(template ? { loadDataDir: template } : fresh ? { initdbWasmModule: await initdbModule() } : {}),
    ...knownArrayTypes(),
  };
}
