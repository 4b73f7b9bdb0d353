/**
 * One interface for every language model Switchboard can talk to: OpenAI-compatible Chat Completions
 * (OpenAI, Azure OpenAI, Groq, Ollama, vLLM, llama.cpp) and Anthropic Messages. Streams are
 * AsyncIterables with an abort signal, so barge-in is `abort()`.
 */

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as the model sent them (a JSON string; may be invalid JSON). */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface LlmRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /** `auto` (default), `none`, `required`, or one tool by name. */
  toolChoice?: 'auto' | 'none' | 'required' | { name: string };
  temperature?: number;
  maxTokens?: number;
  /** Ask for a JSON object answer (summaries, extraction). */
  json?: boolean;
  signal?: AbortSignal;
}

export type LlmChunk =
  /** A piece of the spoken answer, as it streams. */
  | { type: 'text'; text: string }
  /** A complete tool call (arguments accumulated across chunks). */
  | { type: 'tool_call'; call: ToolCall }
  | { type: 'usage'; inputTokens: number; outputTokens: number }
  | { type: 'done'; finishReason: 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other' };

export interface Llm {
  /** `openai:gpt-4o-mini`, `anthropic:claude-…` — shown at start-up and stored on each call. */
  readonly name: string;
  stream(req: LlmRequest): AsyncIterable<LlmChunk>;
}

export type LlmErrorKind = 'auth' | 'rate_limit' | 'quota' | 'connectivity' | 'timeout' | 'server' | 'bad_request' | 'bad_response';

/** A model failure, classified once (see classify in the adapters). 408/429/5xx/network retry; other 4xx don't. */
export class LlmError extends Error {
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    readonly status?: number,
    readonly requestId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LlmError';
  }
}
