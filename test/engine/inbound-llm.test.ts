/**
 * The LLM brain answering an inbound call: a simulated caller rings a number assigned to an agent; the agent
 * greets with its starting message, the model (the fake OpenAI-compatible server) is prompted with the
 * agent's own instructions and the caller's words, and its replies reach the caller until the booking is
 * done and the model ends the call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/lib/clock.js';
import type { SimCarrier } from '../../src/carriers/sim/index.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startOpenAiChatFake, type OpenAiChatFake } from '../fakes/openai-chat.js';

const backend = BACKENDS[0];
const GREETING = 'Thanks for calling Bella Cucina, how can I help?';
const OUR_NUMBER = '+15550170';
const SYSTEM_PROMPT = 'You answer the phone for Bella Cucina, an Italian restaurant in Brooklyn. Take table bookings; ask for the name.';

/** The text of the last message when it is the caller's (a user message), else null. */
function lastHeard(body: any): string | null {
  const last = body?.messages?.at(-1);
  if (!last || last.role !== 'user') return null;
  return typeof last.content === 'string' ? last.content : null;
}

describe('inbound calls answered by the LLM brain', () => {
  let t: TestSwitchboard;
  let fake: OpenAiChatFake;

  beforeAll(async () => {
    fake = await startOpenAiChatFake();
    fake.script(((body: any) => {
      if (body?.response_format?.type === 'json_object') {
        return { text: JSON.stringify({ summary: 'Alex Smith booked a table for two on Friday at 8 pm.', goal_completed: true, extracted: { name: 'Alex Smith' } }) };
      }
      const heard = lastHeard(body) ?? '';
      if (/table for two/i.test(heard) && !/Alex/.test(heard)) return { text: 'Lovely, a table for two on Friday at 8 pm. What name should I put the booking under?' };
      if (/Alex Smith/.test(heard)) return { text: "Thank you, Alex. You're booked for Friday at 8 pm. Anything else?" };
      if (/that's all|goodbye/i.test(heard)) return { text: 'Goodbye, see you on Friday!', toolCalls: [{ name: 'end_call', arguments: {} }] };
      return { toolCalls: [{ name: 'wait', arguments: {} }] };
    }) as any);
    t = await startSwitchboard(
      backend,
      { SHUTDOWN_GRACE_SECONDS: '1', LLM_PROVIDER: 'openai', LLM_MODE: 'tools', LLM_MODEL: 'gpt-fake', LLM_BASE_URL: fake.url, LLM_API_KEY: 'sk-test' },
      { clock: new VirtualClock() },
    );
    const agent = await t.sb.core.agents.create(t.orgId, { name: 'Bella Cucina front desk', system_prompt: SYSTEM_PROMPT, starting_message: GREETING, language: 'en' });
    await t.sb.core.numbers.add(t.orgId, { number: OUR_NUMBER, inbound_agent_id: agent.id });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  it("greets, prompts the model with the agent's instructions and the caller's words, and the model's replies reach the caller", async () => {
    const r = await (t.sb.carrier as SimCarrier).placeInbound({ from: '+15550150', to: OUR_NUMBER });
    expect(r.answered).toBe(true);
    if (!r.answered) return;
    const c = await until(async () => {
      const v = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${r.callId}`, headers: { authorization: `Bearer ${t.key}` } })).json();
      return v.ended_at ? v : null;
    }, 20_000, 'the inbound call to end');
    expect(c.direction).toBe('inbound');
    expect(c.status).toBe('completed');
    // The starting message is said as written, first.
    expect(c.transcripts[0]).toMatchObject({ role: 'assistant', text: GREETING });
    const said = (role: string) => c.transcripts.filter((x: any) => x.role === role).map((x: any) => x.text).join(' ');
    expect(said('user')).toMatch(/table for two on Friday at 8 pm/);
    expect(said('user')).toMatch(/Alex Smith/);
    expect(said('assistant')).toMatch(/What name should I put the booking under/);
    expect(said('assistant')).toMatch(/You're booked for Friday at 8 pm/);
    // The model saw the agent's own instructions and the caller's request.
    const turns = fake.requests.map((q) => q.body as any).filter((b) => b?.tools);
    expect(turns.length).toBeGreaterThanOrEqual(3);
    const system = turns[0].messages.find((m: any) => m.role === 'system')?.content as string;
    expect(system).toContain('Italian restaurant in Brooklyn');
    expect(turns.some((b) => JSON.stringify(b.messages).includes('table for two on Friday at 8 pm'))).toBe(true);
    // The model's farewell was the last word (the caller may hang up while it is still being said).
    expect(c.transcripts.at(-1)).toMatchObject({ role: 'assistant' });
    expect(c.transcripts.at(-1).text).toMatch(/^Goodbye/);
  });
});
