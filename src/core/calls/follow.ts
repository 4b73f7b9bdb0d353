/**
 * Following a call: the one way SSE, the live WebSocket and anything else read a call's events as they
 * happen. The stored log (`call_events`) is the truth and the bus is the doorbell:
 *
 * 1. subscribe to the call's bus channel first, so nothing recorded from now on can be missed;
 * 2. read the stored events after `afterSeq` (the backlog) and yield them;
 * 3. yield the live events, skipping what was already yielded (by sequence number) and filling any gap
 *    from the store (two writers may publish out of order; a bus may lose a message);
 * 4. end right after the call's end state.
 *
 * Each follower has a bounded queue between the bus and its reader. A reader that falls more than `limit`
 * events behind (a client that does not read its socket) gets `FollowerTooSlowError` and must be dropped:
 * nothing is ever buffered without bound for it.
 */
import type { Bus } from '../../bus/bus.js';
import { channels } from '../../bus/bus.js';
import { AsyncQueue, QueueOverflowError } from '../../lib/async-queue.js';
import type { Db } from '../../store/index.js';
import type { CallEvent } from './events.js';
import { toCallEvent } from './event-rows.js';
import { isTerminal } from './states.js';

/** Live events a follower may fall behind by before it is dropped. */
export const FOLLOW_QUEUE_LIMIT = 1000;
/** How often a quiet follower checks the store (a bus that lost a message, e.g. across a Redis restart). */
export const FOLLOW_RECHECK_MS = 15_000;

export interface FollowOptions {
  /** Only events after this sequence number (a client resuming with `Last-Event-ID`). */
  afterSeq?: number;
  /** Ends the iteration (the client went away). */
  signal?: AbortSignal;
  /** Live events queued at most for this reader (default `FOLLOW_QUEUE_LIMIT`). */
  limit?: number;
  /** Store re-check period while nothing arrives (default `FOLLOW_RECHECK_MS`). */
  recheckMs?: number;
  /**
   * Called the moment the reader falls `limit` events behind: drop the client now (close its connection),
   * which also ends a wait for its socket to drain; the iteration then throws `FollowerTooSlowError`.
   */
  onTooSlow?: (err: FollowerTooSlowError) => void;
}

/** The reader fell too far behind the call: drop it (close its connection with this reason). */
export class FollowerTooSlowError extends Error {
  readonly reason = 'slow_consumer';
  constructor(readonly limit: number) {
    super('follower fell too far behind the call');
    this.name = 'FollowerTooSlowError';
  }
}

export function isEnd(e: CallEvent): boolean {
  return e.type === 'status' && isTerminal(e.status);
}

/** A call's stored events with `after < seq < before`, in order. */
async function storedEvents(db: Db, callId: string, after: number, before?: number): Promise<CallEvent[]> {
  let q = db.selectFrom('call_events').selectAll().where('call_id', '=', callId).where('seq', '>', after);
  if (before !== undefined) q = q.where('seq', '<', before);
  return (await q.orderBy('seq').execute()).map(toCallEvent);
}

/** The call's end event, whatever its sequence number (a client resuming past it still learns the end). */
async function endEvent(db: Db, callId: string): Promise<CallEvent | undefined> {
  const row = await db.selectFrom('call_events').selectAll().where('call_id', '=', callId).where('kind', '=', 'status').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const e = row && toCallEvent(row);
  return e && isEnd(e) ? e : undefined;
}

/**
 * The events of call `callId` (already authorised by the caller) after `afterSeq`: the stored backlog, then
 * live ones, each once and in sequence order, ending after the end state. Leaving the loop early (or
 * aborting `signal`) unsubscribes.
 */
export async function* followCall(deps: { db: Db; bus: Bus }, callId: string, o: FollowOptions = {}): AsyncGenerator<CallEvent> {
  const limit = o.limit ?? FOLLOW_QUEUE_LIMIT;
  // `null` is the re-check tick: look in the store for anything the bus did not bring.
  const queue = new AsyncQueue<CallEvent | null>({ limit, overflow: 'fail' });
  let tooSlow: FollowerTooSlowError | undefined;
  const push = (item: CallEvent | null) => {
    if (queue.push(item) || tooSlow || !(queue.failure instanceof QueueOverflowError)) return;
    tooSlow = new FollowerTooSlowError(limit);
    o.onTooSlow?.(tooSlow);
  };
  const unsubscribe = await deps.bus.subscribe(channels.callEvents(callId), (m) => push(m as CallEvent));
  const stop = () => queue.close();
  o.signal?.addEventListener('abort', stop, { once: true });
  if (o.signal?.aborted) stop();
  let quiet = true;
  const recheck = setInterval(() => {
    if (quiet) push(null);
    quiet = true;
  }, o.recheckMs ?? FOLLOW_RECHECK_MS);
  recheck.unref();
  try {
    let last = o.afterSeq ?? 0;
    // Everything stored up to the moment we look, in order; true once the end was yielded.
    const fromStore = async function* (before?: number): AsyncGenerator<CallEvent, boolean> {
      for (const e of await storedEvents(deps.db, callId, last, before)) {
        last = e.seq;
        yield e;
        if (isEnd(e)) return true;
      }
      return false;
    };
    const status = await deps.db.selectFrom('calls').select('status').where('id', '=', callId).executeTakeFirst();
    if (!status) return;
    if (yield* fromStore()) return;
    if (isTerminal(status.status)) {
      // Ended before we looked, and the client resumed past the end event: it still gets the end.
      const end = await endEvent(deps.db, callId);
      if (end) yield end;
      return;
    }
    for await (const e of queue) {
      quiet = false;
      if (e === null) {
        if (yield* fromStore()) return;
        continue;
      }
      if (e.seq <= last) continue;
      if (e.seq > last + 1 && (yield* fromStore(e.seq))) return;
      if (e.seq <= last) continue;
      last = e.seq;
      yield e;
      if (isEnd(e)) return;
    }
  } catch (err) {
    if (err instanceof QueueOverflowError) throw tooSlow ?? new FollowerTooSlowError(err.limit);
    throw err;
  } finally {
    clearInterval(recheck);
    o.signal?.removeEventListener('abort', stop);
    queue.close();
    await unsubscribe();
  }
}
