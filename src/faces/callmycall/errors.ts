/** CallMyCall's error bodies (001's table): `{ "error": "…" }` plus the fields 001 shows for some errors. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from '../shared/errors.js';

export function callMyCallErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const p = toProblem(err);
  if (p.status >= 500) req.log.error({ err }, 'request failed');
  // 001: a closed resource is "not found" (404); a missing pending question is a bad request (400).
  if (p.code === 'SB_ERR_CALL_NOT_ACTIVE') {
    if (p.details?.reason === 'no_pending_question') p.status = 400;
    else if (p.details?.status && p.details.status !== 'queued' && p.details.status !== 'ringing') p.status = 404;
  }
  const body: Record<string, unknown> = { error: p.message };
  if (p.field) body.field = p.field;
  if (p.code === 'SB_ERR_INSUFFICIENT_CREDITS') {
    body.credits_balance = p.details?.credits_balance;
    body.minimum_required = p.details?.minimum_required;
  }
  void reply.status(p.status).send(body);
}
