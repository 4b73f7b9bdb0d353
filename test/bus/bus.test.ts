import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus, RedisBus, type Bus } from '../../src/bus/index.js';

const redisUrl = process.env.TEST_REDIS_URL;
const BUSES: Array<[string, () => Bus]> = [
  ['memory', () => new MemoryBus()],
  ...(redisUrl ? [['redis', () => new RedisBus(redisUrl, `sbtest:${randomBytes(4).toString('hex')}:`)] as [string, () => Bus]] : []),
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
    const bus = () => {
      const b = make();
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
