/**
 * Reading an API key from a request: `Authorization: Bearer KEY` everywhere; streaming routes also take
 * `?api_key=` because browsers cannot set headers on EventSource or WebSocket.
 */
import type { FastifyRequest } from 'fastify';
import { hashKey } from '../../core/orgs.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is acting, as stored on what they do (supervisor overrides): `key:<fingerprint>` for an API key,
     * `user:<id>` for a signed-in dashboard user. Set by whichever authentication let the request in.
     */
    actor?: string;
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

/** How an API key is named on what it did: the start of its hash (never the key itself). */
export function keyActor(key: string): string {
  return `key:${hashKey(key).slice(0, 12)}`;
}

/**
 * Who gave a command (stored as `by` on supervisor overrides): the one answer for every face and every kind
 * of authentication — the actor the authentication set (a dashboard session sets `user:<id>`), else the
 * request's key.
 */
export function actorOf(req: FastifyRequest): string {
  if (req.actor) return req.actor;
  const key = requestKey(req, true);
  return key ? keyActor(key) : 'anonymous';
}
