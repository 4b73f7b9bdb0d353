import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCallSid, newId } from '../../src/lib/ids.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';

const backend = BACKENDS[0];

describe('rate limit, production webhook targets, OpenAPI, unreachable sessions', () => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(backend, { RATE_LIMIT_PER_MINUTE: '3', SHUTDOWN_GRACE_SECONDS: '1' });
  });
  afterAll(() => t.close());

  it('answers 429 {"error":"Too Many Requests"} with Retry-After past the per-key limit, per key', async () => {
    const headers = { authorization: `Bearer ${t.key}` };
    const codes: number[] = [];
    let last;
    for (let i = 0; i < 5; i++) {
      last = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${newCallSid()}`, headers });
      codes.push(last.statusCode);
    }
    expect(codes).toEqual([404, 404, 404, 429, 429]);
    expect(last!.json()).toEqual({ error: 'Too Many Requests' });
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    // Another key has its own budget.
    const other = await t.sb.core.orgs.createKey(t.orgId);
    const r = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${newCallSid()}`, headers: { authorization: `Bearer ${other}` } });
    expect(r.statusCode).toBe(404);
  });

  it('serves the OpenAPI document covering the /v1 routes', async () => {
    const doc = (await t.sb.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/v1/start-call', '/v1/end-call', '/v1/calls/{callId}', '/v1/calls/{callId}/transcripts/stream', '/v1/webhook/test']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(doc.paths['/v1/start-call'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('share_policy');
    const ui = await t.sb.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect((await t.sb.app.inject({ method: 'GET', url: '/healthz' })).json()).toMatchObject({ status: 'ok', activeCalls: expect.any(Number) });
  });

  it('closes a live call whose session no longer answers as failed, with a reason', async () => {
    // Owned by this live node, which has no session for it (a dead node's calls are the reaper's: durable-calls.test.ts).
    const id = newId();
    await t.sb.store.db
      .insertInto('calls')
      .values({
        id, sid: newCallSid(), org_id: t.orgId, direction: 'outbound', from_number: null, to_number: '+15550100', status: 'in_progress',
        request: JSON.stringify({ face: 'callmycall', to: '+15550100', task: 'x', metadata: {} }), carrier: 'sim', brain: 'rules',
        answered_by: 'human', outcome: null, end_reason: null, last_error: null, goal_completed: null, summary: null, extracted: null,
        duration_seconds: null, credits_charged: null, owner_node: t.sb.config.nodeId, answered_at: new Date(), ended_at: null,
      })
      .execute();
    const r = await t.sb.core.calls.end(t.orgId, id);
    expect(r.alreadyClosed).toBe(false);
    expect(r.call).toMatchObject({ status: 'failed', last_error: 'session_unreachable', end_reason: 'ended_by_api' });
  });
});

describe('production webhook targets', () => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(backend, { NODE_ENV: 'production', SHUTDOWN_GRACE_SECONDS: '1' });
  });
  afterAll(() => t.close());

  it('refuses http:// and private targets at start-call and webhook/test, naming the field', async () => {
    const headers = { authorization: `Bearer ${t.key}` };
    for (const url of ['http://example.com/hook', 'https://127.0.0.1/hook', 'https://10.0.0.7/hook', 'https://localhost/hook']) {
      const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550100', task: 'x', webhook: url } });
      expect(r.statusCode, url).toBe(400);
      expect(r.json().field).toBe('webhook');
      const w = await t.sb.app.inject({ method: 'POST', url: '/v1/webhook/test', headers, payload: { webhook_url: url } });
      expect(w.statusCode, url).toBe(400);
      expect(w.json().field).toBe('webhook_url');
    }
  });
});
