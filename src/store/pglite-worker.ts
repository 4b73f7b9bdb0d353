/**
 * The embedded store's worker thread: it owns the PGlite instance and its prepared statements, so that the
 * WebAssembly work of every statement runs here and not on the server's thread, which meanwhile serves
 * requests and paces call audio. The server's side is pglite-thread.ts; what they say, pglite-protocol.ts.
 * Requests are answered as PGlite finishes them: PGlite's own lock runs them one at a time, in arrival order,
 * and the server's pool (pglite-pool.ts) decides that order.
 *
 * Nothing of PGlite's JavaScript is imported before this file's first line runs (only `import()` below), so
 * that a worker started to boot the server's own store (`prepare`, pglite-thread.ts) reads and compiles
 * PGlite's WebAssembly from its first moment, on Node's and V8's helper threads, while it loads PGlite's
 * JavaScript and waits for `open` (docs/performance.md §16).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { bootTiering, openLocalPglite } from './pglite-local.js';
import { compilePglite, type PgliteModules } from './pglite-modules.js';
import { errorToWire, type OpenedThread, type PgliteConnection, type Reply, type Request, type StoreThreadData } from './pglite-protocol.js';
import { niceCurrentThread, osThreadId } from '../lib/thread-priority.js';

const port = parentPort ?? notAWorker();

let db: PgliteConnection | undefined;
/** PGlite's error class, known once `open` has loaded PGlite: an error before that is not PostgreSQL's. */
let DatabaseError: (abstract new (...args: never[]) => Error) | undefined;

/** PGlite's WebAssembly compiled and its JavaScript loaded, started now when this thread was asked to prepare. */
const prepared = (workerData as StoreThreadData | undefined)?.prepare ? prepare() : undefined;
prepared?.catch(() => {}); // awaited by `open`, which reports a failure

function prepare(): Promise<PgliteModules> {
  bootTiering(true); // compiled under the boot's budget, as PGlite's own compilation would be (pglite-local.ts)
  return Promise.all([compilePglite(), import('@electric-sql/pglite')]).then(([modules]) => modules);
}

// Each request is started as it arrives (PGlite's lock then runs them one at a time, in order) and each reply
// goes back as soon as it is ready, not after the statement PGlite runs next.
port.on('message', (request: Request) => {
  answer(request).then(
    (reply) => send(reply),
    (err: unknown) => send({ id: request.id, ok: false, error: toWire(err) }),
  );
});

async function answer(request: Request): Promise<Reply> {
  switch (request.kind) {
    case 'open': {
      // Before PGlite boots, so that the boot too leaves the core to the server's thread (pglite.ts `storeThreadNice`).
      const nice = request.nice ? niceCurrentThread(request.nice) : undefined;
      // A spec that brings its own compiled modules (the server's thread compiled them) is taken as it is.
      const modules = prepared && !request.spec.pgliteWasmModule ? await prepared : {};
      db = await openLocalPglite({ ...modules, ...request.spec });
      ({ DatabaseError } = (await import('@electric-sql/pglite')).messages);
      return { id: request.id, ok: true, value: { threadId: osThreadId(), nice } satisfies OpenedThread };
    }
    case 'query':
      return { id: request.id, ok: true, value: await opened().query(request.sql, request.params) };
    case 'dump':
      return { id: request.id, ok: true, value: await (await opened().dump()).arrayBuffer() };
    case 'close':
      await db?.close();
      return { id: request.id, ok: true, value: undefined };
  }
}

function opened(): PgliteConnection {
  if (!db) throw new Error('the embedded store is not open');
  return db;
}

/** A dump's bytes are moved to the server's thread, not copied. */
function send(reply: Reply): void {
  try {
    port.postMessage(reply, reply.ok && reply.value instanceof ArrayBuffer ? [reply.value] : []);
  } catch (err) {
    // A row PGlite made that cannot be cloned (none of our column types does): the caller still gets an answer.
    port.postMessage({ id: reply.id, ok: false, error: toWire(err) } satisfies Reply);
  }
}

function toWire(err: unknown) {
  return errorToWire(err, (e) => DatabaseError !== undefined && e instanceof DatabaseError);
}

function notAWorker(): never {
  throw new Error('pglite-worker.ts runs as a worker thread (src/store/pglite-thread.ts starts it)');
}
