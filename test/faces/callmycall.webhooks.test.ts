import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/core/webhooks/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';

const SECRET = 'whsec_test_secret_for_acme_org';

/** The structure of a JSON value: its keys at every depth and the type of each leaf. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shape(x)]));
  return v === null ? 'null' : typeof v;
}

for (const backend of BACKENDS) {
  describe(`CallMyCall webhooks end to end [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let rx: WebhookReceiver;
    let headers: Record<string, string>;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
      await t.sb.core.orgs.setWebhookSecret(t.orgId, SECRET);
      rx = await startWebhookReceiver();
      headers = { authorization: `Bearer ${t.key}` };
    });
    afterAll(async () => {
      await t.close();
      await rx.close();
    });

    it('delivers a correctly signed call_completed with the transcript (and only the chosen events)', async () => {
      rx.received.length = 0;
      const r = await t.sb.app.inject({
        method: 'POST',
        url: '/v1/start-call',
        headers,
        payload: {
          phone_number: '+15550100',
          task: 'Confirm my booking for Tuesday at 7 pm, booking reference AB123',
          language: 'en',
          persona: { name: 'Alex Smith' },
          webhook: rx.url,
          webhook_events: ['call_started', 'call_completed'],
        },
      });
      const sid = r.json().sid;
      const completed = await until(async () => rx.received.find((w) => w.json.event === 'call_completed'), 20_000, 'call_completed');
      expect(verifyWebhookSignature(SECRET, String(completed.headers['x-callmycall-signature']), completed.rawBody)).toBe(true);
      expect(completed.headers['webhook-id']).toMatch(/\S+/);
      const body = completed.json;
      expect(body).toMatchObject({ event: 'call_completed', call_id: sid, sid, timestamp: expect.any(Number) });
      expect(body.data).toMatchObject({ status: 'completed', to: '+15550100', answered_by: 'human', summary: { goal_completed: true } });
      expect(body.data.transcripts.length).toBeGreaterThan(2);
      expect(body.data.transcripts[0]).toEqual({ role: expect.any(String), content: expect.any(String), timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), seq: expect.any(Number) });
      const started = rx.received.find((w) => w.json.event === 'call_started');
      expect(started?.json.data).toEqual({ status: 'in-progress', to: '+15550100', from: null });
      // transcript_updated and price_updated were not asked for.
      expect(rx.received.every((w) => ['call_started', 'call_completed'].includes(w.json.event))).toBe(true);
      // Every attempt is listed (the attempt is recorded once the receiver has answered, so wait for it).
      const list = await until(async () => {
        const l = (await t.sb.app.inject({ method: 'GET', url: `/v1/webhook/deliveries?call_id=${sid}`, headers })).json();
        return l.deliveries.length >= 2 ? l : null;
      }, 20_000, 'both deliveries listed');
      expect(list.deliveries.map((d: any) => d.event).sort()).toEqual(['call_completed', 'call_started']);
      expect(list.deliveries.every((d: any) => d.status_code === 200)).toBe(true);
    });

    it('POST /v1/webhook/test sends each event shaped exactly like its real delivery', async () => {
      rx.received.length = 0;
      const events = ['call_started', 'transcript_updated', 'call_completed', 'price_updated'];
      await t.sb.app.inject({
        method: 'POST',
        url: '/v1/start-call',
        headers,
        payload: { phone_number: '+15550100', task: 'Confirm my booking, reference AB123', language: 'en', webhook: rx.url, webhook_events: events },
      });
      await until(async () => rx.received.some((w) => w.json.event === 'price_updated') && rx.received.some((w) => w.json.event === 'call_completed'), 20_000, 'the real deliveries');
      const real = new Map(rx.received.map((w) => [w.json.event as string, w]));
      for (const event of events) {
        rx.received.length = 0;
        const r = await t.sb.app.inject({ method: 'POST', url: '/v1/webhook/test', headers, payload: { webhook_url: rx.url, event } });
        expect(r.json().success, r.body).toBe(true);
        const sample = rx.received[0];
        // Same fields at every depth, with the same types.
        expect(shape(sample.json), event).toEqual(shape(real.get(event)!.json));
        expect(Object.keys(sample.headers)).toEqual(expect.arrayContaining(['x-callmycall-signature', 'webhook-id']));
      }
    });

    it('GET /v1/webhook/secret reads the signing secret and POST /v1/webhook/secret/rotate replaces it', async () => {
      expect((await t.sb.app.inject({ method: 'GET', url: '/v1/webhook/secret', headers })).json()).toEqual({ webhook_secret: SECRET, source: 'organisation' });
      const rotated = await t.sb.app.inject({ method: 'POST', url: '/v1/webhook/secret/rotate', headers });
      expect(rotated.statusCode).toBe(200);
      const fresh = rotated.json().webhook_secret as string;
      expect(fresh).toMatch(/^whsec_[A-Za-z0-9_-]{20,}$/);
      expect(fresh).not.toBe(SECRET);
      expect((await t.sb.app.inject({ method: 'GET', url: '/v1/webhook/secret', headers })).json().webhook_secret).toBe(fresh);
      // Deliveries are signed with the new secret from now on.
      rx.received.length = 0;
      await t.sb.app.inject({ method: 'POST', url: '/v1/webhook/test', headers, payload: { webhook_url: rx.url } });
      const sig = String(rx.received[0].headers['x-callmycall-signature']);
      expect(verifyWebhookSignature(fresh, sig, rx.received[0].rawBody)).toBe(true);
      expect(verifyWebhookSignature(SECRET, sig, rx.received[0].rawBody)).toBe(false);
      expect((await t.sb.app.inject({ method: 'GET', url: '/v1/webhook/secret' })).statusCode).toBe(401);
      await t.sb.core.orgs.setWebhookSecret(t.orgId, SECRET);
    });

    it('sends call_completed by default and transcript_updated segments when asked', async () => {
      rx.received.length = 0;
      await t.sb.app.inject({
        method: 'POST',
        url: '/v1/start-call',
        headers,
        payload: { phone_number: '+15550100', task: 'Confirm my booking, reference AB123', language: 'en', webhook: rx.url, webhook_events: ['transcript_updated', 'call_completed'] },
      });
      const done = await until(async () => rx.received.find((w) => w.json.event === 'call_completed'), 20_000);
      const updates = rx.received.filter((w) => w.json.event === 'transcript_updated');
      expect(updates.length).toBeGreaterThan(0);
      const streamed = updates.flatMap((u) => u.json.data.transcripts.map((s: any) => s.seq)).sort((a: number, b: number) => a - b);
      expect(streamed).toEqual(done.json.data.transcripts.map((s: any) => s.seq));
    });

    it('POST /v1/webhook/test sends a signed sample and reports the delivery', async () => {
      rx.received.length = 0;
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/webhook/test', headers, payload: { webhook_url: rx.url, event: 'call_completed' } });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ success: true, status_code: 200, duration_ms: expect.any(Number) });
      expect(rx.received).toHaveLength(1);
      expect(verifyWebhookSignature(SECRET, String(rx.received[0].headers['x-callmycall-signature']), rx.received[0].rawBody)).toBe(true);
      const bad = await t.sb.app.inject({ method: 'POST', url: '/v1/webhook/test', headers, payload: { webhook_url: rx.url, event: 'nope' } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatch(/event/);
      const missing = await t.sb.app.inject({ method: 'POST', url: '/v1/webhook/test', headers, payload: {} });
      expect(missing.json().error).toBe('Missing webhook_url');
    });

    it('a call_completed that gives up is a dead letter in GET /v1/webhook/deliveries, and redeliver sends it again', async () => {
      rx.received.length = 0;
      rx.script([503, 503, 503]); // every attempt of call_completed fails
      const start = await t.sb.app.inject({
        method: 'POST',
        url: '/v1/start-call',
        headers,
        payload: { phone_number: '+15550100', task: 'Confirm my booking, reference AB123', language: 'en', webhook: rx.url },
      });
      const sid = start.json().sid;
      const list = async () => (await t.sb.app.inject({ method: 'GET', url: `/v1/webhook/deliveries?call_id=${sid}`, headers })).json().deliveries as any[];
      const dead = await until(async () => (await list()).find((d) => d.dead_letter), 30_000, 'the dead letter');
      expect(dead).toMatchObject({ event: 'call_completed', attempt: 3, error: 'HTTP 503', status_code: null, url: rx.url });
      expect(rx.received).toHaveLength(3);

      const r = await t.sb.app.inject({ method: 'POST', url: `/v1/webhook/deliveries/${dead.id}/redeliver`, headers });
      expect(r.statusCode).toBe(202);
      expect(r.json()).toEqual({ webhook_id: dead.webhook_id, event: 'call_completed', url: rx.url, status: 'queued' });
      await until(async () => rx.received.length === 4, 30_000, 'the redelivery');
      const again = rx.received[3];
      expect(again.headers['webhook-id']).toBe(dead.webhook_id);
      expect(again.rawBody).toBe(rx.received[0].rawBody);
      expect(verifyWebhookSignature(SECRET, String(again.headers['x-callmycall-signature']), again.rawBody)).toBe(true);
      await until(async () => (await list()).some((d) => d.webhook_id === dead.webhook_id && d.status_code === 200), 10_000, 'the delivered attempt in the log');

      // Refusals: a delivery that never gave up (409), an unknown row (404), a malformed id (400).
      const ok = (await list()).find((d) => d.status_code === 200)!;
      const other = await t.sb.app.inject({ method: 'POST', url: '/v1/webhook/deliveries/999999999/redeliver', headers });
      expect(other.statusCode).toBe(404);
      const malformed = await t.sb.app.inject({ method: 'POST', url: '/v1/webhook/deliveries/abc/redeliver', headers });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().error).toMatch(/id/);
      const noKey = await t.sb.app.inject({ method: 'POST', url: `/v1/webhook/deliveries/${ok.id}/redeliver` });
      expect(noKey.statusCode).toBe(401);
    });

    it('redeliver refuses a delivery that did not give up', async () => {
      rx.received.length = 0;
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/webhook/test', headers, payload: { webhook_url: rx.url } });
      expect(r.json().success).toBe(true);
      const sent = (await t.sb.app.inject({ method: 'GET', url: '/v1/webhook/deliveries?limit=1', headers })).json().deliveries[0];
      expect(sent.dead_letter).toBe(false);
      const again = await t.sb.app.inject({ method: 'POST', url: `/v1/webhook/deliveries/${sent.id}/redeliver`, headers });
      expect(again.statusCode).toBe(409);
      expect(again.json().error).toMatch(/gave up/);
    });
  });
}
