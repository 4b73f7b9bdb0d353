/**
 * The dashboard's sign-in routes (`/auth`) answer errors as `{error: {code, message, details}}`
 * (docs/dashboard.md): the page reads `code`, a person reads `message`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { toProblem } from '../shared/errors.js';

export const AuthErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }),
});

const CODES: Record<string, string> = {
  SB_ERR_VALIDATION: 'validation_error',
  SB_ERR_UNAUTHENTICATED: 'unauthorized',
  SB_ERR_NOT_FOUND: 'not_found',
  SB_ERR_FORBIDDEN: 'forbidden',
  SB_ERR_CSRF: 'csrf_failed',
  SB_ERR_INVITATION_USED: 'invitation_used',
  SB_ERR_INVITATION_EXPIRED: 'invitation_expired',
  SB_ERR_RATE_LIMITED: 'rate_limited',
  SB_ERR_UNAVAILABLE: 'service_unavailable',
};

export function dashboardAuthErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const p = toProblem(err);
  if (p.status >= 500) req.log.error({ err }, 'request failed');
  const details: Record<string, unknown> = {};
  if (p.field) details.field = p.field;
  void reply.status(p.status).send({ error: { code: CODES[p.code] ?? 'internal_error', message: p.message, details } });
}
