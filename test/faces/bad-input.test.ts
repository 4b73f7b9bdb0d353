/**
 * Every route, every kind of bad input: a 4xx naming the problem, never a 5xx, nothing stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';

const ROUTES: Array<{ method: 'GET' | 'POST'; url: string }> = [
  { method: 'POST', url: '/v1/start-call' },
  { method: 'POST', url: '/v1/end-call' },
  { method: 'POST', url: '/v1/webhook/test' },
  { method: 'GET', url: '/v1/calls/CA00000000000000000000000000000000' },
  { method: 'GET', url: '/v1/calls/CA00000000000000000000000000000000/transcripts/stream' },
  { method: 'GET', url: '/v1/webhook/deliveries' },
  { method: 'POST', url: '/v1/webhook/deliveries/1/redeliver' },
];

const BAD_BODIES: Array<{ name: string; payload: string; contentType?: string }> = [
  { name: 'malformed JSON', payload: '{"phone_number": "+15550100", ' },
  { name: 'a JSON array', payload: '[1,2,3]' },
  { name: 'JSON null', payload: 'null' },
  { name: 'a JSON string', payload: '"hello"' },
  { name: 'wrong types everywhere', payload: JSON.stringify({ phone_number: 15550100, task: ['x'], callSid: 7, webhook_url: false, metadata: 'm', persona: 'p' }) },
  { name: 'form encoding', payload: 'phone_number=%2B15550100&task=x', contentType: 'application/x-www-form-urlencoded' },
  { name: 'plain text', payload: 'call me', contentType: 'text/plain' },
  { name: 'deep nesting', payload: '{"metadata":' + '{"a":'.repeat(2000) + '1' + '}'.repeat(2001) },
  { name: 'an oversized body', payload: JSON.stringify({ phone_number: '+15550100', task: 'x'.repeat(2_000_000) }) },
  { name: 'prototype pollution', payload: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"phone_number":"+15550100","task":"x"}' },
  { name: 'unicode junk', payload: JSON.stringify({ phone_number: '+１５５５０１００', task: '\u0000\ud800', callSid: '\u0000' }) },
];

const BAD_IDS = ['..%2F..%2Fetc%2Fpasswd', 'x'.repeat(5000), '%00', 'CA' + 'g'.repeat(32), "'; drop table calls; --", '%F0%9F%93%9E', '00000000-0000-0000-0000-000000000000'];

for (const backend of BACKENDS) {
  describe(`bad input on every /v1 route [${backend.name}]`, () => {
    let t: TestSwitchboard;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
    });
    afterAll(() => t.close());

    const calls = async () => Number((await t.sb.store.db.selectFrom('calls').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    it('answers bad bodies with a 4xx and its own error body, and stores nothing', async () => {
      const before = await calls();
      for (const r of ROUTES.filter((x) => x.method === 'POST')) {
        for (const b of BAD_BODIES) {
          const res = await t.sb.app.inject({
            method: r.method,
            url: r.url,
            headers: { authorization: `Bearer ${t.key}`, 'content-type': b.contentType ?? 'application/json' },
            payload: b.payload,
          });
          expect(res.statusCode, `${r.url} with ${b.name}: ${res.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
          expect(res.statusCode, `${r.url} with ${b.name}`).toBeLessThan(500);
          expect(typeof res.json().error, `${r.url} with ${b.name}`).toBe('string');
        }
      }
      expect(await calls()).toBe(before);
    });

    it('answers bad ids and bad keys with 4xx, never 5xx', async () => {
      for (const id of BAD_IDS) {
        for (const path of [`/v1/calls/${id}`, `/v1/calls/${id}/transcripts/stream`]) {
          const res = await t.sb.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${t.key}` } });
          expect(res.statusCode, path.slice(0, 80)).toBeGreaterThanOrEqual(400);
          expect(res.statusCode, path.slice(0, 80)).toBeLessThan(500);
        }
      }
      const keys = ['', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer sk_' + 'a'.repeat(10_000), 'Bearer \u0000'];
      for (const r of ROUTES) {
        for (const k of keys) {
          const res = await t.sb.app.inject({ method: r.method, url: r.url, headers: k ? { authorization: k } : {}, payload: r.method === 'POST' ? {} : undefined });
          expect(res.statusCode, `${r.url} key ${k.slice(0, 20)}`).toBe(401);
        }
      }
    });

    it('answers bad query strings with 400', async () => {
      for (const q of ['limit=abc', 'limit=-1', 'limit=100000', 'call_id=' + 'x'.repeat(500)]) {
        const res = await t.sb.app.inject({ method: 'GET', url: `/v1/webhook/deliveries?${q}`, headers: { authorization: `Bearer ${t.key}` } });
        expect(res.statusCode, q).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, q).toBeLessThan(500);
      }
      const lastId = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/CA${'0'.repeat(32)}/transcripts/stream`, headers: { authorization: `Bearer ${t.key}`, 'last-event-id': 'abc' } });
      expect(lastId.statusCode).toBe(400);
    });

    it('answers unknown routes with the face’s 404 body', async () => {
      const res = await t.sb.app.inject({ method: 'GET', url: '/v1/nope', headers: { authorization: `Bearer ${t.key}` } });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: 'Not found' });
    });
  });
}
