/**
 * Truedy's error envelope (003): `{error: {code, message, details}, meta: {request_id}}`. Every validation
 * failure — schema, framework (malformed JSON, wrong content type) or core — is 422 `validation_error`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from '../shared/errors.js';

export function meta(req: FastifyRequest): { request_id: string } {
  return { request_id: req.id };
}

const CODES: Record<string, { status: number; code: string }> = {
  SB_ERR_VALIDATION: { status: 422, code: 'validation_error' },
  SB_ERR_IDEMPOTENCY_MISMATCH: { status: 422, code: 'validation_error' },
  SB_ERR_FROM_NOT_VERIFIED: { status: 422, code: 'validation_error' },
  SB_ERR_UNAUTHENTICATED: { status: 401, code: 'unauthorized' },
  SB_ERR_NOT_FOUND: { status: 404, code: 'not_found' },
  SB_ERR_INSUFFICIENT_CREDITS: { status: 402, code: 'payment_required' },
  SB_ERR_SUBSCRIPTION_INACTIVE: { status: 402, code: 'payment_required' },
  SB_ERR_RATE_LIMITED: { status: 429, code: 'rate_limited' },
  SB_ERR_CALL_ACTIVE: { status: 409, code: 'call_active' },
  SB_ERR_CALL_NOT_ACTIVE: { status: 409, code: 'call_not_active' },
  SB_ERR_SHUTTING_DOWN: { status: 503, code: 'service_unavailable' },
  SB_ERR_UNAVAILABLE: { status: 503, code: 'service_unavailable' },
  SB_ERR_PROVIDER: { status: 502, code: 'provider_error' },
  SB_ERR_FORBIDDEN: { status: 403, code: 'forbidden' },
  SB_ERR_CSRF: { status: 403, code: 'forbidden' },
};

export function truedyError(req: FastifyRequest, status: number, code: string, message: string, details: Record<string, unknown> = {}) {
  return { status, body: { error: { code, message, details }, meta: meta(req) } };
}

export function truedyErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const p = toProblem(err);
  if (p.status >= 500 && p.code !== 'SB_ERR_PROVIDER') req.log.error({ err }, 'request failed');
  let m = CODES[p.code] ?? { status: 500, code: 'internal_error' };
  if (p.code === 'SB_ERR_VALIDATION' && p.status === 413) m = { status: 413, code: 'payload_too_large' };
  const details: Record<string, unknown> = { ...(p.details ?? {}) };
  if (p.field) details.field = p.field;
  delete details.resource;
  // A validation message always names its field (core messages such as the simulated network's may not).
  const last = p.field?.split('.').pop();
  const message = m.code === 'validation_error' && p.field && last && !p.message.includes(last) ? `${p.field}: ${p.message}` : p.message;
  const r = truedyError(req, m.status, m.code, message, details);
  void reply.status(r.status).send(r.body);
}
