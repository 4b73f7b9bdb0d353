/**
 * A whole call in speech-to-speech mode (VOICE_ENGINE=realtime) over Twilio Media Streams, against the
 * fake Twilio and the fake OpenAI Realtime server: the call is dialled in audio mode, the callee's μ-law
 * reaches the model untouched, the model presses a key in the phone menu (the digits reach Twilio), the
 * person who answers is talked over by nobody until they barge in (Twilio `clear`, a truncate with the
 * heard ms, the stored transcript cut), a cough over the agent's next reply neither cuts it nor gets an
 * answer, a supervisor line is spoken, and the model ends the call with its verdict. The callee's
 * transcribed words are in the call's transcript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { FakeTwilio } from '../../fakes/twilio/fake-twilio.js';
import { FakeOpenAIRealtime, tone } from '../../fakes/openai-realtime/fake-openai-realtime.js';
import { startTwilioSwitchboard, v1Calls } from '../../carriers/twilio-harness.js';
import { until, type TestSwitchboard } from '../../helpers/switchboard.js';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token-realtime-0123456';
/** Made by scripts/make-audio-fixtures.sh (espeak-ng μ-law 8 kHz). */
const MENU = readFileSync(new URL('../../fixtures/audio/menu.ulaw', import.meta.url));
const GREETING = readFileSync(new URL('../../fixtures/audio/greeting.ulaw', import.meta.url));
const CLINIC = '+15551250001';
const SUPERVISOR = 'We will also send a confirmation by email.';
const REPLY = 'Hi Anna, I am calling on behalf of Alex Smith to confirm the booking on Friday at ten.';
const WHO = 'Alex Smith, about the booking on Friday at ten. Thank you for taking the call.';
/** μ-law silence: the line's quiet around what the callee says. */
const quiet = (ms: number) => Buffer.alloc(ms * 8, 0xff);
const says = (ms: number) => Buffer.concat([quiet(100), tone(ms), quiet(300)]);

describe('a call in speech-to-speech mode (OpenAI Realtime) over Twilio Media Streams', () => {
  let t: TestSwitchboard;
  let twilio: FakeTwilio;
  const rt = new FakeOpenAIRealtime({ apiKey: 'sk-realtime-test' });
  let calls: ReturnType<typeof v1Calls>;

  beforeAll(async () => {
    await rt.start();
    twilio = new FakeTwilio(ACCOUNT, TOKEN, {
      [CLINIC]: { outcome: 'answer', holdMarks: true, audio: { greeting: MENU, onDigits: (d) => (d === '2' ? GREETING : null) } },
    });
    await twilio.start();
    ({ t } = await startTwilioSwitchboard(twilio, undefined, { VOICE_ENGINE: 'realtime', OPENAI_API_KEY: 'sk-realtime-test', OPENAI_BASE_URL: rt.url, REALTIME_SILENCE_MS: '700' }));
    calls = v1Calls(() => t);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await twilio?.close();
    await rt.close();
  });

  it('navigates the menu, survives a barge-in, speaks a supervisor line and ends with the model\'s verdict', async () => {
    rt.transcripts = ['For bookings, press 2.', 'Good evening, Bella Cucina, Anna speaking.', 'Sorry, who is calling?', '', 'Okay, thank you, bye.'];
    rt.script = (turn) => {
      if (turn.heard?.includes('press 2')) return { calls: [{ name: 'press_keys', arguments: { digits: '2' } }] };
      if (turn.heard?.includes('Anna speaking')) return { say: REPLY, pauseAfterDeltas: 5 };
      if (turn.heard?.includes('who is calling')) return { say: WHO };
      if (turn.heard?.includes('bye')) {
        return { say: 'Thank you, goodbye.', calls: [{ name: 'end_call', arguments: { goal_completed: true, reason: 'booking_confirmed' } }] };
      }
      if (turn.trigger === 'response.create' && turn.instructions) return { say: JSON.parse(turn.instructions.slice(turn.instructions.indexOf('"'))) as string };
      return undefined; // after the key press: the model waits for the menu
    };
    const sid = await calls.start(CLINIC, {
      task: 'Confirm the booking on Friday at ten.',
      persona: { name: 'Alex Smith', phone: '+46701234567' },
    });
    const fc = await until(async () => [...twilio.calls.values()].find((c) => c.to === CLINIC), 15_000, 'the call at Twilio');
    const stream = (n: number) => until(async () => fc.streams?.[n], 15_000, `media stream ${n + 1}`);

    // Dialled in audio mode: Media Streams, and the model's session is μ-law both ways.
    const conn = await until(async () => rt.connections[0], 15_000, 'the model connection');
    const session = await until(async () => conn.received.find((e) => e.type === 'session.update')?.session, 15_000, 'session.update');
    expect(session.audio.input.format).toEqual({ type: 'audio/pcmu' });
    expect(session.audio.output.format).toEqual({ type: 'audio/pcmu' });
    expect(session.audio.output.voice).toBe('cedar'); // no openaiVoice: the male default
    // The server neither answers nor cancels by itself: the engine's interruption rule decides.
    expect(session.audio.input.turn_detection).toMatchObject({ type: 'server_vad', silence_duration_ms: 700, interrupt_response: false, create_response: false });
    expect(session.audio.input.transcription).toMatchObject({ language: 'en' });
    // Dialled in audio mode: Twilio was given <Connect><Stream>, not ConversationRelay.
    expect(fc.streams?.length).toBeGreaterThan(0);
    // Privacy: the phone number the share policy keeps back is not in the model's instructions.
    expect(session.instructions).toContain('Alex Smith');
    expect(session.instructions).not.toContain('701234567');

    // The menu's audio reached the model as it came from Twilio, and the model pressed 2.
    await until(async () => twilio.calls.get(fc.sid)?.digits.includes('2'), 20_000, 'the digits at Twilio');
    expect(conn.audioBytes).toBeGreaterThanOrEqual(MENU.length);
    const out = await until(async () => conn.received.find((e) => e.type === 'conversation.item.create' && e.item.type === 'function_call_output'), 15_000, 'the key press result');
    expect(JSON.parse(out.item.output)).toEqual({ ok: true });

    // After the key press a new stream carries the person; the model's reply streams to it and is held.
    const s2 = await stream(1);
    await until(async () => s2.mediaIn.length >= 5 * 800, 20_000, 'the reply on the line');
    // μ-law passed through: the bytes on the line are the model's own (the fake's tone for the reply).
    expect(s2.mediaIn.subarray(0, 5 * 800)).toEqual(tone(REPLY.length * 40).subarray(0, 5 * 800));
    // The callee hears the first half second, then talks over the agent, long enough and with words (the
    // marks of what was heard and the speech travel on the same socket, in that order).
    s2.playOut();
    s2.speak(says(800));
    await until(async () => s2.received.some((m) => m.event === 'clear'), 15_000, 'Twilio clear');
    const truncate = await until(async () => conn.received.find((e) => e.type === 'conversation.item.truncate'), 15_000, 'truncate');
    // Heard: up to the last progress mark echoed (one every 80 ms of audio on Twilio), 480 ms of the half second.
    expect(truncate.audio_end_ms).toBe(480);

    // From here on the line plays everything it gets.
    const playing = setInterval(() => s2.playOut(), 20);
    let ended;
    try {
      const said = (text: string) => until(async () => (await calls.get(sid)).transcripts.some((x: { text: string }) => x.text === text), 20_000, text);
      // The answer plays; 100 ms into it the callee coughs (150 ms, no words): no clear, no truncate, no
      // answer to the cough, and the answer is heard to its end.
      const before = s2.mediaIn.length;
      await until(async () => s2.mediaIn.length >= before + 800, 15_000, 'the answer on the line');
      const asked = conn.received.filter((e) => e.type === 'response.create').length;
      s2.speak(says(150));
      await said(WHO);
      expect(s2.received.filter((m) => m.event === 'clear')).toHaveLength(1);
      expect(conn.received.filter((e) => e.type === 'conversation.item.truncate')).toHaveLength(1);
      expect(conn.received.filter((e) => e.type === 'response.create')).toHaveLength(asked);
      // A supervisor's line is said by the model word for word, and stored as the supervisor's.
      const r = await t.sb.app.inject({ method: 'POST', url: `/v1/calls/${sid}/say`, headers: calls.headers(), payload: { text: SUPERVISOR } });
      expect(r.statusCode, r.body).toBe(200);
      await said(SUPERVISOR);
      const create = conn.received.find((e) => e.type === 'response.create' && e.response?.instructions?.includes(SUPERVISOR));
      expect(create?.response.tool_choice).toBe('none');
      // The callee says goodbye; the goodbye is heard, then the model's end_call ends the call.
      s2.speak(says(400));
      ended = await calls.ended(sid);
    } finally {
      clearInterval(playing);
    }
    expect(ended.status).toBe('completed');
    expect(ended.outcome).toBe('goal_completed');
    expect(ended.summary.goal_completed).toBe(true);
    expect(ended.end_reason).toBe('booking_confirmed');
    const lines = ended.transcripts.map((x: { role: string; text: string }) => `${x.role}: ${x.text}`);
    expect(lines).toContain('user: For bookings, press 2.');
    expect(lines).toContain('user: Good evening, Bella Cucina, Anna speaking.');
    expect(lines).toContain(`supervisor: ${SUPERVISOR}`);
    expect(lines.at(-1)).toBe('assistant: Thank you, goodbye.');
    // Billing: every response's tokens (the fake reports 100 input tokens each) and the transcribed seconds.
    const usage = (await t.sb.core.credits.usageOf(ended.id))!;
    expect(usage.llm_input_tokens).toBe(100 * conn.sent.filter((e) => e.type === 'response.done').length);
    expect(usage.stt_seconds).toBeGreaterThan(0);
    // Keys pressed by the agent show in the call's record.
    expect(ended.keys.map((k: { keys: string }) => k.keys)).toEqual(['2']);
    // The interrupted reply is stored only as far as it was heard.
    const cut = lines.find((l: string) => l.startsWith('assistant: Hi Anna'));
    expect(cut).toBeDefined();
    expect(REPLY.startsWith(cut.slice('assistant: '.length))).toBe(true);
    expect(cut).not.toBe(`assistant: ${REPLY}`);
  }, 120_000);
});
