import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus, type Bus } from '../../src/bus/index.js';
import { RedisBus } from '../../src/bus/redis.js';
import type { Logger } from '../../src/lib/logger.js';

const redisUrl = process.env.TEST_REDIS_URL;
/** What a bus logged (message and fields), instead of a real logger. */
type Logged = Array<{ msg: string; fields: Record<string, unknown> }>;
const recorder = (logged: Logged): Pick<Logger, 'error' | 'warn'> => {
  const log = (fields: Record<string, unknown>, msg?: string) => void logged.push({ msg: msg ?? '', fields });
  return { error: log as Logger['error'], warn: log as Logger['warn'] };
};
const BUSES: Array<[string, (logged?: Logged) => Bus]> = [
  ['memory', (logged = []) => new MemoryBus(recorder(logged))],
  ...(redisUrl
    ? [['redis', (logged: Logged = []) => new RedisBus(redisUrl, `sbtest:${randomBytes(4).toString('hex')}:`, recorder(logged))] as [string, (logged?: Logged) => Bus]]
    : []),
];

async function waitFor(fn: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const [name, make] of BUSES) {
  describe(`bus [${name}]`, () => {
    const open: Bus[] = [];
    const bus = (logged?: Logged) => {
      const b = make(logged);
      open.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });

    it('delivers to every subscriber of a channel, in order, and not to others', async () => {
      const b = bus();
      const a: unknown[] = [];
      const c: unknown[] = [];
      const other: unknown[] = [];
      await b.subscribe('call.events.1', (m) => a.push(m));
      await b.subscribe('call.events.1', (m) => c.push(m));
      await b.subscribe('call.events.2', (m) => other.push(m));
      for (let i = 0; i < 5; i++) await b.publish('call.events.1', { i });
      await waitFor(() => a.length === 5 && c.length === 5);
      expect(a).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
      expect(other).toEqual([]);
    });

    it('delivers pattern subscriptions and stops after unsubscribe', async () => {
      const b = bus();
      const all: any[] = [];
      const off = await b.subscribe('call.events.*', (m) => all.push(m));
      await b.publish('call.events.x', { n: 1 });
      await waitFor(() => all.length === 1);
      await off();
      await b.publish('call.events.x', { n: 2 });
      await new Promise((r) => setTimeout(r, 50));
      expect(all).toEqual([{ n: 1 }]);
    });

    it('delivers copies, never the publisher’s object', async () => {
      const b = bus();
      const got: any[] = [];
      await b.subscribe('c', (m) => got.push(m));
      const msg = { v: 1 };
      await b.publish('c', msg);
      msg.v = 2;
      await waitFor(() => got.length === 1);
      expect(got[0]).toEqual({ v: 1 });
    });

    it('takes async subscribers; a failing one (thrown or rejected) is logged and the others still receive', async () => {
      const logged: Logged = [];
      const b = bus(logged);
      const rejections: unknown[] = [];
      const onRejection = (r: unknown) => rejections.push(r);
      process.on('unhandledRejection', onRejection);
      try {
        const got: unknown[] = [];
        await b.subscribe('c', async () => {
          await new Promise((r) => setTimeout(r, 1));
          throw new Error('async subscriber failed');
        });
        await b.subscribe('c', () => {
          throw new Error('sync subscriber failed');
        });
        await b.subscribe('c', async (m) => {
          await new Promise((r) => setTimeout(r, 1));
          got.push(m);
        });
        await b.publish('c', { n: 1 });
        await b.publish('c', { n: 2 });
        await waitFor(() => got.length === 2 && logged.length === 4);
        expect(got).toEqual([{ n: 1 }, { n: 2 }]);
        expect(logged.map((l) => [l.msg, l.fields.channel, (l.fields.err as Error).message]).sort()).toEqual(
          [
            ['bus subscriber failed', expect.stringContaining('c'), 'async subscriber failed'],
            ['bus subscriber failed', expect.stringContaining('c'), 'async subscriber failed'],
            ['bus subscriber failed', expect.stringContaining('c'), 'sync subscriber failed'],
            ['bus subscriber failed', expect.stringContaining('c'), 'sync subscriber failed'],
          ],
        );
        await new Promise((r) => setTimeout(r, 20));
        expect(rejections).toEqual([]);
      } finally {
        process.off('unhandledRejection', onRejection);
      }
    });

    if (name === 'redis') {
      it('reaches a subscriber on another connection (another node)', async () => {
        const prefix = `sbtest:${randomBytes(4).toString('hex')}:`;
        const n1 = new RedisBus(redisUrl!, prefix);
        const n2 = new RedisBus(redisUrl!, prefix);
        open.push(n1, n2);
        const got: unknown[] = [];
        await n2.subscribe('call.commands.abc', (m) => got.push(m));
        await n1.publish('call.commands.abc', { type: 'end' });
        await waitFor(() => got.length === 1);
        expect(got).toEqual([{ type: 'end' }]);
      });
    }
  });
}
