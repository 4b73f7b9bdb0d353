/** OpenAI-compatible adapter: the request on the wire and the quirks of local servers. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLlm, LlmError, OpenAiCompatibleLlm, withRetries, type LlmRequest } from '../../src/ai/llm/index.js';
import { startOpenAiChatFake, type OpenAiChatFake } from '../fakes/openai-chat.js';
import { collect, collectUntilError, recordingSleep, textOf } from './llm-helpers.js';

const conversation: LlmRequest = {
  messages: [
    { role: 'system', content: 'You book appointments.' },
    { role: 'user', content: 'Book me for Tuesday' },
    {
      role: 'assistant',
      content: null,
      toolCalls: [
        { id: 'call_1', name: 'check_slots', arguments: '{"day":"tue"}' },
        { id: 'call_2', name: 'check_staff', arguments: '{"day":"tue"}' },
      ],
    },
    { role: 'tool', toolCallId: 'call_1', content: '["10:00","14:00"]' },
    { role: 'tool', toolCallId: 'call_2', content: '["Ana"]' },
    { role: 'assistant', content: 'Ten or two?' },
    { role: 'user', content: 'Ten' },
  ],
  tools: [
    { name: 'check_slots', description: 'Free slots on a day', parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] } },
  ],
  toolChoice: { name: 'check_slots' },
  temperature: 0.3,
  maxTokens: 300,
};

describe('OpenAI-compatible adapter', () => {
  let fake: OpenAiChatFake;
  beforeAll(async () => {
    fake = await startOpenAiChatFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.script([]);
  });

  it('sends the conversation, tools and options in the Chat Completions shape', async () => {
    const llm = new OpenAiCompatibleLlm({ baseUrl: fake.url, apiKey: 'sk-test', model: 'gpt-4o-mini' });
    await collect(llm.stream(conversation));
    expect(fake.requests).toHaveLength(1);
    const { path, headers, body } = fake.requests[0];
    expect(path).toBe('/v1/chat/completions');
    expect(headers.authorization).toBe('Bearer sk-test');
    expect(headers['content-type']).toMatch(/application\/json/);
    expect(body).toEqual({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.3,
      max_completion_tokens: 300,
      messages: [
        { role: 'system', content: 'You book appointments.' },
        { role: 'user', content: 'Book me for Tuesday' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'check_slots', arguments: '{"day":"tue"}' } },
            { id: 'call_2', type: 'function', function: { name: 'check_staff', arguments: '{"day":"tue"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '["10:00","14:00"]' },
        { role: 'tool', tool_call_id: 'call_2', content: '["Ana"]' },
        { role: 'assistant', content: 'Ten or two?' },
        { role: 'user', content: 'Ten' },
      ],
      tools: [
        {
          type: 'function',
          function: { name: 'check_slots', description: 'Free slots on a day', parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] } },
        },
      ],
      tool_choice: { type: 'function', function: { name: 'check_slots' } },
    });
  });

  it('asks for a JSON object, and sends no tool fields without tools', async () => {
    const llm = new OpenAiCompatibleLlm({ baseUrl: fake.url, apiKey: 'sk-test', model: 'gpt-4o-mini' });
    await collect(llm.stream({ messages: [{ role: 'user', content: 'Summarise' }], json: true, toolChoice: 'required' }));
    const { body } = fake.requests[0];
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body).not.toHaveProperty('tools');
    expect(body).not.toHaveProperty('tool_choice');
  });

  it('speaks Azure: api-key header and api-version query', async () => {
    const llm = new OpenAiCompatibleLlm({
      baseUrl: fake.url,
      apiKey: 'azure-key',
      model: 'my-deployment',
      apiKeyHeader: 'api-key',
      query: { 'api-version': '2024-10-21' },
      maxTokensField: 'max_tokens',
    });
    await collect(llm.stream({ messages: [{ role: 'user', content: 'Hi' }], maxTokens: 50 }));
    const { path, headers, body } = fake.requests[0];
    expect(path).toBe('/v1/chat/completions?api-version=2024-10-21');
    expect(headers['api-key']).toBe('azure-key');
    expect(headers.authorization).toBeUndefined();
    expect(body.max_tokens).toBe(50);
  });

  it('accepts a whole tool call in one chunk, no usage and a finish without [DONE] (local servers)', async () => {
    const llm = new OpenAiCompatibleLlm({ baseUrl: fake.url, apiKey: 'ollama', model: 'llama3.1' });
    fake.script([{ toolCalls: [{ id: 'call_x', name: 'check_slots', arguments: '{"day":"wed"}' }], wholeToolCalls: true, usage: false, noDone: true }]);
    const chunks = await collect(llm.stream(conversation));
    expect(chunks).toEqual([
      { type: 'tool_call', call: { id: 'call_x', name: 'check_slots', arguments: '{"day":"wed"}' } },
      { type: 'done', finishReason: 'tool_calls' },
    ]);
  });

  it('maps finish reasons', async () => {
    const llm = new OpenAiCompatibleLlm({ baseUrl: fake.url, apiKey: 'k', model: 'm' });
    fake.script([{ text: 'Cut', finishReason: 'length' }, { text: '', finishReason: 'content_filter' }]);
    expect((await collect(llm.stream(conversation))).at(-1)).toEqual({ type: 'done', finishReason: 'length' });
    expect((await collect(llm.stream(conversation))).at(-1)).toEqual({ type: 'done', finishReason: 'content_filter' });
  });

  it('reports an exhausted quota (429 insufficient_quota) as quota, not retried', async () => {
    const llm = new OpenAiCompatibleLlm({ baseUrl: fake.url, apiKey: 'k', model: 'm' });
    fake.script([{ status: 429, errorType: 'insufficient_quota' }, { text: 'never' }]);
    const { sleep, waits } = recordingSleep();
    const { error } = await collectUntilError(withRetries(llm, { sleep }).stream(conversation));
    expect(error).toMatchObject({ kind: 'quota', retryable: false, status: 429 });
    expect(waits).toEqual([]);
  });

  it('reports a stream cut before the finish as an error', async () => {
    const llm = new OpenAiCompatibleLlm({ baseUrl: fake.url, apiKey: 'k', model: 'm' });
    fake.script([{ text: 'Hello there', dropAfterChunks: 3 }]);
    const { chunks, error } = await collectUntilError(llm.stream(conversation));
    expect(textOf(chunks)).toBe('Hello th');
    expect(error).toBeInstanceOf(LlmError);
  });

  it('is what createLlm builds for provider openai', async () => {
    const llm = createLlm({ provider: 'openai', baseUrl: fake.url, apiKey: 'k', model: 'gpt-4o-mini' });
    expect(llm.name).toBe('openai:gpt-4o-mini');
    fake.script([{ text: 'Built.' }]);
    expect(textOf(await collect(llm.stream(conversation)))).toBe('Built.');
  });
});
