/**
 * The LLM brain end to end through the /v1 API: Switchboard configured with LLM_* against the fake model
 * servers, calls placed on the simulated network. Each flow is one small scripted "policy" (what the fake
 * model does given what the callee said last), run three ways: OpenAI tools, OpenAI inline commands, and
 * Anthropic tools. Flows: a phone menu navigated by keypad with the personal identity number typed (never
 * seen by the model, the transcript or the webhook), an automatic transfer when a person answers,
 * max_queue_time, a barge-in that cuts a reply short, and a question to the operator answered through the API.
 *
 * Virtual time stands still while a model request is in flight (the fetch to the fake is held on the
 * clock), so the simulated phone menus never run ahead of the model: the flows are deterministic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/lib/clock.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startOpenAiChatFake, type OpenAiChatFake } from '../fakes/openai-chat.js';
import { startAnthropicFake, type AnthropicFake } from '../fakes/anthropic.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { unawaited } from '../helpers/unawaited.js';

const backend = BACKENDS[0];

interface Cfg {
  name: string;
  provider: 'openai' | 'anthropic';
  mode: 'tools' | 'inline';
}
const CONFIGS: Cfg[] = [
  { name: 'openai + tools', provider: 'openai', mode: 'tools' },
  { name: 'openai + inline commands', provider: 'openai', mode: 'inline' },
  { name: 'anthropic + tools', provider: 'anthropic', mode: 'tools' },
];

// ---- holding virtual time during model requests -------------------------------------------------

const clocks = new Map<string, VirtualClock>();
const realFetch = globalThis.fetch;
beforeAll(() => {
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const clock = [...clocks].find(([prefix]) => url.startsWith(prefix))?.[1];
    if (!clock) return realFetch(input, init);
    // The fake answers at once; reading the whole reply inside the hold keeps the call's time still meanwhile.
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

// ---- what the model sees, and how it answers ----------------------------------------------------

type ToolUse = { name: string; args?: Record<string, unknown> };
/** One decision of the scripted model: words to say and tools to use (in that order). */
type Decision = { say?: string; tools?: ToolUse[] };
/** What the fake model does, given the last thing the callee said (`null`: the last message is not the callee's). */
type Policy = (heard: string | null, body: any) => Decision;

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.filter((b: any) => b?.type === 'text').map((b: any) => b.text).join('\n');
  return '';
}

/** The text of the last message when it is the callee's side (a user message with text), else null. */
function lastHeard(body: any): string | null {
  const last = body?.messages?.at(-1);
  if (!last || last.role !== 'user') return null;
  return textOf(last.content) || null;
}

function isSummaryRequest(body: any): boolean {
  return body?.response_format?.type === 'json_object' || (typeof body?.system === 'string' && /one JSON object/.test(body.system) && !body.tools && /summarise phone calls/.test(body.system));
}

function inlineOf(t: ToolUse): string {
  const a = t.args ?? {};
  switch (t.name) {
    case 'press_keys':
      return `[[press:${a.digits}]]`;
    case 'enter_on_keypad':
      return `[[keypad:${a.field}]]`;
    case 'transfer_call':
      return '[[transfer]]';
    case 'end_call':
      return a.goal_completed ? '[[end_call:completed]]' : `[[end_call:${a.reason ?? 'not_completed'}]]`;
    case 'ask_operator':
      return `[[request_user:${a.question}]]`;
    case 'wait':
      return '[[wait]]';
    case 'mark_human_answered':
      return '[[human]]';
    default:
      throw new Error(`no inline command for ${t.name}`);
  }
}

function reply(cfg: Cfg, d: Decision) {
  if (cfg.mode === 'inline') return { text: [d.say, ...(d.tools ?? []).map(inlineOf)].filter(Boolean).join(' ') };
  return { text: d.say, toolCalls: (d.tools ?? []).map((t) => ({ name: t.name, arguments: t.args ?? {} })) };
}

const WAIT: Decision = { tools: [{ name: 'wait' }] };
const NOBODY_YET = /nobody has said anything yet/;

interface Flow {
  policy: Policy;
  /** The model's JSON summary after the call. */
  summary: { summary: string; goal_completed: boolean; extracted: Record<string, unknown> };
}

// ---- the flows -----------------------------------------------------------------------------------

const PNR = '19800101-1234';
const PNR_DIGITS = '198001011234';
const PHONE = '+46701112233';

const pharmacy: Flow = {
  policy: (heard) => {
    if (heard === null || NOBODY_YET.test(heard)) return WAIT;
    if (/To check on a prescription, press 1/.test(heard)) return { tools: [{ name: 'press_keys', args: { digits: '1' } }] };
    if (/enter your personal identity number/.test(heard)) {
      return { tools: [{ name: 'enter_on_keypad', args: { field: 'personal_security_number' } }, { name: 'press_keys', args: { digits: '#' } }] };
    }
    if (/this is Lena/.test(heard)) {
      return { say: "Hi, I'm calling on behalf of Anna Berg to check whether her prescription is ready.", tools: [{ name: 'mark_human_answered' }] };
    }
    if (/prescription is ready/.test(heard)) {
      return { say: 'Wonderful, thank you very much. Goodbye!', tools: [{ name: 'end_call', args: { goal_completed: true, reason: 'task_completed' } }] };
    }
    return WAIT;
  },
  summary: {
    summary: "The pharmacist confirmed that Anna Berg's prescription is ready to pick up today at two pm.",
    goal_completed: true,
    extracted: { prescription_ready: true, pickup_time: 'today at two pm' },
  },
};

/** Northside Clinic: 1 (appointments), 1 (book), hold, then Sam. */
const clinic = (onPerson: Decision): Flow => ({
  policy: (heard) => {
    if (heard === null || NOBODY_YET.test(heard)) return WAIT;
    if (/For appointments, press 1/.test(heard)) return { tools: [{ name: 'press_keys', args: { digits: '1' } }] };
    if (/To book a new appointment, press 1/.test(heard)) return { tools: [{ name: 'press_keys', args: { digits: '1' } }] };
    if (/this is Sam/.test(heard)) return onPerson;
    return WAIT;
  },
  summary: { summary: 'The clinic was reached.', goal_completed: false, extracted: {} },
});

const LONG =
  'Hello there, my name is Alex and I am an assistant calling on behalf of my client, who would very much like to ' +
  'book an appointment with one of your doctors sometime later this week, preferably in the morning if that suits you';
const bargeIn: Flow = {
  policy: (heard) => {
    if (heard !== null && NOBODY_YET.test(heard)) return { say: `${LONG}.` };
    if (heard !== null && /For appointments, press 1/.test(heard)) {
      return { say: 'Sorry, wrong number. Goodbye.', tools: [{ name: 'end_call', args: { goal_completed: false, reason: 'wrong_number' } }] };
    }
    return WAIT;
  },
  summary: { summary: 'The agent hung up at the phone menu.', goal_completed: false, extracted: {} },
};

const QUESTION = 'Which day should I move the booking to?';
const operator = (onAsked: () => void): Flow => ({
  policy: (heard) => {
    if (heard === null || NOBODY_YET.test(heard)) return WAIT;
    const answered = /Your client answered your question "[^"]*": (.+?)\]/.exec(heard);
    if (answered) return { say: `I'd like to move my booking to ${answered[1]}. The booking reference is AB123.` };
    if (/How can I help you\?/.test(heard)) {
      onAsked();
      return { tools: [{ name: 'ask_operator', args: { question: QUESTION } }] };
    }
    if (/What name is the booking under/.test(heard)) return { say: "It's Alex Smith." };
    if (/moved your booking/.test(heard)) {
      return { say: 'Perfect, thank you. Goodbye!', tools: [{ name: 'end_call', args: { goal_completed: true, reason: 'task_completed' } }] };
    }
    return WAIT;
  },
  summary: { summary: 'The booking was moved.', goal_completed: true, extracted: { new_time: 'Friday at 8 pm' } },
});

// ---- the suite -------------------------------------------------------------------------------------

describe.each(CONFIGS)('LLM flows through the /v1 API [$name]', (cfg) => {
  let t: TestSwitchboard;
  let fake: OpenAiChatFake | AnthropicFake;
  let rx: WebhookReceiver;
  let headers: Record<string, string>;
  let flow: Flow = pharmacy;

  beforeAll(async () => {
    fake = cfg.provider === 'openai' ? await startOpenAiChatFake() : await startAnthropicFake();
    rx = await startWebhookReceiver();
    const clock = new VirtualClock();
    clocks.set(fake.url, clock);
    fake.script(((body: any) => {
      if (isSummaryRequest(body)) return { text: JSON.stringify(flow.summary) };
      return reply(cfg, flow.policy(lastHeard(body), body));
    }) as any);
    t = await startSwitchboard(
      backend,
      {
        SHUTDOWN_GRACE_SECONDS: '1',
        OPERATOR_ANSWER_TIMEOUT_SECONDS: '60',
        LLM_PROVIDER: cfg.provider,
        LLM_MODE: cfg.mode,
        LLM_MODEL: cfg.provider === 'openai' ? 'gpt-fake' : 'claude-fake',
        LLM_BASE_URL: fake.url,
        LLM_API_KEY: 'sk-test',
      },
      { clock },
    );
    headers = { authorization: `Bearer ${t.key}` };
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
    await rx.close();
    clocks.delete(fake.url);
  });

  const get = async (sid: string) => (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
  async function start(payload: Record<string, unknown>): Promise<string> {
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload });
    expect(r.statusCode, r.body).toBe(200);
    return r.json().sid;
  }
  const ended = (sid: string) =>
    until(async () => {
      const c = await get(sid);
      return c.ended_at ? c : null;
    }, 20_000, 'the call to end');
  async function commands(callId: string) {
    // A supervisor's command (the operator's answer) is stored as an override, read back as a command.
    const rows = await t.sb.store.db.selectFrom('call_events').select('data').where('call_id', '=', callId).where('kind', 'in', ['command', 'override']).orderBy('seq').execute();
    return rows.map((r) => (typeof r.data === 'string' ? JSON.parse(r.data) : r.data) as { command: string; value?: string | null });
  }
  const texts = (c: any, role?: string) => (c.transcripts as any[]).filter((x) => !role || x.role === role).map((x) => x.text as string);

  it('navigates the pharmacy menu by keypad and types the personal identity number without the model ever seeing it', async () => {
    flow = pharmacy;
    const from = fake.requests.length;
    const sid = await start({
      phone_number: '+15550105',
      task: 'Check whether my prescription is ready to pick up',
      language: 'en',
      persona: { name: 'Anna Berg', personal_security_number: PNR, phone: PHONE },
      share_policy: { pnr_voice: false, pnr_dtmf: true, phone_voice: false, phone_dtmf: true },
      webhook: rx.url,
      webhook_events: ['call_completed'],
    });
    const c = await ended(sid);
    expect(c.status).toBe('completed');
    expect(c.outcome).toBe('goal_completed');
    expect(c.end_reason).toBe('task_completed');
    expect(c.summary.goal_completed).toBe(true);

    const cmds = await commands(c.id);
    expect(cmds.filter((x) => x.command === 'press').map((x) => x.value)).toEqual(['1', '#']);
    expect(cmds).toContainEqual(expect.objectContaining({ command: 'press_field', value: 'personal_security_number' }));
    expect(cmds.map((x) => x.command)).toContain('human_answered');
    expect(texts(c, 'assistant')).toContain('[entered personal identity number by keypad]');
    expect(texts(c)).toContain('Thank you.'); // the menu took the entry
    expect(texts(c).some((x) => /prescription is ready/.test(x))).toBe(true);

    // The summary and the extracted data are the model's.
    expect(c.summary.text).toBe(pharmacy.summary.summary);
    expect(c.extracted).toEqual(pharmacy.summary.extracted);
    // Per-turn latency figures.
    expect(c.latency.turns).toBeGreaterThan(0);
    expect(typeof c.latency.gpt_first_token_ms.p50).toBe('number');

    // Privacy: the digits reach neither the model, nor the transcript, nor the webhook; the phone number is not in any prompt.
    const reqs = fake.requests.slice(from);
    expect(reqs.length).toBeGreaterThan(3);
    const wire = JSON.stringify(reqs.map((r) => r.body));
    for (const secret of [PNR, PNR_DIGITS, PNR_DIGITS.slice(2)]) {
      expect(wire).not.toContain(secret);
      expect(JSON.stringify(c.transcripts)).not.toContain(secret);
    }
    for (const r of reqs) {
      const system = cfg.provider === 'anthropic' ? JSON.stringify(r.body.system ?? '') : JSON.stringify(r.body.messages.filter((m: any) => m.role === 'system'));
      expect(system).not.toContain(PHONE);
      expect(system).not.toContain(PHONE.slice(1));
    }
    expect(wire).not.toContain(PHONE.slice(1));
    const hook = await until(async () => rx.received.find((w) => w.rawBody.includes(sid)), 10_000, 'the call_completed webhook');
    for (const secret of [PNR, PNR_DIGITS, PNR_DIGITS.slice(2)]) expect(hook.rawBody).not.toContain(secret);
  });

  it('transfers automatically to transfer_number once the model marks that a person answered', async () => {
    flow = clinic({ say: "Hello Sam, one moment please, I'll connect you.", tools: [{ name: 'mark_human_answered' }] });
    const sid = await start({ phone_number: '+15550101', task: 'Book an appointment with a doctor', language: 'en', transfer_number: '+15550100' });
    const c = await ended(sid);
    expect(c.status).toBe('completed');
    expect(c.outcome).toBe('transferred');
    expect(c.end_reason).toBe('auto_transfer');
    const cmds = await commands(c.id);
    expect(cmds.filter((x) => x.command === 'press').map((x) => x.value)).toEqual(['1', '1']);
    const names = cmds.map((x) => x.command);
    expect(names).toContain('human_answered');
    expect(names.indexOf('human_answered')).toBeLessThan(names.indexOf('transfer'));
    expect(cmds.find((x) => x.command === 'transfer')?.value).toBe('cold +15550100');
  });

  it('ends with queue_timeout when nobody answers within max_queue_time', async () => {
    flow = clinic({ say: 'Hello.', tools: [{ name: 'mark_human_answered' }] });
    const sid = await start({ phone_number: '+15550101', task: 'Book an appointment with a doctor', language: 'en', max_queue_time: 40 });
    const c = await ended(sid);
    expect(c.status).toBe('completed');
    expect(c.end_reason).toBe('queue_timeout');
    expect(c.summary.goal_completed).toBe(false);
    const cmds = await commands(c.id);
    expect(cmds.map((x) => x.command)).not.toContain('human_answered');
    expect(cmds.filter((x) => x.command === 'press').map((x) => x.value)).toEqual(['1', '1']);
    expect(texts(c, 'user').some((x) => /Please hold while we connect you/.test(x))).toBe(true); // it was in the queue
    expect(texts(c, 'user').some((x) => /this is Sam/.test(x))).toBe(false);
  });

  it('a phone-menu prompt barging in cuts the reply short: the transcript keeps only what was heard', async () => {
    flow = bargeIn;
    const sid = await start({ phone_number: '+15550101', task: 'Book an appointment with a doctor', language: 'en' });
    const c = await ended(sid);
    const agent = texts(c, 'assistant');
    const cut = agent.find((x) => x.startsWith('Hello there'));
    expect(cut, JSON.stringify(agent)).toBeDefined();
    expect(cut!.length).toBeGreaterThan(0);
    expect(cut!.length).toBeLessThan(LONG.length);
    expect(LONG.startsWith(cut!)).toBe(true);
    expect(agent).not.toContain(`${LONG}.`);
    expect(c.end_reason).toBe('wrong_number');
    // The model is later told only what was heard.
    const wire = JSON.stringify(fake.requests.map((q) => q.body));
    expect(wire).toContain(cut!);
    expect(wire).not.toContain(LONG);
  });

  it('asks the operator; the question shows on the call, the answer comes through the API and the agent uses it', async () => {
    // Virtual time stands still from the question until the answer reaches the model (the client answers at once).
    let release!: () => void;
    const answered = new Promise<void>((r) => (release = r));
    let holding = false;
    flow = operator(() => {
      if (holding) return;
      holding = true;
      unawaited(t.clock.hold(answered));
    });
    const from = fake.requests.length;
    const sid = await start({ phone_number: '+15550100', task: 'Move my dinner booking', language: 'en', persona: { name: 'Alex Smith' } });
    const pending = await until(async () => (await get(sid)).operator_question, 15_000, 'the operator question');
    expect(pending.question).toBe(QUESTION);
    const r = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/operator-answer`, headers, payload: { answer: 'Friday at 8 pm' } });
    expect(r.statusCode, r.body).toBe(200);
    await until(async () => fake.requests.slice(from).some((q) => JSON.stringify(q.body).includes('Friday at 8 pm')), 10_000, 'the answer to reach the model');
    release();
    const c = await ended(sid);
    expect(c.operator_question).toBeNull();
    expect(texts(c, 'assistant')).toContain("I'd like to move my booking to Friday at 8 pm.");
    expect(texts(c, 'user').some((x) => /moved your booking to Friday at 8 pm/.test(x))).toBe(true);
    expect(c.outcome).toBe('goal_completed');
    const names = (await commands(c.id)).map((x) => x.command);
    expect(names).toEqual(expect.arrayContaining(['ask_operator', 'operator_answer', 'end_call']));
  });

  it('a call the callee ends after the task is done takes its verdict from the model summary, consistently', async () => {
    // The agent says goodbye without ending the call; the receptionist hangs up.
    const base = operator(() => {});
    flow = {
      ...base,
      policy: (heard, body) => {
        if (heard !== null && /How can I help you\?/.test(heard)) return { say: "Hi, I'd like to move my booking to Friday at 8 pm. The booking reference is AB123." };
        if (heard !== null && /moved your booking/.test(heard)) return { say: 'Perfect, thank you. Goodbye!' };
        return base.policy(heard, body);
      },
    };
    const sid = await start({ phone_number: '+15550100', task: 'Move my dinner booking', language: 'en', persona: { name: 'Alex Smith' } });
    const c = await ended(sid);
    expect(c.end_reason).toBe('callee_hung_up');
    expect(c.summary.goal_completed).toBe(true);
    expect(c.outcome).toBe('goal_completed');
  });

  it('exposes the turn and call metrics', async () => {
    const m = await t.sb.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.statusCode).toBe(200);
    expect(m.body).toContain('gpt_first_token_ms_bucket');
    expect(m.body).toContain('call_duration_seconds_count');
  });
});
