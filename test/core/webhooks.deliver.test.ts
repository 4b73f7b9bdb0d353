import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { JobRunner } from '../../src/jobs/runner.js';
import type { Store } from '../../src/store/index.js';
import {
  enqueueWebhook,
  listDeliveries,
  redeliverWebhook,
  registerWebhookDelivery,
  verifyWebhookSignature,
  type Resolver,
  type WebhookSenderOptions,
} from '../../src/core/webhooks/index.js';
import { freePort, startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { backends, createCall, createOrg } from './webhooks-helpers.js';

const log = pino({ level: 'silent' });
const SECRET = 'whsec_org_secret_0123456789';
const body = { event: 'call_completed', call_id: 'CA1', sid: 'CA1', timestamp: 1739511142, data: { status: 'completed', to: '+46700000000' } };

for (const backend of backends) {
  describe(`webhook delivery (${backend.name})`, () => {
    let store: Store;
    let receiver: WebhookReceiver;
    let runners: JobRunner[] = [];

    beforeAll(async () => {
      store = await backend.open();
    });
    afterAll(async () => {
      await store.close();
    });
    beforeEach(async () => {
      receiver = await startWebhookReceiver();
    });
    afterEach(async () => {
      for (const r of runners) await r.stop(1000);
      runners = [];
      await store.db.deleteFrom('jobs').execute();
      await receiver.close();
    });

    /** A runner with the delivery handler and short backoff (the contract's values are defaults); the attempt
     *  timeout stays generous so a loaded machine does not turn a slow answer into a retry. */
    async function startRunner(opts: Partial<WebhookSenderOptions> = {}, releaseAllLocksAtStart = false): Promise<JobRunner> {
      const runner = new JobRunner(store.db, log, { nodeId: `n${runners.length}`, pollMs: 20, releaseAllLocksAtStart });
      const deps: WebhookSenderOptions = { db: store.db, config: { nodeEnv: 'development' }, log, timeoutMs: 5000, backoffMs: [10, 20], ...opts };
      registerWebhookDelivery(runner, deps);
      runners.push(runner);
      await runner.start();
      return runner;
    }

    async function enqueue(orgId: string, url = receiver.url, callId: string | null = null): Promise<string> {
      return store.db.transaction().execute((trx) => enqueueWebhook(trx, { orgId, callId, event: 'call_completed', url, body }));
    }

    async function rows(orgId: string) {
      return (await listDeliveries(store.db, orgId)).reverse(); // oldest first
    }

    it('delivers a signed JSON body with a Webhook-Id and records the attempt', async () => {
      const orgId = await createOrg(store.db, SECRET);
      const callId = await createCall(store.db, orgId);
      const runner = await startRunner();
      const webhookId = await enqueue(orgId, receiver.url, callId);
      runner.wake();
      await runner.drain(5000);

      expect(receiver.received).toHaveLength(1);
      const req = receiver.received[0];
      expect(req.rawBody).toBe(JSON.stringify(body));
      expect(req.json).toEqual(body);
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers['user-agent']).toBe('Switchboard-Webhooks/1');
      expect(req.headers['webhook-id']).toBe(webhookId);
      expect(webhookId).toMatch(/^wh_[0-9a-f-]{36}$/);
      expect(verifyWebhookSignature(SECRET, req.headers['x-callmycall-signature'] as string, req.rawBody)).toBe(true);
      expect(verifyWebhookSignature('whsec_wrong_secret_000', req.headers['x-callmycall-signature'] as string, req.rawBody)).toBe(false);

      const r = await rows(orgId);
      expect(r).toHaveLength(1);
      expect(r[0]).toMatchObject({ webhook_id: webhookId, event: 'call_completed', call_id: callId, url: receiver.url, attempt: 1, status_code: 200, error: null });
      expect(typeof r[0].duration_ms).toBe('number');
      expect(await runner.pendingCount()).toBe(0);
    });

    it('retries 500, 500 then succeeds on the third attempt with the same Webhook-Id and body', async () => {
      const orgId = await createOrg(store.db, SECRET);
      receiver.script([500, 500, 200]);
      const runner = await startRunner();
      const webhookId = await enqueue(orgId);
      runner.wake();
      await runner.drain(5000);

      expect(receiver.received).toHaveLength(3);
      expect(new Set(receiver.received.map((q) => q.headers['webhook-id']))).toEqual(new Set([webhookId]));
      expect(new Set(receiver.received.map((q) => q.rawBody)).size).toBe(1);
      for (const q of receiver.received) expect(verifyWebhookSignature(SECRET, q.headers['x-callmycall-signature'] as string, q.rawBody)).toBe(true);
      const r = await rows(orgId);
      expect(r.map((x) => [x.attempt, x.status_code, x.error])).toEqual([
        [1, 500, 'HTTP 500'],
        [2, 500, 'HTTP 500'],
        [3, 200, null],
      ]);
    });

    it('gives up after three 5xx attempts, leaving a dead letter with the attempts and the last error', async () => {
      const orgId = await createOrg(store.db, SECRET);
      const callId = await createCall(store.db, orgId);
      receiver.script([503, 503, 503, 200]);
      const runner = await startRunner();
      const webhookId = await enqueue(orgId, receiver.url, callId);
      runner.wake();
      await runner.drain(5000);
      expect(receiver.received).toHaveLength(3);
      const r = await rows(orgId);
      expect(r.map((x) => [x.attempt, x.status_code, x.error, x.dead_letter])).toEqual([
        [1, 503, 'HTTP 503', false],
        [2, 503, 'HTTP 503', false],
        [3, 503, 'HTTP 503', false],
        [3, null, 'HTTP 503', true],
      ]);
      expect(r[3]).toMatchObject({ webhook_id: webhookId, event: 'call_completed', call_id: callId, url: receiver.url });
      expect(await runner.pendingCount()).toBe(0);
    });

    it('never retries a 4xx: one attempt, then a dead letter', async () => {
      const orgId = await createOrg(store.db, SECRET);
      receiver.script([400, 200]);
      const runner = await startRunner();
      await enqueue(orgId);
      runner.wake();
      await runner.drain(5000);
      expect(receiver.received).toHaveLength(1);
      expect((await rows(orgId)).map((x) => [x.attempt, x.status_code, x.error, x.dead_letter])).toEqual([
        [1, 400, 'HTTP 400', false],
        [1, null, 'HTTP 400', true],
      ]);
      expect(await runner.pendingCount()).toBe(0);
    });

    it('an unexpected error in the job (not a retry) leaves a dead letter instead of vanishing', async () => {
      const orgId = await createOrg(store.db, SECRET);
      // A call id that is not in the store: recording the attempt breaks its foreign key, a bug-like failure
      // after the POST went out.
      const webhookId = await enqueue(orgId, receiver.url, randomUUID());
      const runner = await startRunner();
      runner.wake();
      await runner.drain(5000);
      expect(receiver.received).toHaveLength(1);
      const r = await rows(orgId);
      expect(r).toHaveLength(1);
      expect(r[0]).toMatchObject({ webhook_id: webhookId, dead_letter: true, attempt: 1, call_id: null, status_code: null });
      expect(r[0].error).toMatch(/foreign key/);
      expect(await runner.pendingCount()).toBe(0);
    });

    it('redelivers a dead letter: same Webhook-Id, same body, new attempts in the log', async () => {
      const orgId = await createOrg(store.db, SECRET);
      receiver.script([410]);
      const runner = await startRunner();
      const webhookId = await enqueue(orgId);
      runner.wake();
      await runner.drain(5000);
      const [attempt, dead] = await rows(orgId);
      expect(dead.dead_letter).toBe(true);

      // Any row of the delivery names it; a second request while it is queued changes nothing.
      expect(await redeliverWebhook(store.db, orgId, attempt.id)).toEqual({ webhook_id: webhookId, event: 'call_completed', url: receiver.url });
      await redeliverWebhook(store.db, orgId, dead.id);
      runner.wake();
      await runner.drain(5000);
      expect(receiver.received).toHaveLength(2);
      expect(receiver.received[1].headers['webhook-id']).toBe(webhookId);
      expect(receiver.received[1].rawBody).toBe(receiver.received[0].rawBody);
      expect(verifyWebhookSignature(SECRET, receiver.received[1].headers['x-callmycall-signature'] as string, receiver.received[1].rawBody)).toBe(true);
      expect((await rows(orgId)).map((x) => [x.attempt, x.status_code, x.dead_letter])).toEqual([
        [1, 410, false],
        [1, null, true],
        [1, 200, false],
      ]);

      // A delivery that never gave up, another organisation's row, or no row: refused.
      await enqueue(orgId);
      runner.wake();
      await runner.drain(5000);
      const delivered = (await rows(orgId))[3];
      expect(delivered).toMatchObject({ status_code: 200, dead_letter: false });
      await expect(redeliverWebhook(store.db, orgId, delivered.id)).rejects.toMatchObject({ code: 'SB_ERR_NOT_DEAD_LETTER', status: 409 });
      await expect(redeliverWebhook(store.db, await createOrg(store.db, null), dead.id)).rejects.toMatchObject({ code: 'SB_ERR_NOT_FOUND' });
      await expect(redeliverWebhook(store.db, orgId, '999999999')).rejects.toMatchObject({ code: 'SB_ERR_NOT_FOUND' });
    });

    it('retries a timeout and a dropped connection', async () => {
      const orgId = await createOrg(store.db, SECRET);
      receiver.script(['hang', 'drop', 200]);
      const runner = await startRunner({ timeoutMs: 200 });
      await enqueue(orgId);
      runner.wake();
      await runner.drain(5000);
      expect(receiver.received).toHaveLength(3);
      const r = await rows(orgId);
      expect(r.map((x) => [x.attempt, x.status_code])).toEqual([
        [1, null],
        [2, null],
        [3, 200],
      ]);
      expect(r[0].error).toBe('timeout');
      expect(r[1].error).toMatch(/^E[A-Z]+$/); // e.g. ECONNRESET
    });

    it('retries connection refused up to three attempts', async () => {
      const orgId = await createOrg(store.db, SECRET);
      const runner = await startRunner();
      await enqueue(orgId, `http://127.0.0.1:${await freePort()}/hook`);
      runner.wake();
      await runner.drain(5000);
      const r = await rows(orgId);
      expect(r.map((x) => [x.attempt, x.status_code, x.error, x.dead_letter])).toEqual([
        [1, null, 'ECONNREFUSED', false],
        [2, null, 'ECONNREFUSED', false],
        [3, null, 'ECONNREFUSED', false],
        [3, null, 'ECONNREFUSED', true],
      ]);
    });

    it('sends no signature header when neither the org nor the deployment has a secret', async () => {
      const orgId = await createOrg(store.db, null);
      const runner = await startRunner();
      await enqueue(orgId);
      runner.wake();
      await runner.drain(5000);
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0].headers['x-callmycall-signature']).toBeUndefined();
      expect(receiver.received[0].headers['webhook-id']).toBeDefined();
    });

    it("signs with the deployment's secret when the org has none", async () => {
      const orgId = await createOrg(store.db, null);
      const fallback = 'whsec_deployment_0123456789';
      const runner = await startRunner({ config: { nodeEnv: 'development', webhookSigningSecret: fallback } });
      await enqueue(orgId);
      runner.wake();
      await runner.drain(5000);
      const q = receiver.received[0];
      expect(verifyWebhookSignature(fallback, q.headers['x-callmycall-signature'] as string, q.rawBody)).toBe(true);
    });

    it('in production refuses http:// and records the refusal without retrying', async () => {
      const orgId = await createOrg(store.db, SECRET);
      const runner = await startRunner({ config: { nodeEnv: 'production' } });
      await enqueue(orgId);
      runner.wake();
      await runner.drain(5000);
      expect(receiver.received).toHaveLength(0);
      expect((await rows(orgId)).map((x) => [x.attempt, x.status_code, x.error, x.dead_letter])).toEqual([
        [1, null, 'webhook URL must use https', false],
        [1, null, 'webhook URL must use https', true],
      ]);
      expect(await runner.pendingCount()).toBe(0);
    });

    it('in production refuses, at delivery time, a host name resolving to 127.0.0.1', async () => {
      const orgId = await createOrg(store.db, SECRET);
      const asked: string[] = [];
      const resolve: Resolver = async (host) => (asked.push(host), [{ address: '127.0.0.1', family: 4 }]);
      const runner = await startRunner({ config: { nodeEnv: 'production' }, resolve });
      await enqueue(orgId, `https://hooks.example.com:${receiver.port}/hook?token=secret`);
      runner.wake();
      await runner.drain(5000);
      expect(asked).toEqual(['hooks.example.com']);
      expect(receiver.received).toHaveLength(0);
      const r = await rows(orgId);
      expect(r.map((x) => x.dead_letter)).toEqual([false, true]); // the refused attempt, then its dead letter
      expect(r[0].status_code).toBeNull();
      expect(r[0].error).toMatch(/private or local address/);
      expect(r[1].error).toMatch(/private or local address/);
    });

    it('connects to the address the guarded lookup returns', async () => {
      const orgId = await createOrg(store.db, SECRET);
      const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
      const runner = await startRunner({ resolve });
      await enqueue(orgId, `http://receiver.test:${receiver.port}/hook`);
      runner.wake();
      await runner.drain(5000);
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0].headers.host).toBe(`receiver.test:${receiver.port}`);
    });

    it('delivers a job left locked by a crashed node after a restart', async () => {
      const orgId = await createOrg(store.db, SECRET);
      const webhookId = await enqueue(orgId);
      // The crashed node had claimed the job (attempts incremented, lock held) and died before sending.
      await store.db.updateTable('jobs').set({ locked_at: new Date(), locked_by: 'dead-node', attempts: 1 }).where('key', '=', webhookId).execute();

      const runner = await startRunner({}, true);
      await runner.drain(5000);
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0].headers['webhook-id']).toBe(webhookId);
      expect((await rows(orgId)).map((x) => [x.attempt, x.status_code])).toEqual([[2, 200]]);
    });

    it('enqueues nothing when the transaction rolls back', async () => {
      const orgId = await createOrg(store.db, SECRET);
      await expect(
        store.db.transaction().execute(async (trx) => {
          await enqueueWebhook(trx, { orgId, callId: null, event: 'call_completed', url: receiver.url, body });
          throw new Error('state change failed');
        }),
      ).rejects.toThrow('state change failed');
      expect(await store.db.selectFrom('jobs').select('id').execute()).toHaveLength(0);
    });
  });
}
