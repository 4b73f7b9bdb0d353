/**
 * One body for every LLM adapter, each against its protocol fake: streaming, tool calls, usage, failure
 * classification, retries before output, timeouts and abort.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AnthropicLlm, LlmError, OpenAiCompatibleLlm, withRetries, type Llm, type LlmRequest } from '../../src/ai/llm/index.js';
import { startOpenAiChatFake, type OpenAiReply } from '../fakes/openai-chat.js';
import { startAnthropicFake, type AnthropicReply } from '../fakes/anthropic.js';
import type { LlmFake } from '../fakes/llm-fake-common.js';
import { collect, collectUntilError, recordingSleep, textOf } from './llm-helpers.js';

/** The reply fields both fakes share; wire-specific ones come from each backend below. */
type Reply = Omit<OpenAiReply, 'usage' | 'streamError'> & Omit<AnthropicReply, 'usage' | 'streamError'> & Record<string, unknown>;

interface Backend {
  name: string;
  start(): Promise<LlmFake<Reply>>;
  make(url: string, timeoutMs?: number): Llm;
  /** Reply fields for token counts, in the fake's wire names. */
  usage(input: number, output: number): Record<string, unknown>;
  /** Reply fields for a server error inside the stream. */
  streamError: Record<string, unknown>;
}

const BACKENDS: Backend[] = [
  {
    name: 'openai',
    start: startOpenAiChatFake as () => Promise<LlmFake<Reply>>,
    make: (url, timeoutMs) => new OpenAiCompatibleLlm({ baseUrl: url, apiKey: 'sk-test', model: 'gpt-4o-mini', timeoutMs }),
    usage: (prompt_tokens, completion_tokens) => ({ usage: { prompt_tokens, completion_tokens } }),
    streamError: { streamError: { message: 'The server had an error while processing your request.', type: 'server_error' } },
  },
  {
    name: 'anthropic',
    start: startAnthropicFake as () => Promise<LlmFake<Reply>>,
    make: (url, timeoutMs) => new AnthropicLlm({ baseUrl: url, apiKey: 'sk-ant-test', model: 'claude-haiku-4-5', timeoutMs }),
    usage: (input_tokens, output_tokens) => ({ usage: { input_tokens, output_tokens } }),
    streamError: { streamError: 'overloaded_error' },
  },
];

const ask: LlmRequest = {
  messages: [
    { role: 'system', content: 'You book appointments.' },
    { role: 'user', content: 'Book me for Tuesday' },
  ],
  tools: [
    {
      name: 'check_slots',
      description: 'Free slots on a day',
      parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] },
    },
  ],
};

for (const backend of BACKENDS) {
  describe(`${backend.name} LLM adapter`, () => {
    let fake: LlmFake<Reply>;
    let llm: Llm;
    beforeAll(async () => {
      fake = await backend.start();
    });
    afterAll(() => fake.close());
    beforeEach(() => {
      fake.requests.length = 0;
      fake.script([]);
      llm = backend.make(fake.url);
    });

    it('names itself after the provider and model', () => {
      expect(llm.name).toMatch(new RegExp(`^${backend.name}:`));
    });

    it('streams text in pieces that reassemble, then usage and done', async () => {
      fake.script([{ text: 'Hello there. How are you?', ...backend.usage(12, 7) }]);
      const chunks = await collect(llm.stream(ask));
      expect(chunks.filter((c) => c.type === 'text').length).toBeGreaterThan(2);
      expect(textOf(chunks)).toBe('Hello there. How are you?');
      expect(chunks.slice(-2)).toEqual([
        { type: 'usage', inputTokens: 12, outputTokens: 7 },
        { type: 'done', finishReason: 'stop' },
      ]);
    });

    it('accumulates a tool call whose arguments arrive in pieces', async () => {
      const args = JSON.stringify({ day: 'tuesday', note: 'after lunch, please' });
      fake.script([{ text: 'Let me check.', toolCalls: [{ id: 'call_1', name: 'check_slots', arguments: args }] }]);
      const chunks = await collect(llm.stream(ask));
      expect(textOf(chunks)).toBe('Let me check.');
      expect(chunks.filter((c) => c.type === 'tool_call')).toEqual([{ type: 'tool_call', call: { id: 'call_1', name: 'check_slots', arguments: args } }]);
      expect(chunks.at(-1)).toEqual({ type: 'done', finishReason: 'tool_calls' });
    });

    it('yields several tool calls in order', async () => {
      fake.script([{ toolCalls: [{ name: 'a', arguments: { x: 1 } }, { name: 'b', arguments: { y: 'two words' } }] }]);
      const calls = (await collect(llm.stream(ask))).flatMap((c) => (c.type === 'tool_call' ? [c.call] : []));
      expect(calls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
        ['a', { x: 1 }],
        ['b', { y: 'two words' }],
      ]);
      expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    });

    it('answers after a delay', async () => {
      fake.script([{ text: 'Late but fine.', delayMs: 20 }]);
      expect(textOf(await collect(llm.stream(ask)))).toBe('Late but fine.');
    });

    it('classifies 401 as auth, not retryable', async () => {
      fake.script([{ status: 401 }]);
      const { error } = await collectUntilError(llm.stream(ask));
      expect(error).toBeInstanceOf(LlmError);
      expect(error).toMatchObject({ kind: 'auth', retryable: false, status: 401 });
    });

    it('classifies 429 as rate_limit with Retry-After, and keeps the request id', async () => {
      fake.script([{ status: 429, retryAfter: 2 }]);
      const { error } = await collectUntilError(llm.stream(ask));
      expect(error).toMatchObject({ kind: 'rate_limit', retryable: true, retryAfterMs: 2000, status: 429 });
      expect((error as LlmError).requestId).toMatch(/^req_fake/);
    });

    it('retries a 429 after its Retry-After, then succeeds', async () => {
      fake.script([{ status: 429, retryAfter: 1 }, { text: 'Second time lucky.' }]);
      const { waits, sleep } = recordingSleep();
      const chunks = await collect(withRetries(llm, { attempts: 3, budgetMs: 5_000, baseDelayMs: 10, sleep }).stream(ask));
      expect(textOf(chunks)).toBe('Second time lucky.');
      expect(waits).toEqual([1000]);
      expect(fake.requests).toHaveLength(2);
    });

    it('does not wait for a Retry-After beyond the budget', async () => {
      fake.script([{ status: 429, retryAfter: 60 }, { text: 'never' }]);
      const { waits, sleep } = recordingSleep();
      const { error } = await collectUntilError(withRetries(llm, { attempts: 3, budgetMs: 5_000, sleep }).stream(ask));
      expect(error).toMatchObject({ kind: 'rate_limit' });
      expect(waits).toEqual([]);
      expect(fake.requests).toHaveLength(1);
    });

    it('retries a 500 with backoff', async () => {
      fake.script([{ status: 500 }, { status: 500 }, { text: 'Back up.' }]);
      const { waits, sleep } = recordingSleep();
      const chunks = await collect(withRetries(llm, { attempts: 3, baseDelayMs: 10, sleep }).stream(ask));
      expect(textOf(chunks)).toBe('Back up.');
      expect(waits).toEqual([10, 20]);
    });

    it('gives up after the last attempt', async () => {
      fake.script([{ status: 500 }, { status: 500 }, { text: 'too late' }]);
      const { sleep } = recordingSleep();
      const { error } = await collectUntilError(withRetries(llm, { attempts: 2, sleep }).stream(ask));
      expect(error).toMatchObject({ kind: 'server', retryable: true, status: 500 });
      expect(fake.requests).toHaveLength(2);
    });

    it('does not retry a 400', async () => {
      fake.script([{ status: 400 }, { text: 'never' }]);
      const { waits, sleep } = recordingSleep();
      const { error } = await collectUntilError(withRetries(llm, { sleep }).stream(ask));
      expect(error).toMatchObject({ kind: 'bad_request', retryable: false, status: 400 });
      expect(waits).toEqual([]);
      expect(fake.requests).toHaveLength(1);
    });

    it('reports garbage as bad_response', async () => {
      fake.script([{ garbage: true }]);
      const { error } = await collectUntilError(llm.stream(ask));
      expect(error).toMatchObject({ kind: 'bad_response', retryable: false });
    });

    it('turns an error inside the stream into a classified LlmError', async () => {
      fake.script([{ text: 'Hel', ...backend.streamError }]);
      const { chunks, error } = await collectUntilError(llm.stream(ask));
      expect(textOf(chunks)).toBe('Hel');
      expect(error).toMatchObject({ kind: 'server' });
    });

    it('fails a stream that stops sending instead of hanging', async () => {
      fake.script([{ text: 'Hello there. How are you?', hangAfterChunks: 5 }]);
      const { chunks, error } = await collectUntilError(backend.make(fake.url, 200).stream(ask));
      expect(textOf(chunks).length).toBeGreaterThan(0);
      expect(error).toMatchObject({ kind: 'timeout' });
    });

    it('fails a stream whose connection is cut, and does not retry once output started', async () => {
      fake.script([{ text: 'Hello there. How are you?', dropAfterChunks: 5 }, { text: 'again' }]);
      const { sleep, waits } = recordingSleep();
      const { chunks, error } = await collectUntilError(withRetries(llm, { sleep }).stream(ask));
      expect(textOf(chunks)).not.toBe('');
      expect(error).toBeInstanceOf(LlmError);
      expect((error as LlmError).kind).toMatch(/^(connectivity|bad_response)$/);
      expect(waits).toEqual([]);
      expect(fake.requests).toHaveLength(1);
    });

    it('reports a refused connection as connectivity', async () => {
      const dead = backend.make('http://127.0.0.1:1');
      const { error } = await collectUntilError(dead.stream(ask));
      expect(error).toMatchObject({ kind: 'connectivity', retryable: true });
    });

    it('stops the HTTP request when the signal aborts', async () => {
      fake.script([{ text: 'Hello there. How are you?', hangAfterChunks: 5 }]);
      const ctl = new AbortController();
      const it = llm.stream({ ...ask, signal: ctl.signal })[Symbol.asyncIterator]();
      let first = await it.next();
      while (!first.done && first.value.type !== 'text') first = await it.next();
      expect(first.value).toMatchObject({ type: 'text' });
      ctl.abort();
      // Drain what was already buffered; the stream must then end with the abort, not wait for the server.
      await expect(
        (async () => {
          for (;;) if ((await it.next()).done) return;
        })(),
      ).rejects.toMatchObject({ name: 'AbortError' });
      await vi.waitFor(() => expect(fake.requests[0].disconnected).toBe(true));
    });

    it('stops the HTTP request when the consumer stops reading', async () => {
      fake.script([{ text: 'Hello there. How are you?', hangAfterChunks: 5 }]);
      for await (const c of llm.stream(ask)) if (c.type === 'text') break;
      await vi.waitFor(() => expect(fake.requests[0].disconnected).toBe(true));
    });

    it('a reply read to its last event leaves its connection open for the next request (no new handshake a turn)', async () => {
      // The body's end comes a moment after the last event (as over a network): the adapter is done before it.
      fake.script([{ text: 'Hello there.', chunkDelayMs: 30 }, { text: 'Again.', chunkDelayMs: 30 }]);
      expect(textOf(await collect(llm.stream(ask)))).toBe('Hello there.');
      // Cut at its last event, the reply would never finish (the fake sees the client go).
      await vi.waitFor(() => expect(fake.requests[0].finished || fake.requests[0].disconnected).toBe(true));
      expect(fake.requests[0].disconnected).toBe(false);
      await new Promise((r) => setTimeout(r, 50)); // the client reads the body's end (same process: a turn of the loop)
      const opened = fake.connections;
      expect(textOf(await collect(llm.stream(ask)))).toBe('Again.');
      expect(fake.connections).toBe(opened);
    });

    it('rejects at once when the signal is already aborted', async () => {
      const ctl = new AbortController();
      ctl.abort();
      await expect(collect(withRetries(llm).stream({ ...ask, signal: ctl.signal }))).rejects.toMatchObject({ name: 'AbortError' });
      expect(fake.requests).toHaveLength(0);
    });
  });
}
