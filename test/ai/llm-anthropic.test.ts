/** Anthropic adapter: the request on the wire (system, tools, tool_use/tool_result blocks) and usage. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicLlm, createLlm, withRetries, type LlmRequest } from '../../src/ai/llm/index.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic.js';
import { collect, collectUntilError, recordingSleep, textOf } from './llm-helpers.js';

const conversation: LlmRequest = {
  messages: [
    { role: 'system', content: 'You book appointments.' },
    { role: 'user', content: 'Book me for Tuesday' },
    {
      role: 'assistant',
      content: 'Let me look.',
      toolCalls: [
        { id: 'toolu_1', name: 'check_slots', arguments: '{"day":"tue"}' },
        { id: 'toolu_2', name: 'check_staff', arguments: '{"day":"tue"}' },
      ],
    },
    { role: 'tool', toolCallId: 'toolu_1', content: '["10:00","14:00"]' },
    { role: 'tool', toolCallId: 'toolu_2', content: '["Ana"]' },
    { role: 'assistant', content: 'Ten or two?' },
    { role: 'user', content: 'Ten' },
  ],
  tools: [
    { name: 'check_slots', description: 'Free slots on a day', parameters: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] } },
  ],
  toolChoice: 'required',
  temperature: 0.3,
};

describe('Anthropic adapter', () => {
  let fake: AnthropicFake;
  let llm: AnthropicLlm;
  beforeAll(async () => {
    fake = await startAnthropicFake();
  });
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.requests.length = 0;
    fake.script([]);
    llm = new AnthropicLlm({ baseUrl: fake.url, apiKey: 'sk-ant-test', model: 'claude-haiku-4-5' });
  });

  it('sends system top-level, tools with input_schema, and tool results merged into one user message', async () => {
    await collect(llm.stream(conversation));
    const { path, headers, body } = fake.requests[0];
    expect(path).toBe('/v1/messages');
    expect(headers['x-api-key']).toBe('sk-ant-test');
    expect(headers['anthropic-version']).toBe('2023-06-01');
    expect(body).toEqual({
      model: 'claude-haiku-4-5',
      max_tokens: 1024,
      stream: true,
      temperature: 0.3,
      system: 'You book appointments.',
      messages: [
        { role: 'user', content: 'Book me for Tuesday' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_1', name: 'check_slots', input: { day: 'tue' } },
            { type: 'tool_use', id: 'toolu_2', name: 'check_staff', input: { day: 'tue' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '["10:00","14:00"]' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: '["Ana"]' },
          ],
        },
        { role: 'assistant', content: 'Ten or two?' },
        { role: 'user', content: 'Ten' },
      ],
      tools: [{ name: 'check_slots', description: 'Free slots on a day', input_schema: { type: 'object', properties: { day: { type: 'string' } }, required: ['day'] } }],
      tool_choice: { type: 'any' },
    });
  });

  it('maps tool choices and max tokens', async () => {
    for (const [choice, wire] of [
      ['auto', { type: 'auto' }],
      ['none', { type: 'none' }],
      [{ name: 'check_slots' }, { type: 'tool', name: 'check_slots' }],
    ] as const) {
      await collect(llm.stream({ ...conversation, toolChoice: choice, maxTokens: 200 }));
      expect(fake.requests.at(-1)!.body).toMatchObject({ tool_choice: wire, max_tokens: 200 });
    }
  });

  it('asks for JSON in the system prompt (the API has no JSON mode)', async () => {
    await collect(llm.stream({ messages: [{ role: 'system', content: 'Summarise.' }, { role: 'user', content: 'call transcript' }], json: true }));
    expect(fake.requests[0].body.system).toMatch(/^Summarise\.\n\n.*JSON object/);
  });

  it('reports usage from message_start and message_delta', async () => {
    fake.script([{ text: 'Hi.', usage: { input_tokens: 120, output_tokens: 9 } }]);
    const chunks = await collect(llm.stream(conversation));
    expect(chunks.slice(-2)).toEqual([
      { type: 'usage', inputTokens: 120, outputTokens: 9 },
      { type: 'done', finishReason: 'stop' },
    ]);
  });

  it('maps stop reasons', async () => {
    fake.script([{ text: 'Cut', stopReason: 'max_tokens' }, { text: 'No', stopReason: 'refusal' }]);
    expect((await collect(llm.stream(conversation))).at(-1)).toEqual({ type: 'done', finishReason: 'length' });
    expect((await collect(llm.stream(conversation))).at(-1)).toEqual({ type: 'done', finishReason: 'content_filter' });
  });

  it('gives a tool call with no input `{}` as arguments', async () => {
    fake.script([{ toolCalls: [{ id: 'toolu_9', name: 'hang_up', arguments: '' }] }]);
    const calls = (await collect(llm.stream(conversation))).filter((c) => c.type === 'tool_call');
    expect(calls).toEqual([{ type: 'tool_call', call: { id: 'toolu_9', name: 'hang_up', arguments: '{}' } }]);
  });

  it('retries 529 overloaded, and treats billing as quota', async () => {
    const { sleep, waits } = recordingSleep();
    fake.script([{ status: 529 }, { text: 'Here.' }]);
    expect(textOf(await collect(withRetries(llm, { sleep, baseDelayMs: 5 }).stream(conversation)))).toBe('Here.');
    expect(waits).toEqual([5]);
    fake.script([{ status: 400, errorType: 'billing_error' }]);
    const { error } = await collectUntilError(withRetries(llm, { sleep }).stream(conversation));
    expect(error).toMatchObject({ kind: 'quota', retryable: false });
  });

  it('is what createLlm builds for provider anthropic', async () => {
    const built = createLlm({ provider: 'anthropic', baseUrl: fake.url, apiKey: 'k', model: 'claude-haiku-4-5' });
    expect(built.name).toBe('anthropic:claude-haiku-4-5');
    fake.script([{ text: 'Built.' }]);
    expect(textOf(await collect(built.stream(conversation)))).toBe('Built.');
  });
});
