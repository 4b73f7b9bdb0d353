/**
 * Transfers of calls in audio mode over Twilio Media Streams, against the fake Twilio: the call's TwiML is
 * `<Connect><Stream>`, and the redirect of the callee's leg stops that stream (the agent leaving, not the
 * callee hanging up). The cascaded pipeline runs with speech doubles (a scripted speech-to-text, a
 * text-to-speech of one frame per character: test/engine/voice/doubles.ts) and the offline rules brain;
 * the speech-to-speech calls run against the fake OpenAI Realtime server.
 *
 * - cold (the rules brain hands over once a person answers, with `transfer_number`): `<Dial callerId>` on the
 *   callee's leg, the destination bridged, the call `completed` / `transferred`, the transcript and the
 *   `call_completed` webhook say so;
 * - warm (the API, while the agent's clause is still being played): the destination is briefed on its own
 *   relay leg and put in the room, and the callee's leg follows only once the clause has been heard (no
 *   `clear`, the whole clause in the transcript);
 * - warm to a busy destination: the callee's leg is untouched and the agent goes on on the audio pipeline;
 * - cold from the Realtime activity's `transfer_call`, after its reply was heard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { until, type TestSwitchboard } from '../helpers/switchboard.js';
import { FROM, startTwilioSwitchboard, v1Calls } from './twilio-harness.js';
import { FakeTwilio, type FakeCall, type FakeCallee } from '../fakes/twilio/fake-twilio.js';
import type { FakeMediaStreamClient } from '../fakes/twilio/media-stream-client.js';
import { FakeOpenAIRealtime, tone } from '../fakes/openai-realtime/fake-openai-realtime.js';
import { startWebhookReceiver, type WebhookReceiver } from '../fakes/webhook-receiver.js';
import { FrameTts, ScriptedStt, type ScriptedSttStream } from '../engine/voice/doubles.js';
import { DEFAULT_TURN_TAKING } from '../../src/engine/voice/interruptions.js';
import type { CallSpeech } from '../../src/engine/voice/speech.js';
import type { TwilioCarrier } from '../../src/carriers/twilio/twilio-carrier.js';

const ACCOUNT = 'AC' + '13579bdf02468ace'.repeat(2);
const TOKEN = 'test-auth-token-transfer-audio-01';
/** Made by scripts/make-audio-fixtures.sh (espeak-ng μ-law 8 kHz). */
const GREETING = readFileSync(new URL('../fixtures/audio/greeting.ulaw', import.meta.url));

const CLINIC = '+15551260001';
const PATIENT = '+15551260002';
const PATIENT_2 = '+15551260003';
const ANNA = '+15551260004';
const FRONT_DESK = '+15551260100';
const MARIA = '+15551260200';
const BUSY_DESK = '+15551260300';

const onTheLine: FakeCallee = { outcome: 'answer' };

type Row = { role: string; text: string };
const lines = (c: { transcripts: Row[] }) => c.transcripts.map((x) => `${x.role}: ${x.text}`);

describe('transfers of cascaded audio calls over Twilio Media Streams', () => {
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  let rx: WebhookReceiver;
  const stt = new ScriptedStt();
  const tts = new FrameTts();
  const speech: CallSpeech = {
    stt: () => stt,
    tts: { espeak: tts },
    voiceFor: () => ({ provider: 'espeak', voice: 'en-us' }),
    turnTakingFor: () => DEFAULT_TURN_TAKING,
    // Every call in audio mode, though espeak-ng is a voice ConversationRelay would never be moved off for.
    preferAudio: true,
  };

  beforeAll(async () => {
    rx = await startWebhookReceiver();
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      [CLINIC]: onTheLine,
      [PATIENT]: { outcome: 'answer', holdMarks: true },
      [PATIENT_2]: onTheLine,
      [FRONT_DESK]: { outcome: 'answer' },
      [MARIA]: { outcome: 'answer', greeting: 'Maria here.', reply: () => 'Sure, put them through.' },
      [BUSY_DESK]: { outcome: 'busy' },
    });
    await fake.start();
    let carrier: TwilioCarrier;
    ({ t, carrier } = await startTwilioSwitchboard(fake, undefined, {}, { speech }));
    carrier.opts.streamReattachMs = 300;
    carrier.opts.streamEndedFallbackMs = 300;
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    await rx?.close();
  });

  const { start, get, ended, headers } = v1Calls(() => t);
  const fakeCall = (to: string) => until(async () => [...fake.calls.values()].filter((c) => c.to === to).at(-1) ?? null, 10_000, `a call to ${to}`);
  const stream = (fc: FakeCall, n = 0) => until(async () => fc.streams?.[n] ?? null, 10_000, `media stream ${n + 1}`);
  const commands = async (callId: string) =>
    (await t.sb.store.db.selectFrom('call_events').select('data').where('call_id', '=', callId).where('kind', '=', 'command').orderBy('seq').execute()).map(
      (e) => e.data as { command: string; value?: string },
    );
  /** Starts a call and returns it with its speech-to-text stream (the call's ears: the test says what it hears). */
  async function startAudioCall(to: string, body: Record<string, unknown>): Promise<{ sid: string; fc: FakeCall; ears: ScriptedSttStream }> {
    const before = stt.streams.length;
    const sid = await start(to, body);
    const fc = await fakeCall(to);
    const ears = await until(async () => stt.streams[before] ?? null, 10_000, 'the call listening');
    return { sid, fc, ears };
  }
  const transfer = (sid: string, destination: string, warm: boolean) =>
    t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/transfer`, headers: headers(), payload: { destination, warm } });

  it('cold: the callee leg leaves its media stream for <Dial callerId>, the call ends completed and transferred', async () => {
    const { sid, fc, ears } = await startAudioCall(CLINIC, {
      task: 'Book an appointment with a doctor',
      transfer_number: FRONT_DESK,
      webhook: rx.url,
      webhook_events: ['call_completed'],
    });
    // In audio mode: the call runs a media stream, not ConversationRelay.
    expect(fc.twimls[0]).toContain('<Stream');
    expect(fc.twimls[0]).not.toContain('ConversationRelay');
    const s = await stream(fc);
    // A person answers: the rules brain hands the call over to the transfer number.
    ears.final('Good morning, City Clinic, Sam speaking. How can I help you?');
    const c = await ended(sid);
    expect(c.status).toBe('completed');
    expect(c.outcome).toBe('transferred');
    expect(c.end_reason).toBe('auto_transfer');
    expect((await commands(c.id)).find((x) => x.command === 'transfer')?.value).toBe(`cold ${FRONT_DESK}`);
    expect((await commands(c.id)).some((x) => x.command === 'transfer_unavailable')).toBe(false);
    expect(lines(c)).toContain('user: Good morning, City Clinic, Sam speaking. How can I help you?');

    // The callee's leg was redirected from its stream to TwiML that dials the destination from our number.
    const redirect = fc.updates.find((u) => u.Twiml);
    expect(redirect?.Twiml).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="${FROM}">${FRONT_DESK}</Dial></Response>`);
    expect(fc.updates.some((u) => u.Status)).toBe(false);
    // Twilio stopped the stream; nothing was cleared, nothing hung up.
    await s.closed;
    expect(s.received.some((m) => m.event === 'clear')).toBe(false);
    const dest = await fakeCall(FRONT_DESK);
    expect(dest.direction).toBe('outbound-dial');
    expect(dest.parentCallSid).toBe(fc.sid);
    await until(async () => dest.bridgedWith === fc.sid, 10_000, 'the bridge');
    expect(fc.status).toBe('in-progress');

    // The webhook says transferred.
    const hook = await until(async () => rx.received.find((w) => w.json.event === 'call_completed' && w.json.sid === sid), 20_000, 'call_completed');
    expect(hook.json.data.status).toBe('completed');
    expect(hook.json.data.outcome).toBe('transferred');

    // They talk, then hang up: Twilio's late `completed` for the callee's CallSid changes nothing.
    fake.hangup(dest.sid);
    await fc.done;
    expect((await get(sid)).ended_at).toBe(c.ended_at);
  }, 60_000);

  it('warm: the destination is briefed and joins the room; the callee follows only once the clause being said was heard', async () => {
    const task = 'Reschedule my dentist appointment to Friday';
    const { sid, fc, ears } = await startAudioCall(PATIENT, { task, persona: { name: 'John Smith' } });
    const s = await stream(fc);
    ears.final('Hello, Sam speaking.');
    // The agent's answer is on the line, and the line holds it (its marks are not echoed yet).
    await until(async () => s.received.some((m) => m.event === 'media'), 15_000, 'the agent speaking');
    const clauses = tts.requests.length;
    const r = await transfer(sid, MARIA, true);
    expect(r.statusCode, r.body).toBe(200);

    // The destination was dialled in text mode and briefed on its own relay leg, then put in the room.
    const dest = await fakeCall(MARIA);
    expect(dest.direction).toBe('outbound-api');
    await until(async () => dest.agentTurns.length > 0, 15_000, 'the briefing');
    expect(dest.twimls[0]).toMatch(/<Connect action="[^"]+"><ConversationRelay url="ws:\/\/127\.0\.0\.1:\d+\/relay\/ws"/);
    // An espeak-ng voice is not one ConversationRelay has: the destination hears Twilio's default voice.
    expect(dest.twimls[0]).not.toContain('ttsProvider');
    expect(dest.calleeSaid[0]).toBe('Maria here.');
    expect(dest.agentTurns[0]).toBe(`Transferring a call about: ${task}`);
    const { id } = await get(sid);
    const room = `sb-${id}`;
    await until(async () => fake.roomMembers(room).includes(dest.sid), 15_000, 'the destination in the room');

    // The callee's clause is still being played: its leg waits (no redirect, nothing cleared).
    expect(fc.updates.filter((u) => u.Twiml)).toEqual([]);
    expect(s.received.some((m) => m.event === 'clear')).toBe(false);
    // The clause's last frame is out (its end mark sent); the line plays it all, and only then the redirect.
    await until(async () => s.received.some((m) => m.event === 'mark' && /^clause-/.test(String(m.mark?.name))), 15_000, 'the end of the clause');
    s.playOut();
    await until(async () => fake.roomMembers(room).length === 2, 15_000, 'both legs in the room');
    expect(fake.roomMembers(room)).toEqual([dest.sid, fc.sid]);
    for (const leg of [fc, dest]) {
      expect(leg.twimls.at(-1)).toBe(
        `<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Conference startConferenceOnEnter="true" endConferenceOnExit="true" beep="false">${room}</Conference></Dial></Response>`,
      );
    }
    const c = await ended(sid);
    expect(c.status).toBe('completed');
    expect(c.outcome).toBe('transferred');
    expect(c.end_reason).toBe('transferred_by_api');
    // Nothing the callee heard was cut off: no clear, and the agent's clause is in the transcript whole.
    expect(s.received.some((m) => m.event === 'clear')).toBe(false);
    const said = tts.requests.slice(0, clauses).map((q) => q.text);
    const agentLines = c.transcripts.filter((x: Row) => x.role === 'assistant').map((x: Row) => x.text);
    expect(agentLines.at(-1)).toBe(said.at(-1));
    expect(c.transcripts.some((x: Row) => /Transferring a call about/.test(x.text))).toBe(false);

    fake.hangup(fc.sid);
    await Promise.all([fc.done, dest.done]);
    expect(fake.rooms.get(room)!.status).toBe('completed');
  }, 60_000);

  it('warm to a busy destination fails: the callee stays with the agent on the audio pipeline', async () => {
    const { sid, fc, ears } = await startAudioCall(PATIENT_2, { task: 'Reschedule my dentist appointment to Friday', persona: { name: 'John Smith' } });
    const s = await stream(fc);
    ears.final('Hello, Sam speaking.');
    await until(async () => s.received.some((m) => m.event === 'media'), 15_000, 'the agent speaking');
    expect((await transfer(sid, BUSY_DESK, true)).statusCode).toBe(200);
    const dest = await fakeCall(BUSY_DESK);
    await dest.done;
    expect(dest.callbacks.at(-1)).toEqual({ status: 'busy', code: 204 });
    const { id } = await get(sid);
    await until(async () => (await commands(id)).some((x) => x.command === 'transfer_failed'), 10_000, 'transfer_failed');
    // The callee's leg was never redirected: the same stream still carries the call.
    expect(fc.updates).toEqual([]);
    expect(fc.streams).toHaveLength(1);
    expect((await get(sid)).status).toBe('in-progress');

    // The callee speaks; the agent hears it and answers in audio on the same stream.
    const synthesised = tts.requests.length;
    const frames = s.received.filter((m) => m.event === 'media').length;
    ears.final('Sorry, I have to go now. Goodbye.');
    const c = await ended(sid);
    expect(tts.requests.length).toBeGreaterThan(synthesised);
    expect(s.received.filter((m) => m.event === 'media').length).toBeGreaterThan(frames);
    expect(c.status).toBe('completed');
    expect(c.outcome).not.toBe('transferred');
    expect(lines(c)).toContain('user: Sorry, I have to go now. Goodbye.');
    expect(fc.updates.every((u) => !u.Twiml && !u.Url)).toBe(true);
    expect([...fake.rooms.keys()].some((r) => r.includes(id))).toBe(false);
  }, 60_000);
});

describe('a transfer from the Realtime activity over Twilio Media Streams', () => {
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  const rt = new FakeOpenAIRealtime({ apiKey: 'sk-realtime-test' });
  const REPLY = 'One moment, I will put you through to the front desk.';

  beforeAll(async () => {
    await rt.start();
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      [ANNA]: { outcome: 'answer', audio: { greeting: GREETING } },
      [FRONT_DESK]: { outcome: 'answer' },
    });
    await fake.start();
    ({ t } = await startTwilioSwitchboard(fake, undefined, { VOICE_ENGINE: 'realtime', OPENAI_API_KEY: 'sk-realtime-test', OPENAI_BASE_URL: rt.url, REALTIME_SILENCE_MS: '300' }));
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
    await rt.close();
  });

  const { start, ended } = v1Calls(() => t);

  it("transfer_call: the reply is heard to its end, then the callee's leg dials the transfer number", async () => {
    rt.transcripts = ['Good evening, Bella Cucina, Anna speaking.'];
    rt.script = (turn) => {
      if (turn.heard?.includes('Anna speaking')) return { say: REPLY, calls: [{ name: 'transfer_call', arguments: {} }] };
      return undefined;
    };
    const sid = await start(ANNA, { task: 'Ask to be put through to the front desk', transfer_number: FRONT_DESK });
    const c = await ended(sid);
    expect(c.status).toBe('completed');
    expect(c.outcome).toBe('transferred');
    expect(c.end_reason).toBe('transferred');
    expect(lines(c)).toEqual(['user: Good evening, Bella Cucina, Anna speaking.', `assistant: ${REPLY}`]);

    const fc = [...fake.calls.values()].find((x) => x.to === ANNA)!;
    const s: FakeMediaStreamClient = fc.streams![0];
    // The whole reply went out (the model's μ-law, untouched) and nothing was cleared before the redirect.
    expect(s.mediaIn).toEqual(tone(REPLY.length * 40));
    expect(s.received.some((m) => m.event === 'clear')).toBe(false);
    expect(fc.updates.find((u) => u.Twiml)?.Twiml).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="${FROM}">${FRONT_DESK}</Dial></Response>`);
    const dest = await until(async () => [...fake.calls.values()].find((x) => x.to === FRONT_DESK) ?? null, 10_000, 'the destination leg');
    expect(dest.parentCallSid).toBe(fc.sid);
    fake.hangup(dest.sid);
    await fc.done;
  }, 60_000);
});
