/**
 * A fake Google on port 0 speaking the real wire of the OAuth 2.0 web-server flow and Calendar API v3
 * (../../../../shared/protocols.md §12): the consent page (approves at once, or denies, as told), the token
 * endpoint (authorization_code and refresh_token grants, form-encoded), revoke, freeBusy, and events
 * insert / patch / delete on `primary`. Access tokens expire after `accessTokenTtlSeconds` (real time) and
 * are then refused with 401, as Google does. Everything received is recorded.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface FakeGoogleOptions {
  clientId?: string;
  clientSecret?: string;
}

export interface FakeEvent {
  id: string;
  summary: string;
  description?: string;
  start: { dateTime: string; timeZone?: string };
  end: { dateTime: string; timeZone?: string };
  status: 'confirmed' | 'cancelled';
}

export interface FakeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  form?: Record<string, string>;
  json?: any;
  authorization?: string;
}

interface Grant {
  refreshToken: string;
  revoked: boolean;
  scope: string;
}

export interface FakeGoogle {
  /** Base URL: consent at /o/oauth2/v2/auth, tokens at /token and /revoke, Calendar at /calendar/v3. */
  url: string;
  /** The env that points Switchboard here. */
  env: Record<string, string>;
  received: FakeRequest[];
  /** Events in the primary calendar by id (cancelled ones stay, as Google keeps them). */
  events: Map<string, FakeEvent>;
  /** Busy intervals that are not events (other calendars' meetings): ISO instants. */
  busy: Array<{ start: string; end: string }>;
  /** Lifetime of the access tokens handed out from now on. */
  accessTokenTtlSeconds: number;
  /** The consent page denies (access_denied) instead of approving. */
  deny: boolean;
  /** Whether any grant is still live (not revoked). */
  liveGrants(): number;
  /** The user removes the app's access in their Google account: every grant is revoked. */
  revokeAll(): void;
  close(): Promise<void>;
}

const CLIENT_ID = 'switchboard-test.apps.googleusercontent.com';
const CLIENT_SECRET = 'test-client-secret';

export async function startFakeGoogle(o: FakeGoogleOptions = {}): Promise<FakeGoogle> {
  const clientId = o.clientId ?? CLIENT_ID;
  const clientSecret = o.clientSecret ?? CLIENT_SECRET;
  const received: FakeRequest[] = [];
  const codes = new Map<string, { redirectUri: string; grant: Grant }>();
  const accessTokens = new Map<string, { grant: Grant; expiresAt: number }>();
  const grantsByRefresh = new Map<string, Grant>();
  const events = new Map<string, FakeEvent>();
  const fake = {
    busy: [] as Array<{ start: string; end: string }>,
    accessTokenTtlSeconds: 3599,
    deny: false,
  };
  const token = (prefix: string) => prefix + randomBytes(18).toString('base64url');

  const issueAccess = (grant: Grant) => {
    const access = token('ya29.');
    accessTokens.set(access, { grant, expiresAt: Date.now() + fake.accessTokenTtlSeconds * 1000 });
    return { access_token: access, expires_in: fake.accessTokenTtlSeconds, scope: grant.scope, token_type: 'Bearer' };
  };

  const googleError = (res: http.ServerResponse, code: number, status: string, reason: string, message: string) =>
    send(res, code, { error: { code, message, errors: [{ domain: 'global', reason, message }], status } });

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, raw: string) => {
    const u = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(u.searchParams);
    const type = String(req.headers['content-type'] ?? '');
    const form = type.includes('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(raw)) : undefined;
    const json = type.includes('application/json') && raw ? JSON.parse(raw) : undefined;
    received.push({ method: req.method ?? 'GET', path: u.pathname, query, form, json, authorization: req.headers.authorization });

    // ---- OAuth -----------------------------------------------------------------------------------
    if (req.method === 'GET' && u.pathname === '/o/oauth2/v2/auth') {
      if (query.client_id !== clientId || query.response_type !== 'code' || !query.redirect_uri) return send(res, 400, 'invalid_request');
      const back = new URL(query.redirect_uri);
      if (query.state) back.searchParams.set('state', query.state);
      if (fake.deny) back.searchParams.set('error', 'access_denied');
      else {
        const code = token('4/0A');
        codes.set(code, { redirectUri: query.redirect_uri, grant: { refreshToken: token('1//0'), revoked: false, scope: query.scope ?? '' } });
        back.searchParams.set('code', code);
        back.searchParams.set('scope', query.scope ?? '');
      }
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (req.method === 'POST' && u.pathname === '/token') {
      const f = form ?? {};
      if (f.client_id !== clientId || f.client_secret !== clientSecret) return send(res, 401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
      if (f.grant_type === 'authorization_code') {
        const c = codes.get(f.code ?? '');
        codes.delete(f.code ?? ''); // a code is used once
        if (!c || c.redirectUri !== f.redirect_uri) return send(res, 400, { error: 'invalid_grant', error_description: 'Malformed auth code.' });
        grantsByRefresh.set(c.grant.refreshToken, c.grant);
        return send(res, 200, { ...issueAccess(c.grant), refresh_token: c.grant.refreshToken });
      }
      if (f.grant_type === 'refresh_token') {
        const g = grantsByRefresh.get(f.refresh_token ?? '');
        if (!g || g.revoked) return send(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
        return send(res, 200, issueAccess(g));
      }
      return send(res, 400, { error: 'unsupported_grant_type' });
    }
    if (req.method === 'POST' && u.pathname === '/revoke') {
      const t = form?.token ?? query.token ?? '';
      const g = grantsByRefresh.get(t) ?? accessTokens.get(t)?.grant;
      if (!g || g.revoked) return send(res, 400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
      g.revoked = true; // revoking either token ends the grant
      return send(res, 200, {});
    }

    // ---- Calendar API v3 ---------------------------------------------------------------------------
    if (u.pathname.startsWith('/calendar/v3/')) {
      const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      const at = bearer ? accessTokens.get(bearer) : undefined;
      if (!at || at.grant.revoked || at.expiresAt < Date.now()) {
        return googleError(res, 401, 'UNAUTHENTICATED', 'authError', 'Request had invalid authentication credentials.');
      }
      const path = u.pathname.slice('/calendar/v3'.length);
      if (req.method === 'POST' && path === '/freeBusy') {
        const min = Date.parse(json?.timeMin);
        const max = Date.parse(json?.timeMax);
        if (!Number.isFinite(min) || !Number.isFinite(max)) return googleError(res, 400, 'INVALID_ARGUMENT', 'badRequest', 'Bad Request');
        const calendars: Record<string, unknown> = {};
        for (const item of (json.items ?? []) as Array<{ id: string }>) {
          if (item.id !== 'primary') {
            calendars[item.id] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
            continue;
          }
          const all = [
            ...fake.busy,
            ...[...events.values()].filter((e) => e.status === 'confirmed').map((e) => ({ start: e.start.dateTime, end: e.end.dateTime })),
          ];
          const busy = all
            .map((b) => ({ start: Date.parse(b.start), end: Date.parse(b.end) }))
            .filter((b) => b.start < max && b.end > min)
            .sort((a, b) => a.start - b.start)
            .map((b) => ({ start: new Date(b.start).toISOString(), end: new Date(b.end).toISOString() }));
          calendars[item.id] = { busy };
        }
        return send(res, 200, { kind: 'calendar#freeBusy', timeMin: json.timeMin, timeMax: json.timeMax, calendars });
      }
      const m = /^\/calendars\/([^/]+)\/events(?:\/([^/]+))?$/.exec(path);
      if (!m || decodeURIComponent(m[1]) !== 'primary') return googleError(res, 404, 'NOT_FOUND', 'notFound', 'Not Found');
      const id = m[2] ? decodeURIComponent(m[2]) : undefined;
      if (req.method === 'POST' && !id) {
        if (!json?.start?.dateTime || !json?.end?.dateTime) return googleError(res, 400, 'INVALID_ARGUMENT', 'required', 'Missing time');
        const e: FakeEvent = { id: randomBytes(10).toString('hex'), summary: json.summary ?? '', description: json.description, start: json.start, end: json.end, status: 'confirmed' };
        events.set(e.id, e);
        return send(res, 200, eventResource(e));
      }
      const e = id ? events.get(id) : undefined;
      if (!e || e.status === 'cancelled') return googleError(res, e ? 410 : 404, e ? 'GONE' : 'NOT_FOUND', e ? 'deleted' : 'notFound', e ? 'Resource has been deleted' : 'Not Found');
      if (req.method === 'PATCH') {
        Object.assign(e, { ...(json?.summary !== undefined ? { summary: json.summary } : {}), ...(json?.start ? { start: json.start } : {}), ...(json?.end ? { end: json.end } : {}) });
        return send(res, 200, eventResource(e));
      }
      if (req.method === 'DELETE') {
        e.status = 'cancelled';
        res.writeHead(204).end();
        return;
      }
    }
    send(res, 404, { error: { code: 404, message: 'Not Found', status: 'NOT_FOUND' } });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch {
        send(res, 500, { error: { code: 500, message: 'Backend Error', status: 'INTERNAL' } });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, {
    url,
    env: {
      GOOGLE_CLIENT_ID: clientId,
      GOOGLE_CLIENT_SECRET: clientSecret,
      GOOGLE_OAUTH_BASE_URL: url,
      GOOGLE_TOKEN_BASE_URL: url,
      GOOGLE_CALENDAR_BASE_URL: `${url}/calendar/v3`,
    },
    received,
    events,
    liveGrants: () => [...grantsByRefresh.values()].filter((g) => !g.revoked).length,
    revokeAll: () => {
      for (const g of grantsByRefresh.values()) g.revoked = true;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

function eventResource(e: FakeEvent) {
  return {
    kind: 'calendar#event',
    id: e.id,
    status: e.status,
    htmlLink: `https://www.google.com/calendar/event?eid=${e.id}`,
    created: new Date().toISOString(),
    updated: new Date().toISOString(),
    summary: e.summary,
    ...(e.description ? { description: e.description } : {}),
    start: e.start,
    end: e.end,
    organizer: { email: 'client@example.com', self: true },
    iCalUID: `${e.id}@google.com`,
    sequence: 0,
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json; charset=UTF-8' }).end(text);
}
