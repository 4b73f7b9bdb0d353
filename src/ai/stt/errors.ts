/**
 * Speech-to-text failures, classified in one place for every streaming adapter: a refused WebSocket handshake
 * (an HTTP status), a socket that would not connect, or a socket the provider closed mid-call all become an
 * `SttError` with a kind and `retryable` (408/429/5xx/network retry; other 4xx don't). Messages are static; the
 * provider's own words go in `cause`, its request id in `requestId`.
 */

export type SttErrorKind = 'auth' | 'rate_limit' | 'quota' | 'bad_request' | 'connectivity' | 'timeout' | 'server';

const MESSAGES: Record<SttErrorKind, string> = {
  auth: 'speech-to-text provider rejected the credentials',
  rate_limit: 'speech-to-text provider rate limit reached',
  quota: 'speech-to-text provider quota or credit exhausted',
  bad_request: 'speech-to-text provider rejected the stream settings or audio',
  connectivity: 'could not reach the speech-to-text provider',
  timeout: 'speech-to-text provider timed out',
  server: 'speech-to-text provider failed',
};

const RETRYABLE: Record<SttErrorKind, boolean> = {
  auth: false,
  rate_limit: true,
  quota: false,
  bad_request: false,
  connectivity: true,
  timeout: true,
  server: true,
};

export class SttError extends Error {
  readonly retryable: boolean;

  constructor(
    readonly kind: SttErrorKind,
    readonly status?: number,
    readonly requestId?: string,
    options?: { cause?: unknown },
  ) {
    super(MESSAGES[kind], options);
    this.name = 'SttError';
    this.retryable = RETRYABLE[kind];
  }
}

/** A handshake the provider answered with an HTTP status instead of `101 Switching Protocols`. */
export function classifyHandshake(status: number, providerText: string, requestId?: string): SttError {
  let kind: SttErrorKind;
  if (status === 401 || status === 403) kind = 'auth';
  else if (status === 402) kind = 'quota';
  else if (status === 429) kind = 'rate_limit';
  else if (status === 408 || status === 504) kind = 'timeout';
  else if (status >= 500) kind = 'server';
  else kind = 'bad_request';
  return new SttError(kind, status, requestId, { cause: new Error(providerText.slice(0, 500) || `HTTP ${status}`) });
}

/**
 * A socket the provider closed while we still wanted transcripts. 1008 (policy: bad audio or settings) is the
 * request's fault; 1011 with Deepgram's `NET-0001` is its idle timeout; 1006 (no close frame) is the network.
 */
export function classifyClose(code: number, reason: string): SttError {
  const cause = new Error(`closed ${code}${reason ? ` ${reason.slice(0, 200)}` : ''}`);
  if (code === 1008 || code === 1007 || code === 1003) return new SttError('bad_request', undefined, undefined, { cause });
  if (/NET-0001/.test(reason)) return new SttError('timeout', undefined, undefined, { cause });
  if (code === 1006) return new SttError('connectivity', undefined, undefined, { cause });
  return new SttError('server', undefined, undefined, { cause });
}

/** What the socket itself threw (DNS, refused, reset, TLS…). */
export function classifyNetwork(err: unknown): SttError {
  // `ws` reports its handshakeTimeout as an error with this message; everything else is the network's.
  const timedOut = err instanceof Error && /handshake has timed out/i.test(err.message);
  return new SttError(timedOut ? 'timeout' : 'connectivity', undefined, undefined, { cause: err });
}

/** An error the provider sent inside the stream (`{type:"error", error:{type, code, message}}` on OpenAI). */
export function classifyStreamError(error: { type?: string; code?: string; message?: string } | undefined): SttError {
  const tag = `${error?.type ?? ''} ${error?.code ?? ''}`;
  const kind: SttErrorKind = /rate_limit/.test(tag)
    ? 'rate_limit'
    : /quota|billing/.test(tag)
      ? 'quota'
      : /auth|api_key|permission/.test(tag)
        ? 'auth'
        : /invalid_request/.test(tag)
          ? 'bad_request'
          : 'server';
  return new SttError(kind, undefined, undefined, { cause: new Error(error?.message ?? (tag.trim() || 'error')) });
}
