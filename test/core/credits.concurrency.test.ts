/**
 * The ledger and the balance agree after 1,000 concurrent short calls, on every backend: each call started
 * through the credit guard and ended through the core's end path (CallService.transition, what the session,
 * the reaper and end-call all use), some with their end reported twice, while grants arrive at the same time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DEFAULT_RATES } from '../../src/config/index.js';
import { CallService } from '../../src/core/calls/service.js';
import { canonicalStartCall } from '../../src/core/calls/request.js';
import { WebhookPayloads } from '../../src/core/calls/webhook-payloads.js';
import { Credits, emptyUsage } from '../../src/core/credits/index.js';
import { Orgs } from '../../src/core/orgs.js';
import { MemoryBus } from '../../src/bus/memory.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Store } from '../../src/store/index.js';
import { BACKENDS } from '../helpers/backends.js';

const CALLS = 1000;
const OPENING = 1_000_000;

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

for (const backend of BACKENDS) {
  describe(`credits under load [${backend.name}]`, () => {
    let store: Store;
    let calls: CallService;
    let credits: Credits;
    const bus = new MemoryBus();

    beforeAll(async () => {
      store = await backend.open();
      credits = new Credits({ db: store.db, billing: { enabled: true, rates: { ...DEFAULT_RATES } }, minCallCredits: 1 });
      calls = new CallService({ db: store.db, bus, log: createLogger('silent'), payloads: new WebhookPayloads(), credits, carrierName: 'sim', nodeId: 'load-test' });
    });
    afterAll(async () => {
      await bus.close();
      await store.close();
    });

    it(`${CALLS} concurrent short calls: one charge per call, and the balance is the ledger's sum`, async () => {
      const { org } = await new Orgs(store.db).ensure('load', { credits: OPENING });
      const rnd = random(13);
      const request = canonicalStartCall({ phone_number: '+15550100', task: 'Confirm the booking' });
      const life = async (i: number) => {
        const { call } = await calls.start(org.id, request);
        // Every 50th call never connects; every tenth call's end is reported twice at once (a retried callback).
        if (i % 50 === 0) return calls.transition(call.id, 'no_answer');
        await calls.transition(call.id, 'in_progress');
        const usage = { ...emptyUsage(), connectedSeconds: 5 + Math.floor(rnd() * 60), sttSeconds: 10, ttsCharacters: Math.floor(rnd() * 400) };
        const ends = [calls.transition(call.id, 'completed', { usage })];
        if (i % 10 === 0) ends.push(calls.transition(call.id, 'completed', { usage }));
        const moved = await Promise.all(ends);
        expect(moved.filter(Boolean)).toHaveLength(1);
      };
      // Grants arrive while the calls run.
      const grants = Array.from({ length: 20 }, () => credits.grant(org.id, 100, 'top-up'));
      await Promise.all([...Array.from({ length: CALLS }, (_, i) => life(i)), ...grants]);

      const rows = await store.db.selectFrom('calls').select(['id', 'status', 'credits_charged']).where('org_id', '=', org.id).execute();
      expect(rows).toHaveLength(CALLS);
      expect(rows.every((r) => r.status === 'completed' || r.status === 'no_answer')).toBe(true);
      const charged = rows.reduce((a, r) => a + (r.credits_charged ?? 0), 0);
      expect(rows.filter((r) => r.status === 'no_answer').every((r) => r.credits_charged === 0)).toBe(true);

      // One charge per connected call, each equal to what the call row says.
      const charges = await store.db.selectFrom('credit_ledger').select(['call_id', 'amount']).where('org_id', '=', org.id).where('kind', '=', 'charge').execute();
      const byCall = new Map(rows.map((r) => [r.id, r.credits_charged]));
      expect(charges).toHaveLength(rows.filter((r) => (r.credits_charged ?? 0) > 0).length);
      expect(new Set(charges.map((c) => c.call_id)).size).toBe(charges.length);
      for (const c of charges) expect(-c.amount).toBe(byCall.get(c.call_id!));

      const expected = OPENING + 20 * 100 - charged;
      expect(await credits.balance(org.id)).toBe(expected);
      const sum = await store.db.selectFrom('credit_ledger').select(sql<string>`sum(amount)`.as('s')).where('org_id', '=', org.id).executeTakeFirstOrThrow();
      expect(Number(sum.s)).toBe(expected);
      // The usage records agree with the charges too.
      const usage = await store.db.selectFrom('call_usage').select(sql<string>`sum(credits)`.as('s')).where('org_id', '=', org.id).executeTakeFirstOrThrow();
      expect(Number(usage.s)).toBe(charged);
    }, 240_000);
  });
}
