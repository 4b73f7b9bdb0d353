/**
 * A fake OpenAI-compatible Chat Completions server (protocols.md §7) on port 0: `POST /v1/chat/completions`
 * answers `text/event-stream` chunks (`chat.completion.chunk`, tool calls accumulated by index, a usage chunk
 * with empty `choices` when `stream_options.include_usage`, then `data: [DONE]`), or the OpenAI error JSON.
 */
import { pieces, startLlmFake, type FailureReply, type LlmFake } from './llm-fake-common.js';

export type { RecordedRequest } from './llm-fake-common.js';

export interface OpenAiReply extends FailureReply {
  /** Streamed in small pieces, split mid-word. */
  text?: string;
  /** Arguments (a JSON string or an object to stringify) stream in small pieces after the id/name chunk. */
  toolCalls?: { id?: string; name: string; arguments: string | object }[];
  /** Send each tool call whole in one chunk, without the split (as llama.cpp/Ollama may). */
  wholeToolCalls?: boolean;
  /** Default `tool_calls` with tool calls, else `stop`. */
  finishReason?: string;
  /** Token counts for the usage chunk; `false` never sends one (a local server). */
  usage?: { prompt_tokens: number; completion_tokens: number } | false;
  /** After the content, send `data: {"error":…}` and end instead of finishing. */
  streamError?: { message: string; type?: string; code?: string | null };
  /** End the body after the finish chunk without `data: [DONE]`. */
  noDone?: boolean;
}

export type OpenAiChatFake = LlmFake<OpenAiReply>;

const ERROR_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  403: ['invalid_request_error', 'unsupported_country_region_territory'],
  404: ['invalid_request_error', 'model_not_found'],
  429: ['requests', 'rate_limit_exceeded'],
  500: ['server_error', null],
  503: ['server_error', null],
};

/** Starts the fake; give the adapter `fake.url` (ends in `/v1`) as its `baseUrl`. */
export function startOpenAiChatFake(): Promise<OpenAiChatFake> {
  let n = 0;
  return startLlmFake<OpenAiReply>(
    {
      path: '/v1/chat/completions',
      headers: { 'x-request-id': 'req_fake_openai' },
      defaultReply: { text: 'OK.' },
      errorBody(status, reply) {
        const [type, code] = ERROR_TYPES[status] ?? (status >= 500 ? ['server_error', null] : ['invalid_request_error', null]);
        return { error: { message: `fake error ${status}`, type: reply.errorType ?? type, param: null, code: reply.errorType ?? code } };
      },
      frames(reply, body) {
        const id = `chatcmpl-fake${++n}`;
        const model = body?.model ?? 'fake';
        const chunk = (choices: unknown[], usage: unknown = null) =>
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1732300000, model, system_fingerprint: 'fp_fake', choices, usage })}\n\n`;
        const delta = (d: unknown, finish: string | null = null) => chunk([{ index: 0, delta: d, logprobs: null, finish_reason: finish }]);
        const frames = [delta({ role: 'assistant', content: '' })];
        for (const p of pieces(reply.text ?? '')) frames.push(delta({ content: p }));
        (reply.toolCalls ?? []).forEach((c, index) => {
          const callId = c.id ?? `call_fake${n}_${index}`;
          const args = typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments);
          if (reply.wholeToolCalls) {
            frames.push(delta({ tool_calls: [{ index, id: callId, type: 'function', function: { name: c.name, arguments: args } }] }));
            return;
          }
          frames.push(delta({ tool_calls: [{ index, id: callId, type: 'function', function: { name: c.name, arguments: '' } }] }));
          for (const p of pieces(args, 5)) frames.push(delta({ tool_calls: [{ index, function: { arguments: p } }] }));
        });
        if (reply.streamError) {
          frames.push(`data: ${JSON.stringify({ error: { type: 'server_error', code: null, param: null, ...reply.streamError } })}\n\n`);
          return frames;
        }
        frames.push(delta({}, reply.finishReason ?? (reply.toolCalls?.length ? 'tool_calls' : 'stop')));
        if (body?.stream_options?.include_usage && reply.usage !== false) {
          const u = reply.usage || { prompt_tokens: 85, completion_tokens: 21 };
          frames.push(chunk([], { ...u, total_tokens: u.prompt_tokens + u.completion_tokens }));
        }
        if (!reply.noDone) frames.push('data: [DONE]\n\n');
        return frames;
      },
    },
    '/v1',
  );
}
