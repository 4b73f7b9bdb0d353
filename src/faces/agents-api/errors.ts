/** The agents/tasks platform's error envelope (002): `{success: false, error, details, meta}`. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from '../shared/errors.js';

export function meta(req: FastifyRequest): { timestamp: string; request_id: string } {
  return { timestamp: new Date().toISOString(), request_id: req.id };
}

export function agentsApiErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const p = toProblem(err);
  if (p.status >= 500) req.log.error({ err }, 'request failed');
  // 002 has no 409: a call that is no longer live is a bad request here.
  if (p.code === 'SB_ERR_CALL_NOT_ACTIVE') p.status = 400;
  // 002: "503 - Service Unavailable (external service error)": a provider (carrier, model) that failed.
  if (p.code === 'SB_ERR_PROVIDER') p.status = 503;
  const details: Record<string, unknown> = { code: p.code, ...(p.details ?? {}) };
  if (p.field) details.field = p.field;
  void reply.status(p.status).send({ success: false, error: p.message, details, meta: meta(req) });
}
