/**
 * A whole call in audio mode over Twilio Media Streams, against the fake Twilio: started through /v1 with
 * VOICE_MODE=audio, the carrier connects `<Connect><Stream>`, the callee's espeak-ng audio (committed
 * fixtures) flows through the voice activity detector into the speech-to-text, the scripted model answers,
 * its speech goes out as paced frames on the real WebSocket, the agent presses a key (`<Play digits>` and a
 * new stream) and the callee presses one back. Speech-to-text and text-to-speech are test doubles of the
 * interfaces (the providers' own fakes are tested on their own): a recogniser that hears an utterance end
 * after the audio stops and says the next scripted line, and a synthesiser of one frame per character.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { BACKENDS } from '../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../helpers/switchboard.js';
import { freePort, twilioEnv } from '../carriers/twilio-harness.js';
import { FakeTwilio } from '../fakes/twilio/fake-twilio.js';
import type { FakeMediaStreamClient } from '../fakes/twilio/media-stream-client.js';
import { RealClock } from '../../src/lib/clock.js';
import type { TwilioCarrier } from '../../src/carriers/twilio/twilio-carrier.js';
import type { SpeechToText, SttEvent, SttOptions, SttStream } from '../../src/ai/stt/stt.js';
import type { SessionEvent } from '../../src/engine/events.js';
import type { CallSpeech } from '../../src/engine/voice/speech.js';
import { DEFAULT_TURN_TAKING } from '../../src/engine/voice/interruptions.js';
import { meanLevel } from '../../src/engine/voice/vad.js';
import { ScriptedBrain, line } from './session-harness.js';
import { FrameTts } from './voice/doubles.js';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token-audio-call-01234';
const GREETING = readFileSync(new URL('../fixtures/audio/greeting.ulaw', import.meta.url));
const MENU = readFileSync(new URL('../fixtures/audio/menu.ulaw', import.meta.url));
const ANNA = '+15551250001';
const BEA = '+15551250002';
const LINES = ['Good evening, Bella Cucina, Anna speaking.', 'For bookings, press 2.'];
/** Bea's call: the greeting, then she talks over the agent's long sentence. */
const BEA_LINES = ['Good evening, Bella Cucina, Anna speaking.', 'Sorry, say that again?'];
const LONG = 'I am calling on behalf of Alex Smith to book a table for eight people tonight at seven in the garden room if you have one free.';

/**
 * Hears an utterance end once sound stopped arriving for a moment (the fake sends each phrase in one burst)
 * and says the next scripted line for it, as a final transcript that ends the turn.
 */
class BurstStt implements SpeechToText {
  readonly provider = 'offline' as const;
  private said = 0;
  readonly options: SttOptions[] = [];
  constructor(private readonly lines: string[]) {}
  stream(opts: SttOptions): SttStream {
    this.options.push(opts);
    let listener: ((e: SttEvent) => void) | undefined;
    let loud = 0;
    let bytes = 0;
    let timer: NodeJS.Timeout | undefined;
    const next = () => this.lines[this.said++] ?? '';
    return {
      push: (frame) => {
        bytes += frame.length;
        if (meanLevel(frame) > 300) loud++;
        clearTimeout(timer);
        timer = setTimeout(() => {
          if (loud < 10) return;
          loud = 0;
          listener?.({ type: 'transcript', text: next(), final: true, endOfTurn: true });
        }, 300);
      },
      speechPaused: () => undefined,
      speechResumed: () => undefined,
      flush: () => undefined,
      onEvent: (l) => (listener = l),
      close: async () => clearTimeout(timer),
      get audioSeconds() {
        return bytes / 8000;
      },
    };
  }
}

/** The agent's audio as text: the synthesiser fills each character's frame with its code. */
const spoken = (s: FakeMediaStreamClient) => [...s.mediaIn].filter((_, i) => i % 160 === 0).map((c) => String.fromCharCode(c)).join('');

describe('a call in audio mode over Twilio Media Streams', () => {
  let calling = ANNA;
  let t: TestSwitchboard;
  let fake: FakeTwilio;
  const events: SessionEvent[] = [];
  let stt = new BurstStt(LINES);
  const tts = new FrameTts();
  const brain = new ScriptedBrain((input) => {
    if (input.type === 'speech' && /Bella Cucina/.test(input.text) && calling === ANNA) {
      return [
        { type: 'say', text: 'Hello, I would like to book a table.' },
        { type: 'press', digits: '2' },
      ];
    }
    if (input.type === 'speech' && /press 2/.test(input.text)) return [{ type: 'say', text: 'Thank you.' }];
    if (input.type === 'dtmf') return [{ type: 'end', goalCompleted: true, reason: 'test_done' }];
    if (input.type === 'speech' && /Bella/.test(input.text)) return [{ type: 'say', text: LONG }];
    if (input.type === 'speech' && /say that again/.test(input.text)) {
      return [
        { type: 'say', text: 'Of course.' },
        { type: 'end', goalCompleted: true, reason: 'test_done' },
      ];
    }
    return undefined;
  });

  beforeAll(async () => {
    fake = new FakeTwilio(ACCOUNT, TOKEN, {
      [ANNA]: { outcome: 'answer', audio: { greeting: GREETING, onDigits: (d) => (d === '2' ? MENU : null) } },
      [BEA]: { outcome: 'answer', audio: { greeting: GREETING } },
    });
    await fake.start();
    const port = await freePort();
    const speech: CallSpeech = {
      stt: () => stt,
      tts: { espeak: tts },
      voiceFor: () => ({ provider: 'espeak', voice: 'en-us' }),
      turnTakingFor: () => ({ ...DEFAULT_TURN_TAKING, endpointingMs: 300 }),
      preferAudio: true,
    };
    t = await startSwitchboard(BACKENDS[0], { ...twilioEnv(fake, port), VOICE_MODE: 'audio' }, {
      clock: new RealClock(1) as never,
      brain,
      speech,
      sessionObserver: (_id, e) => events.push(e),
    });
    const carrier = t.sb.carrier as TwilioCarrier;
    carrier.opts.streamReattachMs = 300;
    carrier.opts.streamEndedFallbackMs = 300;
    await t.sb.listen();
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  it('hears the callee, answers in paced audio, presses a key, takes the callee’s key, and completes', async () => {
    const headers = { authorization: `Bearer ${t.key}` };
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: ANNA, task: 'Book a table for two', language: 'en' } });
    expect(r.statusCode, r.body).toBe(200);
    const sid = r.json().sid as string;
    const fc = await until(async () => [...fake.calls.values()].find((c) => c.to === ANNA && c.twiml), 10_000, 'the call at Twilio');
    // Asked for audio: `<Connect><Stream>`, never ConversationRelay.
    expect(fc.twiml).toContain('<Stream');
    expect(fc.twiml).not.toContain('ConversationRelay');

    // The agent answers the greeting, then presses 2: the menu follows on a new stream and gets its answer.
    const second = await until(async () => (fc.streams?.length === 2 && spoken(fc.streams[1]).includes('Thank you.') ? fc.streams[1] : null), 20_000, 'the answer to the menu');
    expect(spoken(fc.streams![0])).toBe('Hello, I would like to book a table.');
    expect(fc.digits).toEqual(['2']);
    // Frames went out at 80 ms each on Twilio (its channel's outboundFrameMs): one message per frame, shorter
    // only where a clause ends at its mark.
    const sizes = fc.streams![0].received.filter((m) => m.event === 'media').map((m) => Buffer.from(m.media.payload, 'base64').length);
    expect(sizes.every((n) => n > 0 && n <= 640)).toBe(true);
    expect(sizes.filter((n) => n === 640).length).toBeGreaterThan(sizes.length / 2);
    expect(fc.streams![0].received.some((m) => m.event === 'mark' && /^clause-/.test(m.mark.name))).toBe(true);

    // The callee presses 5: the agent hears it and ends the call.
    second.dtmf('5');
    const call = await until(async () => {
      const c = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
      return c.ended_at ? c : null;
    }, 20_000, 'the call to end');
    expect(call).toMatchObject({ status: 'completed', end_reason: 'test_done' });
    const said = call.transcripts.map((x: { role: string; text: string }) => `${x.role}: ${x.text}`);
    expect(said).toEqual(expect.arrayContaining([`user: ${LINES[0]}`, 'assistant: Hello, I would like to book a table.', `user: ${LINES[1]}`, 'assistant: Thank you.']));
    const lines = events.map(line);
    expect(lines).toContain('dtmf: 5');
    expect(lines).toContain('act press 2: ok');
    expect(lines.at(-1)).toBe('close: agent (test_done)');
    // The speech-to-text was opened with the call's endpointing.
    expect(stt.options[0]).toEqual({ language: 'en', endpointingMs: 300, interim: true, gateSilence: true });

    // Latency per turn on the audio path, stored on the call and at /metrics.
    const turns = await t.sb.core.calls.turns((await t.sb.core.calls.find(t.orgId, sid)).id);
    expect(turns.length).toBeGreaterThanOrEqual(2);
    expect(turns.every((x) => x.stt_final_ms !== null && x.tts_first_byte_ms !== null && x.first_audio_playback_ms !== null)).toBe(true);
    const metrics = (await t.sb.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/stt_final_ms_count \d+/);
    expect(metrics).toMatch(/tts_first_byte_ms_count \d+/);
  }, 60_000);

  it('survives a barge-in: the callee talks over the agent, its audio is cleared at the carrier, the transcript keeps only what was heard', async () => {
    calling = BEA;
    stt = new BurstStt(BEA_LINES);
    events.length = 0;
    const headers = { authorization: `Bearer ${t.key}` };
    const r = await t.sb.app.inject({ method: 'POST', url: '/v1/start-call', headers, payload: { phone_number: BEA, task: 'Book a table for eight', language: 'en' } });
    expect(r.statusCode, r.body).toBe(200);
    const sid = r.json().sid as string;
    const fc = await until(async () => [...fake.calls.values()].find((c) => c.to === BEA && c.streams?.length), 10_000, 'the call at Twilio');
    const stream = fc.streams![0];
    // Half a second into the agent's long sentence, Bea starts talking over it.
    await until(async () => spoken(stream).length >= 25, 10_000, 'the agent speaking');
    stream.speak(MENU);
    await stream.waitFor((m) => m.event === 'clear', 10_000);
    const call = await until(async () => {
      const c = (await t.sb.app.inject({ method: 'GET', url: `/v1/calls/${sid}`, headers })).json();
      return c.ended_at ? c : null;
    }, 20_000, 'the call to end');
    expect(call).toMatchObject({ status: 'completed', end_reason: 'test_done' });
    // What went out of the long sentence stopped at the barge-in; the answer followed.
    const out = spoken(stream);
    expect(out.endsWith('Of course.')).toBe(true);
    const cut = out.slice(0, -'Of course.'.length);
    expect(LONG.startsWith(cut)).toBe(true);
    expect(cut.length).toBeLessThan(LONG.length);
    // The transcript holds the words of it that were heard, never the unsaid rest.
    const agent = call.transcripts.filter((x: { role: string }) => x.role === 'assistant').map((x: { text: string }) => x.text);
    expect(agent).toHaveLength(2);
    expect(cut.startsWith(agent[0])).toBe(true);
    expect(agent[0].length).toBeGreaterThan(0);
    expect(agent[1]).toBe('Of course.');
    const lines = events.map(line);
    expect(lines).toContain('user: listening -> speaking');
    expect(lines.some((l) => l.startsWith('speech 1 interrupted: '))).toBe(true);
  }, 60_000);
});
