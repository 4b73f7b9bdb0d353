/**
 * Supervisor commands, through the bus like every command: a line said on the call (cutting the agent off),
 * keys pressed, each stored as an override with who gave it (the key's fingerprint, never the key). The line
 * appears in the transcript, the SSE stream and the transcript webhook, and the overrides in `override_count`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/lib/clock.js';
import { TextStream } from '../../src/lib/text-stream.js';
import { hashKey } from '../../src/core/orgs.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { advanceUntil } from '../helpers/switchboard.js';
import { ScriptedBrain, engineHarness, type EngineHarness } from './session-harness.js';

const LINE = 'This is the supervisor. Please hold the table until eight.';
const LONG = 'Hi, I am calling on behalf of Alex Smith about a booking for two people on Tuesday evening at seven.';

const FIRST = 'The first sentence is said in full here.';
const SECOND = 'The second one gives way to the supervisor.';

// The agent starts a long sentence (or, streamed, two); the supervisor cuts in.
const brain = new ScriptedBrain((input, ctx) => {
  if (input.type !== 'speech' || !/how can i help/i.test(input.text)) return undefined;
  if (!/two sentences/.test(ctx.brief.task)) return [{ type: 'say', text: LONG }];
  const text = new TextStream();
  text.push(`${FIRST} ${SECOND}`);
  text.end();
  return [{ type: 'say', text }];
});

describe('supervisor commands', () => {
  let h: EngineHarness;
  let clock: VirtualClock;
  let rx: WebhookReceiver;
  beforeAll(async () => {
    rx = await startWebhookReceiver();
    clock = new VirtualClock(undefined, Infinity);
    h = await engineHarness(brain, {}, { clock });
  });
  afterAll(async () => {
    await h.close();
    await rx.close();
  });

  it('says a line and presses keys: transcript, SSE, webhook and override_count show them, with who gave them', async () => {
    const { t, headers } = h;
    const start = await t.sb.app.inject({
      method: 'POST',
      url: '/v1/start-call',
      headers,
      payload: { phone_number: '+15550100', task: 'Confirm my booking', language: 'en', webhook: rx.url, webhook_events: ['transcript_updated', 'call_completed'] },
    });
    const { sid } = start.json();
    const get = async () => (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
    const callId: string = (await get()).id;
    // The agent is in the middle of its sentence.
    await advanceUntil(clock, async () => h.events(callId).includes('agent: thinking -> speaking'), 500, 60_000);
    clock.advance(2000); // two seconds into it

    const bad = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/say`, headers, payload: { text: '' } });
    expect(bad.statusCode).toBe(400);
    const said = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/say`, headers, payload: { text: LINE } });
    expect(said.statusCode, said.body).toBe(200);
    expect(said.json()).toEqual({ success: true, callSid: sid });
    const heard = await advanceUntil(clock, async () => (await get()).transcripts.find((x: { role: string }) => x.role === 'supervisor'), 500, 60_000);
    expect(heard.text).toBe(LINE);
    const pressed = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/press`, headers, payload: { digits: '1#' } });
    expect(pressed.statusCode, pressed.body).toBe(200);
    expect((await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/press`, headers, payload: { digits: 'x' } })).statusCode).toBe(400);

    await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers, payload: { callSid: sid } });
    const c = await advanceUntil(clock, async () => {
      const v = await get();
      return v.ended_at ? v : null;
    }, 500, 60_000);
    const id = callId;

    // The agent was cut off: only what was heard of its sentence is kept, then the supervisor's line.
    const lines = c.transcripts.map((x: { role: string; text: string }) => `${x.role}: ${x.text}`);
    const cut = lines.find((l: string) => l.startsWith('assistant: Hi, I am calling'));
    expect(cut).toBeDefined();
    expect(cut).not.toBe(`assistant: ${LONG}`);
    expect(lines.indexOf(`supervisor: ${LINE}`)).toBeGreaterThan(lines.indexOf(cut));

    // Stored as overrides with who gave them (the key's fingerprint, never the key).
    const rows = await t.sb.store.db.selectFrom('call_events').select(['data']).where('call_id', '=', id).where('kind', '=', 'override').orderBy('seq').execute();
    const overrides = rows.map((r) => (typeof r.data === 'string' ? JSON.parse(r.data) : r.data));
    const by = `key:${hashKey(t.key).slice(0, 12)}`;
    expect(overrides).toEqual([
      { command: 'say', value: LINE, by },
      { command: 'press', value: '1#', keys: '1#', by },
    ]);

    // The SSE stream carries the line.
    const sse = await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}/transcripts/stream`, headers });
    expect(sse.body).toContain(JSON.stringify(LINE));
    expect(sse.body).toMatch(/"role":"supervisor"/);

    // The transcript webhook carries it.
    const hook = await advanceUntil(clock, async () =>
      rx.received.find((w) => w.json.event === 'transcript_updated' && JSON.stringify(w.json.data.transcripts).includes(LINE)),
    500, 60_000);
    expect(JSON.stringify(hook.json.data.transcripts)).toMatch(/"role":"supervisor"/);

    // override_count: the two supervisor commands of this (the only) call.
    const m = (await t.sb.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(/override_count_sum (\d+)/.exec(m)?.[1]).toBe('2');
  }, 180_000);

  it('a line sent with interrupt: false waits for the end of the sentence being said', async () => {
    const { t, headers } = h;
    const { sid } = (await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: '+15550100', task: 'Say two sentences', language: 'en' } })).json();
    const get = async () => (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
    const callId: string = (await get()).id;
    await advanceUntil(clock, async () => h.events(callId).includes('agent: thinking -> speaking'), 500, 60_000);
    clock.advance(1000); // a second into the first sentence
    const r = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/say`, headers, payload: { text: LINE, interrupt: false } });
    expect(r.statusCode, r.body).toBe(200);
    await advanceUntil(clock, async () => (await get()).transcripts.some((x: { role: string }) => x.role === 'supervisor'), 500, 60_000);
    await t.sb.app.inject({ method: 'POST', url: '/v1/end-call', headers, payload: { callSid: sid } });
    const c = await advanceUntil(clock, async () => {
      const v = await get();
      return v.ended_at ? v : null;
    }, 500, 60_000);
    const lines = c.transcripts.map((x: { role: string; text: string }) => `${x.role}: ${x.text}`);
    expect(lines.slice(1)).toEqual([`assistant: ${FIRST}`, `supervisor: ${LINE}`]);
  }, 180_000);

  it('refuses a line for a call that has ended (409-class error, nothing stored)', async () => {
    const { t, headers } = h;
    const calls = await t.sb.store.db.selectFrom('calls').select(['sid']).execute();
    const r = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${calls[0].sid}/say`, headers, payload: { text: 'Hello' } });
    expect(r.statusCode).toBeGreaterThanOrEqual(400);
    expect(r.statusCode).toBeLessThan(500);
  });
});
