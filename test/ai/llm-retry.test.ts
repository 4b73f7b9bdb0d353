/** withRetries and failure classification, with a scripted in-memory model (no HTTP). */
import { describe, expect, it } from 'vitest';
import { classifyHttpFailure, LlmError, parseRetryAfter, withRetries, type Llm, type LlmChunk } from '../../src/ai/llm/index.js';
import { collect, collectUntilError, recordingSleep } from './llm-helpers.js';

const rateLimited = (retryAfterMs?: number) => new LlmError('rate_limit', 'rate limited', true, retryAfterMs, 429);

/** Each attempt yields `before` chunks and then throws `error` (or finishes when it is undefined). */
function scripted(attempts: { chunks?: LlmChunk[]; error?: unknown }[]): Llm & { calls: number } {
  const llm = {
    name: 'fake:scripted',
    calls: 0,
    async *stream() {
      const a = attempts[llm.calls++] ?? {};
      for (const c of a.chunks ?? []) yield c;
      if (a.error) throw a.error;
    },
  };
  return llm;
}

const done: LlmChunk = { type: 'done', finishReason: 'stop' };
const hello: LlmChunk = { type: 'text', text: 'Hello' };

describe('withRetries', () => {
  it('keeps the name of the model it wraps', () => {
    expect(withRetries(scripted([])).name).toBe('fake:scripted');
  });

  it('retries a retryable failure before output, waiting Retry-After', async () => {
    const llm = scripted([{ error: rateLimited(1500) }, { chunks: [hello, done] }]);
    const { sleep, waits } = recordingSleep();
    expect(await collect(withRetries(llm, { sleep }).stream({ messages: [] }))).toEqual([hello, done]);
    expect(waits).toEqual([1500]);
  });

  it('never retries once output has started', async () => {
    const cut = new LlmError('connectivity', 'cut', true);
    const llm = scripted([{ chunks: [hello], error: cut }, { chunks: [hello, done] }]);
    const { sleep, waits } = recordingSleep();
    const { chunks, error } = await collectUntilError(withRetries(llm, { sleep }).stream({ messages: [] }));
    expect(chunks).toEqual([hello]);
    expect(error).toBe(cut);
    expect(waits).toEqual([]);
    expect(llm.calls).toBe(1);
  });

  it('does not retry what is not a retryable LlmError', async () => {
    for (const err of [new LlmError('auth', 'no', false, undefined, 401), new TypeError('bug')]) {
      const llm = scripted([{ error: err }, { chunks: [done] }]);
      const { error } = await collectUntilError(withRetries(llm, { sleep: async () => {} }).stream({ messages: [] }));
      expect(error).toBe(err);
      expect(llm.calls).toBe(1);
    }
  });

  it('backs off exponentially and stops at the budget', async () => {
    let clock = 0;
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      clock += ms;
    };
    const llm = scripted(Array.from({ length: 10 }, () => ({ error: new LlmError('server', 'down', true, undefined, 503) })));
    const { error } = await collectUntilError(withRetries(llm, { attempts: 10, baseDelayMs: 100, budgetMs: 1000, sleep, now: () => clock }).stream({ messages: [] }));
    expect(error).toMatchObject({ kind: 'server' });
    // 100 + 200 + 400 = 700 fits; the next 800 would end past 1000.
    expect(waits).toEqual([100, 200, 400]);
    expect(llm.calls).toBe(4);
  });

  it('stops waiting when the signal aborts', async () => {
    const ctl = new AbortController();
    const llm = scripted([{ error: rateLimited(60_000) }, { chunks: [done] }]);
    const run = collect(withRetries(llm, { budgetMs: 120_000 }).stream({ messages: [], signal: ctl.signal }));
    setTimeout(() => ctl.abort(), 5);
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(llm.calls).toBe(1);
  });
});

describe('failure classification', () => {
  const h = (init: Record<string, string> = {}) => new Headers(init);

  it.each([
    [401, 'auth', false],
    [403, 'auth', false],
    [402, 'quota', false],
    [408, 'timeout', true],
    [429, 'rate_limit', true],
    [400, 'bad_request', false],
    [404, 'bad_request', false],
    [500, 'server', true],
    [502, 'server', true],
    [503, 'server', true],
    [529, 'server', true],
  ])('HTTP %i is %s (retryable %s)', (status, kind, retryable) => {
    expect(classifyHttpFailure(status, h(), '', 'req_1')).toMatchObject({ kind, retryable, status, requestId: 'req_1' });
  });

  it('reads insufficient_quota in the body as quota', () => {
    const body = JSON.stringify({ error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } });
    expect(classifyHttpFailure(429, h(), body)).toMatchObject({ kind: 'quota', retryable: false });
  });

  it('keeps the provider message out of the error message, in the cause', () => {
    const err = classifyHttpFailure(400, h(), JSON.stringify({ error: { message: 'messages.0.content: caller said 555-0100' } }));
    expect(err.message).not.toContain('555');
    expect((err.cause as Error).message).toContain('messages.0.content');
  });

  it('reads Retry-After as seconds, an HTTP date, or retry-after-ms', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    expect(parseRetryAfter(h({ 'retry-after': '3' }), now)).toBe(3000);
    expect(parseRetryAfter(h({ 'retry-after': 'Mon, 23 Nov 2026 10:00:05 GMT' }), now)).toBe(5000);
    expect(parseRetryAfter(h({ 'retry-after-ms': '250', 'retry-after': '1' }), now)).toBe(250);
    expect(parseRetryAfter(h({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(h(), now)).toBeUndefined();
  });
});
