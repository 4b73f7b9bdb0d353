/**
 * A scripted `Llm` for brain tests: each request takes the next reply from the script and every request is
 * recorded (a deep copy of its messages, since the brain keeps editing its own conversation).
 */
import type { ChatMessage, Llm, LlmChunk, LlmRequest, ToolSpec } from '../../../src/ai/llm/llm.js';

/**
 * One reply: chunks to stream, an error to throw, or `hang` (no output until the request is aborted) — also
 * after some chunks (a stream that stalls mid-reply, its connection still open).
 */
export type Reply = Array<LlmChunk | 'hang'> | Error | 'hang';

export interface RecordedRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  toolChoice?: LlmRequest['toolChoice'];
  json?: boolean;
  /** Whether the request's signal had been aborted by the time the reply ended. */
  aborted: boolean;
}

function abortError(): Error {
  const e = new Error('aborted');
  e.name = 'AbortError';
  return e;
}

/** Rejects once `signal` is aborted (never without one). */
function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal?.aborted) return reject(abortError());
    signal?.addEventListener('abort', () => reject(abortError()), { once: true });
  });
}

export class ScriptedLlm implements Llm {
  readonly name = 'scripted:test';
  readonly requests: RecordedRequest[] = [];
  /** Chunks streamed so far, over all requests (to see that sentences go out before the reply ends). */
  chunksSent = 0;

  constructor(private readonly script: Reply[] = []) {}

  /** Adds replies for later requests. */
  then(...replies: Reply[]): this {
    this.script.push(...replies);
    return this;
  }

  async *stream(req: LlmRequest): AsyncIterable<LlmChunk> {
    const rec: RecordedRequest = {
      messages: JSON.parse(JSON.stringify(req.messages)) as ChatMessage[],
      tools: req.tools,
      toolChoice: req.toolChoice,
      json: req.json,
      aborted: false,
    };
    this.requests.push(rec);
    const reply = this.script.shift() ?? [{ type: 'done', finishReason: 'stop' }];
    try {
      if (reply instanceof Error) throw reply;
      if (reply === 'hang') return await untilAborted(req.signal);
      for (const chunk of reply) {
        await Promise.resolve();
        if (req.signal?.aborted) throw abortError();
        if (chunk === 'hang') return await untilAborted(req.signal);
        this.chunksSent++;
        yield chunk;
      }
    } finally {
      rec.aborted = req.signal?.aborted ?? false;
    }
  }
}

/** Text chunks (streamed one by one) and the final `done`. */
export function text(...parts: string[]): LlmChunk[] {
  return [...parts.map((t): LlmChunk => ({ type: 'text', text: t })), { type: 'done', finishReason: 'stop' }];
}

let nextId = 0;
/** A tool call chunk; `args` as an object (serialised) or a raw string (e.g. invalid JSON). */
export function toolCall(name: string, args: Record<string, unknown> | string = {}): LlmChunk {
  return { type: 'tool_call', call: { id: `call_${++nextId}`, name, arguments: typeof args === 'string' ? args : JSON.stringify(args) } };
}

/** A reply of optional text followed by tool calls. */
export function reply(...chunks: Array<LlmChunk | string>): LlmChunk[] {
  const out = chunks.map((c): LlmChunk => (typeof c === 'string' ? { type: 'text', text: c } : c));
  const calls = out.some((c) => c.type === 'tool_call');
  return [...out, { type: 'done', finishReason: calls ? 'tool_calls' : 'stop' }];
}
