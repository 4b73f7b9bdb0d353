/** CallMyCall's error bodies (001's table): `{ "error": "…" }` plus the fields 001 shows for some errors. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from '../shared/errors.js';

export function callMyCallErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const p = toProblem(err);
  if (p.status >= 500) req.log.error({ err }, 'request failed');
  const body: Record<string, unknown> = { error: p.message };
  if (p.field) body.field = p.field;
  if (p.code === 'SB_ERR_INSUFFICIENT_CREDITS') {
    body.credits_balance = p.details?.credits_balance;
    body.minimum_required = p.details?.minimum_required;
  }
  void reply.status(p.status).send(body);
}
