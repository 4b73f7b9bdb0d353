/**
 * The embedded store's worker thread: it owns the PGlite instance and its prepared statements, so that the
 * WebAssembly work of every statement runs here and not on the server's thread, which meanwhile serves
 * requests and paces call audio. The server's side is pglite-thread.ts; what they say, pglite-protocol.ts.
 * Requests are answered as PGlite finishes them: PGlite's own lock runs them one at a time, in arrival order,
 * and the server's pool (pglite-pool.ts) decides that order.
 */
import { parentPort } from 'node:worker_threads';
import { messages } from '@electric-sql/pglite';
import { openLocalPglite } from './pglite-local.js';
import { errorToWire, type PgliteConnection, type Reply, type Request } from './pglite-protocol.js';

const port = parentPort ?? notAWorker();

let db: PgliteConnection | undefined;

// The server posts the requests of one turn of its event loop together (pglite-thread.ts); they are started in
// order (PGlite's lock then runs them one at a time) and their replies go back together in the same way.
port.on('message', (requests: Request | Request[]) => {
  for (const request of Array.isArray(requests) ? requests : [requests]) {
    answer(request).then(
      (reply) => send(reply),
      (err: unknown) => send({ id: request.id, ok: false, error: toWire(err) }),
    );
  }
});

async function answer(request: Request): Promise<Reply> {
  switch (request.kind) {
    case 'open':
      db = await openLocalPglite(request.spec);
      return { id: request.id, ok: true, value: undefined };
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

let outbox: Reply[] = [];

/** Queues a reply; those ready by the event loop's next check phase go back as one message. */
function send(reply: Reply): void {
  if (outbox.push(reply) === 1) setImmediate(flush);
}

/** A dump's bytes are moved to the server's thread, not copied. */
function flush(): void {
  const batch = outbox;
  outbox = [];
  try {
    port.postMessage(batch.length === 1 ? batch[0] : batch, batch.flatMap(moved));
  } catch {
    for (const reply of batch) {
      try {
        port.postMessage(reply, moved(reply));
      } catch (err) {
        // A row PGlite made that cannot be cloned (none of our column types does): the caller still gets an answer.
        port.postMessage({ id: reply.id, ok: false, error: toWire(err) } satisfies Reply);
      }
    }
  }
}

function moved(reply: Reply): ArrayBuffer[] {
  return reply.ok && reply.value instanceof ArrayBuffer ? [reply.value] : [];
}

function toWire(err: unknown) {
  return errorToWire(err, (e) => e instanceof messages.DatabaseError);
}

function notAWorker(): never {
  throw new Error('pglite-worker.ts runs as a worker thread (src/store/pglite-thread.ts starts it)');
}
