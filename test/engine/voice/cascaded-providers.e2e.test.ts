/**
 * Issue 10 "Done when", cascaded mode: whole calls over Twilio Media Streams (the fake Twilio) with the REAL
 * speech adapters against the providers' fakes — Deepgram live for speech-to-text; OpenAI speech, ElevenLabs
 * and Azure for text-to-speech — and the real OpenAI-compatible model adapter against the fake chat server,
 * scripted as the agent. Nothing is doubled inside Switchboard: every provider is reached over real
 * HTTP/WebSocket on 127.0.0.1.
 *
 * 1. A call navigates the clinic's keypad menu (the callee's espeak-ng fixtures are the menu and the person
 *    who answers after the key), then the callee talks over the agent's long reply: the outbound audio stops
 *    within one frame of the interruption rule being met, the fake Twilio gets `clear`, and the stored
 *    transcript keeps only the words that went out. To count frames rather than time, the node's pacer runs
 *    on a clock the test can hold and step: during the barge-in one callee frame goes in, the test waits
 *    until Deepgram has it (so the pipeline has seen it), then the pacer may send one agent frame.
 * 2. The voice rules of issue 10 §5, seen in what the providers received: a Swedish call with a chosen
 *    ElevenLabs voice and model, an English call with no voice (OpenAI's default for the gender), an Azure
 *    voice with style and role (its SSML). Each of these voices is one ConversationRelay lacks, so each call
 *    runs in audio mode on Twilio (engine/voice/mode.ts) with VOICE_MODE left at `text`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { BACKENDS } from '../../helpers/backends.js';
import { startSwitchboard, until, type TestSwitchboard } from '../../helpers/switchboard.js';
import { freePort, twilioEnv, v1Calls } from '../../carriers/twilio-harness.js';
import { FakeTwilio } from '../../fakes/twilio/fake-twilio.js';
import type { FakeMediaStreamClient } from '../../fakes/twilio/media-stream-client.js';
import { startFakeDeepgram, type FakeDeepgram } from '../../fakes/deepgram/fake-deepgram.js';
import { startOpenAiSpeechFake, FAKE_OPENAI_KEY } from '../../fakes/openai-speech/fake-openai-speech.js';
import { startElevenLabsFake, FAKE_ELEVENLABS_KEY, type ElevenLabsFake } from '../../fakes/elevenlabs/fake-elevenlabs.js';
import { startAzureSpeechFake, FAKE_AZURE_KEY } from '../../fakes/azure-speech/fake-azure-speech.js';
import type { AudioFake } from '../../fakes/audio-fake-common.js';
import { startOpenAiChatFake, type OpenAiChatFake } from '../../fakes/openai-chat.js';
import { RealClock } from '../../../src/lib/clock.js';
import { loadConfig } from '../../../src/config/index.js';
import { speechFromConfig } from '../../../src/engine/voice/speech.js';
import { Pacer, FRAME_MS, type PacedOutput, type PacerClock } from '../../../src/engine/voice/pacer.js';
import { EnergyVad } from '../../../src/engine/voice/vad.js';
import { DEFAULT_TURN_TAKING } from '../../../src/engine/voice/interruptions.js';
import { heardPart } from '../../../src/engine/voice/heard.js';
import type { TwilioCarrier } from '../../../src/carriers/twilio/twilio-carrier.js';

const ACCOUNT = 'AC' + '0123456789abcdef'.repeat(2);
const TOKEN = 'test-auth-token-cascaded-0123456';
/** Made by scripts/make-audio-fixtures.sh (espeak-ng, μ-law 8 kHz). */
const MENU = readFileSync(new URL('../../fixtures/audio/menu.ulaw', import.meta.url));
const GREETING = readFileSync(new URL('../../fixtures/audio/greeting.ulaw', import.meta.url));
const FRAME = 160;
const CLINIC = '+15551270001';
const SWEDISH = '+15551270002';
const ENGLISH = '+15551270003';
const AZURE = '+15551270004';
/** One clause (no comma, one sentence): the whole reply is one synthesis, cut in the middle. */
const REPLY = 'I am calling on behalf of Alex Smith to confirm the dental appointment on Friday at ten in the morning with doctor Berg.';
const ANSWER = 'Alex Smith about Friday at ten.';
/** What the fake Deepgram hears, utterance by utterance on each connection (it does not understand audio). */
const HEARD = ['For bookings, press 2.', 'Good evening, Bella Cucina, Anna speaking.', 'Sorry, who is calling?'];

/**
 * The pacer's clock: on its own it moves 20 ms every 20 ms of real time, like the real one; held, it moves
 * only when the test steps it, one frame at a time.
 */
class SteppedClock implements PacerClock {
  private t = 0;
  private readonly ticks = new Set<() => void>();
  held = false;
  private readonly timer = setInterval(() => {
    if (!this.held) this.step();
  }, FRAME_MS);
  now(): number {
    return this.t;
  }
  every(_ms: number, tick: () => void): () => void {
    this.ticks.add(tick);
    return () => this.ticks.delete(tick);
  }
  step(): void {
    this.t += FRAME_MS;
    for (const tick of [...this.ticks]) tick();
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** The node's pacer, counting every frame it hands to a carrier (the exact point audio leaves the engine). */
class CountingPacer extends Pacer {
  frames = 0;
  override output(send: (frame: Uint8Array) => void): PacedOutput {
    return super.output((frame) => {
      this.frames++;
      send(frame);
    });
  }
}

/** The last thing the model was told the callee said. */
function lastHeard(body: any): string {
  const last = body?.messages?.at(-1);
  return last?.role === 'user' && typeof last.content === 'string' ? last.content : '';
}

const mediaCount = (s: FakeMediaStreamClient) => s.received.filter((m) => m.event === 'media').length;

describe('cascaded calls against the provider fakes over Twilio Media Streams', () => {
  let t: TestSwitchboard;
  let twilio: FakeTwilio;
  let deepgram: FakeDeepgram;
  let openaiSpeech: AudioFake;
  let elevenlabs: ElevenLabsFake;
  let azure: AudioFake;
  let llm: OpenAiChatFake;
  const clock = new SteppedClock();
  const pacer = new CountingPacer(clock);
  let calls: ReturnType<typeof v1Calls>;

  beforeAll(async () => {
    deepgram = await startFakeDeepgram({ apiKey: 'dg-test-key', phrases: [{ text: HEARD[0], audio: MENU }, { text: HEARD[1], audio: GREETING }, { text: HEARD[2], audio: MENU }] });
    openaiSpeech = await startOpenAiSpeechFake();
    elevenlabs = await startElevenLabsFake();
    azure = await startAzureSpeechFake();
    llm = await startOpenAiChatFake();
    llm.script(((body: any) => {
      if (body?.response_format?.type === 'json_object') return { text: JSON.stringify({ summary: 'Done.', goal_completed: true, extracted: {} }) };
      const heard = lastHeard(body);
      const system = String(body?.messages?.[0]?.content ?? '');
      // The voice-rule calls: one line to the first thing heard, then goodbye.
      if (/Say hello/.test(system) && heard) return { text: 'Hello, this is a short call.', toolCalls: [{ name: 'end_call', arguments: { goal_completed: true, reason: 'said_hello' } }] };
      if (/press 2/.test(heard)) return { toolCalls: [{ name: 'press_keys', arguments: { digits: '2' } }] };
      if (/Anna speaking/.test(heard)) return { text: REPLY };
      if (/who is calling/.test(heard)) return { text: ANSWER, toolCalls: [{ name: 'end_call', arguments: { goal_completed: true, reason: 'booking_confirmed' } }] };
      return { toolCalls: [{ name: 'wait', arguments: {} }] }; // after the key press: wait for the person
    }) as any);
    twilio = new FakeTwilio(ACCOUNT, TOKEN, {
      [CLINIC]: { outcome: 'answer', audio: { greeting: MENU, onDigits: (d) => (d === '2' ? GREETING : null) } },
      [SWEDISH]: { outcome: 'answer', audio: { greeting: GREETING } },
      [ENGLISH]: { outcome: 'answer', audio: { greeting: GREETING } },
      [AZURE]: { outcome: 'answer', audio: { greeting: GREETING } },
    });
    await twilio.start();
    const port = await freePort();
    const env = {
      ...twilioEnv(twilio, port),
      LLM_PROVIDER: 'openai',
      LLM_MODE: 'tools',
      LLM_MODEL: 'gpt-fake',
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'sk-test',
      STT_PROVIDER: 'deepgram',
      DEEPGRAM_API_KEY: 'dg-test-key',
      DEEPGRAM_BASE_URL: deepgram.url,
      OPENAI_API_KEY: FAKE_OPENAI_KEY,
      OPENAI_BASE_URL: `${openaiSpeech.url}/v1`,
      ELEVENLABS_API_KEY: FAKE_ELEVENLABS_KEY,
      ELEVENLABS_BASE_URL: elevenlabs.url,
      AZURE_SPEECH_KEY: FAKE_AZURE_KEY,
      AZURE_SPEECH_REGION: 'westeurope',
      AZURE_SPEECH_BASE_URL: azure.url,
      // The fixtures end in ~340 ms of quiet: the turn ends within them.
      VOICE_ENDPOINTING_MS: '300',
      // The barge-in below counts frames: each callee frame must reach Deepgram on its own, not in a 100 ms chunk.
      STT_CHUNK_MS: '20',
    };
    // The configured speech, as the app builds it, on the test's pacer.
    const speech = { ...speechFromConfig(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env }).speech, (req) => t.sb.core.calls.voiceOf(req)), pacer };
    t = await startSwitchboard(BACKENDS[0], env, { clock: new RealClock(1) as never, speech });
    const carrier = t.sb.carrier as TwilioCarrier;
    carrier.opts.streamReattachMs = 300;
    carrier.opts.streamEndedFallbackMs = 300;
    await t.sb.listen();
    calls = v1Calls(() => t);
  }, 60_000);

  afterAll(async () => {
    clock.stop();
    await t?.close();
    await twilio?.close();
    await Promise.all([deepgram?.close(), openaiSpeech?.close(), elevenlabs?.close(), azure?.close(), llm?.close()]);
  });

  it('navigates the keypad menu and survives a barge-in: clear within one frame, the transcript cut where it was heard', async () => {
    const sid = await calls.start(CLINIC, { task: 'Confirm the dental appointment on Friday at ten.', persona: { name: 'Alex Smith' } });
    const fc = await until(async () => [...twilio.calls.values()].find((c) => c.to === CLINIC && c.twiml), 15_000, 'the call at Twilio');
    // An OpenAI voice is not one ConversationRelay has: Media Streams.
    expect(fc.twiml).toContain('<Stream');
    expect(fc.twiml).not.toContain('ConversationRelay');

    // The menu is heard through Deepgram, the model presses 2, the digits reach Twilio (the fake records
    // the digits of the `<Play digits>` the call was updated with).
    await until(async () => fc.digits.includes('2'), 30_000, 'the digits at Twilio');
    expect(fc.updates.some((u) => /<Play\s+digits="2"/.test(String(u.Twiml)))).toBe(true);

    // The person answers on the next stream; the agent's long reply streams to it.
    const s2 = await until(async () => fc.streams?.[1], 20_000, 'the stream after the digits');
    const dg = deepgram.connections[0];
    await until(async () => openaiSpeech.received.some((r) => r.json?.input === REPLY), 20_000, 'the reply synthesised');
    // Half a second of it on the line, then the pacer is held: from here on frames are counted, not timed.
    await until(async () => mediaCount(s2) >= 25, 20_000, 'the reply on the line');
    clock.held = true;

    // The callee talks over it: a frame in, the pipeline sees it (Deepgram has it), a frame of the line's time out.
    const interruption = Buffer.concat([Buffer.alloc(FRAME * 5, 0xff), MENU]);
    const rule = signalFrame(interruption, DEFAULT_TURN_TAKING.minInterruptionMs);
    const agentFramesAfter: number[] = [];
    const base = dg.audioBytes;
    let i = 0;
    for (; i * FRAME < interruption.length; i++) {
      s2.frame(interruption.subarray(i * FRAME, (i + 1) * FRAME));
      await until(async () => dg.audioBytes >= base + Math.min(interruption.length, (i + 1) * FRAME), 10_000, `callee frame ${i} at Deepgram`);
      const before = pacer.frames;
      clock.step();
      agentFramesAfter.push(pacer.frames - before);
      // Cleared: the count is done (the callee's turn ends with the quiet after the words, and the answer then
      // plays on the line's own time).
      if (i >= rule && s2.received.some((m) => m.event === 'clear')) break;
    }
    // Until the rule was met the agent kept talking (a cough does not interrupt); after it, at most one frame.
    expect(agentFramesAfter.slice(0, rule).every((n) => n === 1)).toBe(true);
    expect(agentFramesAfter.slice(rule).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
    const clear = await s2.waitFor((m) => m.event === 'clear', 15_000);
    const clearAt = s2.received.indexOf(clear);
    const replyFrames = s2.received.slice(0, clearAt).filter((m) => m.event === 'media').length;
    clock.held = false;
    s2.speak(interruption.subarray((i + 1) * FRAME));

    const ended = await calls.ended(sid);
    expect(ended).toMatchObject({ status: 'completed', end_reason: 'booking_confirmed' });
    // Nothing of the cut reply after `clear`: what followed is the answer, whole.
    const answerFrames = s2.received.slice(clearAt).filter((m) => m.event === 'media').length;
    const answerReq = openaiSpeech.received.find((r) => r.json?.input === ANSWER)!;
    expect(answerFrames).toBe(Math.ceil(answerReq.bytesSent / 6 / FRAME));

    const lines = ended.transcripts.map((x: { role: string; text: string }) => `${x.role}: ${x.text}`);
    expect(lines).toContain(`user: ${HEARD[0]}`);
    expect(lines).toContain(`user: ${HEARD[1]}`);
    expect(lines).toContain(`user: ${HEARD[2]}`);
    expect(lines.at(-1)).toBe(`assistant: ${ANSWER}`);
    expect(ended.keys.map((k: { keys: string }) => k.keys)).toEqual(['2']);
    // The cut reply is stored as far as its frames went out (all of them echoed as played before the clear).
    const cut = ended.transcripts.find((x: { role: string; text: string }) => x.role === 'assistant' && REPLY.startsWith(x.text) && x.text !== ANSWER)?.text as string;
    const replyReq = openaiSpeech.received.find((r) => r.json?.input === REPLY)!;
    const total = replyReq.bytesSent / 6; // 24 kHz 16-bit PCM → 8 kHz μ-law bytes
    expect(cut).toBe(heardPart(REPLY, (replyFrames * FRAME) / total));
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.length).toBeLessThan(REPLY.length);

    // The providers were asked as the call's configuration says: Deepgram with the call's language and
    // endpointing, OpenAI speech with the male default voice (no voice asked for) as 24 kHz PCM.
    expect(dg.query.get('language')).toBe('en-US');
    expect(dg.query.get('endpointing')).toBe('300');
    expect(dg.query.get('encoding')).toBe('mulaw');
    expect(dg.query.get('sample_rate')).toBe('8000');
    expect(replyReq.json).toMatchObject({ model: 'gpt-4o-mini-tts', voice: 'cedar', response_format: 'pcm' });
  }, 180_000);

  /** Starts a short call in audio mode and returns once it ended. */
  async function shortCall(phone: string, body: Record<string, unknown>) {
    const sid = await calls.start(phone, { task: 'Say hello and hang up.', ...body });
    const ended = await calls.ended(sid);
    expect(ended).toMatchObject({ status: 'completed', end_reason: 'said_hello' });
    expect(ended.transcripts.map((x: { role: string; text: string }) => `${x.role}: ${x.text}`)).toContain('assistant: Hello, this is a short call.');
    const fc = [...twilio.calls.values()].find((c) => c.to === phone)!;
    expect(fc.twiml).toContain('<Stream');
    expect(fc.twiml).not.toContain('ConversationRelay');
    return ended;
  }

  it('a Swedish call with a chosen ElevenLabs voice and model: ElevenLabs is asked for that voice and model', async () => {
    await shortCall(SWEDISH, { language: 'sv', elevenLabsVoice: '21m00Tcm4TlvDq8ikWAM', elevenLabsModel: 'eleven_multilingual_v2' });
    // The reply's first clause is synthesised on its own (its audio starts before the sentence is written), then the rest.
    const req = elevenlabs.received.find((r) => r.json?.text === 'Hello,')!;
    const rest = elevenlabs.received.find((r) => r.json?.text === 'this is a short call.')!;
    expect(rest.path).toBe(req.path);
    // The rest of the sentence carries on from its first clause's intonation.
    expect(rest.json.previous_text).toBe('Hello,');
    expect(req.json).not.toHaveProperty('previous_text');
    expect(req.path).toBe('/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream');
    expect(req.query.get('output_format')).toBe('ulaw_8000');
    expect(req.json.model_id).toBe('eleven_multilingual_v2');
    // That model cannot enforce a language (ElevenLabs refuses language_code there), and the call gave no
    // settings: nothing is sent that the call did not ask for.
    expect(req.json).not.toHaveProperty('language_code');
    expect(req.json).not.toHaveProperty('voice_settings');
    expect(deepgram.connections.at(-1)!.query.get('language')).toBe('sv');
  }, 90_000);

  it('an English call with no voice and voice_gender female: OpenAI speech with the female default', async () => {
    const before = openaiSpeech.received.length;
    await shortCall(ENGLISH, { language: 'en', voice_gender: 'female' });
    const req = openaiSpeech.received.slice(before).find((r) => r.json?.input === 'Hello,')!;
    expect(req.json).toMatchObject({ model: 'gpt-4o-mini-tts', voice: 'marin', response_format: 'pcm' });
  }, 90_000);

  it('an Azure voice with style and role: the SSML carries them', async () => {
    await shortCall(AZURE, { language: 'en', azureVoice: 'en-US-JennyNeural', style: 'cheerful', role: 'YoungAdultFemale' });
    const req = azure.received.find((r) => r.body.toString('utf8').includes('this is a short call.'))!;
    const ssml = req.body.toString('utf8');
    expect(req.headers['x-microsoft-outputformat']).toBe('raw-8khz-8bit-mono-mulaw');
    expect(ssml).toMatch(/<voice name="en-US-JennyNeural">/);
    expect(ssml).toMatch(/<mstts:express-as (style="cheerful" role="YoungAdultFemale"|role="YoungAdultFemale" style="cheerful")>this is a short call\.<\/mstts:express-as>/);
  }, 90_000);
});

/**
 * The callee frame (0-based) at which speech over the agent meets the interruption rule's duration: the
 * pipeline's own voice activity detector run over the same audio, counting speech from its onset.
 */
function signalFrame(audio: Buffer, minInterruptionMs: number): number {
  const vad = new EnergyVad();
  let speechMs = 0;
  for (let i = 0; i * FRAME < audio.length; i++) {
    vad.push(audio.subarray(i * FRAME, (i + 1) * FRAME));
    if (vad.speaking) speechMs += FRAME_MS;
    if (speechMs >= minInterruptionMs) return i;
  }
  throw new Error('the audio never lasts long enough to interrupt');
}
