/**
 * A callee who cannot follow the call's language: the model switches the call to theirs (its
 * `switch_language` tool), ConversationRelay is told with its `language` message (Twilio's voice and
 * recognition follow), and from then on the agent's text goes out tagged with the new language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../helpers/switchboard.js';
import { BACKENDS } from '../helpers/backends.js';
import { FakeTwilio } from '../fakes/twilio/fake-twilio.js';
import { startOpenAiChatFake, type OpenAiChatFake } from '../fakes/openai-chat.js';
import { startTwilioSwitchboard, v1Calls, type TwilioSwitchboard } from './twilio-harness.js';

const ACCOUNT = 'AC' + 'abcdef0123456789'.repeat(2);
const TOKEN = 'test-auth-token-language-0123';
const SPANISH = '+15551250001';

function lastHeard(body: any): string {
  const last = body?.messages?.at(-1);
  return last?.role === 'user' && typeof last.content === 'string' ? last.content : '';
}

describe('switching the language of a Twilio call (ConversationRelay `language`)', () => {
  let fake: FakeTwilio;
  let llm: OpenAiChatFake;
  let s: TwilioSwitchboard;
  const { start, ended } = v1Calls(() => s.t);

  beforeAll(async () => {
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      [SPANISH]: {
        outcome: 'answer',
        greeting: '¿Diga? Perdone, no hablo inglés.',
        reply: (_turn, n) => (n === 0 ? 'Sí, la reserva del martes está confirmada. Adiós.' : null),
      },
    });
    await fake.start();
    llm = await startOpenAiChatFake();
    llm.script(((body: any) => {
      if (body?.response_format?.type === 'json_object') return { text: JSON.stringify({ summary: 'Booking confirmed in Spanish.', goal_completed: true, extracted: {} }) };
      const heard = lastHeard(body);
      const system = String(body.messages?.[0]?.content ?? '');
      if (/no hablo inglés/.test(heard)) return { toolCalls: [{ name: 'switch_language', arguments: { language: 'es' } }] };
      // After the switch the prompt says the call is in Spanish.
      if (body.messages?.at(-1)?.role === 'tool' && /The call is in Spanish/.test(system)) {
        return { text: 'Buenas tardes, llamo para confirmar la reserva del martes a nombre de John Smith.' };
      }
      if (/confirmada/.test(heard)) return { text: 'Muchas gracias, adiós.', toolCalls: [{ name: 'end_call', arguments: { goal_completed: true, reason: 'task_completed' } }] };
      return { toolCalls: [{ name: 'wait', arguments: {} }] };
    }) as any);
    s = await startTwilioSwitchboard(fake, BACKENDS[0], { LLM_PROVIDER: 'openai', LLM_MODE: 'tools', LLM_MODEL: 'gpt-fake', LLM_BASE_URL: llm.url, LLM_API_KEY: 'sk-test' });
  }, 30_000);
  afterAll(async () => {
    await s?.t.close();
    await fake?.close();
    await llm?.close();
  });

  it('the model switches to Spanish: Twilio gets `language`, and the following text tokens carry es-ES', async () => {
    const sid = await start(SPANISH, { task: 'Confirm the booking for Tuesday', persona: { name: 'John Smith' } });
    const c = await ended(sid);
    const fc = [...fake.calls.values()].find((f) => f.to === SPANISH)!;
    await until(async () => (fc.relayIn.length ? true : null), 5_000, 'relay messages');
    const i = fc.relayIn.findIndex((m) => m.type === 'language');
    expect(fc.relayIn[i]).toEqual({ type: 'language', ttsLanguage: 'es-ES', transcriptionLanguage: 'es-ES' });
    const textsAfter = fc.relayIn.slice(i + 1).filter((m) => m.type === 'text');
    expect(textsAfter.length).toBeGreaterThan(0);
    expect(textsAfter.every((m) => m.lang === 'es-ES')).toBe(true);
    expect(fc.relayIn.slice(0, i).some((m) => m.type === 'text')).toBe(false);
    expect(fc.agentTurns[0]).toMatch(/Buenas tardes/);
    expect(c.status).toBe('completed');
    expect(c.transcripts.some((x: any) => x.role === 'user' && /confirmada/.test(x.text))).toBe(true);
  }, 30_000);
});
