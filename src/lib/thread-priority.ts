/**
 * The operating system's priority of one thread (not the process): for a thread of ours whose work may wait a
 * few milliseconds while the server's own thread may not (the embedded store's, src/store/pglite-worker.ts), and
 * for all of them at once on a node pinned to one CPU (src/cli/serve.ts).
 *
 * Linux gives each thread its own niceness: `setpriority(PRIO_PROCESS, tid)` — what `os.setPriority` calls —
 * changes only the thread `tid`, and `/proc/thread-self` names the calling thread's id (Node has no call for
 * it). Elsewhere nothing is changed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The calling thread's id in the operating system (Linux), undefined where it cannot be read. */
export function osThreadId(): number | undefined {
  try {
    const tid = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes the calling thread at least `nice` nice (0–19: the higher, the more it yields the CPU to the others),
 * leaving the process's other threads as they are. Never raises a thread's priority (that needs privileges).
 * Returns the thread's niceness after it, undefined where threads cannot be told apart.
 */
export function niceCurrentThread(nice: number): number | undefined {
  const tid = osThreadId();
  if (tid === undefined) return undefined;
  try {
    const now = os.getPriority(tid);
    if (now < nice) os.setPriority(tid, nice);
    return os.getPriority(tid);
  } catch {
    return undefined;
  }
}

/**
 * Makes every thread of this process but its main one at least `nice` nice — V8's compiler and collector helpers,
 * libuv's pool — except a thread that set its own niceness (the embedded store's, which keeps 10: at 19 it would
 * get ≈ 1.5 % of a core the server's thread keeps busy, and it measured no better: docs/performance.md §27). A
 * thread started afterwards keeps the default: call it again. Returns how many threads it changed; 0 where
 * threads cannot be listed (not Linux).
 */
export function niceOtherThreads(nice: number): number {
  let tids: number[];
  let base: number;
  try {
    tids = fs.readdirSync('/proc/self/task').map(Number);
    // The main thread's id is the process's (Linux: the thread group's leader); the others start at its niceness.
    base = os.getPriority(process.pid);
  } catch {
    return 0;
  }
  let changed = 0;
  for (const tid of tids) {
    if (tid === process.pid) continue;
    try {
      const now = os.getPriority(tid);
      if (now === base && now < nice) {
        os.setPriority(tid, nice);
        changed++;
      }
    } catch {
      // The thread ended meanwhile.
    }
  }
  return changed;
}
