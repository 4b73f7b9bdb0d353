/**
 * Text-to-speech failures classified in one place, for every adapter: an HTTP status (and the provider's
 * words) or a network error becomes a `TtsError` with a kind and `retryable`. 408/429/5xx/network retry;
 * other 4xx don't. Messages are static and name the provider; the provider's own words go in `cause`
 * (never the text being spoken: it may hold personal data).
 */
import type { TtsProvider } from './tts.js';

export type TtsErrorKind = 'auth' | 'rate_limit' | 'quota' | 'connectivity' | 'server' | 'bad_request';

const MESSAGES: Record<TtsErrorKind, string> = {
  auth: 'rejected the credentials (check the API key)',
  rate_limit: 'rate limit reached',
  quota: 'quota or credit exhausted',
  connectivity: 'could not be reached',
  server: 'failed',
  bad_request: 'rejected the request',
};

/** A synthesis failure. `status` and `requestId` are the provider's, when it answered. */
export class TtsError extends Error {
  constructor(
    readonly provider: TtsProvider,
    readonly kind: TtsErrorKind,
    readonly status?: number,
    readonly requestId?: string,
    options?: { cause?: unknown },
  ) {
    super(`text-to-speech provider ${provider} ${MESSAGES[kind]}`, options);
    this.name = 'TtsError';
  }

  get retryable(): boolean {
    return this.kind === 'rate_limit' || this.kind === 'connectivity' || this.kind === 'server' || this.status === 408;
  }
}

/** Kind of a non-2xx answer: 401/403 auth, 402 quota, 429 rate limit, 5xx server, other 4xx bad request. */
export function kindOfStatus(status: number): TtsErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 402) return 'quota';
  if (status === 429) return 'rate_limit';
  if (status === 408 || status >= 500) return 'server';
  return 'bad_request';
}

/** A non-2xx HTTP answer as a `TtsError`; the body's first 500 characters are kept as the cause. */
export function httpFailure(provider: TtsProvider, status: number, bodyText: string, requestId?: string): TtsError {
  return new TtsError(provider, kindOfStatus(status), status, requestId, { cause: new Error(bodyText.slice(0, 500) || `HTTP ${status}`) });
}

/** What `fetch` or a body read threw (DNS, refused, reset, TLS…). */
export function networkFailure(provider: TtsProvider, err: unknown): TtsError {
  return new TtsError(provider, 'connectivity', undefined, undefined, { cause: err });
}
