import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, JobRow } from '../store/schema.js';
import type { Logger } from '../lib/logger.js';
import { background } from '../lib/background.js';

type DbOrTrx = Kysely<Database> | Transaction<Database>;

export interface NewJob {
  kind: string;
  payload: unknown;
  /** Enqueueing the same key again keeps the first job (e.g. one delivery per event and target). */
  key?: string;
  runAt?: Date;
  maxAttempts?: number;
  /** Among due jobs, a higher priority is claimed first (default 0). */
  priority?: number;
  /** Stored already claimed by this node, which runs it at once (`JobRunner.runNow`). */
  lockedBy?: string;
}

/** A handler asks for another try later by throwing this. */
export class RetryJob extends Error {
  constructor(
    readonly delayMs: number,
    message = 'retry',
  ) {
    super(message);
  }
}

/** A handler ends its job for good by throwing this: it failed, and another try would not help. */
export class GiveUpJob extends Error {}

export type JobHandler = (payload: any, job: JobRow) => Promise<void>;

export interface JobKindOptions {
  /**
   * Leaves the trace of a job that gives up (a `GiveUpJob`, any other error, or a `RetryJob` on its last
   * attempt), before the job is deleted. If it fails, the job is kept and runs again once its lock lapses,
   * so that no job vanishes without its trace.
   */
  onGiveUp?: (job: JobRow, err: unknown) => Promise<void>;
}

/**
 * Adds a job in the caller's transaction, so that the job exists if and only if the state change that
 * caused it was committed. Returns the stored job (undefined when its key was already taken).
 */
export async function enqueueJob(db: DbOrTrx, job: NewJob): Promise<JobRow | undefined> {
  return db
    .insertInto('jobs')
    .values(jobValues(job))
    .onConflict((oc) => oc.column('key').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/**
 * A new job's columns (what enqueueJob inserts), for a statement that stores the job along with something
 * else; `storedJob` makes the row such an insert stored from them, its id and time.
 */
export function jobValues(job: NewJob) {
  return {
    kind: job.kind,
    payload: JSON.stringify(job.payload),
    key: job.key ?? null,
    run_at: job.runAt ?? new Date(),
    max_attempts: job.maxAttempts ?? 1,
    priority: job.priority ?? 0,
    locked_at: job.lockedBy ? new Date() : null,
    locked_by: job.lockedBy ?? null,
    attempts: job.lockedBy ? 1 : 0,
    last_error: null,
  };
}

/** The row a job inserted with `values` (jobValues) reads as, given the id and time the database gave it. */
export function storedJob(values: ReturnType<typeof jobValues>, id: string, createdAt: Date): JobRow {
  return { ...values, payload: JSON.parse(values.payload) as unknown, id, created_at: createdAt };
}

/**
 * Slots a runner's jobs take beyond its own concurrency (a node's call lines): the runner takes slots
 * before claiming and gives back the ones it found no job for; each claimed job holds one, which its
 * handler gives back (the dial job hands it on to the call it starts).
 */
export interface JobSlots {
  take(max: number): number;
  give(n: number): void;
}

export interface JobRunnerOptions {
  nodeId: string;
  concurrency?: number;
  /** How often the runner looks for due jobs while some are due that it could not take (default 500 ms). */
  pollMs?: number;
  /**
   * Idle mode (the embedded store, where this process is the only one that enqueues): a poll that finds
   * nothing due sleeps until the earliest job's `run_at` (or a lapsing lock), at most this long, instead of
   * polling every `pollMs`. Whoever enqueues wakes the runner (`wake`) once its transaction committed.
   * Unset: poll every `pollMs` (PostgreSQL, where other nodes enqueue too).
   */
  idlePollMs?: number;
  /** A lock older than this belongs to a node that died; its job is run again. */
  lockTimeoutMs?: number;
  /** The embedded store has one process: every lock left in it is stale. */
  releaseAllLocksAtStart?: boolean;
  /**
   * Claim only jobs of the kinds registered on this runner (so that two runners over one table, e.g. the
   * scheduled-task runner with its own concurrency, never take each other's jobs). Default: every kind.
   */
  onlyRegisteredKinds?: boolean;
  /** Claim every kind except these (the general runner leaves the task runner's jobs alone). */
  excludeKinds?: string[];
  /** This node's free slots for these jobs (see JobSlots). */
  slots?: JobSlots;
  /**
   * Most jobs claimed by one query (default: as many as there is room for). With `slots`, the slots taken
   * for a claim are held while its query runs: a small batch leaves the rest free for work that cannot
   * wait for a poll (an inbound call must find a free line at once, not "all lines busy").
   */
  claimBatch?: number;
  /**
   * A limit shared by every node: called in the claim's transaction with the number of jobs wanted, it
   * returns how many may be claimed (it may lock, so that two nodes never both see the same free slot).
   */
  admit?: (trx: Transaction<Database>, wanted: number) => Promise<number>;
}

/**
 * Durable, retried, delayed work kept in the `jobs` table (claimed with SKIP LOCKED, so any number of
 * nodes may run it). Modelled on graphile-worker, small enough to run on PGlite as well as PostgreSQL.
 */
export class JobRunner {
  private readonly handlers = new Map<string, JobHandler>();
  private readonly kindOptions = new Map<string, JobKindOptions>();
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (ms since the epoch). */
  private timerAt = Infinity;
  /**
   * Idle mode: when the earliest job this runner could take is due (ms since the epoch; Infinity: none), as
   * last read from the table and brought forward by every wake(at) since. A poll that someone's wake started
   * trusts it (no statement); the table is asked again after the idle timer, a retry, a claim the cluster's
   * limit held back, or once this time has passed.
   */
  private nextAt = Infinity;
  private askTable = true;
  /** Wakes for later jobs that came while the table was being asked (its answer may predate them). */
  private wokenFor = Infinity;
  private stopped = true;
  private polling = false;
  /** The latest poll (stop waits for it: see stop). */
  private lastPoll: Promise<void> = Promise.resolve();
  private again = false;
  /** A poll found no room for another job (concurrency): the next job to finish polls again. */
  private full = false;
  private readonly inFlight = new Set<Promise<boolean>>();
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly lockTimeoutMs: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: Logger,
    private readonly opts: JobRunnerOptions,
  ) {
    this.concurrency = opts.concurrency ?? 10;
    this.pollMs = opts.pollMs ?? 500;
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 60_000;
  }

  register(kind: string, handler: JobHandler, options: JobKindOptions = {}): void {
    this.handlers.set(kind, handler);
    this.kindOptions.set(kind, options);
  }

  /**
   * Starts taking jobs: locks left by a previous process released (`releaseAllLocksAtStart`), then a first look
   * for due ones, unless `firstPoll: false` (the caller wakes it later; an enqueue or `runNow` works meanwhile).
   */
  async start(opts: { firstPoll?: boolean } = {}): Promise<void> {
    if (this.opts.releaseAllLocksAtStart) {
      await this.db.updateTable('jobs').set({ locked_at: null, locked_by: null }).where('locked_at', 'is not', null).execute();
    }
    this.stopped = false;
    if (opts.firstPoll !== false) this.wake();
  }

  /**
   * Looks for due jobs now (after an enqueue committed) instead of at the next poll. `at`: the enqueued
   * job's time; a job due later costs no poll, it only brings a sleeping idle runner's next look forward.
   */
  wake(at?: Date): void {
    if (this.stopped) return;
    const atMs = at?.getTime() ?? 0;
    if (atMs > Date.now()) {
      // Due later: polling finds it then anyway; asleep, the runner wakes at that time instead.
      if (this.opts.idlePollMs === undefined) return;
      this.nextAt = Math.min(this.nextAt, atMs);
      this.wokenFor = Math.min(this.wokenFor, atMs);
      // A poll under way sets its timer from nextAt when it ends.
      if (!this.polling && atMs < this.timerAt) this.schedule(atMs - Date.now());
      return;
    }
    if (this.polling) {
      this.again = true;
      return;
    }
    this.lastPoll = this.poll();
    background(this.log, 'job poll failed', this.lastPoll);
  }

  private schedule(delayMs = this.pollMs): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timerAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timerAt = Infinity;
      this.askTable = true;
      this.wake();
    }, delayMs);
    this.timer.unref();
  }

  /**
   * After a poll that took every due job it could: in idle mode the runner sleeps until the earliest job it
   * could take becomes due (at most idlePollMs); while jobs are due that it could not take (the cluster's
   * task limit) it polls every pollMs, as without idle mode.
   */
  private async nextPollIn(): Promise<number> {
    if (this.opts.idlePollMs === undefined) return this.pollMs;
    if (this.askTable || this.nextAt <= Date.now()) {
      this.askTable = false;
      this.wokenFor = Infinity;
      const due = (await this.nextDue()) ?? Infinity;
      this.nextAt = Math.min(due, this.wokenFor);
    }
    // Never longer between looks than without idle mode (a test's runner that polls hourly stays so).
    const idle = Math.max(this.opts.idlePollMs, this.pollMs);
    const inMs = this.nextAt - Date.now();
    // Due already, yet not claimed (held back by the cluster's task limit): look again as without idle mode.
    return inMs <= 0 ? this.pollMs : Math.min(idle, inMs);
  }

  /** When the earliest job this runner could claim is due: its run_at, or a lock's lapse (ms since the epoch). */
  private async nextDue(): Promise<number | undefined> {
    const kinds = this.opts.onlyRegisteredKinds ? [...this.handlers.keys()] : undefined;
    if (kinds && kinds.length === 0) return undefined;
    const only = kinds ? sql`and kind in (${sql.join(kinds)})` : sql``;
    const except = this.opts.excludeKinds?.length ? sql`and kind not in (${sql.join(this.opts.excludeKinds)})` : sql``;
    const r = await sql<{ at: Date | string | null }>`
      select min(case when locked_at is null then run_at else greatest(run_at, locked_at + ${`${this.lockTimeoutMs} milliseconds`}::interval) end) as at
      from jobs where true ${only} ${except}`.execute(this.db);
    const at = r.rows[0]?.at;
    return at === null || at === undefined ? undefined : new Date(at).getTime();
  }

  private async poll(): Promise<void> {
    this.polling = true;
    /** The last claim found fewer jobs than it had room for: no more are due that it could take now. */
    let drained = false;
    let nextMs = this.pollMs;
    try {
      do {
        this.again = false;
        drained = false;
        const room = Math.min(this.concurrency - this.running, this.opts.claimBatch ?? Infinity);
        // Full: the next job to finish looks again (see track).
        if (room <= 0) this.full = true;
        const free = this.opts.slots ? this.opts.slots.take(room) : room;
        if (free <= 0) break;
        let jobs: JobRow[] = [];
        try {
          jobs = await this.claim(free);
          // Stopped while the claim ran: this node will not run them, so they go back at once instead of
          // waiting out their lock on a node that is shutting down.
          if (this.stopped && jobs.length > 0) {
            await this.unclaim(jobs);
            jobs = [];
          }
        } finally {
          if (this.opts.slots && jobs.length < free) this.opts.slots.give(free - jobs.length);
        }
        for (const job of jobs) this.track(this.run(job));
        if (jobs.length === free) this.again = true;
        else drained = true;
      } while (this.again && !this.stopped);
      // A wake for now during what follows polls again (again); one for later is kept in nextAt.
      if (drained && !this.stopped) nextMs = await this.nextPollIn();
    } catch (err) {
      if (!this.stopped) this.log.error({ err }, 'job poll failed');
    } finally {
      this.polling = false;
      if (this.again && !this.stopped) this.wake();
      else this.schedule(nextMs);
    }
  }

  /** Gives claimed jobs back untouched: lock and attempt undone. */
  private async unclaim(jobs: JobRow[]): Promise<void> {
    try {
      await this.db
        .updateTable('jobs')
        .set((eb) => ({ locked_at: null, locked_by: null, attempts: eb('attempts', '-', 1) }))
        .where('id', 'in', jobs.map((j) => j.id))
        .where('locked_by', '=', this.opts.nodeId)
        .execute();
    } catch (err) {
      // Their locks lapse after lockTimeoutMs and another node takes them then; nothing is lost.
      this.log.warn({ err, jobs: jobs.length }, 'jobs claimed during stop not given back: their locks will lapse');
    }
  }

  /**
   * A job that finishes leaves room for another: the runner looks for one, after a job it claimed (the
   * claim that found it may have left more behind) or when a poll found the runner full. A job run at once
   * on its own (runNow: a call started on this node) found nothing else, so it costs no poll at its end,
   * unless it stays in the table for a later try (a sleeping idle runner must learn when that is due).
   */
  private track(p: Promise<boolean>, claimed = true): void {
    // A run that failed outside its handler's outcome (it should not) may have left its row: look again.
    const done = p.catch((err: unknown) => {
      this.log.error({ err }, 'job failed');
      return true;
    });
    this.inFlight.add(done);
    const settled = done.then((kept) => {
      this.inFlight.delete(done);
      if (!claimed && !this.full && !kept) return;
      this.full = false;
      // Its row stays, due at a time only the table knows (a retry's delay, a lock's lapse).
      if (kept) this.askTable = true;
      this.wake();
    });
    background(this.log, 'job failed', settled);
  }

  private async claim(limit: number): Promise<JobRow[]> {
    const admit = this.opts.admit;
    if (!admit) return this.claimIn(this.db, limit);
    return this.db.transaction().execute(async (trx) => {
      const n = Math.min(limit, await admit(trx, limit));
      // Held back: jobs may be due that no wake will announce when a slot frees (nextPollIn asks).
      if (n < limit) this.askTable = true;
      return n > 0 ? this.claimIn(trx, n) : [];
    });
  }

  private async claimIn(db: DbOrTrx, limit: number): Promise<JobRow[]> {
    const stale = new Date(Date.now() - this.lockTimeoutMs);
    const kinds = this.opts.onlyRegisteredKinds ? [...this.handlers.keys()] : undefined;
    if (kinds && kinds.length === 0) return [];
    const only = kinds ? sql`and kind in (${sql.join(kinds)})` : sql``;
    const except = this.opts.excludeKinds?.length ? sql`and kind not in (${sql.join(this.opts.excludeKinds)})` : sql``;
    const r = await sql<JobRow>`
      update jobs set locked_at = now(), locked_by = ${this.opts.nodeId}, attempts = attempts + 1
      where id in (
        select id from jobs
        where run_at <= now() and (locked_at is null or locked_at < ${stale}) ${only} ${except}
        order by priority desc, run_at, id
        limit ${limit}
        for update skip locked
      )
      returning *`.execute(db);
    // RETURNING has no order: run them in the order they were chosen.
    return r.rows.sort(
      (a, b) =>
        (b.priority ?? 0) - (a.priority ?? 0) ||
        new Date(a.run_at).getTime() - new Date(b.run_at).getTime() ||
        Number(a.id) - Number(b.id),
    );
  }

  /** Runs a job this node stored already locked (`NewJob.lockedBy`), as if it had just claimed it. */
  runNow(job: JobRow): void {
    this.track(this.run(job), false);
  }

  /** Runs a claimed job; true when its row stays for a later try (a retry, or a give-up not recorded). */
  private async run(job: JobRow): Promise<boolean> {
    this.running++;
    try {
      const handler = this.handlers.get(job.kind);
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      await handler(job.payload, job);
      await this.db.deleteFrom('jobs').where('id', '=', job.id).execute();
      return false;
    } catch (err) {
      const retry = err instanceof RetryJob;
      if (retry && job.attempts < job.max_attempts) {
        await this.db
          .updateTable('jobs')
          .set({ locked_at: null, locked_by: null, run_at: new Date(Date.now() + err.delayMs), last_error: err.message })
          .where('id', '=', job.id)
          .execute()
          .catch((e) => this.log.error({ err: e }, 'job reschedule failed'));
        return true;
      }
      if (!retry && !(err instanceof GiveUpJob)) this.log.error({ err, kind: job.kind, jobId: job.id }, 'job failed');
      return !(await this.giveUp(job, err));
    } finally {
      this.running--;
    }
  }

  /** A job that will not be tried again leaves its kind's trace, then goes. False: it stays, to run again. */
  private async giveUp(job: JobRow, err: unknown): Promise<boolean> {
    try {
      await this.kindOptions.get(job.kind)?.onGiveUp?.(job, err);
      await this.db.deleteFrom('jobs').where('id', '=', job.id).execute();
      return true;
    } catch (e) {
      this.log.error({ err: e, kind: job.kind, jobId: job.id }, 'job give-up not recorded: kept for a later run');
      return false;
    }
  }

  /** Jobs waiting or running (for tests and shutdown). */
  async pendingCount(): Promise<number> {
    const r = await this.db.selectFrom('jobs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * Stops claiming; waits up to `timeoutMs` for running jobs to finish (their locks then lapse). A poll
   * under way is waited for too: its claim holds slots, and what it claims after the stop it gives back.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const all = Promise.allSettled([...this.inFlight, this.lastPoll]);
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** Runs due jobs until none is left due within `withinMs` (shutdown flush). */
  async drain(deadlineMs: number): Promise<void> {
    const end = Date.now() + deadlineMs;
    while (Date.now() < end) {
      if (this.running === 0) {
        let q = this.db.selectFrom('jobs').select('id').where('run_at', '<=', new Date(Date.now() + 2000));
        if (this.opts.onlyRegisteredKinds) {
          if (this.handlers.size === 0) return;
          q = q.where('kind', 'in', [...this.handlers.keys()]);
        }
        if (this.opts.excludeKinds?.length) q = q.where('kind', 'not in', this.opts.excludeKinds);
        const due = await q.limit(1).execute();
        if (due.length === 0) return;
      }
      this.wake();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
