/**
 * One bounded async queue: producers `push`, one consumer iterates with `for await`. Every hand-off between a
 * push-style source (a socket, the bus) and a pull-style consumer goes through it, so every such buffer is
 * bounded and says what happens when it is full.
 *
 * Our own (about 100 lines) rather than a package: the ones on npm are either unbounded (it-pushable) or
 * stream-shaped, and what we need is exactly LiveKit's `AsyncIterableQueue` plus a bound with a policy.
 *
 * @example
 * const q = new AsyncQueue<Buffer>({ limit: 3000, overflow: 'drop_oldest' });
 * socket.on('frame', (f) => q.push(f));
 * socket.on('close', () => q.close());
 * for await (const f of q) handle(f);
 */

/** What a full queue does with one more item. */
export type QueueOverflow =
  /** Keep the newest `limit` items: right for live media, where old audio is worthless. */
  | 'drop_oldest'
  /** Fail the queue: the consumer's next read throws `QueueOverflowError` (right for a follower that must see every item). */
  | 'fail';

export interface AsyncQueueOptions {
  /** Items held at most (at least 1). */
  limit: number;
  overflow: QueueOverflow;
}

/** The consumer fell more than `limit` items behind a queue whose policy is `fail`. */
export class QueueOverflowError extends Error {
  constructor(readonly limit: number) {
    super('queue overflow: the consumer fell too far behind');
    this.name = 'QueueOverflowError';
  }
}

interface Waiter<T> {
  resolve(r: IteratorResult<T>): void;
  reject(err: Error): void;
}

export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiter: Waiter<T> | undefined;
  private ended = false;
  private error: Error | undefined;
  private droppedCount = 0;

  constructor(private readonly o: AsyncQueueOptions) {
    if (!(o.limit >= 1)) throw new RangeError('AsyncQueue limit must be at least 1');
  }

  /** Items waiting to be read. */
  get size(): number {
    return this.items.length;
  }

  /** Items thrown away by `drop_oldest` so far. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Why the queue failed (a `QueueOverflowError` for `fail` on overflow), if it did. */
  get failure(): Error | undefined {
    return this.error;
  }

  /** No more items will be accepted (closed, or failed). */
  get closed(): boolean {
    return this.ended;
  }

  /** Adds an item; false when the queue no longer takes items (closed, or it just failed on overflow). */
  push(item: T): boolean {
    if (this.ended) return false;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
      return true;
    }
    if (this.items.length >= this.o.limit) {
      if (this.o.overflow === 'fail') {
        this.fail(new QueueOverflowError(this.o.limit));
        return false;
      }
      this.items.shift();
      this.droppedCount++;
    }
    this.items.push(item);
    return true;
  }

  /** No more items: the consumer reads what is queued, then its iteration ends. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve({ value: undefined, done: true });
  }

  /** Ends the queue with an error: queued items are discarded and the consumer's next read throws `err`. */
  fail(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = err;
    this.items = [];
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  /** Takes every queued item at once, synchronously (a consumer switching to a push-style hand-off). */
  drain(): T[] {
    const items = this.items;
    this.items = [];
    return items;
  }

  /** The next item; `done` once closed and drained. One reader at a time. */
  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error('AsyncQueue has one reader at a time'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /**
   * Iterates the queue. Leaving a `for await` early does not close the queue (a consumer may iterate again,
   * e.g. a media channel whose frames outlive one reader); whoever owns the source closes it.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
}
