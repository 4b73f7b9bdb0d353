/**
 * Every error the core raises: a stable code, an HTTP-ish status hint and whether retrying may help.
 * Faces map these to their documents' bodies in their own errors.ts; docs/errors.md lists them.
 * Messages are static; values go in `details` (never a phone number or a transcript).
 */
export type ErrorCode =
  | 'SB_ERR_VALIDATION'
  | 'SB_ERR_UNAUTHENTICATED'
  | 'SB_ERR_FORBIDDEN'
  | 'SB_ERR_NOT_FOUND'
  | 'SB_ERR_INSUFFICIENT_CREDITS'
  | 'SB_ERR_IDEMPOTENCY_MISMATCH'
  | 'SB_ERR_FROM_NOT_VERIFIED'
  | 'SB_ERR_RATE_LIMITED'
  | 'SB_ERR_CALL_NOT_ACTIVE'
  | 'SB_ERR_CALL_ACTIVE'
  | 'SB_ERR_NOT_DEAD_LETTER'
  | 'SB_ERR_SHUTTING_DOWN'
  | 'SB_ERR_UNAVAILABLE'
  | 'SB_ERR_PROVIDER'
  /** The route manages the account (keys, organisations, users) and needs a signed-in session, not an API key. */
  | 'SB_ERR_SESSION_REQUIRED';

const STATUS: Record<ErrorCode, number> = {
  SB_ERR_VALIDATION: 400,
  SB_ERR_UNAUTHENTICATED: 401,
  SB_ERR_FORBIDDEN: 403,
  SB_ERR_NOT_FOUND: 404,
  SB_ERR_INSUFFICIENT_CREDITS: 402,
  SB_ERR_IDEMPOTENCY_MISMATCH: 400,
  SB_ERR_FROM_NOT_VERIFIED: 400,
  SB_ERR_RATE_LIMITED: 429,
  SB_ERR_CALL_NOT_ACTIVE: 409,
  SB_ERR_CALL_ACTIVE: 409,
  SB_ERR_NOT_DEAD_LETTER: 409,
  SB_ERR_SHUTTING_DOWN: 503,
  SB_ERR_UNAVAILABLE: 503,
  SB_ERR_PROVIDER: 502,
  SB_ERR_SESSION_REQUIRED: 403,
};

export class SwitchboardError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SwitchboardError';
    this.status = STATUS[code];
  }
}

/** A request field that failed validation; `field` is the document's spelling of it. */
export function validationError(field: string, message: string): SwitchboardError {
  return new SwitchboardError('SB_ERR_VALIDATION', message, { field });
}

export function notFound(what: string): SwitchboardError {
  return new SwitchboardError('SB_ERR_NOT_FOUND', `${what} not found`, { resource: what });
}

/** A part the request needs (the database, Redis) is away for a moment: 503, worth retrying. */
export function unavailable(cause?: unknown): SwitchboardError {
  return new SwitchboardError('SB_ERR_UNAVAILABLE', 'Service temporarily unavailable, retry shortly', {}, true, { cause });
}

/** Whether a failure is the database connection lost under a statement (faces answer 503, not 500). */
export { isConnectionLoss } from '../store/retry.js';
