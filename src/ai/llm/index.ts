/**
 * Language models behind one `Llm` interface, and a factory that picks the adapter from configuration.
 */
import type { Llm } from './llm.js';
import { OpenAiCompatibleLlm, type OpenAiCompatibleOptions } from './openai/index.js';
import { AnthropicLlm, type AnthropicOptions } from './anthropic/index.js';

export * from './llm.js';
export * from './openai/index.js';
export * from './anthropic/index.js';
export { meteredLlm } from './metered.js';
export { withRetries, defaultSleep, RETRY_DEFAULTS, type RetryOptions } from './retry.js';
export { classifyHttpFailure, classifyNetworkError, classifyStreamError, parseRetryAfter } from './classify.js';

export type LlmProvider = 'openai' | 'anthropic';

export interface CreateLlmOptions {
  /** `openai` covers every OpenAI-compatible server (Azure, Groq, Ollama, vLLM, llama.cpp) through `baseUrl`. */
  provider: LlmProvider;
  baseUrl?: string;
  apiKey: string;
  model: string;
  timeoutMs?: number;
  /** Extra adapter options (Azure's `apiKeyHeader`/`query`, `maxTokensField`, `defaultMaxTokens`…). */
  openai?: Partial<OpenAiCompatibleOptions>;
  anthropic?: Partial<AnthropicOptions>;
}

/**
 * Builds the adapter for `provider`. Retries are not added here: wrap with `withRetries` where a retry is safe.
 *
 * @example
 * const llm = withRetries(createLlm({ provider: 'openai', baseUrl: 'http://localhost:11434/v1', apiKey: 'ollama', model: 'llama3.1' }));
 */
export function createLlm(opts: CreateLlmOptions): Llm {
  const common = {
    apiKey: opts.apiKey,
    model: opts.model,
    ...(opts.baseUrl !== undefined ? { baseUrl: opts.baseUrl } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  };
  switch (opts.provider) {
    case 'openai':
      return new OpenAiCompatibleLlm({ ...opts.openai, ...common });
    case 'anthropic':
      return new AnthropicLlm({ ...opts.anthropic, ...common });
    default:
      throw new Error(`unknown LLM provider`, { cause: { provider: (opts as { provider: unknown }).provider } });
  }
}
