/**
 * A call's model tokens are metered into its usage record: with Switchboard configured against the fake
 * OpenAI-compatible server, every request of the call counts (the fake's usage chunk where the stream was read
 * to its end, an estimate where the call's end cut it), and the call is priced on those tokens plus what the
 * simulated carrier reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATES } from '../../src/config/index.js';
import { priceUsage } from '../../src/core/credits/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startOpenAiChatFake, type OpenAiChatFake } from '../fakes/openai-chat.js';

const PROMPT_TOKENS = 1200;
const COMPLETION_TOKENS = 40;

describe('usage metering of model tokens', () => {
  let t: TestSwitchboard;
  let fake: OpenAiChatFake;
  beforeAll(async () => {
    fake = await startOpenAiChatFake();
    const usage = { prompt_tokens: PROMPT_TOKENS, completion_tokens: COMPLETION_TOKENS };
    fake.script(((body: any) => {
      if (body?.response_format?.type === 'json_object') {
        return { text: JSON.stringify({ summary: 'The booking was confirmed.', goal_completed: true, extracted: {} }), usage };
      }
      // Every turn: one sentence, then hang up with the task done.
      return {
        text: 'Hello, I am calling to confirm the booking for Tuesday at seven. Thank you, goodbye.',
        toolCalls: [{ name: 'end_call', arguments: { goal_completed: true, reason: 'task_completed' } }],
        usage,
      };
    }) as any);
    t = await startSwitchboard(BACKENDS[0], {
      SHUTDOWN_GRACE_SECONDS: '1',
      BILLING_ENABLED: 'true',
      LLM_MODEL: 'gpt-fake',
      LLM_BASE_URL: fake.url,
      LLM_API_KEY: 'sk-test',
    });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it('counts the tokens of every model request of the call (reported, or estimated when the stream was left), the summary included, and prices them', async () => {
    const headers = { authorization: `Bearer ${t.key}` };
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550100', task: 'Confirm my booking for Tuesday at 7 pm', language: 'en' } });
    expect(r.statusCode, r.body).toBe(200);
    const call = await until(async () => {
      const c = await t.sb.core.calls.find(t.orgId, r.json().sid);
      return c.ended_at ? c : null;
    }, 60_000, 'the call to end');
    const usage = (await t.sb.core.credits.usageOf(call.id))!;
    const requests = fake.requests.filter((q) => !q.disconnected);
    const summary = requests.filter((q) => q.body?.response_format?.type === 'json_object');
    expect(summary).toHaveLength(1);
    expect(requests.length).toBeGreaterThanOrEqual(2); // at least one turn and the summary
    // The summary read its stream to the end: the fake's usage report counts as it is. The turns ended the call
    // with end_call, which hangs up before their streams' usage arrived: each counts by its estimate
    // (about four characters a token of what was sent, at least the system prompt).
    const turns = requests.filter((q) => q.body?.response_format?.type !== 'json_object');
    const minTurnInput = turns.reduce((a, q) => a + Math.ceil(JSON.stringify(q.body.messages).length / 4), 0);
    expect(usage.llm_input_tokens).toBeGreaterThanOrEqual(PROMPT_TOKENS + Math.min(PROMPT_TOKENS, minTurnInput));
    expect(usage.llm_output_tokens).toBeGreaterThan(COMPLETION_TOKENS);
    const price = priceUsage(
      { connectedSeconds: usage.connected_seconds, mediaSeconds: usage.media_seconds, sttSeconds: usage.stt_seconds, llmInputTokens: usage.llm_input_tokens, llmOutputTokens: usage.llm_output_tokens, ttsCharacters: usage.tts_characters },
      DEFAULT_RATES,
    );
    expect(call.credits_charged).toBe(price.credits);
    expect(price.costBreakdown.llm_tokens).toBeGreaterThan(0);
    expect(await t.sb.core.credits.balance(t.orgId)).toBe(1000 - price.credits);
  }, 90_000);
});
