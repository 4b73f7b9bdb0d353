import type { PgliteConnection } from './pglite-protocol.js';

/**
 * After this many reads in a row while writes wait, one write goes first. One: while both lines wait, they
 * take turns. A read that arrives when nobody waits still goes at once, and never waits behind more than one
 * write; but the calls' writes (and the session clocks that wait for them) get half the connection under any
 * flood of API reads. With 8 here, a warm process answering ≈ 1,000 reads a second left the calls one turn in
 * nine, and not one of 200 live calls reached its end in 15 s (docs/performance.md §9): a callee hears silence.
 */
export const FOREGROUND_BURST = 1;

/**
 * How many statements may be posted to PGlite and not yet answered. Two: while PGlite runs one, the next is
 * already on its thread, so it goes from one to the next without waiting for the server's thread to read the
 * answer, hand the lock on and post again (with one at a time the store's thread sat idle more than half of
 * the bench's window while clients waited; with this, 1.6–2× the reads a second on a lightly loaded machine,
 * no difference on a saturated one: docs/performance.md §11, "API reads under call load"). More would let writes
 * pile up on the thread, past the priority lock, in front of a later read.
 */
export const PIPELINE_DEPTH = 2;

/**
 * Makes one PGlite instance (on its worker thread, or on this one: pglite.ts) look like a `pg` pool of one
 * connection, so that Kysely's own PostgresDialect (and so the same SQL, migrations and tests) serves both
 * stores. We write this small adapter ourselves because the published Kysely PGlite dialects do not yet
 * support PGlite 0.5. PGlite is a single connection: one holder at a time has it, which keeps one request's
 * transaction from interleaving with another's.
 *
 * **Reads first.** Waiting holders are served by what they ask: a read (a `select` outside a transaction) goes
 * before waiting writes and transactions (at most FOREGROUND_BURST reads in a row while writes wait). With
 * hundreds of live calls their writes would otherwise form a queue that every API read joins at its end
 * (issue 11: API reads under 100 ms at p99 while the node carries 200 calls). The statement itself says which
 * line it joins, so nothing has to mark the work it comes from: an earlier mark that followed the engine's
 * work through every promise (`AsyncLocalStorage`) turned on Node's async hooks for every promise of the
 * process — 6.5 % of what a node carrying 100 audio calls allocates, ≈ 1 ms of its turns' p99
 * (docs/performance.md §29). Within one line, the order is first come, first served.
 *
 * A holder outside a transaction hands the lock on as soon as its statement is posted, not when it is
 * answered: PGlite runs statements in the order they arrive, and a statement outside a transaction needs
 * nothing of the connection's state, so the next holder's statement may queue right behind it (at most
 * PIPELINE_DEPTH unanswered). A transaction (`begin` / `start transaction`) keeps the lock from its first
 * statement until its holder releases the connection: nobody else's statement reaches PGlite between its own.
 */
export function pgliteAsPool(db: PgliteConnection) {
  // Our own lock, not PGlite's `runExclusive`: in PGlite 0.5 `query`/`exec` take the same internal mutex
  // that `runExclusive` holds, so a query issued by the holder waited for itself forever.
  const lock = new PriorityLock();
  const posted = new Slots(PIPELINE_DEPTH);
  return {
    /** A checkout takes nothing yet: each statement waits its turn in the line its kind says (above). */
    async connect() {
      let held: (() => void) | undefined;
      let inTransaction = false;
      const handOn = () => {
        held?.();
        held = undefined;
      };
      return {
        async query(sql: string, params?: readonly unknown[]) {
          // Kysely sends one statement per checkout outside transactions, but a caller of `db.connection()`
          // may send more: each waits its turn again.
          held ??= await lock.acquire(READ.test(sql));
          await posted.take();
          const answer = db.query(sql, params).finally(() => posted.give());
          if (BEGINS_TRANSACTION.test(sql)) inTransaction = true;
          if (!inTransaction) handOn();
          return answer;
        },
        release: handOn,
      };
    },
    end: () => db.close(),
  };
}

/**
 * A read, for the lock's first line: a plain `select`. Anything else — a write, `with` (Kysely's CTEs here
 * all write), `begin` — waits in the second. Inside a transaction the lock is already held, so the rule does
 * not apply there.
 */
const READ = /^\s*select\b/i;

/** How Kysely's PostgreSQL driver opens a transaction (`begin`, or `start transaction …` with settings). */
const BEGINS_TRANSACTION = /^\s*(begin|start\s+transaction)\b/i;

/**
 * A counter of statements posted and not yet answered. Only the lock's holder takes a slot, so at most one
 * waits for one: a plain array suffices.
 */
class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly size: number) {}

  take(): Promise<void> | void {
    if (this.used < this.size) {
      this.used++;
      return;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** A statement was answered: its slot goes to the waiting holder, if any (the count stays), or back. */
  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }
}

/**
 * A lock with two waiting lines, foreground (the store's reads) before background (its writes and
 * transactions), at most FOREGROUND_BURST foreground turns in a row while background waits. A plain array
 * per line: both stay short, bounded by the callers.
 */
export class PriorityLock {
  private held = false;
  private readonly foreground: Array<() => void> = [];
  private readonly background: Array<() => void> = [];
  private burst = 0;

  /** Resolves with this holder's release function once the lock is its. */
  acquire(foreground: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => resolve(this.releaser());
      if (!this.held) {
        this.held = true;
        grant();
      } else (foreground ? this.foreground : this.background).push(grant);
    });
  }

  /** How many holders are waiting, for tests and metrics. */
  get waiting(): { foreground: number; background: number } {
    return { foreground: this.foreground.length, background: this.background.length };
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return; // a second release must not hand the lock on twice
      released = true;
      this.next();
    };
  }

  private next(): void {
    if (this.foreground.length > 0 && !this.backgroundDue()) this.grantForeground();
    // A background turn waits for the event loop to read what has arrived (setImmediate runs after I/O), so
    // that API reads waiting on their sockets join the foreground line first. (PGlite on this thread answers
    // through promises only: back-to-back background statements would otherwise run as one long chain of
    // microtasks. On its worker the answers are messages, but a burst of them may be read in one go.)
    else if (this.background.length > 0) setImmediate(() => this.dispatch());
    else this.held = false;
  }

  /** After the pause: whoever is due now (a foreground holder may have arrived meanwhile). */
  private dispatch(): void {
    if (this.backgroundDue()) {
      this.burst = 0;
      this.background.shift()!();
    } else this.grantForeground();
  }

  private backgroundDue(): boolean {
    return this.background.length > 0 && (this.foreground.length === 0 || this.burst >= FOREGROUND_BURST);
  }

  private grantForeground(): void {
    this.burst = this.background.length > 0 ? this.burst + 1 : 0;
    this.foreground.shift()!();
  }
}
