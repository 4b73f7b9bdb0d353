/**
 * Time as the simulated network and the call sessions see it. Production uses `RealClock`; the simulated
 * network may run faster (`SIM_TIME_SCALE`); tests use `VirtualClock`, which never really sleeps.
 */
import { ROUTINE_ABORT } from './abort.js';

export interface Clock {
  /** Milliseconds since the epoch, in this clock's time. */
  now(): number;
  /** Resolves after `ms` of this clock's time; rejects with an `AbortError` when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Runs real work (a database write) during which this clock's time must not move on. Real clocks just
   * await it; the virtual clock holds its time still until it settles. Never wrap a sleep of this clock.
   */
  hold<T>(work: Promise<T>): Promise<T>;
}

/** A sleep cut short rejects with the one shared AbortError (./abort.ts): routine, every turn of every call. */
function abortError(): Error {
  return ROUTINE_ABORT;
}

/** Wall-clock time, optionally sped up: `scale` 20 makes a 20 s wait take 1 s. */
export class RealClock implements Clock {
  private readonly start = Date.now();
  constructor(readonly scale = 1) {}
  now(): number {
    return this.start + (Date.now() - this.start) * this.scale;
  }
  hold<T>(work: Promise<T>): Promise<T> {
    return work;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError());
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms / this.scale));
      const onAbort = () => {
        clearTimeout(t);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * A clock for tests: time jumps straight to the next sleeper's wake-up once the process has been quiet
 * for a moment (no new sleeper), so a scenario with minutes of ringing and hold music runs in
 * milliseconds while keeping every wait in its virtual order. We write our own because fake-timer
 * libraries replace the global timers, which the database drivers and HTTP servers under test need.
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];
  private pending: NodeJS.Timeout | undefined;
  private busy = 0;
  constructor(
    start = Date.UTC(2026, 0, 1),
    /** Real milliseconds of quiet before time jumps; `Infinity` = only `advance()` moves time. */
    private readonly quietMs = 5,
  ) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError());
      const s: Sleeper = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((x) => x !== s);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(s);
      this.schedule();
    });
  }
  async hold<T>(work: Promise<T>): Promise<T> {
    this.busy++;
    try {
      return await work;
    } finally {
      this.busy--;
      if (this.sleepers.length) this.schedule();
    }
  }
  /** Moves time forward by `ms` at once, waking every sleeper due by then. */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > target) break;
      this.wake(next);
    }
    this.t = target;
  }
  private earliest(): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.sleepers) if (!best || s.at < best.at || (s.at === best.at && s.seq < best.seq)) best = s;
    return best;
  }
  private wake(s: Sleeper): void {
    this.sleepers = this.sleepers.filter((x) => x !== s);
    this.t = Math.max(this.t, s.at);
    s.resolve();
  }
  private schedule(): void {
    if (!Number.isFinite(this.quietMs)) return;
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      this.pending = undefined;
      if (this.busy > 0) return; // resumes when the held work settles
      const next = this.earliest();
      if (!next) return;
      this.wake(next);
      if (this.sleepers.length) this.schedule();
    }, this.quietMs);
    this.pending.unref?.();
  }
}
