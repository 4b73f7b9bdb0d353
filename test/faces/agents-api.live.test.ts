/** The live transcript WebSocket (/ws/calls/:id), rate-limit headers and 429 on /api/v1. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

for (const backend of BACKENDS) {
  describe(`agents/tasks API: live transcript socket [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let base: string;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
      const url = await t.sb.app.listen({ port: 0, host: '127.0.0.1' });
      base = url.replace(/^http/, 'ws');
    });
    afterAll(() => t.close());

    const api = (method: string, url: string, payload?: unknown) =>
      t.sb.app.inject({ method: method as any, url: '/api/v1' + url, headers: { authorization: `Bearer ${t.key}` }, payload: payload as any });

    async function startCall() {
      const agent = (await api('POST', '/agents', { name: 'A', system_prompt: 'Be kind.', language: 'en' })).json().data;
      const task = (await api('POST', '/tasks', { agent_id: agent.id, name: 'Confirm my booking', to_number: '+15550100' })).json().data;
      return (await api('POST', `/tasks/${task.id}/execute`)).json().data.call_id as string;
    }

    function collect(url: string) {
      const ws = new WebSocket(url);
      const messages: any[] = [];
      const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
      const status = new Promise<number>((r) => {
        ws.on('unexpected-response', (_req, res) => r(res.statusCode ?? 0));
        ws.on('open', () => r(101)); // upgraded
      });
      ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
      return { ws, messages, closed, status };
    }

    it('with api_key: connected, transcript_update, call_status_update, then close', async () => {
      const callId = await startCall();
      const c = collect(`${base}/ws/calls/${callId}?api_key=${t.key}`);
      await c.closed;
      expect(c.messages[0]).toMatchObject({ type: 'connected', data: { call_id: callId } });
      const updates = c.messages.filter((m) => m.type === 'transcript_update');
      expect(updates.length).toBeGreaterThan(1);
      expect(updates[0].data.transcript[0]).toMatchObject({ role: expect.any(String), text: expect.any(String) });
      const seqs = updates.map((u) => u.data.seq);
      expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
      const last = c.messages.at(-1);
      expect(last).toMatchObject({ type: 'call_status_update', data: { status: 'completed' } });
    });

    it('with the session_token from /live, and ping → pong', async () => {
      const callId = await startCall();
      const token = (await api('GET', `/calls/${callId}/live`)).json().data.temp_token;
      const c = collect(`${base}/ws/calls/${callId}?session_token=${encodeURIComponent(token)}`);
      await until(async () => c.messages.some((m) => m.type === 'connected'), 5000, 'connected');
      c.ws.send(JSON.stringify({ type: 'ping' }));
      await until(async () => c.messages.some((m) => m.type === 'pong'), 5000, 'pong');
      c.ws.send('not json');
      await until(async () => c.messages.some((m) => m.type === 'error' && m.error), 5000, 'error message');
      c.ws.close();
    });

    it('a token issued under a key that has since been revoked → 401 (the key\'s tokens die with it)', async () => {
      const callId = await startCall();
      const key = await t.sb.core.orgs.createKey(t.orgId, 'live viewer');
      const token = (await t.sb.app.inject({ method: 'GET', url: `/api/v1/calls/${callId}/live`, headers: { authorization: `Bearer ${key}` } })).json().data.temp_token;
      const keyId = (await t.sb.core.orgs.keyRecord(key))!.id;
      await t.sb.core.orgs.revokeKeyById(t.orgId, keyId);
      expect(await collect(`${base}/ws/calls/${callId}?session_token=${encodeURIComponent(token)}`).status).toBe(401);
    });

    it('a bad token, a token for another call, or no credentials → 401 before the upgrade', async () => {
      const callId = await startCall();
      const other = await startCall();
      const token = (await api('GET', `/calls/${other}/live`)).json().data.temp_token;
      for (const q of ['session_token=forged.token', `session_token=${encodeURIComponent(token)}`, 'api_key=va_wrong', '']) {
        const c = collect(`${base}/ws/calls/${callId}?${q}`);
        expect(await c.status).toBe(401);
      }
      const unknown = collect(`${base}/ws/calls/00000000-0000-4000-8000-000000000000?api_key=${t.key}`);
      expect(await unknown.status).toBe(404);
    });
  });

  describe(`agents/tasks API: rate limits [${backend.name}]`, () => {
    let t: TestSwitchboard;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', RATE_LIMIT_PER_MINUTE: '5' });
    });
    afterAll(() => t.close());

    it('X-RateLimit-Limit/Remaining/Reset (Unix seconds) on every response, 429 in the envelope past the limit', async () => {
      const headers = { authorization: `Bearer ${t.key}` };
      const now = Math.floor(Date.now() / 1000);
      const first = await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers });
      // Bounded by the clock after the answer too: on a loaded machine the request itself may take seconds.
      const after = Math.ceil(Date.now() / 1000);
      expect(first.headers['x-ratelimit-limit']).toBe('5');
      expect(first.headers['x-ratelimit-remaining']).toBe('4');
      const reset = Number(first.headers['x-ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(now);
      expect(reset).toBeLessThanOrEqual(after + 61);
      const notFound = await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents/x', headers });
      expect(notFound.statusCode).toBe(404);
      expect(notFound.headers['x-ratelimit-remaining']).toBe('3');
      for (let i = 0; i < 3; i++) await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers });
      const over = await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers });
      expect(over.statusCode).toBe(429);
      expect(over.json()).toMatchObject({ success: false, error: 'Too Many Requests', meta: { request_id: expect.any(String) } });
      expect(over.headers['x-ratelimit-remaining']).toBe('0');
      // Another key has its own window.
      const other = await t.sb.core.orgs.createKey(t.orgId);
      expect((await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers: { authorization: `Bearer ${other}` } })).statusCode).toBe(200);
    });
  });
}
