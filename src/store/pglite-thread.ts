/**
 * The server's side of the embedded store's worker (pglite-worker.ts): a `PgliteConnection` whose statements
 * run on a thread of their own. PGlite is PostgreSQL compiled to WebAssembly, and every statement's work
 * used to run on the server's thread, stalling requests and the audio of live calls for as long as it took
 * (docs/performance.md §9; §10 measures this change). Here the server's thread only posts the statement
 * and reads the answer.
 *
 * A thread that stops (a crash, out of memory, ended from outside) fails every statement waiting on it and
 * every later one, with PostgreSQL's code for a lost connection: callers handle it as they handle a lost
 * PostgreSQL connection (503 and a bounded retry), `/healthz` answers 503, and the process goes on.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  errorFromWire,
  type OpenedThread,
  type PgliteConnection,
  type PgliteSpec,
  type Reply,
  type Request,
  type StatementResult,
  type StoreThreadData,
} from './pglite-protocol.js';
import { takeEarlyStoreThread } from './early-thread.js';
import type { Logger } from '../lib/logger.js';

/** The embedded store's thread has stopped or was closed: its statements can no longer run. */
export class StoreThreadStoppedError extends Error {
  /** PostgreSQL's "connection failure" (a crash) or "connection does not exist" (closed): see `isConnectionLoss`. */
  readonly code: '08006' | '08003';
  constructor(closed: boolean, options?: ErrorOptions) {
    super(closed ? 'the embedded store is closed' : "the embedded store's thread stopped", options);
    this.name = 'StoreThreadStoppedError';
    this.code = closed ? '08003' : '08006';
  }
}

interface Waiting {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** A request without its id (the id is given when it is sent). */
type Body<R = Request> = R extends Request ? Omit<R, 'id'> : never;

export class PgliteThread implements PgliteConnection {
  /** The worker itself (its `performance.eventLoopUtilization()` is the store's load; tests end it to see a crash handled). */
  readonly thread: Worker;
  /** Where an unexpected stop is reported (the server's logger once the store is opened). */
  log: Pick<Logger, 'error'>;
  private readonly waiting = new Map<number, Waiting>();
  private lastId = 0;
  private stopped: StoreThreadStoppedError | undefined;
  private closing = false;
  private opened: OpenedThread = {};

  /**
   * Starts the thread (it boots while the caller prepares `open`'s spec). `prepare`: it reads and compiles
   * PGlite itself, from its first line, for an `open` that brings no compiled modules; the thread the CLI's
   * launcher started so (early-thread.ts) is taken if there is one.
   */
  static async start(log: Pick<Logger, 'error'>, prepare = false): Promise<PgliteThread> {
    return new PgliteThread((prepare ? takeEarlyStoreThread() : undefined) ?? (await startWorker(prepare)), log);
  }

  private constructor(thread: Worker, log: Pick<Logger, 'error'>) {
    this.log = log;
    this.thread = thread;
    // An idle store does not keep the process alive (as PGlite on the server's thread did not); a statement
    // under way does (see `request`).
    this.thread.unref();
    this.thread.on('message', (reply: Reply) => this.settle(reply));
    // Uncaught in the thread (its own failure, or its file failing to load): the thread ends with it.
    this.thread.on('error', (err) => this.stop(err));
    // A reply that could not be read: its caller cannot be told which, so nothing more is trusted.
    this.thread.on('messageerror', (err) => this.stop(err));
    this.thread.on('exit', (exitCode) => this.stop(new Error(`the thread exited with code ${exitCode}`)));
  }

  /**
   * Starts PGlite in the thread; resolves once it answers statements. `nice` (0–19, Linux): the thread yields the
   * CPU to the server's thread by that much (pglite.ts `storeThreadNice`).
   */
  async open(spec: PgliteSpec, nice?: number): Promise<void> {
    this.opened = (await this.request({ kind: 'open', spec, ...(nice ? { nice } : {}) })) as OpenedThread;
  }

  /** The thread's id in the operating system and its niceness, once open (Linux; empty elsewhere). */
  get osThread(): OpenedThread {
    return this.opened;
  }

  query(sql: string, params?: readonly unknown[]): Promise<StatementResult> {
    return this.request({ kind: 'query', sql, params }) as Promise<StatementResult>;
  }

  async dump(): Promise<Blob> {
    return new Blob([(await this.request({ kind: 'dump' })) as ArrayBuffer]);
  }

  /** Closes PGlite (its files written, after the statements under way), then ends the thread. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.closing = true;
    try {
      await this.request({ kind: 'close' });
    } finally {
      await this.thread.terminate();
    }
  }

  private request(body: Body): Promise<unknown> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = ++this.lastId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.thread.ref();
      // Posted at once, each on its own: the worker starts it while this thread goes on with its turn. (Holding
      // a turn's requests to post them together cost the API a third of its throughput under call load,
      // docs/performance.md §16: the worker waited for the turn's end.)
      try {
        this.thread.postMessage({ ...body, id });
      } catch (err) {
        // A parameter that cannot be cloned (a function…): this statement fails, the connection does not.
        this.forget(id);
        reject(err as Error);
      }
    });
  }

  private settle(reply: Reply): void {
    const waiting = this.forget(reply.id);
    if (!waiting) return;
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(errorFromWire(reply.error));
  }

  private forget(id: number): Waiting | undefined {
    const waiting = this.waiting.get(id);
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.thread.unref();
    return waiting;
  }

  /** The thread is gone (or going): everything waiting fails now, everything later at once. */
  private stop(cause: unknown): void {
    if (this.stopped) return;
    this.stopped = new StoreThreadStoppedError(this.closing, { cause });
    if (!this.closing) this.log.error({ err: cause }, "the embedded store's thread stopped: the store does not answer until the server restarts");
    for (const waiting of this.waiting.values()) waiting.reject(this.stopped);
    this.waiting.clear();
    this.thread.unref();
  }
}

async function startWorker(prepare: boolean): Promise<Worker> {
  return new Worker(await storeWorkerFile(), { workerData: { prepare } satisfies StoreThreadData });
}

/**
 * The worker's file: the built one next to this one (dist/cli/ in the server bundle: scripts/bundle-server.js
 * makes pglite-worker.js an entry of its own; dist/store/ in tsc's output), or one bundled from the sources.
 */
export async function storeWorkerFile(): Promise<URL> {
  const here = import.meta.url;
  const fromSources = /\.ts$/.test(new URL(here).pathname);
  return fromSources ? await (workerFromSources ??= bundleWorker(here)) : new URL('./pglite-worker.js', here);
}

let workerFromSources: Promise<URL> | undefined;

/**
 * From the TypeScript sources (the tests, `npm run dev`, the benches run by tsx) Node cannot load
 * pglite-worker.ts itself. It is bundled once per process by esbuild (a development dependency, as tsx,
 * which runs the sources, is) into node_modules/.cache, where its one package import, PGlite, resolves.
 * Not tsx in the thread: on Node 20 its loader runs on a thread of its own for each worker, and a worker
 * started so took ≈ 0.6 s more than one started from JavaScript, for every store the test suite opens.
 */
async function bundleWorker(here: string): Promise<URL> {
  const esbuild = await import('esbuild');
  const built = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./pglite-worker.ts', here))],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const code = built.outputFiles[0].text;
  const name = `pglite-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`;
  const file = fileURLToPath(new URL(`../../node_modules/.cache/switchboard/${name}`, here));
  if (!fs.existsSync(file)) {
    // Test processes run side by side: each writes its own file and renames it, so none reads half of one.
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.${process.pid}`, code);
    fs.renameSync(`${file}.${process.pid}`, file);
  }
  return pathToFileURL(file);
}
