/**
 * Which statements may wait: work that runs inside `inBackground()` (the engine carrying calls, webhook
 * and task jobs) is background; everything else (API requests, /healthz) is foreground. The embedded
 * store's single connection serves foreground statements first (see pglite-pool.ts), so API reads do not
 * queue behind the writes of hundreds of live calls. The mark follows the work through every promise and
 * timer it starts (AsyncLocalStorage), so no function on the way has to pass it on. Only while such a store
 * is open (`readPriorities`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type StorePriority = 'foreground' | 'background';

const priority = new AsyncLocalStorage<StorePriority>();

/**
 * How many open stores read the mark (the embedded ones: a PostgreSQL pool has many connections and no
 * priorities). With none, nothing is marked: the first mark turns on Node's async hooks for the whole process,
 * a hook run for every promise, timer and tick (on Node 20, ≈ a tenth of what a node carrying 100 audio calls
 * allocates: docs/performance.md §22), for nothing on a PostgreSQL node.
 */
let readers = 0;

/** Called by a store that reads the mark, when it opens; the function returned is called when it closes. */
export function readPriorities(): () => void {
  readers++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    readers--;
  };
}

/** Runs `fn`, and everything it starts, with background priority on the store. */
export function inBackground<T>(fn: () => T): T {
  return readers > 0 ? priority.run('background', fn) : fn();
}

/** Runs `fn`, and everything it starts, with foreground priority (an answer someone waits for). */
export function inForeground<T>(fn: () => T): T {
  return readers > 0 ? priority.run('foreground', fn) : fn();
}

export function currentPriority(): StorePriority {
  return priority.getStore() ?? 'foreground';
}
