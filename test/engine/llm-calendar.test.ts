/**
 * The LLM brain with the calendar tools, end to end: Switchboard configured with LLM_* against the fake
 * OpenAI server and with GOOGLE_* against the fake Google, a call to Smile Dental on the simulated network.
 * The scripted model checks both offered times with find_free_slots, reads the results (the tool messages
 * it is sent), books the free one with book_appointment and accepts it; the booking is in Google, in the
 * model's summary and in the webhook.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/lib/clock.js';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { startOpenAiChatFake, type OpenAiChatFake } from '../fakes/openai-chat.js';
import { startFakeGoogle, type FakeGoogle } from '../fakes/google/fake-google.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';

// Virtual time stands still while a model request is in flight (as in llm-flows.test.ts).
let clock: VirtualClock;
let modelUrl = '';
const realFetch = globalThis.fetch;
beforeAll(() => {
  globalThis.fetch = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!modelUrl || !url.startsWith(modelUrl)) return realFetch(input, init);
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

const WORDS: Record<string, string> = { '2026-01-06T10:00': 'Tuesday at 10 am', '2026-01-07T14:00': 'Wednesday at 2 pm' };
const SUMMARY = { summary: 'A dental check-up was booked.', goal_completed: true, extracted: {} };

/** What the scripted model does, given the conversation it is sent. */
function policy(body: any): { text?: string; toolCalls?: Array<{ name: string; arguments: Record<string, unknown> }> } {
  if (body?.response_format?.type === 'json_object') return { text: JSON.stringify(SUMMARY) };
  const msgs: any[] = body.messages;
  const last = msgs.at(-1);
  if (last.role === 'tool') {
    // Read every tool result since the model's last tool calls.
    const results: any[] = [];
    for (let i = msgs.length - 1; i >= 0 && msgs[i].role === 'tool'; i--) results.unshift(JSON.parse(msgs[i].content));
    const booked = results.find((r) => r.booked);
    if (booked) return { text: `${WORDS[booked.start.slice(0, 16)]} works for me, thank you.` };
    const free = results.find((r) => Array.isArray(r.free_slots) && r.free_slots.length > 0);
    if (free) return { toolCalls: [{ name: 'book_appointment', arguments: { start: free.free_slots[0].start.slice(0, 16), duration_minutes: 30, title: 'Dental check-up' } }] };
    return { text: 'None of those suit me, unfortunately. Do you have anything else?' };
  }
  const heard = typeof last.content === 'string' ? last.content : '';
  if (/How can I help you\?/.test(heard)) return { text: "Hi, I'd like to book a dental check-up for Alex Smith." };
  if (/take your name/.test(heard)) return { text: "It's Alex Smith." };
  if (/Which would suit you\?/.test(heard)) {
    return {
      toolCalls: Object.keys(WORDS).map((start) => ({
        name: 'find_free_slots',
        arguments: { from: start, to: start.replace(/T(\d\d):00/, 'T$1:30'), duration_minutes: 30 },
      })),
    };
  }
  if (/booked you in/.test(heard)) return { text: 'Perfect. Goodbye!', toolCalls: [{ name: 'end_call', arguments: { goal_completed: true, reason: 'task_completed' } }] };
  return { toolCalls: [{ name: 'wait', arguments: {} }] };
}

describe('the LLM agent books with the calendar tools', () => {
  let t: TestSwitchboard;
  let model: OpenAiChatFake;
  let google: FakeGoogle;
  let rx: WebhookReceiver;

  beforeAll(async () => {
    model = await startOpenAiChatFake();
    google = await startFakeGoogle();
    rx = await startWebhookReceiver();
    clock = new VirtualClock();
    modelUrl = model.url;
    model.script(policy as any);
    t = await startSwitchboard(
      BACKENDS[0],
      { SHUTDOWN_GRACE_SECONDS: '1', LLM_MODEL: 'gpt-fake', LLM_BASE_URL: model.url, LLM_API_KEY: 'sk-test', ...google.env },
      { clock },
    );
    const headers = { authorization: `Bearer ${t.key}` };
    const { auth_url } = (await t.sb.app.inject({ method: 'GET', url: '/auth/google/calendar?format=json', headers })).json();
    const back = new URL((await realFetch(auth_url, { redirect: 'manual' })).headers.get('location')!);
    expect((await t.sb.app.inject({ method: 'GET', url: back.pathname + back.search })).statusCode).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    await model.close();
    await google.close();
    await rx.close();
  });

  it('checks the offered times, books the free one in Stockholm time, and reports it', async () => {
    google.busy = [{ start: '2026-01-06T09:00:00Z', end: '2026-01-06T10:00:00Z' }]; // Tuesday 10–11 in Stockholm
    const r = await t.sb.app.inject({
      method: 'POST',
      url: '/v1/start-call',
      headers: { authorization: `Bearer ${t.key}` },
      payload: {
        phone_number: '+15550180',
        task: 'Book a dental check-up at Smile Dental',
        language: 'en',
        persona: { name: 'Alex Smith' },
        enable_calendar: true,
        calendar_permissions: { write: true },
        metadata: { time_zone: 'Europe/Stockholm' },
        webhook: rx.url,
      },
    });
    expect(r.statusCode, r.body).toBe(200);
    const sid = r.json().sid;
    const hook = await until(async () => rx.received.find((w) => w.json.event === 'call_completed' && w.json.sid === sid), 30_000, 'call_completed');

    // The model was offered the calendar tools, told the call's zone, and read the free/busy answers.
    const withTools = model.requests.find((q: any) => q.body?.tools)!;
    expect(withTools.body.tools.map((x: any) => x.function.name)).toEqual(expect.arrayContaining(['find_free_slots', 'book_appointment']));
    expect(withTools.body.messages[0].content).toMatch(/Europe\/Stockholm/);
    const toolMessages = model.requests.flatMap((q: any) => q.body?.messages ?? []).filter((m: any) => m.role === 'tool').map((m: any) => JSON.parse(m.content));
    expect(toolMessages).toContainEqual({ ok: true, time_zone: 'Europe/Stockholm', free_slots: [] });
    expect(toolMessages).toContainEqual({
      ok: true,
      time_zone: 'Europe/Stockholm',
      free_slots: [{ start: '2026-01-07T14:00:00+01:00', end: '2026-01-07T14:30:00+01:00' }],
    });

    const events = [...google.events.values()];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ summary: 'Dental check-up', start: { dateTime: '2026-01-07T14:00:00+01:00', timeZone: 'Europe/Stockholm' } });

    const data = hook.json.data;
    expect(data.transcripts.map((s: any) => s.content).join('\n')).toMatch(/booked you in for Wednesday at 2 pm/i);
    expect(data.summary).toEqual({ goal_completed: true, text: 'A dental check-up was booked. Booked "Dental check-up" for 2026-01-07 14:00 (Europe/Stockholm).' });
    expect(data.extracted.calendar_bookings).toEqual([expect.objectContaining({ event_id: events[0].id, status: 'booked', start: '2026-01-07T14:00:00+01:00' })]);
  });
});
