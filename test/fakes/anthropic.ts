/**
 * A fake Anthropic Messages API on port 0: `POST /v1/messages` answers the streaming events (`message_start`,
 * `content_block_start`/`_delta`/`_stop` for text and tool_use blocks, `ping`, `message_delta` with `stop_reason`
 * and cumulative `usage.output_tokens`, `message_stop`), each as `event: <type>` + `data: <json>`, or the Anthropic
 * error JSON (`{"type":"error","error":{"type","message"}}`).
 */
import { pieces, startLlmFake, type FailureReply, type LlmFake } from './llm-fake-common.js';

export type { RecordedRequest } from './llm-fake-common.js';

export interface AnthropicReply extends FailureReply {
  /** A text block, streamed in small pieces split mid-word. */
  text?: string;
  /** tool_use blocks after the text; `input` streams as `input_json_delta` pieces. */
  toolCalls?: { id?: string; name: string; arguments: string | object }[];
  /** Default `tool_use` with tool calls, else `end_turn`. */
  stopReason?: string;
  usage?: { input_tokens: number; output_tokens: number };
  /** After the content, send an `error` event of this type (`overloaded_error`…) and end. */
  streamError?: string;
}

export type AnthropicFake = LlmFake<AnthropicReply>;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** Starts the fake; give the adapter `fake.url` (no `/v1`, like the SDK's base URL) as its `baseUrl`. */
export function startAnthropicFake(): Promise<AnthropicFake> {
  let n = 0;
  return startLlmFake<AnthropicReply>(
    {
      path: '/v1/messages',
      headers: { 'request-id': 'req_fake_anthropic' },
      defaultReply: { text: 'OK.' },
      errorBody(status, reply) {
        return { type: 'error', error: { type: reply.errorType ?? ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message: `fake error ${status}` } };
      },
      frames(reply, body) {
        const ev = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
        const usage = reply.usage ?? { input_tokens: 85, output_tokens: 21 };
        const frames = [
          ev('message_start', {
            message: {
              id: `msg_fake${++n}`,
              type: 'message',
              role: 'assistant',
              content: [],
              model: body?.model ?? 'fake',
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: usage.input_tokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
            },
          }),
        ];
        let index = 0;
        if (reply.text) {
          frames.push(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }));
          frames.push(ev('ping', {}));
          for (const p of pieces(reply.text)) frames.push(ev('content_block_delta', { index, delta: { type: 'text_delta', text: p } }));
          frames.push(ev('content_block_stop', { index }));
          index++;
        }
        for (const c of reply.toolCalls ?? []) {
          const args = typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments);
          frames.push(ev('content_block_start', { index, content_block: { type: 'tool_use', id: c.id ?? `toolu_fake${n}_${index}`, name: c.name, input: {} } }));
          frames.push(ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } }));
          for (const p of pieces(args, 5)) frames.push(ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: p } }));
          frames.push(ev('content_block_stop', { index }));
          index++;
        }
        if (reply.streamError) {
          frames.push(ev('error', { error: { type: reply.streamError, message: 'fake stream error' } }));
          return frames;
        }
        frames.push(
          ev('message_delta', {
            delta: { stop_reason: reply.stopReason ?? (reply.toolCalls?.length ? 'tool_use' : 'end_turn'), stop_sequence: null },
            usage: { output_tokens: usage.output_tokens },
          }),
        );
        frames.push(ev('message_stop', {}));
        return frames;
      },
    },
    '',
  );
}
