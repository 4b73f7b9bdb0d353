import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  listDeliveries,
  sendTestWebhook,
  UnknownWebhookEventError,
  verifyWebhookSignature,
  WEBHOOK_EVENTS,
  type WebhookSenderOptions,
} from '../../src/core/webhooks/index.js';
import type { Store } from '../../src/store/index.js';
import { freePort, startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { backends, createCall, createOrg } from './webhooks-helpers.js';

const SECRET = 'whsec_org_secret_0123456789';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const backend of backends) {
  describe(`test webhooks and the delivery log (${backend.name})`, () => {
    let store: Store;
    let receiver: WebhookReceiver;
    let deps: WebhookSenderOptions;

    beforeAll(async () => {
      store = await backend.open();
      deps = { db: store.db, config: { nodeEnv: 'development' }, timeoutMs: 300 };
    });
    afterAll(async () => {
      await store.close();
    });
    beforeEach(async () => {
      receiver = await startWebhookReceiver();
    });
    afterEach(async () => {
      await receiver.close();
    });

    it('sends one signed sample per event, shaped as the real payloads', async () => {
      const org = { id: await createOrg(store.db, SECRET), webhook_secret: SECRET };
      for (const event of WEBHOOK_EVENTS) {
        const r = await sendTestWebhook(deps, org, { url: receiver.url, event });
        expect(r).toMatchObject({ success: true, status_code: 200 });
        expect(typeof r.duration_ms).toBe('number');
      }
      expect(receiver.received.map((q) => q.json.event)).toEqual([...WEBHOOK_EVENTS]);
      for (const q of receiver.received) {
        expect(verifyWebhookSignature(SECRET, q.headers['x-callmycall-signature'] as string, q.rawBody)).toBe(true);
        expect(Object.keys(q.json).sort()).toEqual(['call_id', 'data', 'event', 'sid', 'timestamp']);
        expect(Number.isInteger(q.json.timestamp)).toBe(true);
        expect(q.json.timestamp).toBeLessThan(1e11); // seconds, not milliseconds
        expect(q.json.sid).toMatch(/^CA[0-9a-f]{32}$/);
      }
      const [started, transcript, completed, price] = receiver.received.map((q) => q.json.data);
      expect(Object.keys(started).sort()).toEqual(['from', 'status', 'to']);
      expect(Object.keys(transcript).sort()).toEqual(['status', 'transcripts']);
      for (const t of [...transcript.transcripts, ...completed.transcripts]) {
        expect(Object.keys(t).sort()).toEqual(['content', 'role', 'seq', 'timestamp']);
        expect(t.timestamp).toMatch(ISO);
      }
      expect(Object.keys(completed).sort()).toEqual(
        ['answered_by', 'duration', 'extracted', 'outcome', 'status', 'summary', 'to', 'transcripts'].sort(),
      );
      expect(Object.keys(completed.summary).sort()).toEqual(['goal_completed', 'text']);
      expect(Object.keys(price).sort()).toEqual(['cost_breakdown', 'credits']);

      const rows = await listDeliveries(store.db, org.id);
      expect(rows).toHaveLength(4);
      expect(rows.every((x) => x.call_id === null && x.attempt === 1 && x.status_code === 200)).toBe(true);
    });

    it('defaults to call_completed and refuses unknown events', async () => {
      const org = { id: await createOrg(store.db, null), webhook_secret: null };
      await sendTestWebhook(deps, org, { url: receiver.url });
      expect(receiver.received[0].json.event).toBe('call_completed');
      expect(receiver.received[0].headers['x-callmycall-signature']).toBeUndefined();
      await expect(sendTestWebhook(deps, org, { url: receiver.url, event: 'call_exploded' })).rejects.toBeInstanceOf(UnknownWebhookEventError);
      expect(receiver.received).toHaveLength(1);
    });

    it('reports a receiver error or a network failure without retrying', async () => {
      const org = { id: await createOrg(store.db, SECRET), webhook_secret: SECRET };
      receiver.script([500]);
      expect(await sendTestWebhook(deps, org, { url: receiver.url })).toMatchObject({ success: false, status_code: 500, error: 'HTTP 500' });
      expect(receiver.received).toHaveLength(1);
      const refused = await sendTestWebhook(deps, org, { url: `http://127.0.0.1:${await freePort()}/x` });
      expect(refused).toMatchObject({ success: false, status_code: null, error: 'ECONNREFUSED' });
      const prod = await sendTestWebhook({ ...deps, config: { nodeEnv: 'production' } }, org, { url: receiver.url });
      expect(prod).toMatchObject({ success: false, status_code: null, error: 'webhook URL must use https' });
      expect(receiver.received).toHaveLength(1);
      expect((await listDeliveries(store.db, org.id)).map((x) => x.error)).toEqual(['webhook URL must use https', 'ECONNREFUSED', 'HTTP 500']);
    });

    it('lists newest first, per organisation, by call, within the limit', async () => {
      const orgId = await createOrg(store.db, SECRET);
      const other = await createOrg(store.db, SECRET);
      const callId = await createCall(store.db, orgId);
      const insert = (org: string, attempt: number, call: string | null) =>
        store.db
          .insertInto('webhook_deliveries')
          .values({ org_id: org, call_id: call, webhook_id: `wh_${attempt}`, event: 'call_completed', url: 'https://x.example/h', attempt, status_code: 200, error: null, duration_ms: 5 })
          .execute();
      for (let i = 1; i <= 5; i++) await insert(orgId, i, i % 2 ? callId : null);
      await insert(other, 9, null);

      const all = await listDeliveries(store.db, orgId);
      expect(all.map((r) => r.attempt)).toEqual([5, 4, 3, 2, 1]);
      expect(Object.keys(all[0]).sort()).toEqual(
        ['attempt', 'call_id', 'created_at', 'dead_letter', 'duration_ms', 'error', 'event', 'id', 'status_code', 'url', 'webhook_id'].sort(),
      );
      expect(typeof all[0].id).toBe('string');
      expect((await listDeliveries(store.db, orgId, { limit: 2 })).map((r) => r.attempt)).toEqual([5, 4]);
      expect((await listDeliveries(store.db, orgId, { callId })).map((r) => r.attempt)).toEqual([5, 3, 1]);
      expect(await listDeliveries(store.db, orgId, { limit: 1000 })).toHaveLength(5);
    });
  });
}
