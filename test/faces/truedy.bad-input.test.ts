/** Bad input on every Truedy route → 4xx in Truedy's envelope (never 5xx), and nothing stored; the rate limit → 429. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { EXAMPLE_AGENT_ID, startTruedy, type TruedyTest } from './truedy.helpers.js';

const ID = '00000000-0000-4000-8000-000000000000';

const CASES: [string, string, unknown][] = [
  ['GET', '/calls?limit=abc', undefined],
  ['GET', '/calls?offset=x', undefined],
  ['GET', '/calls?status=done', undefined],
  ['GET', '/calls/%00', undefined],
  ['GET', '/calls/not-a-uuid', undefined],
  ['GET', `/calls/${ID}`, undefined],
  ['POST', '/calls', undefined],
  ['POST', '/calls', []],
  ['POST', '/calls', 'null'],
  ['POST', '/calls', '{bad json'],
  ['POST', '/calls', { agent_id: EXAMPLE_AGENT_ID }],
  ['POST', '/calls', { agent_id: EXAMPLE_AGENT_ID, phone_number: 15551234567 }],
  ['POST', '/calls', { agent_id: EXAMPLE_AGENT_ID, phone_number: '+14155550123', variables: 'x' }],
  ['POST', '/calls', { agent_id: EXAMPLE_AGENT_ID, phone_number: '+14155550123', variables: [1] }],
  ['POST', '/calls', { agent_id: EXAMPLE_AGENT_ID, phone_number: '+14155550123', call_settings: [] }],
  ['POST', '/calls', { agent_id: EXAMPLE_AGENT_ID, phone_number: '+14155550123', call_settings: { max_duration: 600 } }],
  ['POST', '/calls', { agent_id: EXAMPLE_AGENT_ID, phone_number: '+14155550123', call_settings: { max_duration: '99999999s' } }],
  ['POST', '/calls', { agent_id: EXAMPLE_AGENT_ID, phone_number: '+14155550123', call_settings: { greeting: 5 } }],
  ['POST', '/calls', { agent_id: EXAMPLE_AGENT_ID, phone_number: '+14155550123', from_number: 'abc' }],
  ['POST', '/calls', { agent_id: EXAMPLE_AGENT_ID, phone_number: '+14155550123', context: 'x' }],
  ['PATCH', `/calls/${ID}`, { context: {} }],
  ['PATCH', '/calls/not-a-uuid', { context: {} }],
  ['PATCH', `/calls/${ID}`, '{bad'],
  ['PATCH', `/calls/${ID}`, { call_settings: { recording_enabled: 'no' } }],
  ['PATCH', `/calls/${ID}`, []],
  ['DELETE', '/calls/not-a-uuid', undefined],
  ['DELETE', `/calls/${ID}`, undefined],
  ['POST', '/calls/bulk-delete', undefined],
  ['POST', '/calls/bulk-delete', { ids: 'x' }],
  ['POST', '/calls/bulk-delete', { ids: [1, 2] }],
  ['POST', '/calls/bulk-delete', { ids: [''] }],
  ['GET', '/calls/not-a-uuid/recording', undefined],
  ['GET', `/calls/${ID}/recording`, undefined],
  ['GET', '/calls/not-a-uuid/transcript', undefined],
  ['GET', `/calls/${ID}/transcript`, undefined],
  ['PUT', '/calls', {}],
];

for (const backend of BACKENDS) {
  describe(`Truedy: bad input on every route [${backend.name}]`, () => {
    let T: TruedyTest;
    beforeAll(async () => {
      T = await startTruedy(backend);
    });
    afterAll(() => T.t.close());

    it.each(CASES)('%s %s (%j) → 4xx with the Truedy error body, nothing stored', async (method, url, payload) => {
      const before = await T.callCount();
      const r = await T.t.sb.app.inject({
        method: method as any,
        url: '/api/public/v1' + url,
        headers: { ...T.auth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
        payload: typeof payload === 'string' ? payload : payload === undefined ? undefined : JSON.stringify(payload),
      });
      expect(r.statusCode, r.body).toBeGreaterThanOrEqual(400);
      expect(r.statusCode, r.body).toBeLessThan(500);
      const b = r.json();
      expect(typeof b.error.code).toBe('string');
      expect(typeof b.error.message).toBe('string');
      expect(typeof b.error.details).toBe('object');
      expect(typeof b.meta.request_id).toBe('string');
      if (r.statusCode !== 404) expect(b.error.code).toBe('validation_error');
      if (r.statusCode !== 404) expect(r.statusCode).toBe(422);
      expect(await T.callCount()).toBe(before);
    });
  });

  it(`an over-long path parameter → 4xx (Fastify's router answers 414 before the face sees it) [${backend.name}]`, async () => {
    const T = await startTruedy(backend);
    try {
      const r = await T.api('GET', `/calls/${'x'.repeat(200)}`);
      expect(r.statusCode).toBeGreaterThanOrEqual(400);
      expect(r.statusCode).toBeLessThan(500);
    } finally {
      await T.t.close();
    }
  });

  describe(`Truedy: rate limit [${backend.name}]`, () => {
    let T: TruedyTest;
    beforeAll(async () => {
      T = await startTruedy(backend, { RATE_LIMIT_PER_MINUTE: '2' });
    });
    afterAll(() => T.t.close());

    it('beyond the per-key limit → 429 rate_limited with Retry-After, per key', async () => {
      expect((await T.api('GET', '/calls')).statusCode).toBe(200);
      expect((await T.api('GET', '/calls')).statusCode).toBe(200);
      const r = await T.api('GET', '/calls');
      expect(r.statusCode).toBe(429);
      expect(r.json().error.code).toBe('rate_limited');
      expect(r.json().meta.request_id).toBeTruthy();
      expect(r.headers['retry-after']).toBeDefined();
      const other = await T.t.sb.core.orgs.createKey(T.t.orgId);
      expect((await T.api('GET', '/calls', undefined, { authorization: `Bearer ${other}` })).statusCode).toBe(200);
    });
  });
}
