import { describe, expect, it } from 'vitest';
import { AsyncQueue, QueueOverflowError } from '../../src/lib/async-queue.js';

async function drain<T>(q: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of q) out.push(v);
  return out;
}

describe('AsyncQueue', () => {
  it('hands items to a waiting reader in order, and ends after close once drained', async () => {
    const q = new AsyncQueue<number>({ limit: 10, overflow: 'fail' });
    const read = drain(q);
    q.push(1);
    q.push(2);
    await Promise.resolve();
    q.push(3);
    q.close();
    expect(await read).toEqual([1, 2, 3]);
    expect(q.push(4)).toBe(false);
  });

  it('keeps items pushed before anyone reads, up to the limit', async () => {
    const q = new AsyncQueue<string>({ limit: 3, overflow: 'fail' });
    expect(['a', 'b', 'c'].map((s) => q.push(s))).toEqual([true, true, true]);
    expect(q.size).toBe(3);
    q.close();
    expect(await drain(q)).toEqual(['a', 'b', 'c']);
  });

  it('drop_oldest: a full queue keeps the newest `limit` items and counts what it dropped', async () => {
    const q = new AsyncQueue<number>({ limit: 3, overflow: 'drop_oldest' });
    for (let i = 1; i <= 10; i++) expect(q.push(i)).toBe(true);
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(7);
    q.close();
    expect(await drain(q)).toEqual([8, 9, 10]);
  });

  it('fail: one item past the limit fails the queue; the reader gets QueueOverflowError, nothing is kept', async () => {
    const q = new AsyncQueue<number>({ limit: 2, overflow: 'fail' });
    expect(q.push(1)).toBe(true);
    expect(q.push(2)).toBe(true);
    expect(q.push(3)).toBe(false);
    expect(q.closed).toBe(true);
    expect(q.failure).toBeInstanceOf(QueueOverflowError);
    expect(q.size).toBe(0);
    expect(q.push(4)).toBe(false);
    await expect(drain(q)).rejects.toBeInstanceOf(QueueOverflowError);
  });

  it('a slow reader never holds more than the limit, however much is pushed', async () => {
    const q = new AsyncQueue<Buffer>({ limit: 5, overflow: 'drop_oldest' });
    let max = 0;
    for (let i = 0; i < 10_000; i++) {
      q.push(Buffer.alloc(16));
      max = Math.max(max, q.size);
    }
    expect(max).toBe(5);
  });

  it('fail() rejects a waiting reader; close() resolves it as done', async () => {
    const a = new AsyncQueue<number>({ limit: 1, overflow: 'fail' });
    const pending = a.next();
    a.fail(new Error('gone'));
    await expect(pending).rejects.toThrow('gone');
    const b = new AsyncQueue<number>({ limit: 1, overflow: 'fail' });
    const waiting = b.next();
    b.close();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it('leaving a for-await early does not close the queue: a new loop reads on', async () => {
    const q = new AsyncQueue<number>({ limit: 10, overflow: 'fail' });
    [1, 2, 3].forEach((n) => q.push(n));
    for await (const v of q) {
      expect(v).toBe(1);
      break;
    }
    q.close();
    expect(await drain(q)).toEqual([2, 3]);
  });

  it('refuses a limit below 1 and a second concurrent reader', async () => {
    expect(() => new AsyncQueue({ limit: 0, overflow: 'fail' })).toThrow(RangeError);
    const q = new AsyncQueue<number>({ limit: 1, overflow: 'fail' });
    const first = q.next();
    await expect(q.next()).rejects.toThrow(/one reader/);
    q.push(7);
    expect(await first).toEqual({ value: 7, done: false });
  });

  it('drain takes every queued item at once, in order, leaving the queue open and empty', async () => {
    const q = new AsyncQueue<number>({ limit: 5, overflow: 'drop_oldest' });
    for (const n of [1, 2, 3]) q.push(n);
    expect(q.drain()).toEqual([1, 2, 3]);
    expect(q.size).toBe(0);
    expect(q.drain()).toEqual([]);
    q.push(4);
    expect(await q.next()).toEqual({ value: 4, done: false });
  });
});
