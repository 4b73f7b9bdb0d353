/**
 * Dashboard sign-in (docs/dashboard.md "Sessions and sign-in"): an API key is exchanged for the sb_session
 * cookie, which then authenticates every face; changes under the cookie need the CSRF token; the session
 * ends at sign-out, at its expiry, and when its key is revoked. Commands given under it are the user's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BACKENDS } from '../helpers/backends.js';
import { advanceUntil, startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';

interface Signed {
  cookie: string;
  csrf: string;
  body: any;
  setCookie: string;
}

for (const backend of BACKENDS) {
  describe(`dashboard sessions [${backend.name}]`, { timeout: 120_000 }, () => {
    let t: TestSwitchboard;
    beforeAll(async () => {
      t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1' });
    }, 240_000);
    afterAll(() => t?.close(), 120_000);

    const signIn = async (apiKey = t.key, headers: Record<string, string> = {}): Promise<Signed> => {
      const r = await t.sb.app.inject({ method: 'POST', url: '/auth/session', payload: { api_key: apiKey }, headers });
      expect(r.statusCode, r.body).toBe(200);
      const setCookie = String(r.headers['set-cookie']);
      const cookie = /sb_session=([^;]+)/.exec(setCookie)![1];
      return { cookie, csrf: r.json().csrf_token, body: r.json(), setCookie };
    };
    const withCookie = (s: Signed, extra: Record<string, string> = {}) => ({ cookie: `sb_session=${s.cookie}`, ...extra });

    it('sign-in sets an HttpOnly, SameSite=Strict cookie for the key’s owner and returns the CSRF token', async () => {
      const s = await signIn();
      expect(s.setCookie).toMatch(/HttpOnly/i);
      expect(s.setCookie).toMatch(/SameSite=Strict/i);
      expect(s.setCookie).toMatch(/Path=\//);
      expect(s.setCookie).not.toMatch(/Secure/i);
      expect(s.body.org).toEqual({ id: t.orgId, name: 'acme' });
      expect(s.body.user).toMatchObject({ role: 'owner' });
      expect(s.csrf.length).toBeGreaterThan(20);
      // The same key signs in as the same user again.
      const again = await signIn();
      expect(again.body.user.id).toBe(s.body.user.id);
      expect(again.cookie).not.toBe(s.cookie);
      // GET /auth/session answers the same, without a new cookie.
      const me = await t.sb.app.inject({ method: 'GET', url: '/auth/session', headers: withCookie(s) });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toEqual(s.body);
      expect(me.headers['set-cookie']).toBeUndefined();
    });

    it('a bad key is 401 in the sign-in error shape, and sets no cookie', async () => {
      for (const api_key of ['sk_nope', 'not a key']) {
        const r = await t.sb.app.inject({ method: 'POST', url: '/auth/session', payload: { api_key } });
        expect(r.statusCode).toBe(401);
        expect(r.json()).toEqual({ error: { code: 'unauthorized', message: 'Invalid API key', details: {} } });
        expect(r.headers['set-cookie']).toBeUndefined();
      }
      const missing = await t.sb.app.inject({ method: 'POST', url: '/auth/session', payload: {} });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error).toMatchObject({ code: 'validation_error', details: { field: 'api_key' } });
      const none = await t.sb.app.inject({ method: 'GET', url: '/auth/session' });
      expect(none.statusCode).toBe(401);
      const forged = await t.sb.app.inject({ method: 'GET', url: '/auth/session', headers: { cookie: 'sb_session=forged' } });
      expect(forged.statusCode).toBe(401);
    });

    it('the cookie authenticates every face', async () => {
      const s = await signIn();
      const cmc = await t.sb.app.inject({ method: 'GET', url: '/v1/calls/CAnothing', headers: withCookie(s) });
      expect(cmc.statusCode).toBe(404);
      const agents = await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers: withCookie(s) });
      expect(agents.statusCode).toBe(200);
      const truedy = await t.sb.app.inject({ method: 'GET', url: '/api/public/v1/calls', headers: withCookie(s) });
      expect(truedy.statusCode).toBe(200);
      // Without it: 401 on each.
      for (const url of ['/v1/calls/CAnothing', '/api/v1/agents', '/api/public/v1/calls']) {
        expect((await t.sb.app.inject({ method: 'GET', url })).statusCode).toBe(401);
      }
    });

    it('the cookie authenticates the streaming routes: SSE and the live WebSocket', async () => {
      const s = await signIn();
      const start = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: { authorization: `Bearer ${t.key}` }, payload: { phone_number: '+15550102', task: 'Confirm my booking' } });
      const sid = start.json().sid;
      const call = await advanceUntil(t.clock, async () => {
        const c = await t.sb.core.calls.find(t.orgId, sid);
        return c.ended_at ? c : null;
      }, 500, 60_000);
      const base = await t.sb.app.listen({ port: 0, host: '127.0.0.1' });
      const sse = await fetch(`${base}/v1/calls/${sid}/transcripts/stream`, { headers: { cookie: `sb_session=${s.cookie}` } });
      expect(sse.status).toBe(200);
      expect(await sse.text()).toMatch(/event: ended/);
      expect((await fetch(`${base}/v1/calls/${sid}/transcripts/stream`)).status).toBe(401);

      const first = await new Promise<any>((resolve, reject) => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/calls/${call.id}`, { headers: { cookie: `sb_session=${s.cookie}` } });
        ws.on('message', (m) => (resolve(JSON.parse(m.toString())), ws.close()));
        ws.on('error', reject);
      });
      expect(first).toMatchObject({ type: 'connected', call_id: call.id });
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/calls/${call.id}`);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => resolve(-1));
      });
      expect(refused).toBe(401);
    });

    it('a change under the cookie needs X-CSRF-Token; a Bearer key needs none', async () => {
      const s = await signIn();
      const body = { name: 'Front desk', system_prompt: 'You answer the phone.' };
      const refused = await t.sb.app.inject({ method: 'POST', url: '/api/v1/agents', headers: withCookie(s), payload: body });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ success: false, details: { code: 'SB_ERR_CSRF' } });
      const wrong = await t.sb.app.inject({ method: 'POST', url: '/api/v1/agents', headers: withCookie(s, { 'x-csrf-token': 'guess' }), payload: body });
      expect(wrong.statusCode).toBe(403);
      // Another session's token is not this one's.
      const other = await signIn();
      const crossed = await t.sb.app.inject({ method: 'POST', url: '/api/v1/agents', headers: withCookie(s, { 'x-csrf-token': other.csrf }), payload: body });
      expect(crossed.statusCode).toBe(403);
      const cmc = await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers: withCookie(s), payload: { callSid: 'CAnothing' } });
      expect(cmc.statusCode).toBe(403);
      // Nothing was made by the refused requests.
      const list = await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers: withCookie(s) });
      expect(list.json().data).toEqual([]);
      const made = await t.sb.app.inject({ method: 'POST', url: '/api/v1/agents', headers: withCookie(s, { 'x-csrf-token': s.csrf }), payload: body });
      expect(made.statusCode, made.body).toBe(201);
      const byKey = await t.sb.app.inject({ method: 'POST', url: '/api/v1/agents', headers: { authorization: `Bearer ${t.key}` }, payload: { ...body, name: 'By key' } });
      expect(byKey.statusCode).toBe(201);
    });

    it('sign-out ends the session and clears the cookie', async () => {
      const s = await signIn();
      const noToken = await t.sb.app.inject({ method: 'DELETE', url: '/auth/session', headers: withCookie(s) });
      expect(noToken.statusCode).toBe(403);
      const out = await t.sb.app.inject({ method: 'DELETE', url: '/auth/session', headers: withCookie(s, { 'x-csrf-token': s.csrf }) });
      expect(out.statusCode).toBe(204);
      expect(String(out.headers['set-cookie'])).toMatch(/sb_session=;.*Expires=Thu, 01 Jan 1970/i);
      expect((await t.sb.app.inject({ method: 'GET', url: '/auth/session', headers: withCookie(s) })).statusCode).toBe(401);
      expect((await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers: withCookie(s) })).statusCode).toBe(401);
    });

    it('revoking the key ends every session signed in with it', async () => {
      const key = await t.sb.core.orgs.createKey(t.orgId, 'to revoke');
      const s = await signIn(key);
      const other = await signIn();
      expect((await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers: withCookie(s) })).statusCode).toBe(200);
      await t.sb.core.orgs.revokeKey(t.orgId, key);
      expect((await t.sb.app.inject({ method: 'GET', url: '/auth/session', headers: withCookie(s) })).statusCode).toBe(401);
      expect((await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers: withCookie(s) })).statusCode).toBe(401);
      // Sessions of other keys go on.
      expect((await t.sb.app.inject({ method: 'GET', url: '/auth/session', headers: withCookie(other) })).statusCode).toBe(200);
    });

    it('a supervisor line sent under a session is recorded as the user’s; under a key, as the key’s fingerprint', async () => {
      const s = await signIn();
      const start = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers: { authorization: `Bearer ${t.key}` }, payload: { phone_number: '+15550100', task: 'Confirm my booking' } });
      expect(start.statusCode, start.body).toBe(200);
      const sid = start.json().sid;
      await advanceUntil(t.clock, async () => (await t.sb.core.calls.find(t.orgId, sid)).status === 'in_progress', 200, 30_000);
      const byUser = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/say`, headers: withCookie(s, { 'x-csrf-token': s.csrf }), payload: { text: 'One moment please.' } });
      expect(byUser.statusCode, byUser.body).toBe(200);
      const byKey = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/press`, headers: { authorization: `Bearer ${t.key}` }, payload: { digits: '1' } });
      expect(byKey.statusCode, byKey.body).toBe(200);
      const call = await t.sb.core.calls.find(t.orgId, sid);
      // The session stores each command as it carries it out.
      const bys = await advanceUntil(
        t.clock,
        async () => {
          const events = await t.sb.store.db.selectFrom('call_events').select(['data']).where('call_id', '=', call.id).where('kind', '=', 'override').orderBy('seq').execute();
          const found = events.map((e) => (e.data as any)?.by).filter(Boolean) as string[];
          return found.length >= 2 ? found : null;
        },
        200,
        30_000,
      );
      expect(bys).toContain(`user:${s.body.user.id}`);
      expect(bys.some((b: string) => /^key:[0-9a-f]{12}$/.test(b))).toBe(true);
      await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers: { authorization: `Bearer ${t.key}` }, payload: { callSid: sid } });
    });
  });
}

describe('dashboard session expiry', { timeout: 120_000 }, () => {
  const backend = BACKENDS[0];
  let t: TestSwitchboard;
  beforeAll(async () => {
    // 0.001 h = 3.6 s.
    t = await startSwitchboard(backend, { SHUTDOWN_GRACE_SECONDS: '1', SESSION_TTL_HOURS: '0.001' });
  }, 240_000);
  afterAll(() => t?.close(), 120_000);

  it('a session ends at its expiry', async () => {
    const r = await t.sb.app.inject({ method: 'POST', url: '/auth/session', payload: { api_key: t.key } });
    const cookie = /sb_session=([^;]+)/.exec(String(r.headers['set-cookie']))![1];
    expect(new Date(r.json().expires_at).getTime() - Date.now()).toBeLessThanOrEqual(3600);
    expect(String(r.headers['set-cookie'])).toMatch(/Expires=/);
    await until(async () => (await t.sb.app.inject({ method: 'GET', url: '/auth/session', headers: { cookie: `sb_session=${cookie}` } })).statusCode === 401, 30_000, 'session expired');
    expect((await t.sb.app.inject({ method: 'GET', url: '/api/v1/agents', headers: { cookie: `sb_session=${cookie}` } })).statusCode).toBe(401);
  });
});

describe('dashboard session cookie over https', { timeout: 120_000 }, () => {
  let t: TestSwitchboard;
  beforeAll(async () => {
    // In production the server trusts its proxy's X-Forwarded-Proto (TLS ends at the proxy).
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1', NODE_ENV: 'production' });
  }, 240_000);
  afterAll(() => t?.close(), 120_000);

  it('is Secure when the request came over https, and not over plain http', async () => {
    const https = await t.sb.app.inject({ method: 'POST', url: '/auth/session', payload: { api_key: t.key }, headers: { 'x-forwarded-proto': 'https' } });
    expect(https.statusCode, https.body).toBe(200);
    expect(String(https.headers['set-cookie'])).toMatch(/; Secure/i);
    const http = await t.sb.app.inject({ method: 'POST', url: '/auth/session', payload: { api_key: t.key } });
    expect(String(http.headers['set-cookie'])).not.toMatch(/Secure/i);
  });
});
