/**
 * Talking to the server. Signed in with a session (the HttpOnly `sb_session` cookie, sent by the browser
 * itself) every request that changes something carries the session's CSRF token. A server without session
 * routes (404 on POST /auth/session) is used with the key as a Bearer token, kept in memory only.
 */

export interface Me {
  user: { id: string; email: string; name: string; role: string } | null;
  org: { id: string; name: string } | null;
}

type Credentials = { csrf: string } | { key: string } | null;
let credentials: Credentials = null;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The readable message of any face's error body (`{error: "..."}`, `{error: {message}}`, 002's envelope). */
function messageOf(body: unknown, status: number): string {
  const b = body as { error?: unknown; message?: unknown; field?: unknown } | null;
  const e = b?.error;
  let m = typeof e === 'string' ? e : typeof (e as { message?: unknown })?.message === 'string' ? (e as { message: string }).message : undefined;
  if (!m && typeof b?.message === 'string') m = b.message;
  if (m && typeof b?.field === 'string' && !m.includes(b.field)) m += ` (${b.field})`;
  return m ?? `The server answered ${status}`;
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (credentials && 'key' in credentials) headers.Authorization = `Bearer ${credentials.key}`;
  else if (credentials && method !== 'GET') headers['X-CSRF-Token'] = credentials.csrf;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) throw new ApiError(res.status, messageOf(parsed, res.status));
  return parsed as T;
}

/** 002's envelope `{success, data, meta}` unwrapped; other faces' bodies as they are. */
export function unwrap<T = any>(body: any): T {
  return body && typeof body === 'object' && 'data' in body && 'success' in body ? body.data : body;
}

/** A streaming URL (EventSource cannot set headers: a key goes in the query; a session cookie is sent anyway). */
export function streamUrl(path: string): string {
  if (credentials && 'key' in credentials) return `${path}${path.includes('?') ? '&' : '?'}api_key=${encodeURIComponent(credentials.key)}`;
  return path;
}

/** Whether the server keeps sessions (management pages need one). */
export function hasSession(): boolean {
  return credentials !== null && 'csrf' in credentials;
}

/** The session this browser already has (its cookie), if any. */
export async function resume(): Promise<Me | null> {
  try {
    const me = await api<Me & { csrf_token: string }>('GET', '/auth/session');
    credentials = { csrf: me.csrf_token };
    return me;
  } catch {
    return null;
  }
}

export async function signIn(apiKey: string): Promise<Me> {
  try {
    const me = await api<Me & { csrf_token: string }>('POST', '/auth/session', { api_key: apiKey });
    credentials = { csrf: me.csrf_token };
    return me;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  // No session routes on this server: check the key on a route every key may read.
  credentials = { key: apiKey };
  try {
    await api('GET', '/api/v1/calls?limit=1');
  } catch (err) {
    credentials = null;
    throw err;
  }
  return { user: null, org: null };
}

export async function signOut(): Promise<void> {
  if (hasSession()) await api('DELETE', '/auth/session').catch(() => undefined);
  credentials = null;
}

/** Acceptance of an invitation signs the new user in (the cookie) and shows their key once. */
export async function acceptInvitation(token: string, name: string): Promise<{ me: Me; apiKey?: string }> {
  const r = await api<any>('POST', `/auth/invitations/${encodeURIComponent(token)}/accept`, { name });
  const me = (await resume()) ?? { user: r.user ?? null, org: r.org ?? null };
  return { me, apiKey: r.api_key ?? r.key ?? r.apiKey };
}
