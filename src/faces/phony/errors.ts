/**
 * Phony's error body (004 "Error Responses"), word for word: `{error: {code, message, details}}` with 004's
 * codes (`CALL_NOT_FOUND`, `INVALID_REQUEST`, `TWILIO_ERROR`, `INTERNAL_ERROR`) and, where 004 has none,
 * codes in its style (`UNAUTHORIZED`, `RATE_LIMITED`, `PAYMENT_REQUIRED`, `SERVICE_UNAVAILABLE`).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from '../shared/errors.js';

const CODES: Record<string, { status: number; code: string }> = {
  SB_ERR_VALIDATION: { status: 400, code: 'INVALID_REQUEST' },
  SB_ERR_IDEMPOTENCY_MISMATCH: { status: 400, code: 'INVALID_REQUEST' },
  SB_ERR_FROM_NOT_VERIFIED: { status: 400, code: 'INVALID_REQUEST' },
  SB_ERR_UNAUTHENTICATED: { status: 401, code: 'UNAUTHORIZED' },
  SB_ERR_NOT_FOUND: { status: 404, code: 'CALL_NOT_FOUND' },
  SB_ERR_INSUFFICIENT_CREDITS: { status: 402, code: 'PAYMENT_REQUIRED' },
  SB_ERR_RATE_LIMITED: { status: 429, code: 'RATE_LIMITED' },
  // 004: a command for a call with no live session is "Call session not found".
  SB_ERR_CALL_NOT_ACTIVE: { status: 404, code: 'CALL_NOT_FOUND' },
  SB_ERR_CALL_ACTIVE: { status: 409, code: 'INVALID_REQUEST' },
  SB_ERR_SHUTTING_DOWN: { status: 503, code: 'SERVICE_UNAVAILABLE' },
  SB_ERR_UNAVAILABLE: { status: 503, code: 'SERVICE_UNAVAILABLE' },
  SB_ERR_PROVIDER: { status: 502, code: 'TWILIO_ERROR' },
};

export function phonyError(code: string, message: string, details: Record<string, unknown> = {}) {
  return { error: { code, message, details } };
}

export function phonyErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const p = toProblem(err);
  if (p.status >= 500 && p.code !== 'SB_ERR_PROVIDER') req.log.error({ err }, 'request failed');
  let m = CODES[p.code] ?? { status: 500, code: 'INTERNAL_ERROR' };
  if (p.code === 'SB_ERR_VALIDATION' && p.status !== 400) m = { status: p.status, code: 'INVALID_REQUEST' };
  // 004: "No pending query for this call" is a bad request.
  if (p.details?.reason === 'no_pending_question') m = { status: 400, code: 'INVALID_REQUEST' };
  const details: Record<string, unknown> = { ...(p.details ?? {}) };
  if (p.field) details.field = p.field;
  delete details.resource;
  const message = m.code === 'CALL_NOT_FOUND' ? 'Call session not found' : p.message;
  void reply.status(m.status).send(phonyError(m.code, message, details));
}
