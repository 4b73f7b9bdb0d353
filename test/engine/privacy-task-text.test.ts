/**
 * A task text carrying a personnummer (and a card number): the numbers reach no model request, no log line,
 * no transcript and no voicemail. The agent types the personnummer on the keypad when the share policy
 * allows it (the model names the field, Switchboard types the digits) and never on an answering machine.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/lib/clock.js';
import { createLogger } from '../../src/lib/logger.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startOpenAiChatFake, type OpenAiChatFake } from '../fakes/openai-chat.js';

const PNR = '19900101-0017';
const SECRETS = ['19900101-0017', '199001010017', '9001010017', '900101-0017', '4111 1111 1111 1111', '4111111111111111'];
const TASK = `Check whether my prescription is ready to pick up. My personnummer is ${PNR}; pay with card 4111 1111 1111 1111 if asked.`;

function logSink(lines: string[]) {
  return new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
}

function lastHeard(body: any): string | null {
  const last = body?.messages?.at(-1);
  return last?.role === 'user' && typeof last.content === 'string' ? last.content : null;
}

const clocks = new Map<string, VirtualClock>();
const realFetch = globalThis.fetch;
beforeAll(() => {
  // Virtual time stands still while a model request is in flight (as in llm-flows.test.ts).
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const clock = [...clocks].find(([prefix]) => url.startsWith(prefix))?.[1];
    if (!clock) return realFetch(input, init);
    return clock.hold(
      (async () => {
        const res = await realFetch(input, init);
        const body = await res.arrayBuffer();
        return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      })(),
    );
  }) as typeof fetch;
});
afterAll(() => {
  globalThis.fetch = realFetch;
});

describe('personal data in the task text, with a model', () => {
  const lines: string[] = [];
  let t: TestSwitchboard;
  let fake: OpenAiChatFake;
  let headers: Record<string, string>;
  const pressed: string[] = [];

  beforeAll(async () => {
    fake = await startOpenAiChatFake();
    const clock = new VirtualClock();
    clocks.set(fake.url, clock);
    fake.script(((body: any) => {
      if (body?.response_format?.type === 'json_object') return { text: JSON.stringify({ summary: 'Checked the prescription.', goal_completed: true, extracted: {} }) };
      const tools: string[] = (body.tools ?? []).map((x: any) => x.function?.name);
      const keypadEnum: string[] = body.tools?.find((x: any) => x.function?.name === 'enter_on_keypad')?.function.parameters.properties.field.enum ?? [];
      const heard = lastHeard(body) ?? '';
      const tool = (name: string, args: object = {}) => ({ name, arguments: args });
      if (/To check on a prescription, press 1/.test(heard)) return { toolCalls: [tool('press_keys', { digits: '1' })] };
      if (/enter your personal identity number/.test(heard) && tools.includes('enter_on_keypad')) {
        pressed.push(...keypadEnum);
        return { toolCalls: [tool('enter_on_keypad', { field: keypadEnum[0] }), tool('press_keys', { digits: '#' })] };
      }
      if (/answering machine/.test(heard)) return { text: 'Hi Maria, this is an assistant calling about your prescription. Goodbye.' };
      if (/this is Lena/.test(heard)) return { text: 'Hi, is my prescription ready?', toolCalls: [tool('mark_human_answered')] };
      if (/prescription is ready/.test(heard)) return { text: 'Thank you, goodbye!', toolCalls: [tool('end_call', { goal_completed: true, reason: 'task_completed' })] };
      if (/saved/.test(heard)) return { toolCalls: [tool('end_call', { goal_completed: false, reason: 'voicemail' })] };
      return { toolCalls: [tool('wait')] };
    }) as any);
    t = await startSwitchboard(
      BACKENDS[0],
      { SHUTDOWN_GRACE_SECONDS: '1', LOG_LEVEL: 'trace', LLM_PROVIDER: 'openai', LLM_MODE: 'tools', LLM_MODEL: 'gpt-fake', LLM_BASE_URL: fake.url, LLM_API_KEY: 'sk-test' },
      { clock, log: createLogger('trace', logSink(lines)) },
    );
    headers = { authorization: `Bearer ${t.key}` };
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    clocks.delete(fake.url);
  });

  const get = async (sid: string) => (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
  async function call(payload: Record<string, unknown>) {
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload });
    expect(r.statusCode, r.body).toBe(200);
    const sid = r.json().sid as string;
    return until(async () => {
      const c = await get(sid);
      return c.ended_at ? c : null;
    }, 30_000, 'the call to end');
  }
  const commands = async (callId: string) =>
    (await t.sb.store.db.selectFrom('call_events').select('data').where('call_id', '=', callId).where('kind', '=', 'command').orderBy('seq').execute()).map(
      (r) => r.data as { command: string; value: string | null },
    );

  it('types the personnummer written in the task on the keypad, and it reaches no model request, log or transcript', async () => {
    const from = fake.requests.length;
    const c = await call({ phone_number: '+15550105', task: TASK, language: 'en', share_policy: { pnr_dtmf: true } });
    expect(c.status).toBe('completed');
    // The menu took the 12 digits typed for the model's field (it answers "Thank you." only to a whole entry).
    expect(pressed[0]).toBe('task_identity_number_1');
    expect(c.transcripts.map((x: any) => x.text)).toContain('Thank you.');
    expect(await commands(c.id)).toContainEqual(expect.objectContaining({ command: 'press_field', value: 'task_identity_number_1' }));

    const reqs = fake.requests.slice(from);
    expect(reqs.length).toBeGreaterThan(3);
    const wire = JSON.stringify(reqs.map((r) => r.body));
    expect(wire).toContain('[personal identity number 1]'); // the model knows there is one, not what it is
    expect(wire).toContain('[card number 1]');
    const log = lines.join('');
    expect(log.length).toBeGreaterThan(1000);
    const stored = JSON.stringify(c.transcripts) + JSON.stringify(c.summary);
    for (const secret of SECRETS) {
      expect(wire, `model request contains ${secret}`).not.toContain(secret);
      expect(log, `log contains ${secret}`).not.toContain(secret);
      expect(stored, `transcript contains ${secret}`).not.toContain(secret);
    }
  });

  it('never types it into a voicemail, and the message left says none of it', async () => {
    const from = fake.requests.length;
    const c = await call({ phone_number: '+15550104', task: TASK, language: 'en', share_policy: { pnr_dtmf: true } });
    expect(c.answered_by).toBe('machine');
    expect((await commands(c.id)).map((x) => x.command)).not.toContain('press_field');
    const reqs = fake.requests.slice(from);
    // The message is written without a keypad tool (the engine refuses the keypad on a machine anyway:
    // call-session.keypad.test.ts), and from the task with its numbers withheld.
    const message = reqs.find((r) => /answering machine/.test(JSON.stringify(r.body.messages)))!;
    expect(message.body.tools).toBeUndefined();
    expect(JSON.stringify(c.transcripts)).toContain('calling about your prescription');
    const said = JSON.stringify(c.transcripts);
    for (const secret of SECRETS) expect(said).not.toContain(secret);
  });
});

describe('personal data in the task text, offline (the rules brain)', () => {
  const lines: string[] = [];
  let t: TestSwitchboard;
  beforeAll(async () => {
    t = await startSwitchboard(BACKENDS[0], { SHUTDOWN_GRACE_SECONDS: '1', LOG_LEVEL: 'trace' }, { log: createLogger('trace', logSink(lines)) });
  });
  afterAll(() => t?.close());

  it('leaves a voicemail that names neither the personnummer nor the card', async () => {
    const headers = { authorization: `Bearer ${t.key}` };
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550104', task: `Tell Maria her personnummer ${PNR} and card 4111 1111 1111 1111 are registered`, language: 'en', share_policy: { pnr_dtmf: true } } });
    expect(r.statusCode, r.body).toBe(200);
    const c = await until(async () => {
      const v = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${r.json().sid}`, headers })).json();
      return v.ended_at ? v : null;
    }, 30_000, 'the call to end');
    expect(c.outcome).toBe('voicemail');
    const message = c.transcripts.filter((x: any) => x.role === 'assistant').map((x: any) => x.text).join(' ');
    expect(message).toMatch(/registered/); // a message was left
    for (const secret of SECRETS) {
      expect(message).not.toContain(secret);
      expect(lines.join('')).not.toContain(secret);
    }
  });
});
