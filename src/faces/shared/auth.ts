/**
 * Who a request is: an API key (`Authorization: Bearer KEY` everywhere; streaming routes also take
 * `?api_key=` because browsers cannot set headers on EventSource or WebSocket), or the dashboard's session
 * cookie (`sb_session`, docs/dashboard.md) on every face. `actorOf` turns either into the `by` string
 * that supervisor commands are stored with.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Core, SessionAuth } from '../../core/index.js';
import { hashKey } from '../../core/orgs.js';

/** The dashboard session cookie's name. */
export const SESSION_COOKIE = 'sb_session';
/** The header a cookie-authenticated change must carry, equal to the session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';

/** How a request was authenticated (set by `keyAuth` and `sessionOf`). */
export type RequestAuth = { kind: 'key'; fingerprint: string } | { kind: 'session'; session: SessionAuth };

declare module 'fastify' {
  interface FastifyRequest {
    /** How the request was authenticated; set with `org`. */
    auth?: RequestAuth;
  }
}

export function bearerKey(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

export function queryKey(req: FastifyRequest): string | undefined {
  const q = req.query as Record<string, unknown> | undefined;
  const v = q?.api_key;
  return typeof v === 'string' && v ? v : undefined;
}

/** The key of a request; `allowQuery` for streaming routes. */
export function requestKey(req: FastifyRequest, allowQuery: boolean): string | undefined {
  return bearerKey(req) ?? (allowQuery ? queryKey(req) : undefined);
}

/** A key's fingerprint: enough to tell keys apart in events and logs, nothing to authenticate with. */
export function keyFingerprint(key: string): string {
  return hashKey(key).slice(0, 12);
}

/** The session cookie's token, if the request has one. */
export function sessionCookie(req: FastifyRequest): string | undefined {
  const v = (req as FastifyRequest & { cookies?: Record<string, string | undefined> }).cookies?.[SESSION_COOKIE];
  return typeof v === 'string' && v ? v : undefined;
}

/** The live dashboard session of a request's cookie, or null. */
export async function sessionOf(core: Core, req: FastifyRequest): Promise<SessionAuth | null> {
  const cookie = sessionCookie(req);
  return cookie ? core.sessions.find(cookie) : null;
}

/** Whether the request carries the session's CSRF token (compared in constant time). */
export function hasCsrfToken(req: FastifyRequest, session: SessionAuth): boolean {
  const given = req.headers[CSRF_HEADER];
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a method changes something (and so needs the CSRF token under a cookie). */
export function isUnsafeMethod(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

/** How an API key is named on what it did: the start of its hash (never the key itself). */
export function keyActor(key: string): string {
  return `key:${keyFingerprint(key)}`;
}

/**
 * Who gave a command, as stored in its event's `by` (supervisor overrides), the one answer for every face:
 * `user:<user id>` under a dashboard session, `key:<fingerprint>` under an API key (never the key itself),
 * `anonymous` on Phony's keyless development mode.
 *
 * @example core.calls.transfer(req.org.id, sid, to, warm, reason, actorOf(req))
 */
export function actorOf(req: FastifyRequest): string {
  const a = req.auth;
  if (a?.kind === 'session') return `user:${a.session.user.id}`;
  if (a?.kind === 'key') return `key:${a.fingerprint}`;
  // A route that authenticated by itself (no `keyAuth`): its key, by header or query.
  const key = requestKey(req, true);
  return key ? keyActor(key) : 'anonymous';
}
