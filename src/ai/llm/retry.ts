/**
 * Retries for any `Llm`, as an adapter over it. Only a failure before the first chunk is retried: once words have
 * been yielded they may already be spoken, so a retry would repeat them, and the error goes to the caller.
 */
import { LlmError, type Llm, type LlmChunk, type LlmRequest } from './llm.js';

export interface RetryOptions {
  /** Total tries, the first included. Default 3. */
  attempts?: number;
  /** No retry starts if its wait would end more than this long (ms) after the first try began. Default 10 000. */
  budgetMs?: number;
  /** First backoff (ms), doubled each retry; a provider's `Retry-After` replaces it. Default 250. */
  baseDelayMs?: number;
  /** Waits `ms`, rejecting when `signal` aborts. Injected by tests; defaults to a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Clock for the budget; injected by tests with `sleep`. Default `Date.now`. */
  now?: () => number;
  /** Told before each retry (for logs and metrics). */
  onRetry?: (info: { attempt: number; delayMs: number; error: LlmError }) => void;
}

export const RETRY_DEFAULTS = { attempts: 3, budgetMs: 10_000, baseDelayMs: 250 } as const;

/** An abortable timer; rejects with the signal's reason. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Wraps `llm` so retryable failures (`LlmError.retryable`: 408, 429, 5xx, network, timeout) that happen before any
 * chunk was yielded are retried with backoff, honouring `retryAfterMs` within `budgetMs`.
 *
 * @example
 * const llm = withRetries(new OpenAiCompatibleLlm({ apiKey, model: 'gpt-4o-mini' }), { attempts: 3, budgetMs: 5_000 });
 */
export function withRetries(llm: Llm, opts: RetryOptions = {}): Llm {
  const attempts = Math.max(1, opts.attempts ?? RETRY_DEFAULTS.attempts);
  const budgetMs = opts.budgetMs ?? RETRY_DEFAULTS.budgetMs;
  const baseDelayMs = opts.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs;
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;

  async function* stream(req: LlmRequest): AsyncGenerator<LlmChunk> {
    const start = now();
    for (let attempt = 1; ; attempt++) {
      let started = false;
      try {
        for await (const chunk of llm.stream(req)) {
          started = true;
          yield chunk;
        }
        return;
      } catch (err) {
        if (started || req.signal?.aborted || !(err instanceof LlmError) || !err.retryable || attempt >= attempts) throw err;
        const delayMs = err.retryAfterMs ?? baseDelayMs * 2 ** (attempt - 1);
        if (now() - start + delayMs > budgetMs) throw err;
        opts.onRetry?.({ attempt, delayMs, error: err });
        await sleep(delayMs, req.signal);
      }
    }
  }

  return { name: llm.name, stream };
}
