/**
 * Reading an API key from a request: `Authorization: Bearer KEY` everywhere; streaming routes also take
 * `?api_key=` because browsers cannot set headers on EventSource or WebSocket.
 */
import type { FastifyRequest } from 'fastify';

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
