/**
 * Loaded into the bench's server (`node --import`, BENCH_STALLS=1): how long its main thread goes without
 * running a timer, and whether the garbage collector paused it meanwhile. A 2 ms interval timer notes every gap
 * over 12 ms; the `gc` performance entries say when the collector paused the thread. Every 10 s one JSON line
 * goes to the file named by STALL_PROBE_FILE: `{ origin, at, stalls: [[startMs, ms, gcMs]], gc: [count, ms],
 * gaps: [[startMs, ms]], pauses: [[startMs, ms, kind]] }` (`origin` the epoch ms of the server's start, the other
 * times ms from it; `gaps` every gap of the timer over 4 ms and `pauses` every pause of the collector, which the
 * bench sets beside each turn with BENCH_TRACE; `kind` is Node's `perf_hooks.constants`: 1 a scavenge, 4 a
 * mark-compact's pause, 8 an incremental marking step, 16 weak callbacks), and `posts: [count, over100us, longestMs,
 * totalMs]`: how long the thread spent in each `postMessage` to a worker thread (the embedded store's) — a post
 * wakes that thread, and where the kernel lets it take the core at once the server's thread waits out its
 * statement inside the call (docs/performance.md §30). Plain JavaScript: the server runs built code, with no TypeScript loader.
 */
import { appendFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { Worker, isMainThread } from 'node:worker_threads';

const file = process.env.STALL_PROBE_FILE;
if (isMainThread && file) {
  const INTERVAL_MS = 2;
  const STALL_MS = 12;
  const GAP_MS = 4;
  /** The collector's pauses of this thread: [start, duration, kind] (ms). */
  let pauses = [];
  let stalls = [];
  let gaps = [];
  /** Posts to worker threads: [count, over 100 µs, longest, total] (ms). */
  let posts = [0, 0, 0, 0];
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function timedPost(...args) {
    const start = performance.now();
    try {
      return post.apply(this, args);
    } finally {
      const ms = performance.now() - start;
      posts = [posts[0] + 1, posts[1] + (ms > 0.1 ? 1 : 0), Math.max(posts[2], ms), posts[3] + ms];
    }
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push([e.startTime, e.duration, e.detail?.kind ?? 0]);
  }).observe({ entryTypes: ['gc'] });
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > STALL_MS) stalls.push([last, now - last]);
    if (now - last > GAP_MS) gaps.push([last, now - last]);
    last = now;
  }, INTERVAL_MS).unref();
  setInterval(() => {
    const gcIn = (from, ms) => pauses.reduce((sum, [s, d]) => sum + Math.max(0, Math.min(s + d, from + ms) - Math.max(s, from)), 0);
    const round = (x) => Math.round(x * 10) / 10;
    const line = {
      origin: performance.timeOrigin,
      at: round(performance.now()),
      stalls: stalls.map(([s, ms]) => [round(s), round(ms), round(gcIn(s, ms))]),
      gc: [pauses.length, round(pauses.reduce((sum, [, d]) => sum + d, 0))],
      gaps: gaps.map(([s, ms]) => [round(s), round(ms)]),
      pauses: pauses.map(([s, ms, kind]) => [round(s), round(ms), kind]),
      posts: [posts[0], posts[1], round(posts[2]), round(posts[3])],
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
    stalls = [];
    gaps = [];
    pauses = [];
    posts = [0, 0, 0, 0];
  }, 10_000).unref();
}
