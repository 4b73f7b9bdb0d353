/**
 * On the simulated network the user's lines in a user-on-call room are text: the model that takes over is
 * told them, in order, as what was said before it took over (the same brief as Twilio's transcribed room).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/lib/clock.js';
import { BACKENDS } from '../helpers/backends.js';
import { advanceUntil, startSwitchboard, type TestSwitchboard } from '../helpers/switchboard.js';
import { startOpenAiChatFake, type OpenAiChatFake } from '../fakes/openai-chat.js';

const TARGET = '+15550100'; // Bella Cucina: a receptionist
const SCRIPTED_USER = '+15550162'; // an operator with a script (scenarios/own-mobile.yaml)

describe('user-on-call on the simulated network: the agent takes over knowing what the user said', () => {
  let t: TestSwitchboard;
  let llm: OpenAiChatFake;
  beforeAll(async () => {
    llm = await startOpenAiChatFake();
    llm.script(() => ({ text: 'Thank you, I will take it from here.' }));
    t = await startSwitchboard(
      BACKENDS[0],
      { SHUTDOWN_GRACE_SECONDS: '1', LLM_PROVIDER: 'openai', LLM_MODE: 'tools', LLM_MODEL: 'gpt-fake', LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-test' },
      { clock: new VirtualClock(undefined, Infinity) },
    );
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await llm?.close();
  });

  const req = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.sb.app.inject({ method, url, headers: { authorization: `Bearer ${t.key}` }, ...(payload !== undefined ? { payload: payload as any } : {}) });
  const call = async (sid: string) => (await req('GET', `/v1/calls/${sid}`)).json();

  it("puts the user's lines, in order, in the model's prompt at the takeover", async () => {
    const r = await req('POST', '/v1/start-call', { phone_number: TARGET, task: 'Confirm the booking AB123', language: 'en', userOnCall: true, userPhone: SCRIPTED_USER });
    expect(r.statusCode, r.body).toBe(200);
    const sid = r.json().sid as string;
    const userLines = async () => (await call(sid)).transcripts.filter((x: { role: string }) => x.role === 'operator').map((x: { text: string }) => x.text as string);
    const said = await advanceUntil(t.clock, async () => ((await userLines()).length === 2 ? userLines() : null), 500, 60_000);
    expect(llm.requests).toHaveLength(0);

    expect((await req('POST', `/v1/calls/${sid}/activate`, {})).statusCode).toBe(200);
    const first = await advanceUntil(t.clock, async () => llm.requests[0] ?? null, 500, 60_000);
    const system = String(first.body.messages.find((m: any) => m.role === 'system')?.content ?? '');
    expect(system).toContain(`## Before you took over`);
    expect(system).toContain(`- Your client: ${said[0]}\n- Your client: ${said[1]}`);

    await req('POST', '/v1/end-call', { callSid: sid });
    await advanceUntil(t.clock, async () => ((await call(sid)).ended_at ? true : null), 500, 60_000);
  }, 120_000);
});
