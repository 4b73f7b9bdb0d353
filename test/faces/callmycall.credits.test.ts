/**
 * Billing seen from the API, on real simulated calls: a call ended through the normal path is metered from
 * what the simulated carrier reported, priced by the default table, charged once to the ledger that
 * GET /v1/credits shows, and price_updated arrives after call_completed with that charge; start-call below
 * the minimum answers 402 with its fields and dials nothing; with billing off, billing is invisible.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATES } from '../../src/config/index.js';
import { priceUsage } from '../../src/core/credits/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';

const BODY = { phone_number: '+15550100', task: 'Confirm my booking for Tuesday at 7 pm, booking reference AB123', language: 'en', persona: { name: 'Alex Smith' } };

for (const backend of BACKENDS) {
  describe(`billing through /v1 [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let rx: WebhookReceiver;
    let headers: Record<string, string>;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', BILLING_ENABLED: 'true', MIN_CALL_CREDITS: '5' });
      rx = await startWebhookReceiver();
      headers = { authorization: `Bearer ${t.key}` };
    });
    afterAll(async () => {
      await t.close();
      await rx.close();
    });
    const credits = async (q = '') => {
      const r = await t.sb.app.inject({ method: 'GET', url: `/v1/credits${q}`, headers });
      expect(r.statusCode, r.body).toBe(200);
      return r.json();
    };

    it('a simulated call is metered, priced and charged once; GET /v1/credits and price_updated agree', async () => {
      expect(await credits()).toMatchObject({ success: true, billing_enabled: true, credits_balance: 1000, minimum_required: 5, subscription_active: true });
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { ...BODY, webhook: rx.url, webhook_events: ['call_completed', 'price_updated'] } });
      expect(r.statusCode, r.body).toBe(200);
      const sid: string = r.json().sid;
      const priced = await until(async () => rx.received.find((w) => w.json.event === 'price_updated' && w.json.sid === sid), 30_000, 'price_updated');
      const call = await t.sb.core.calls.find(t.orgId, sid);
      expect(call.status).toBe('completed');
      // What the simulated network reported: connected time on its clock, its recognition all along, what it said.
      const usage = (await t.sb.core.credits.usageOf(call.id))!;
      expect(usage.connected_seconds).toBeGreaterThan(5);
      expect(usage.stt_seconds).toBe(usage.connected_seconds);
      expect(usage.tts_characters).toBeGreaterThan(20);
      const expected = priceUsage(
        { connectedSeconds: usage.connected_seconds, mediaSeconds: 0, sttSeconds: usage.stt_seconds, llmInputTokens: 0, llmOutputTokens: 0, ttsCharacters: usage.tts_characters },
        DEFAULT_RATES,
      );
      expect(expected.credits).toBeGreaterThan(0);
      expect(call.credits_charged).toBe(expected.credits);
      expect(usage.credits).toBe(expected.credits);
      expect(priced.json.data).toMatchObject({ credits: expected.credits, cost_breakdown: { connected_time: expect.any(Number), transcription: expect.any(Number), tts: expect.any(Number) } });
      // call_completed goes out too, and price_updated was made at or after it (deliveries run concurrently, so
      // the order they arrive in is not the order they were made in: the payloads' timestamps tell).
      const completed = await until(async () => rx.received.find((w) => w.json.event === 'call_completed' && w.json.sid === sid), 30_000, 'call_completed');
      expect(priced.json.timestamp).toBeGreaterThanOrEqual(completed.json.timestamp);

      const after = await credits();
      expect(after.credits_balance).toBe(1000 - expected.credits);
      expect(after.entries[0]).toEqual({ id: expect.any(String), kind: 'charge', amount: -expected.credits, call_sid: sid, note: null, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
      expect(after.entries.at(-1)).toMatchObject({ kind: 'grant', amount: 1000, call_sid: null });
      expect(after.entries.reduce((a: number, e: { amount: number }) => a + e.amount, 0)).toBe(after.credits_balance);
      expect((await credits('?limit=1')).entries).toHaveLength(1);

      // The call's own views show the same price.
      const view = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
      expect(view.credits).toBe(expected.credits);
      // Ending it again changes nothing.
      const again = await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers, payload: { callSid: sid } });
      expect(again.json()).toMatchObject({ alreadyClosed: true });
      expect((await credits()).credits_balance).toBe(1000 - expected.credits);
    }, 60_000);

    it('start-call below the minimum → 402 with credits_balance and minimum_required, nothing stored or dialled', async () => {
      await t.sb.core.credits.setBalance(t.orgId, 3);
      const live = t.sb.dialer.liveCount;
      try {
        const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { ...BODY, phone_number: '+15550102', metadata: { client_request_id: 'short-1' } } });
        expect(r.statusCode).toBe(402);
        expect(r.json()).toEqual({ error: 'Insufficient credits', credits_balance: 3, minimum_required: 5 });
        expect(t.sb.dialer.liveCount).toBe(live);
        const stored = await t.sb.store.db.selectFrom('calls').select('id').where('org_id', '=', t.orgId).where('to_number', '=', '+15550102').execute();
        expect(stored).toHaveLength(0);
        // An inactive subscription, even with credits.
        await t.sb.core.credits.setBalance(t.orgId, 1000);
        await t.sb.core.credits.setSubscription(t.orgId, false);
        const inactive = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { ...BODY, phone_number: '+15550102' } });
        expect(inactive.statusCode).toBe(402);
        expect(inactive.json()).toEqual({ error: 'Subscription inactive' });
        expect((await credits()).subscription_active).toBe(false);
      } finally {
        await t.sb.core.credits.setSubscription(t.orgId, true);
        await t.sb.core.credits.setBalance(t.orgId, 1000);
      }
    });

    it('GET /v1/credits refuses a bad limit naming it, and needs a key', async () => {
      const bad = await t.sb.app.inject({ method: 'GET', url: '/v1/credits?limit=0', headers });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatch(/limit/);
      expect((await t.sb.app.inject({ method: 'GET', url: '/v1/credits' })).statusCode).toBe(401);
    });
  });
}

describe('billing off (the default)', () => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1' });
  });
  afterAll(() => t.close());

  it('is invisible: no balance in GET /v1/credits, and no 402 with no credits and an inactive subscription', async () => {
    const headers = { authorization: `Bearer ${t.key}` };
    await t.sb.core.credits.setBalance(t.orgId, 0);
    await t.sb.core.credits.setSubscription(t.orgId, false);
    const c = await t.sb.app.inject({ method: 'GET', url: '/v1/credits', headers });
    expect(c.json()).toEqual({ success: true, billing_enabled: false, credits_balance: null, entries: [] });
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: BODY });
    expect(r.statusCode, r.body).toBe(200);
    const done = await until(async () => {
      const call = await t.sb.core.calls.find(t.orgId, r.json().sid);
      return call.ended_at ? call : null;
    }, 30_000, 'the call to end');
    // Still priced (the documents' fields), never charged.
    expect(done.credits_charged).toBeGreaterThan(0);
    expect(await t.sb.core.credits.balance(t.orgId)).toBe(0);
  }, 60_000);
});
