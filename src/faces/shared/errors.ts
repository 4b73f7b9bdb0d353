/**
 * What every face needs to turn a failure into its own document's body: which field failed validation
 * and why, and what kind of framework error (bad JSON, too large, wrong content type) a request hit.
 * Each face's errors.ts decides the body; this decides the facts, once.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SwitchboardError, isConnectionLoss, unavailable } from '../../core/errors.js';

export interface Problem {
  status: number;
  /** Short, static, human-readable message naming the field where there is one. */
  message: string;
  field?: string;
  code: string;
  details?: Record<string, unknown>;
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  params?: Record<string, any>;
  message?: string;
}

function fieldOf(issue: AjvIssue, part: string): string {
  const path = (issue.instancePath ?? '').split('/').filter(Boolean).join('.');
  if (issue.keyword === 'required') return [path, issue.params?.missingProperty].filter(Boolean).join('.');
  return path || (part === 'body' ? 'body' : part);
}

function explain(issue: AjvIssue, field: string): string {
  switch (issue.keyword) {
    case 'required':
      return `Missing ${field}`;
    case 'type':
      return `Invalid ${field}: must be ${issue.params?.type}`;
    case 'pattern':
      return field.includes('phone') || field.includes('number') || field.endsWith('Phone')
        ? `Invalid ${field}: must be an E.164 phone number, e.g. +46700000000`
        : `Invalid ${field}: wrong format`;
    case 'anyOf':
    case 'enum':
    case 'const':
      return `Invalid ${field}: not one of the allowed values`;
    case 'format':
      return `Invalid ${field}: must be a ${issue.params?.format}`;
    case 'additionalProperties':
      return `Invalid ${field}: unknown field ${issue.params?.additionalProperty}`;
    default:
      return `Invalid ${field}: ${issue.message ?? 'invalid value'}`;
  }
}

/** Classifies any error thrown while handling a request. */
export function toProblem(err: unknown): Problem {
  // The database dropped its connection mid-request (failover, restart): a 503 worth retrying, not a 500.
  if (isConnectionLoss(err)) err = unavailable(err);
  if (err instanceof SwitchboardError) {
    return {
      status: err.status,
      message: err.message,
      field: typeof err.details.field === 'string' ? err.details.field : undefined,
      code: err.code,
      details: err.details,
    };
  }
  const e = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (e?.validation && e.validation.length) {
    // Prefer the most specific issue (anyOf reports its branches too).
    const issue = e.validation.find((i) => i.keyword !== 'anyOf') ?? e.validation[0];
    const field = fieldOf(issue, e.validationContext ?? 'body');
    return { status: 400, message: explain(issue, field), field, code: 'SB_ERR_VALIDATION' };
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: 'Malformed JSON body', field: 'body', code: 'SB_ERR_VALIDATION' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: 'Request body too large', field: 'body', code: 'SB_ERR_VALIDATION' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: 'Unsupported Content-Type: send application/json', field: 'body', code: 'SB_ERR_VALIDATION' };
    case 'FST_ERR_BAD_URL':
      return { status: 400, message: 'Invalid path: not valid percent-encoded UTF-8', field: 'path', code: 'SB_ERR_VALIDATION' };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // Fastify's message repeats the URL, which may hold a phone number: ours does not.
      return { status: 400, message: 'Invalid path: a path parameter is longer than 100 characters', field: 'path', code: 'SB_ERR_VALIDATION' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, message: 'Invalid Content-Length', field: 'body', code: 'SB_ERR_VALIDATION' };
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status === 429) return { status, message: 'Too Many Requests', code: 'SB_ERR_RATE_LIMITED' };
  if (status >= 400 && status < 500) return { status, message: e.message || 'Bad request', code: 'SB_ERR_VALIDATION' };
  return { status: 500, message: 'Internal error', code: 'SB_ERR_INTERNAL' };
}

/**
 * The body of errors outside the faces (`/healthz`, `/openapi.json`, the live-transcript socket's handshake,
 * the carriers' callbacks): `{error, field?}`, never Fastify's default body, never a 500 for bad input.
 */
export function rootErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const p = toProblem(err);
  if (p.status >= 500) req.log.error({ err }, 'request failed');
  void reply.status(p.status).send(p.field ? { error: p.message, field: p.field } : { error: p.message });
}
