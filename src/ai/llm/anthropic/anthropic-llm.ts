/**
 * Anthropic Messages API streaming (`POST /v1/messages`, `stream: true`). System prompt is top-level, tools are
 * `{name, description, input_schema}`, tool calls and results are content blocks, and the answer streams as
 * typed SSE events (message_start, content_block_start/delta/stop, message_delta, message_stop, ping, error).
 */
import type { ChatMessage, Llm, LlmChunk, LlmRequest } from '../llm.js';
import { classifyStreamError, llmError } from '../classify.js';
import { postSse, type SseContext } from '../sse.js';

/** Well-known model ids; any other string is passed through. */
export type AnthropicModel =
  | 'claude-3-5-haiku-latest'
  | 'claude-haiku-4-5'
  | 'claude-sonnet-4-5'
  | 'claude-sonnet-4-0'
  | 'claude-opus-4-1'
  | (string & {});

export interface AnthropicOptions {
  /** Without the version segment, like the official SDK: `https://api.anthropic.com`. */
  baseUrl?: string;
  apiKey: string;
  model: AnthropicModel;
  /** Longest wait for the response and then between two pieces of it (ms). Default 30 000. */
  timeoutMs?: number;
  /** `max_tokens` is required by the API; used when the request has no `maxTokens`. Default 1024. */
  defaultMaxTokens?: number;
  /** Extra headers (`anthropic-beta`…). */
  headers?: Record<string, string>;
}

export const ANTHROPIC_DEFAULTS = {
  baseUrl: 'https://api.anthropic.com',
  timeoutMs: 30_000,
  defaultMaxTokens: 1024,
  version: '2023-06-01',
} as const;

/** The Messages API has no JSON mode; we ask in the system prompt instead. */
const JSON_INSTRUCTION = 'Reply with a single JSON object and nothing else.';

type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string };

type WireMessage = { role: 'user' | 'assistant'; content: string | Block[] };

function parseInput(args: string): unknown {
  try {
    const v = JSON.parse(args);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    // The model's own invalid arguments: the API wants an object, and the tool result will say what went wrong.
    return {};
  }
}

/**
 * Our messages in the Messages API shape: system messages lifted to `system`, tool results as `tool_result`
 * blocks in a user message, and consecutive messages of one role merged (so consecutive tool results share one
 * user message, as the API requires).
 */
export function toAnthropicMessages(messages: ChatMessage[]): { system?: string; messages: WireMessage[] } {
  const system: string[] = [];
  const out: { role: 'user' | 'assistant'; blocks: Block[] }[] = [];
  const push = (role: 'user' | 'assistant', blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.blocks.push(...blocks);
    else out.push({ role, blocks });
  };
  for (const m of messages) {
    switch (m.role) {
      case 'system':
        system.push(m.content);
        break;
      case 'user':
        push('user', m.content ? [{ type: 'text', text: m.content }] : []);
        break;
      case 'assistant': {
        const blocks: Block[] = m.content ? [{ type: 'text', text: m.content }] : [];
        for (const c of m.toolCalls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: parseInput(c.arguments) });
        push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [{ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content }]);
        break;
    }
  }
  return {
    ...(system.length ? { system: system.join('\n\n') } : {}),
    messages: out.map(({ role, blocks }) => ({
      role,
      content: blocks.length === 1 && blocks[0].type === 'text' ? blocks[0].text : blocks,
    })),
  };
}

/** The JSON body for `POST /v1/messages`. */
export function toAnthropicBody(model: string, req: LlmRequest, defaultMaxTokens: number = ANTHROPIC_DEFAULTS.defaultMaxTokens) {
  const { system, messages } = toAnthropicMessages(req.messages);
  const body: Record<string, unknown> = { model, max_tokens: req.maxTokens ?? defaultMaxTokens, stream: true, messages };
  const sys = req.json ? [system, JSON_INSTRUCTION].filter(Boolean).join('\n\n') : system;
  if (sys) body.system = sys;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
    const choice = req.toolChoice ?? 'auto';
    body.tool_choice =
      choice === 'auto' ? { type: 'auto' } : choice === 'none' ? { type: 'none' } : choice === 'required' ? { type: 'any' } : { type: 'tool', name: choice.name };
  }
  return body;
}

type FinishReason = Extract<LlmChunk, { type: 'done' }>['finishReason'];

function finishReason(stop: unknown): FinishReason {
  switch (stop) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'other';
  }
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * An `Llm` over the Anthropic Messages API.
 *
 * @example
 * const llm = new AnthropicLlm({ apiKey, model: 'claude-haiku-4-5' });
 */
export class AnthropicLlm implements Llm {
  readonly name: string;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: AnthropicOptions) {
    this.name = `anthropic:${opts.model}`;
    this.url = `${(opts.baseUrl ?? ANTHROPIC_DEFAULTS.baseUrl).replace(/\/+$/, '')}/v1/messages`;
    this.headers = { 'x-api-key': opts.apiKey, 'anthropic-version': ANTHROPIC_DEFAULTS.version, ...opts.headers };
    this.timeoutMs = opts.timeoutMs ?? ANTHROPIC_DEFAULTS.timeoutMs;
  }

  async *stream(req: LlmRequest): AsyncGenerator<LlmChunk> {
    const ctx: SseContext = {};
    const events = postSse(
      {
        url: this.url,
        headers: this.headers,
        body: toAnthropicBody(this.opts.model, req, this.opts.defaultMaxTokens),
        timeoutMs: this.timeoutMs,
        signal: req.signal,
        requestIdHeader: 'request-id',
      },
      ctx,
    );
    const tools = new Map<number, { id: string; name: string; json: string; initial: unknown }>();
    let inputTokens = 0;
    let outputTokens = 0;
    let sawUsage = false;
    let stop: unknown;

    for await (const ev of events) {
      let data: any;
      try {
        data = JSON.parse(ev.data);
      } catch (err) {
        throw llmError('bad_response', { requestId: ctx.requestId, cause: err });
      }
      if (!data || typeof data !== 'object') throw llmError('bad_response', { requestId: ctx.requestId });
      const type = data.type ?? ev.event;
      switch (type) {
        case 'message_start': {
          const u = data.message?.usage;
          if (u) {
            sawUsage = true;
            // `input_tokens` excludes cached input; the call's cost counts all of it.
            inputTokens = num(u.input_tokens) + num(u.cache_creation_input_tokens) + num(u.cache_read_input_tokens);
            outputTokens = num(u.output_tokens);
          }
          break;
        }
        case 'content_block_start': {
          const b = data.content_block ?? {};
          if (b.type === 'text' && typeof b.text === 'string' && b.text) yield { type: 'text', text: b.text };
          else if (b.type === 'tool_use') tools.set(data.index, { id: String(b.id ?? `toolu_${data.index}`), name: String(b.name ?? ''), json: '', initial: b.input });
          break;
        }
        case 'content_block_delta': {
          const d = data.delta ?? {};
          if (d.type === 'text_delta' && typeof d.text === 'string' && d.text) yield { type: 'text', text: d.text };
          else if (d.type === 'input_json_delta' && typeof d.partial_json === 'string') {
            const t = tools.get(data.index);
            if (t) t.json += d.partial_json;
          }
          break;
        }
        case 'content_block_stop': {
          const t = tools.get(data.index);
          if (t) {
            tools.delete(data.index);
            // A tool without input sends no deltas; its (empty) input came whole in content_block_start.
            const args = t.json !== '' ? t.json : JSON.stringify(t.initial && typeof t.initial === 'object' ? t.initial : {});
            yield { type: 'tool_call', call: { id: t.id, name: t.name, arguments: args } };
          }
          break;
        }
        case 'message_delta': {
          if (data.delta?.stop_reason !== undefined) stop = data.delta.stop_reason;
          const u = data.usage;
          if (u) {
            sawUsage = true;
            // Counts in message_delta are cumulative.
            if (typeof u.output_tokens === 'number') outputTokens = u.output_tokens;
            const input = num(u.input_tokens) + num(u.cache_creation_input_tokens) + num(u.cache_read_input_tokens);
            if (input > inputTokens) inputTokens = input;
          }
          break;
        }
        case 'message_stop':
          if (sawUsage) yield { type: 'usage', inputTokens, outputTokens };
          yield { type: 'done', finishReason: finishReason(stop) };
          return;
        case 'error':
          throw classifyStreamError(data, ctx.requestId);
        default:
          // `ping` and event types added later are ignored, as the API asks.
          break;
      }
    }
    throw llmError('connectivity', { requestId: ctx.requestId, message: 'model stream ended early' });
  }
}
