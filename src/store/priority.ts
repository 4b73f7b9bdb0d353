/**
 * Which statements may wait: work that runs inside `inBackground()` (the engine carrying calls, webhook
 * and task jobs) is background; everything else (API requests, /healthz) is foreground. The embedded
 * store's single connection serves foreground statements first (see pglite-pool.ts), so API reads do not
 * queue behind the writes of hundreds of live calls. The mark follows the work through every promise and
 * timer it starts (AsyncLocalStorage), so no function on the way has to pass it on.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type StorePriority = 'foreground' | 'background';

const priority = new AsyncLocalStorage<StorePriority>();

/** Runs `fn`, and everything it starts, with background priority on the store. */
export function inBackground<T>(fn: () => T): T {
  return priority.run('background', fn);
}

/** Runs `fn`, and everything it starts, with foreground priority (an answer someone waits for). */
export function inForeground<T>(fn: () => T): T {
  return priority.run('foreground', fn);
}

export function currentPriority(): StorePriority {
  return priority.getStore() ?? 'foreground';
}
