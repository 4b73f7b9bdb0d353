/**
 * Every error the core raises: a stable code, an HTTP-ish status hint and whether retrying may help.
 * Faces map these to their documents' bodies in their own errors.ts; docs/errors.md lists them.
 * Messages are static; values go in `details` (never a phone number or a transcript).
 */
export type ErrorCode =
  | 'SB_ERR_VALIDATION'
  | 'SB_ERR_UNAUTHENTICATED'
  | 'SB_ERR_NOT_FOUND'
  | 'SB_ERR_INSUFFICIENT_CREDITS'
  | 'SB_ERR_IDEMPOTENCY_MISMATCH'
  | 'SB_ERR_FROM_NOT_VERIFIED'
  | 'SB_ERR_RATE_LIMITED'
  | 'SB_ERR_CALL_NOT_ACTIVE'
  | 'SB_ERR_CALL_ACTIVE'
  | 'SB_ERR_SHUTTING_DOWN'
  | 'SB_ERR_UNAVAILABLE'
  | 'SB_ERR_PROVIDER';

const STATUS: Record<ErrorCode, number> = {
  SB_ERR_VALIDATION: 400,
  SB_ERR_UNAUTHENTICATED: 401,
  SB_ERR_NOT_FOUND: 404,
  SB_ERR_INSUFFICIENT_CREDITS: 402,
  SB_ERR_IDEMPOTENCY_MISMATCH: 400,
  SB_ERR_FROM_NOT_VERIFIED: 400,
  SB_ERR_RATE_LIMITED: 429,
  SB_ERR_CALL_NOT_ACTIVE: 409,
  SB_ERR_CALL_ACTIVE: 409,
  SB_ERR_SHUTTING_DOWN: 503,
  SB_ERR_UNAVAILABLE: 503,
  SB_ERR_PROVIDER: 502,
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

/**
 * True for an error that means the database connection was lost or could not be made (class 08
 * "connection exception", 57P0x "operator intervention" such as a terminated backend, refused sockets):
 * the request may be retried, nothing is wrong with it.
 */
export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^08|^57P0[1-3]$/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /^Connection terminated|^Client has encountered a connection error|timeout exceeded when trying to connect/.test(message);
}
