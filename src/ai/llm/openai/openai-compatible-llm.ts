/**
 * OpenAI-compatible Chat Completions streaming (protocols.md §7): OpenAI, Azure OpenAI, Groq, Ollama, vLLM and
 * llama.cpp all speak this wire, so one adapter serves them; only `baseUrl`, the key header and the token-limit
 * field differ.
 */
import type { ChatMessage, Llm, LlmChunk, LlmRequest, ToolCall } from '../llm.js';
import { classifyStreamError, llmError } from '../classify.js';
import { postSse, type SseContext } from '../sse.js';

/** Well-known model ids; any other string is passed through (local servers name models freely). */
export type OpenAiModel = 'gpt-4o-mini' | 'gpt-4o' | 'gpt-4.1-mini' | 'gpt-4.1' | 'gpt-4.1-nano' | (string & {});

export interface OpenAiCompatibleOptions {
  /** Up to and including the version segment: `https://api.openai.com/v1`, `http://localhost:11434/v1`. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer …` (or in `api-key` for Azure). Local servers ignore it but want it non-empty. */
  apiKey: string;
  model: OpenAiModel;
  /** Longest wait for the response and then between two pieces of it (ms). Default 30 000. */
  timeoutMs?: number;
  /** `api-key` for Azure OpenAI key auth; `authorization` (Bearer) otherwise. */
  apiKeyHeader?: 'authorization' | 'api-key';
  /** Query parameters for every request, e.g. `{ 'api-version': '2024-10-21' }` on Azure. */
  query?: Record<string, string>;
  /** Extra headers (OpenAI-Organization, OpenRouter's HTTP-Referer…). */
  headers?: Record<string, string>;
  /**
   * Field for `maxTokens`: OpenAI deprecated `max_tokens` for `max_completion_tokens`; some older local servers
   * only know `max_tokens`. Default `max_completion_tokens`.
   */
  maxTokensField?: 'max_completion_tokens' | 'max_tokens';
  /** Sent as `parallel_tool_calls` when tools are given; omitted when undefined (server default). */
  parallelToolCalls?: boolean;
  /** `stream_options.include_usage` (default true). Turn off for a server that rejects `stream_options`. */
  includeUsage?: boolean;
}

export const OPENAI_DEFAULTS = {
  baseUrl: 'https://api.openai.com/v1',
  timeoutMs: 30_000,
} as const;

type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | {
      role: 'assistant';
      content: string | null;
      tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
    }
  | { role: 'tool'; tool_call_id: string; content: string };

/** Our messages in the Chat Completions shape. */
export function toOpenAiMessages(messages: ChatMessage[]): WireMessage[] {
  return messages.map((m): WireMessage => {
    switch (m.role) {
      case 'system':
      case 'user':
        return { role: m.role, content: m.content };
      case 'assistant': {
        const out: WireMessage = { role: 'assistant', content: m.content };
        if (m.toolCalls?.length) {
          out.tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
        }
        return out;
      }
      case 'tool':
        return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    }
  });
}

/** The JSON body for `POST /chat/completions`. */
export function toOpenAiBody(model: string, req: LlmRequest, opts: Pick<OpenAiCompatibleOptions, 'maxTokensField' | 'parallelToolCalls' | 'includeUsage'> = {}) {
  const body: Record<string, unknown> = { model, stream: true, messages: toOpenAiMessages(req.messages) };
  if (opts.includeUsage !== false) body.stream_options = { include_usage: true };
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.maxTokens !== undefined) body[opts.maxTokensField ?? 'max_completion_tokens'] = req.maxTokens;
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
    const choice = req.toolChoice ?? 'auto';
    body.tool_choice = typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
    if (opts.parallelToolCalls !== undefined) body.parallel_tool_calls = opts.parallelToolCalls;
  }
  if (req.json) body.response_format = { type: 'json_object' };
  return body;
}

type FinishReason = Extract<LlmChunk, { type: 'done' }>['finishReason'];

function finishReason(raw: unknown, sawToolCalls: boolean): FinishReason {
  switch (raw) {
    case 'stop':
    case 'length':
    case 'content_filter':
      return raw === 'stop' && sawToolCalls ? 'tool_calls' : raw;
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case null:
    case undefined:
      return sawToolCalls ? 'tool_calls' : 'stop';
    default:
      return 'other';
  }
}

interface PartialCall {
  id?: string;
  name?: string;
  arguments: string;
}

/**
 * An `Llm` over any OpenAI-compatible server.
 *
 * @example
 * const llm = new OpenAiCompatibleLlm({ baseUrl: 'http://localhost:11434/v1', apiKey: 'ollama', model: 'llama3.1' });
 * for await (const chunk of llm.stream({ messages: [{ role: 'user', content: 'Hi' }], signal })) …
 */
export class OpenAiCompatibleLlm implements Llm {
  readonly name: string;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: OpenAiCompatibleOptions) {
    this.name = `openai:${opts.model}`;
    const base = (opts.baseUrl ?? OPENAI_DEFAULTS.baseUrl).replace(/\/+$/, '');
    const qs = opts.query && Object.keys(opts.query).length ? `?${new URLSearchParams(opts.query)}` : '';
    this.url = `${base}/chat/completions${qs}`;
    this.headers =
      opts.apiKeyHeader === 'api-key' ? { 'api-key': opts.apiKey, ...opts.headers } : { authorization: `Bearer ${opts.apiKey}`, ...opts.headers };
    this.timeoutMs = opts.timeoutMs ?? OPENAI_DEFAULTS.timeoutMs;
  }

  async *stream(req: LlmRequest): AsyncGenerator<LlmChunk> {
    const ctx: SseContext = {};
    const events = postSse(
      {
        url: this.url,
        headers: this.headers,
        body: toOpenAiBody(this.opts.model, req, this.opts),
        timeoutMs: this.timeoutMs,
        signal: req.signal,
        requestIdHeader: 'x-request-id',
      },
      ctx,
    );
    const calls = new Map<number, PartialCall>();
    let finish: unknown;
    let finished = false;
    let sawCalls = false;
    let usage: { inputTokens: number; outputTokens: number } | undefined;

    const flushCalls = function* (): Generator<LlmChunk> {
      const ordered = [...calls.entries()].sort((a, b) => a[0] - b[0]);
      for (const [index, c] of ordered) {
        if (!c.name) throw llmError('bad_response', { requestId: ctx.requestId, cause: new Error('tool call without a name') });
        const call: ToolCall = { id: c.id ?? `call_${index}`, name: c.name, arguments: c.arguments };
        yield { type: 'tool_call', call };
      }
      calls.clear();
    };

    for await (const ev of events) {
      if (ev.data === '[DONE]') {
        yield* flushCalls();
        if (usage) yield { type: 'usage', ...usage };
        yield { type: 'done', finishReason: finishReason(finish, sawCalls) };
        return;
      }
      let chunk: any;
      try {
        chunk = JSON.parse(ev.data);
      } catch (err) {
        throw llmError('bad_response', { requestId: ctx.requestId, cause: err });
      }
      if (ev.event === 'error' || (chunk && typeof chunk === 'object' && chunk.error)) throw classifyStreamError(chunk, ctx.requestId);
      if (!chunk || typeof chunk !== 'object') throw llmError('bad_response', { requestId: ctx.requestId });
      if (chunk.usage && typeof chunk.usage === 'object') {
        usage = { inputTokens: Number(chunk.usage.prompt_tokens) || 0, outputTokens: Number(chunk.usage.completion_tokens) || 0 };
      }
      const choices: any[] = Array.isArray(chunk.choices) ? chunk.choices : [];
      // We ask for one choice; a server that sends `index` only ever means 0 here.
      const choice = choices.find((c) => (c?.index ?? 0) === 0);
      if (!choice) continue;
      const delta = choice.delta ?? {};
      if (typeof delta.content === 'string' && delta.content !== '') yield { type: 'text', text: delta.content };
      if (Array.isArray(delta.tool_calls)) {
        for (const tc of delta.tool_calls as any[]) {
          sawCalls = true;
          // Some local servers omit `index` when they send whole calls: each such entry is a new call.
          const index = typeof tc?.index === 'number' ? tc.index : Math.max(-1, ...calls.keys()) + 1;
          const c = calls.get(index) ?? { arguments: '' };
          if (typeof tc?.id === 'string' && tc.id) c.id ??= tc.id;
          const fn = tc?.function ?? {};
          if (typeof fn.name === 'string' && fn.name) c.name ??= fn.name;
          if (typeof fn.arguments === 'string') c.arguments += fn.arguments;
          else if (fn.arguments && typeof fn.arguments === 'object') c.arguments += JSON.stringify(fn.arguments);
          calls.set(index, c);
        }
      }
      if (choice.finish_reason != null) {
        finish = choice.finish_reason;
        finished = true;
      }
    }
    // The body ended without `[DONE]`. After a finish reason that is a lenient server; before it, a cut stream.
    if (!finished) throw llmError('connectivity', { requestId: ctx.requestId, message: 'model stream ended early' });
    yield* flushCalls();
    if (usage) yield { type: 'usage', ...usage };
    yield { type: 'done', finishReason: finishReason(finish, sawCalls) };
  }
}
