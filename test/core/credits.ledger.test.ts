/**
 * The credit ledger through the core's own end path (CallService.transition), on every backend: 001's
 * examples charged as documented, the guard's 402s with nothing stored, an end reported twice charged once,
 * the ledger append-only, refunds once, and the balance always the ledger's sum.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DEFAULT_RATES } from '../../src/config/index.js';
import { CallService } from '../../src/core/calls/service.js';
import { canonicalStartCall } from '../../src/core/calls/request.js';
import { WebhookPayloads } from '../../src/core/calls/webhook-payloads.js';
import { Credits } from '../../src/core/credits/index.js';
import { Orgs } from '../../src/core/orgs.js';
import { SwitchboardError } from '../../src/core/errors.js';
import { MemoryBus } from '../../src/bus/memory.js';
import { callMyCallWebhook } from '../../src/faces/callmycall/webhooks.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Store } from '../../src/store/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { EXAMPLES } from '../helpers/billing.js';

for (const backend of BACKENDS) {
  describe(`credits ledger [${backend.name}]`, () => {
    let store: Store;
    let calls: CallService;
    let credits: Credits;
    let orgs: Orgs;
    const bus = new MemoryBus();

    beforeAll(async () => {
      store = await backend.open();
      const payloads = new WebhookPayloads();
      payloads.register('callmycall', callMyCallWebhook);
      credits = new Credits({ db: store.db, billing: { enabled: true, rates: { ...DEFAULT_RATES } }, minCallCredits: 5 });
      calls = new CallService({ db: store.db, bus, log: createLogger('silent'), payloads, credits, carrierName: 'sim', nodeId: 'credits-test' });
      orgs = new Orgs(store.db);
    });
    afterAll(async () => {
      await bus.close();
      await store.close();
    });

    const newOrg = async (opening: number) => (await orgs.ensure(`org-${Math.random().toString(36).slice(2)}`, { credits: opening })).org.id;
    const start = async (orgId: string, extra: Record<string, unknown> = {}) =>
      (await calls.start(orgId, canonicalStartCall({ phone_number: '+15550100', task: 'Confirm the booking', ...extra }))).call;
    const charges = (callId: string) => store.db.selectFrom('credit_ledger').selectAll().where('call_id', '=', callId).where('kind', '=', 'charge').execute();
    const ledgerSum = async (orgId: string) =>
      Number((await store.db.selectFrom('credit_ledger').select(sql<string>`coalesce(sum(amount), 0)`.as('s')).where('org_id', '=', orgId).executeTakeFirstOrThrow()).s);

    it("charges 001's three examples as documented, with the usage record, cost_usd and price_updated after the charge", async () => {
      const orgId = await newOrg(100);
      for (const ex of EXAMPLES) {
        const call = await start(orgId, { webhook: 'https://example.com/hook', webhook_events: ['call_completed', 'price_updated'] });
        expect(await calls.transition(call.id, 'in_progress')).toBe(true);
        expect(await calls.transition(call.id, 'completed', { usage: ex.usage, durationSeconds: ex.usage.connectedSeconds })).toBe(true);
        const row = await store.db.selectFrom('calls').selectAll().where('id', '=', call.id).executeTakeFirstOrThrow();
        expect(row.credits_charged, ex.name).toBe(ex.credits);
        expect(row.cost_usd).toBeCloseTo(ex.credits * DEFAULT_RATES.usd_per_credit, 10);
        expect((await charges(call.id)).map((c) => ({ amount: c.amount, call_sid: c.call_sid }))).toEqual([{ amount: -ex.credits, call_sid: call.sid }]);
        const usage = (await credits.usageOf(call.id))!;
        expect(usage).toMatchObject({ connected_seconds: ex.usage.connectedSeconds, llm_input_tokens: ex.usage.llmInputTokens, tts_characters: ex.usage.ttsCharacters, credits: ex.credits });
        // The webhooks were enqueued with the charge: call_completed, then price_updated with the charged credits.
        const jobs = await store.db.selectFrom('jobs').select(['id', 'payload']).where(sql<boolean>`payload->>'callId' = ${call.id}`).orderBy('id').execute();
        const events = jobs.map((j) => j.payload as { event: string; rawBody: string });
        expect(events.map((e) => e.event)).toEqual(['call_completed', 'price_updated']);
        expect(JSON.parse(events[1].rawBody).data).toMatchObject({ credits: ex.credits });
      }
      const total = EXAMPLES.reduce((a, e) => a + e.credits, 0);
      expect(await credits.balance(orgId)).toBe(100 - total);
      expect(await ledgerSum(orgId)).toBe(100 - total);
    });

    it('refuses to start below the minimum (402 with its fields) or with an inactive subscription, storing nothing', async () => {
      const orgId = await newOrg(3);
      const count = async () => Number((await store.db.selectFrom('calls').select((eb) => eb.fn.countAll<string>().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow()).n);
      const err = await start(orgId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwitchboardError);
      expect(err).toMatchObject({ code: 'SB_ERR_INSUFFICIENT_CREDITS', status: 402, message: 'Insufficient credits', details: { credits_balance: 3, minimum_required: 5 } });
      await credits.grant(orgId, 10, 'top-up');
      await credits.setSubscription(orgId, false);
      expect(await start(orgId).catch((e: unknown) => e)).toMatchObject({ code: 'SB_ERR_SUBSCRIPTION_INACTIVE', status: 402, message: 'Subscription inactive' });
      expect(await count()).toBe(0);
      expect(await store.db.selectFrom('jobs').select('id').where(sql<boolean>`payload->>'callId' is not null and kind = 'call.dial'`).where(sql<boolean>`payload->>'callId' in (select id::text from calls where org_id = ${orgId})`).execute()).toHaveLength(0);
      await credits.setSubscription(orgId, true);
      expect((await start(orgId)).status).toBe('queued');
    });

    it('with billing off nothing is refused and nothing is charged, but the call is still priced', async () => {
      const off = new Credits({ db: store.db, billing: { enabled: false, rates: { ...DEFAULT_RATES } }, minCallCredits: 5 });
      const offCalls = new CallService({ db: store.db, bus, log: createLogger('silent'), payloads: new WebhookPayloads(), credits: off, carrierName: 'sim', nodeId: 'credits-off' });
      const orgId = await newOrg(0);
      await off.setSubscription(orgId, false);
      const { call } = await offCalls.start(orgId, canonicalStartCall({ phone_number: '+15550100', task: 'x' }));
      await offCalls.transition(call.id, 'in_progress');
      await offCalls.transition(call.id, 'completed', { usage: EXAMPLES[0].usage });
      const row = await store.db.selectFrom('calls').selectAll().where('id', '=', call.id).executeTakeFirstOrThrow();
      expect(row.credits_charged).toBe(EXAMPLES[0].credits);
      expect(await charges(call.id)).toHaveLength(0);
      expect(await off.balance(orgId)).toBe(0);
    });

    it('a call whose end is reported twice (at once, and again later) is charged once', async () => {
      const orgId = await newOrg(100);
      const call = await start(orgId);
      await calls.transition(call.id, 'in_progress');
      const usage = EXAMPLES[2].usage;
      // The carrier's end, a retried callback and the reaper, all at once.
      const moved = await Promise.all([
        calls.transition(call.id, 'completed', { usage }),
        calls.transition(call.id, 'completed', { usage }),
        calls.transition(call.id, 'failed', { reason: 'node_lost' }),
      ]);
      expect(moved.filter(Boolean)).toHaveLength(1);
      expect(await calls.transition(call.id, 'completed', { usage })).toBe(false);
      // Even past the state machine, the ledger keeps one charge per call.
      await credits.settle(store.db, call, usage);
      expect(await charges(call.id)).toHaveLength(1);
      const charged = (await store.db.selectFrom('calls').select('credits_charged').where('id', '=', call.id).executeTakeFirstOrThrow()).credits_charged!;
      expect(await credits.balance(orgId)).toBe(100 - charged);
    });

    it('refunds a charge once, and the ledger refuses changes and deletions', async () => {
      const orgId = await newOrg(50);
      const call = await start(orgId);
      await calls.transition(call.id, 'in_progress');
      await calls.transition(call.id, 'completed', { usage: EXAMPLES[1].usage });
      expect(await credits.balance(orgId)).toBe(40);
      const refund = await credits.refund(orgId, call.sid, 'dropped line');
      expect(refund).toMatchObject({ kind: 'refund', amount: 10, call_sid: call.sid });
      expect(await credits.balance(orgId)).toBe(50);
      expect(await credits.refund(orgId, call.id).catch((e: unknown) => e)).toMatchObject({ code: 'SB_ERR_ALREADY_REFUNDED' });
      await expect(credits.refund(orgId, 'CA' + '0'.repeat(32))).rejects.toMatchObject({ code: 'SB_ERR_NOT_FOUND' });
      await expect(store.db.updateTable('credit_ledger').set({ amount: 1000 }).where('org_id', '=', orgId).execute()).rejects.toThrow(/append-only/);
      await expect(store.db.deleteFrom('credit_ledger').where('org_id', '=', orgId).execute()).rejects.toThrow(/append-only/);
      expect(await credits.balance(orgId)).toBe(50);
      const kinds = (await credits.entries(orgId)).map((e) => [e.kind, e.amount]);
      expect(kinds).toEqual(expect.arrayContaining([['grant', 50], ['charge', -10], ['refund', 10]]));
    });

    it('setBalance adds one grant of the difference; concurrent adjustments do not both add', async () => {
      const orgId = await newOrg(10);
      await Promise.all([credits.setBalance(orgId, 25), credits.setBalance(orgId, 25)]);
      expect(await credits.balance(orgId)).toBe(25);
      await credits.setBalance(orgId, 0);
      expect(await credits.balance(orgId)).toBe(0);
      await expect(credits.grant(orgId, 0)).rejects.toMatchObject({ code: 'SB_ERR_VALIDATION' });
      await expect(credits.grant(orgId, 1.5)).rejects.toMatchObject({ code: 'SB_ERR_VALIDATION' });
    });
  });
}
