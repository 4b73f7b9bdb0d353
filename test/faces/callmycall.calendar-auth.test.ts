/**
 * 001's Google Calendar routes against the fake Google: authorise (JSON and redirect), the callback (state
 * single use and checked), status, refresh of an expiring access token, revoke; tokens sealed at rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startFakeGoogle, type FakeGoogle } from '../fakes/google/fake-google.js';

/** Opens the consent link at the fake Google (which approves or denies) and returns where it sends the browser back. */
async function consent(authUrl: string): Promise<URL> {
  const r = await fetch(authUrl, { redirect: 'manual' });
  expect(r.status).toBe(302);
  return new URL(r.headers.get('location')!);
}

for (const backend of BACKENDS) {
  describe(`Google Calendar authorization [${backend.name}]`, () => {
    let t: TestSwitchboard;
    let google: FakeGoogle;
    let auth: Record<string, string>;

    beforeAll(async () => {
      google = await startFakeGoogle();
      t = await startSwitchboard(backend, { ...google.env, PUBLIC_URL: 'https://switchboard.example' });
      auth = { authorization: `Bearer ${t.key}` };
    });
    afterAll(async () => {
      await t.close();
      await google.close();
    });

    const get = (url: string, headers = auth) => t.sb.app.inject({ method: 'GET', url, headers });
    /** The callback as the browser opens it (path and query of Google's redirect). */
    const callback = (back: URL) => get(back.pathname + back.search, {});

    it('refuses without a key, in 001 words', async () => {
      const r = await get('/auth/google/calendar?format=json', {});
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual({ error: 'Failed to initiate calendar authorization', details: 'API key required for calendar authorization' });
      expect((await get('/calendar/status', {})).json().error).toBe('Failed to check calendar authorization status');
    });

    it('is not authorized before consent', async () => {
      const r = await get('/calendar/status');
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ authorized: false, provider: null, scopes: [], expires_at: null });
    });

    it('authorises through consent, stores the tokens sealed, and reports the status', async () => {
      const r = await get('/auth/google/calendar?format=json');
      expect(r.statusCode).toBe(200);
      const { success, auth_url, state } = r.json();
      expect(success).toBe(true);
      const u = new URL(auth_url);
      expect(u.origin + u.pathname).toBe(`${google.url}/o/oauth2/v2/auth`);
      expect(Object.fromEntries(u.searchParams)).toMatchObject({
        client_id: google.env.GOOGLE_CLIENT_ID,
        redirect_uri: 'https://switchboard.example/auth/google/callback',
        response_type: 'code',
        access_type: 'offline',
        prompt: 'consent',
        scope: 'https://www.googleapis.com/auth/calendar',
        state,
      });

      const back = await consent(auth_url);
      expect(back.pathname).toBe('/auth/google/callback');
      const page = await callback(back);
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.body).toContain('Calendar Authorization Successful');
      // The code went to Google's token endpoint with the client's secret and the same redirect URI.
      const exchange = google.received.find((q) => q.path === '/token' && q.form?.grant_type === 'authorization_code');
      expect(exchange?.form).toMatchObject({ client_secret: google.env.GOOGLE_CLIENT_SECRET, redirect_uri: 'https://switchboard.example/auth/google/callback' });

      const status = (await get('/calendar/status')).json();
      expect(status.authorized).toBe(true);
      expect(status.scopes).toEqual(['https://www.googleapis.com/auth/calendar']);
      expect(Date.parse(status.expires_at)).toBeGreaterThan(Date.now() + 50 * 60_000);

      // At rest the tokens are sealed: neither token appears in the row.
      const row = await t.sb.store.db.selectFrom('calendar_grants').selectAll().executeTakeFirstOrThrow();
      expect(row.sealed_tokens).toMatch(/^v1\./);
      expect(row.sealed_tokens).not.toMatch(/ya29\.|1\/\/0/);

      // The state was used: the same callback again is refused.
      const again = await callback(back);
      expect(again.statusCode).toBe(400);
      expect(again.json()).toEqual({ error: 'Invalid or expired authorization request' });
    });

    it('without format=json redirects to the consent page; api_key in the query is accepted', async () => {
      const r = await get(`/auth/google/calendar?api_key=${t.key}`, {});
      expect(r.statusCode).toBe(302);
      expect(r.headers.location).toMatch(new RegExp(`^${google.url}/o/oauth2/v2/auth\\?`));
    });

    it('refuses an unknown state, and a denied consent', async () => {
      const forged = await get('/auth/google/callback?code=4/0Aforged&state=not-a-state', {});
      expect(forged.statusCode).toBe(400);
      expect(forged.json()).toEqual({ error: 'Invalid or expired authorization request' });

      google.deny = true;
      try {
        const { auth_url } = (await get('/auth/google/calendar?format=json')).json();
        const back = await consent(auth_url);
        expect(back.searchParams.get('error')).toBe('access_denied');
        const r = await callback(back);
        expect(r.statusCode).toBe(400);
        expect(r.json().error).toMatch(/not granted/);
      } finally {
        google.deny = false;
      }
      // The earlier grant is untouched by the denied attempt.
      expect((await get('/calendar/status')).json().authorized).toBe(true);
    });

    it('refreshes an access token before it expires, and seals the new one', async () => {
      const before = await t.sb.store.db.selectFrom('calendar_grants').selectAll().executeTakeFirstOrThrow();
      // Tokens now live one minute: inside the five-minute margin, so the next use refreshes first.
      google.accessTokenTtlSeconds = 60;
      const { auth_url } = (await get('/auth/google/calendar?format=json')).json();
      await callback(await consent(auth_url));
      google.accessTokenTtlSeconds = 3599;
      const refreshesBefore = google.received.filter((q) => q.form?.grant_type === 'refresh_token').length;
      const status = (await get('/calendar/status')).json();
      expect(status.authorized).toBe(true);
      expect(google.received.filter((q) => q.form?.grant_type === 'refresh_token').length).toBe(refreshesBefore + 1);
      expect(Date.parse(status.expires_at)).toBeGreaterThan(Date.now() + 50 * 60_000);
      const after = await t.sb.store.db.selectFrom('calendar_grants').selectAll().executeTakeFirstOrThrow();
      expect(after.sealed_tokens).not.toBe(before.sealed_tokens);
      // One grant per key: the second consent replaced the first.
      expect(await t.sb.store.db.selectFrom('calendar_grants').select('key_id').execute()).toHaveLength(1);
    });

    it('an expired access token is refreshed when the calendar is used', async () => {
      google.accessTokenTtlSeconds = 1;
      const { auth_url } = (await get('/auth/google/calendar?format=json')).json();
      await callback(await consent(auth_url));
      google.accessTokenTtlSeconds = 3599;
      // Wait until the fake would refuse the access token it handed out.
      await until(async () => {
        const row = await t.sb.store.db.selectFrom('calendar_grants').select('access_expires_at').executeTakeFirstOrThrow();
        return row.access_expires_at!.getTime() < Date.now() - 200;
      }, 10_000, 'token expiry');
      const keyId = (await t.sb.store.db.selectFrom('calendar_grants').select('key_id').executeTakeFirstOrThrow()).key_id;
      const calendar = await t.sb.core.calendar.open(keyId);
      const now = Date.now();
      const busy = await calendar!.busy(now, now + 3600_000, 'UTC');
      expect(busy).toEqual([]);
      const fb = google.received.filter((q) => q.path === '/calendar/v3/freeBusy').at(-1)!;
      expect(fb.authorization).toMatch(/^Bearer ya29\./);
      expect(google.received.some((q) => q.form?.grant_type === 'refresh_token')).toBe(true);
    });

    it('forgets a grant the user removed in their Google account, once its token needs refreshing', async () => {
      google.accessTokenTtlSeconds = 60; // inside the refresh margin: the next status refreshes
      const { auth_url } = (await get('/auth/google/calendar?format=json')).json();
      await callback(await consent(auth_url));
      google.accessTokenTtlSeconds = 3599;
      google.revokeAll();
      expect((await get('/calendar/status')).json()).toEqual({ authorized: false, provider: null, scopes: [], expires_at: null });
      expect(await t.sb.store.db.selectFrom('calendar_grants').select('key_id').execute()).toHaveLength(0);
      // Connect again for the revoke test below.
      const again = (await get('/auth/google/calendar?format=json')).json();
      await callback(await consent(again.auth_url));
      expect((await get('/calendar/status')).json().authorized).toBe(true);
    });

    it('revokes the grant at Google and forgets it', async () => {
      expect(google.liveGrants()).toBeGreaterThan(0);
      const live = google.liveGrants();
      const r = await t.sb.app.inject({ method: 'POST', url: '/auth/google/revoke', headers: auth });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ success: true, message: 'Calendar authorization revoked successfully' });
      expect(google.liveGrants()).toBe(live - 1);
      expect((await get('/calendar/status')).json()).toEqual({ authorized: false, provider: null, scopes: [], expires_at: null });
      const again = await t.sb.app.inject({ method: 'POST', url: '/auth/google/revoke', headers: auth });
      expect(again.statusCode).toBe(404);
      expect(again.json().error).toBe('Failed to revoke calendar authorization');
    });
  });
}

describe('Google Calendar not configured', () => {
  it('answers 404 saying so, and status says not authorized', async () => {
    const t = await startSwitchboard(BACKENDS[0]);
    try {
      const headers = { authorization: `Bearer ${t.key}` };
      const r = await t.sb.app.inject({ method: 'GET', url: '/auth/google/calendar?format=json', headers });
      expect(r.statusCode).toBe(404);
      expect(r.json()).toEqual({ error: 'Failed to initiate calendar authorization', details: 'Google Calendar is not configured on this server' });
      expect((await t.sb.app.inject({ method: 'GET', url: '/calendar/status', headers })).json().authorized).toBe(false);
    } finally {
      await t.close();
    }
  });
});
