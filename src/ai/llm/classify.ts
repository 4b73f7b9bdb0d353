/**
 * Provider failures classified in one place, for every LLM adapter: an HTTP status and body, a network error, or
 * an error object inside the stream all become an `LlmError` with a kind and `retryable`. 408/429/5xx/network
 * retry; other 4xx don't. Messages are static; the provider's own words go in `cause`.
 */
import { LlmError, type LlmErrorKind } from './llm.js';

const RETRYABLE: Record<LlmErrorKind, boolean> = {
  auth: false,
  rate_limit: true,
  quota: false,
  connectivity: true,
  timeout: true,
  server: true,
  bad_request: false,
  bad_response: false,
};

const MESSAGES: Record<LlmErrorKind, string> = {
  auth: 'model provider rejected the credentials',
  rate_limit: 'model provider rate limit reached',
  quota: 'model provider quota or credit exhausted',
  connectivity: 'could not reach the model provider',
  timeout: 'model did not answer in time',
  server: 'model provider failed',
  bad_request: 'model provider rejected the request',
  bad_response: 'model provider sent an unreadable response',
};

/** Builds an `LlmError` of `kind` with the standard message and retryability. */
export function llmError(
  kind: LlmErrorKind,
  extra: { retryAfterMs?: number; status?: number; requestId?: string; cause?: unknown; message?: string } = {},
): LlmError {
  return new LlmError(kind, extra.message ?? MESSAGES[kind], RETRYABLE[kind], extra.retryAfterMs, extra.status, extra.requestId, {
    cause: extra.cause,
  });
}

/**
 * `Retry-After` (seconds or an HTTP date) or OpenAI's `retry-after-ms`, in milliseconds; undefined when absent
 * or unreadable.
 */
export function parseRetryAfter(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The error type/code a provider put in its JSON (`{error:{type,code,message}}` in both OpenAI and Anthropic). */
export interface ProviderErrorInfo {
  type?: string;
  code?: string;
  message?: string;
}

export function providerErrorInfo(body: unknown): ProviderErrorInfo {
  if (!body || typeof body !== 'object') return {};
  const err = (body as { error?: unknown }).error;
  if (typeof err === 'string') return { message: err };
  if (!err || typeof err !== 'object') return {};
  const e = err as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  return { type: str(e.type), code: str(e.code), message: str(e.message) };
}

/** Kind from a provider's error type or code, when it names one we know. */
function kindFromProviderInfo(info: ProviderErrorInfo): LlmErrorKind | undefined {
  for (const tag of [info.code, info.type]) {
    switch (tag) {
      case 'insufficient_quota':
      case 'billing_error':
      case 'billing_hard_limit_reached':
        return 'quota';
      case 'rate_limit_error':
      case 'rate_limit_exceeded':
        return 'rate_limit';
      case 'authentication_error':
      case 'permission_error':
      case 'invalid_api_key':
        return 'auth';
      case 'overloaded_error':
      case 'api_error':
      case 'server_error':
        return 'server';
      case 'timeout_error':
        return 'timeout';
      case 'invalid_request_error':
      case 'request_too_large':
      case 'not_found_error':
        return 'bad_request';
    }
  }
  return undefined;
}

/** Classifies a non-2xx HTTP response. */
export function classifyHttpFailure(status: number, headers: Headers, bodyText: string, requestId?: string): LlmError {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  const info = providerErrorInfo(body);
  const named = kindFromProviderInfo(info);
  let kind: LlmErrorKind;
  if (status === 401 || status === 403) kind = 'auth';
  else if (status === 402 || named === 'quota') kind = 'quota';
  else if (status === 429) kind = 'rate_limit';
  else if (status === 408 || status === 504) kind = 'timeout';
  else if (status >= 500) kind = 'server';
  else if (status >= 400) kind = 'bad_request';
  else kind = 'bad_response';
  const cause = new Error(info.message ?? (bodyText.slice(0, 500) || `HTTP ${status}`));
  return llmError(kind, { status, requestId, cause, retryAfterMs: parseRetryAfter(headers) });
}

/** Classifies an `{error:…}` object that arrived inside a stream (after a 200). */
export function classifyStreamError(payload: unknown, requestId?: string): LlmError {
  const info = providerErrorInfo(payload);
  const kind = kindFromProviderInfo(info) ?? 'server';
  return llmError(kind, { requestId, cause: new Error(info.message ?? info.type ?? 'stream error') });
}

/** Classifies what `fetch` or a body read threw (DNS, refused, reset, TLS…). */
export function classifyNetworkError(err: unknown, requestId?: string): LlmError {
  return llmError('connectivity', { requestId, cause: err });
}
