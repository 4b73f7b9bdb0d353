/**
 * core.calls.follow: the stored backlog, then live events, each exactly once and in order, ending at the end
 * state — across a race with concurrent writers, when resuming by sequence number, when the bus loses
 * messages, and for a reader that stops reading (dropped, not buffered).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, BusHandler } from '../../src/bus/bus.js';
import { MemoryBus } from '../../src/bus/memory.js';
import { CallService } from '../../src/core/calls/service.js';
import { canonicalStartCall } from '../../src/core/calls/request.js';
import { WebhookPayloads } from '../../src/core/calls/webhook-payloads.js';
import type { CallEvent } from '../../src/core/calls/events.js';
import { FollowerTooSlowError } from '../../src/core/calls/follow.js';
import { Orgs } from '../../src/core/orgs.js';
import { Credits } from '../../src/core/credits/index.js';
import { DEFAULT_RATES } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Store } from '../../src/store/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { until } from '../helpers/switchboard.js';

/** A memory bus that counts live subscriptions and can lose published messages (a bus across a Redis restart). */
class LossyBus implements Bus {
  private readonly inner = new MemoryBus();
  subscriptions = 0;
  lose: (channel: string, message: unknown) => boolean = () => false;
  async publish(channel: string, message: unknown): Promise<void> {
    if (!this.lose(channel, message)) await this.inner.publish(channel, message);
  }
  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    const off = await this.inner.subscribe(channel, handler);
    this.subscriptions++;
    let done = false;
    return async () => {
      if (!done) this.subscriptions--;
      done = true;
      await off();
    };
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

async function collect(it: AsyncIterable<CallEvent>): Promise<CallEvent[]> {
  const out: CallEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const seqs = (events: CallEvent[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

for (const backend of BACKENDS) {
  describe(`core.calls.follow [${backend.name}]`, () => {
    let store: Store;
    let bus: LossyBus;
    let calls: CallService;
    let orgId: string;
    let otherOrgId: string;

    beforeAll(async () => {
      store = await backend.open();
      bus = new LossyBus();
      calls = new CallService({ db: store.db, bus, log: createLogger('silent'), payloads: new WebhookPayloads(), credits: new Credits({ db: store.db, billing: { enabled: false, rates: { ...DEFAULT_RATES } }, minCallCredits: 0 }), carrierName: 'sim', nodeId: 'follow-test' });
      const orgs = new Orgs(store.db);
      orgId = (await orgs.ensure('acme', { credits: 1000 })).org.id;
      otherOrgId = (await orgs.ensure('other', { credits: 1000 })).org.id;
    });
    afterAll(async () => {
      await bus.close();
      await store.close();
    });
    const newCall = async () => (await calls.start(orgId, canonicalStartCall({ phone_number: '+15550100', task: 'Confirm the booking' }))).call;
    const say = (callId: string, i: number) => calls.record(callId, { type: 'transcript', role: i % 2 ? 'agent' : 'callee', text: `line ${i}` });

    it('backlog then live, each event once and in order, across concurrent writers, ending at the end state', async () => {
      const call = await newCall();
      for (let i = 0; i < 30; i++) await say(call.id, i);
      // Writers keep going while the follower reads its backlog: four at a time, so publishes may overtake.
      let i = 30;
      const writing = (async () => {
        while (i < 150) await Promise.all([0, 1, 2, 3].map(() => say(call.id, i++)));
        await calls.transition(call.id, 'ringing');
        await calls.transition(call.id, 'completed', { reason: 'done' });
      })();
      const followed = collect(calls.follow(orgId, call.id));
      const [events] = await Promise.all([followed, writing]);
      const stored = (await store.db.selectFrom('call_events').select('seq').where('call_id', '=', call.id).orderBy('seq').execute()).map((r) => r.seq);
      expect(seqs(events)).toEqual(stored);
      expect(seqs(events)).toEqual(range(1, stored.length));
      expect(events.filter((e) => e.type === 'transcript')).toHaveLength(150);
      expect(events.at(-1)).toMatchObject({ type: 'status', status: 'completed', reason: 'done' });
      expect(bus.subscriptions).toBe(0);
    });

    it('resumes after a sequence number; a call already ended gives its rest and its end, then stops', async () => {
      const call = await newCall();
      for (let i = 0; i < 6; i++) await say(call.id, i);
      await calls.transition(call.id, 'canceled', { reason: 'ended_by_api' });
      expect(seqs(await collect(calls.follow(orgId, call.id, { afterSeq: 4 })))).toEqual([5, 6, 7]);
      // Resuming past the end still learns the end (and does not wait forever).
      const past = await collect(calls.follow(orgId, call.sid, { afterSeq: 999 }));
      expect(past).toEqual([expect.objectContaining({ type: 'status', status: 'canceled', seq: 7 })]);
    });

    it('fills what the bus lost from the store, and finds a lost end by re-checking', async () => {
      const call = await newCall();
      let n = 0;
      // Every third event of this call never reaches the bus, nor does the end.
      bus.lose = (channel, m) => channel.endsWith(call.id) && ((++n % 3 === 0) || (m as CallEvent).type === 'status');
      try {
        const followed = collect(calls.follow(orgId, call.id, { recheckMs: 50 }));
        await until(async () => bus.subscriptions > 0, 5000, 'subscribed');
        for (let i = 0; i < 20; i++) await say(call.id, i);
        await calls.transition(call.id, 'completed');
        const events = await followed;
        expect(seqs(events)).toEqual(range(1, 21));
        expect(events.at(-1)).toMatchObject({ type: 'status', status: 'completed' });
      } finally {
        bus.lose = () => false;
      }
    });

    it('a reader that stops reading is dropped with FollowerTooSlowError once `limit` events behind', async () => {
      const call = await newCall();
      const it = calls.follow(orgId, call.id, { limit: 5 })[Symbol.asyncIterator]();
      await say(call.id, 0);
      expect((await it.next()).value).toMatchObject({ seq: 1 });
      // It reads nothing while the call goes on.
      for (let i = 1; i <= 20; i++) await say(call.id, i);
      await expect(it.next()).rejects.toBeInstanceOf(FollowerTooSlowError);
      expect(bus.subscriptions).toBe(0);
    });

    it('aborting the signal ends the iteration and unsubscribes', async () => {
      const call = await newCall();
      const ctl = new AbortController();
      const followed = collect(calls.follow(orgId, call.id, { signal: ctl.signal }));
      await until(async () => bus.subscriptions > 0, 5000, 'subscribed');
      await say(call.id, 0);
      ctl.abort();
      const events = await followed;
      expect(events.length).toBeLessThanOrEqual(1);
      expect(bus.subscriptions).toBe(0);
    });

    it("another organisation's call is not found", async () => {
      const call = await newCall();
      await expect(collect(calls.follow(otherOrgId, call.id))).rejects.toMatchObject({ code: 'SB_ERR_NOT_FOUND' });
      expect(bus.subscriptions).toBe(0);
    });
  });
}
