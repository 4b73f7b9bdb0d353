/**
 * The text-to-speech adapters against their fakes (test/fakes/openai-speech, elevenlabs, azure-speech):
 * the same contract for each (audio streams in before the whole is synthesised, an abort stops the
 * request, a bad key is a clear error), then what each provider must receive.
 */
import { afterEach, describe, expect, it } from 'vitest';
import alawmulaw from 'alawmulaw';
import { AzureTts } from '../../src/ai/tts/azure/index.js';
import { ElevenLabsTts } from '../../src/ai/tts/elevenlabs/index.js';
import { OpenAiTts } from '../../src/ai/tts/openai/index.js';
import { TtsError, type TextToSpeech, type VoiceChoice } from '../../src/ai/tts/index.js';
import type { AudioFake } from '../fakes/audio-fake-common.js';
import { mulawToneFor } from '../fakes/audio-fake-common.js';
import { FAKE_AZURE_KEY, startAzureSpeechFake } from '../fakes/azure-speech/fake-azure-speech.js';
import { FAKE_ELEVENLABS_KEY, startElevenLabsFake } from '../fakes/elevenlabs/fake-elevenlabs.js';
import { FAKE_OPENAI_KEY, startOpenAiSpeechFake } from '../fakes/openai-speech/fake-openai-speech.js';

interface Subject {
  name: string;
  start(): Promise<AudioFake>;
  adapter(fake: AudioFake, key?: string): TextToSpeech;
  voice: VoiceChoice;
}

const SUBJECTS: Subject[] = [
  {
    name: 'OpenAI',
    start: startOpenAiSpeechFake,
    adapter: (fake, key = FAKE_OPENAI_KEY) => new OpenAiTts({ apiKey: key, baseUrl: `${fake.url}/v1` }),
    voice: { provider: 'openai', voice: 'marin' },
  },
  {
    name: 'ElevenLabs',
    start: startElevenLabsFake,
    adapter: (fake, key = FAKE_ELEVENLABS_KEY) => new ElevenLabsTts({ apiKey: key, baseUrl: fake.url }),
    voice: { provider: 'elevenlabs', voice: 'EXAVITQu4vr4xnSDxMaL' },
  },
  {
    name: 'Azure',
    start: startAzureSpeechFake,
    adapter: (fake, key = FAKE_AZURE_KEY) => new AzureTts({ apiKey: key, baseUrl: fake.url }),
    voice: { provider: 'azure', voice: 'en-US-JennyNeural' },
  },
];

const TEXT = 'Hello, I am calling about the booking on Tuesday at ten.';

let fakes: AudioFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function started(s: Subject): Promise<AudioFake> {
  const fake = await s.start();
  fakes.push(fake);
  return fake;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}

/** Root mean square of μ-law audio, decoded: a tone is loud, silence is ~0. */
function loudness(mulaw: Uint8Array): number {
  const s = alawmulaw.mulaw.decode(mulaw);
  let sum = 0;
  for (const x of s) sum += x * x;
  return Math.sqrt(sum / Math.max(1, s.length));
}

describe.each(SUBJECTS)('$name text-to-speech (contract)', (s) => {
  it('hands over the first audio while the provider is still sending the rest', async () => {
    const fake = await started(s);
    fake.hold = true;
    const ctrl = new AbortController();
    const iter = s.adapter(fake).synthesize({ text: TEXT, voice: s.voice, language: 'en', signal: ctrl.signal })[Symbol.asyncIterator]();
    let first = await iter.next();
    // OpenAI's resampler may hold back the very first few samples: the first non-empty chunk is what counts.
    while (!first.done && first.value.length === 0) first = await iter.next();
    expect(first.done).toBe(false);
    const whole = mulawToneFor(TEXT).length;
    expect(fake.received[0].bytesSent).toBeLessThan(s.name === 'OpenAI' ? whole * 6 : whole);
    fake.release();
    let rest = 0;
    for (let r = await iter.next(); !r.done; r = await iter.next()) rest += r.value.length;
    const total = first.value!.length + rest;
    // 8 kHz μ-law, as long as the text's audio (OpenAI's 24 kHz PCM resampled: within a few ms of it).
    expect(Math.abs(total - whole)).toBeLessThan(s.name === 'OpenAI' ? 200 : 1);
    expect(fake.received[0].closedEarly).toBe(false);
  });

  it('stops the request when aborted (barge-in), ending the audio without an error', async () => {
    const fake = await started(s);
    fake.hold = true;
    const ctrl = new AbortController();
    const iter = s.adapter(fake).synthesize({ text: TEXT, voice: s.voice, language: 'en', signal: ctrl.signal })[Symbol.asyncIterator]();
    await iter.next();
    ctrl.abort();
    const pending = iter.next();
    await expect(pending).resolves.toMatchObject({ done: true });
    await until(() => fake.received[0].closedEarly);
    expect(fake.received[0].bytesSent).toBeLessThan(mulawToneFor(TEXT).length);
  });

  it('rejects with a clear error naming the provider when the key is wrong', async () => {
    const fake = await started(s);
    const ctrl = new AbortController();
    const err = await collect(s.adapter(fake, 'wrong-key').synthesize({ text: TEXT, voice: s.voice, language: 'en', signal: ctrl.signal })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TtsError);
    expect(err).toMatchObject({ kind: 'auth', status: 401, retryable: false });
    expect((err as Error).message).toContain(s.voice.provider);
    expect((err as Error).message).not.toContain('Tuesday');
  });

  it('speaks audible audio', async () => {
    const fake = await started(s);
    const audio = await collect(s.adapter(fake).synthesize({ text: 'Yes.', voice: s.voice, language: 'en', signal: new AbortController().signal }));
    expect(audio.length).toBeGreaterThan(1000);
    expect(loudness(audio)).toBeGreaterThan(3000);
  });
});

describe('every text-to-speech', () => {
  it('keeps its connection for the next reply after more than 5 s of quiet (the callee talking)', async () => {
    // Node's fetch lets an idle connection go after 4 s and its http agents after 5 s: each turn's first clause
    // would then open a new connection (a TCP and a TLS handshake to the provider before its first audio).
    const each = await Promise.all(SUBJECTS.map(async (s) => ({ fake: await started(s), s })));
    const tts = each.map(({ fake, s }) => ({ fake, s, tts: s.adapter(fake) }));
    const speak = (text: string) => Promise.all(tts.map(({ s, tts }) => collect(tts.synthesize({ text, voice: s.voice, language: 'en', signal: new AbortController().signal }))));
    await speak('Yes, Tuesday at ten.');
    await new Promise((r) => setTimeout(r, 5_600));
    const second = await speak('Thank you, goodbye.');
    expect(second.every((a) => a.length > 1000)).toBe(true);
    expect(tts.map(({ s, fake }) => [s.name, fake.connections])).toEqual(SUBJECTS.map((s) => [s.name, 1]));
  }, 20_000);
});

describe('OpenAI speech', () => {
  it('asks for the call’s voice and model in 24 kHz PCM', async () => {
    const fake = await started(SUBJECTS[0]);
    const tts = new OpenAiTts({ apiKey: FAKE_OPENAI_KEY, baseUrl: `${fake.url}/v1` });
    await collect(tts.synthesize({ text: 'Hi.', voice: { provider: 'openai', voice: 'cedar', model: 'tts-1' }, language: 'en', signal: new AbortController().signal }));
    await collect(tts.synthesize({ text: 'Hi.', voice: { provider: 'openai', voice: 'coral' }, language: 'en', signal: new AbortController().signal }));
    expect(fake.received.map((r) => r.json)).toEqual([
      { model: 'tts-1', voice: 'cedar', input: 'Hi.', response_format: 'pcm' },
      { model: 'gpt-4o-mini-tts', voice: 'coral', input: 'Hi.', response_format: 'pcm' },
    ]);
    expect(fake.received[0].headers.authorization).toBe(`Bearer ${FAKE_OPENAI_KEY}`);
  });

  it('refuses a voice OpenAI does not have with a bad-request error', async () => {
    const fake = await started(SUBJECTS[0]);
    const tts = new OpenAiTts({ apiKey: FAKE_OPENAI_KEY, baseUrl: `${fake.url}/v1` });
    const err = await collect(tts.synthesize({ text: 'Hi.', voice: { provider: 'openai', voice: 'nobody' }, language: 'en', signal: new AbortController().signal })).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'bad_request', status: 400, requestId: 'req_fake_speech' });
  });
});

describe('ElevenLabs', () => {
  it('sends the voice id, model, language and voice_settings, and passes ulaw_8000 through untouched', async () => {
    const fake = await startElevenLabsFake();
    fakes.push(fake);
    const tts = new ElevenLabsTts({ apiKey: FAKE_ELEVENLABS_KEY, baseUrl: fake.url });
    const voice: VoiceChoice = { provider: 'elevenlabs', voice: '21m00Tcm4TlvDq8ikWAM', model: 'eleven_turbo_v2_5', settings: { stability: 0.3, similarityBoost: 0.9 } };
    const audio = await collect(tts.synthesize({ text: 'Hej, jag ringer om bokningen.', voice, language: 'sv', signal: new AbortController().signal }));
    const r = fake.received[0];
    expect(r.path).toBe('/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream');
    expect(r.query.get('output_format')).toBe('ulaw_8000');
    expect(r.headers['xi-api-key']).toBe(FAKE_ELEVENLABS_KEY);
    expect(r.json).toEqual({
      text: 'Hej, jag ringer om bokningen.',
      model_id: 'eleven_turbo_v2_5',
      language_code: 'sv',
      voice_settings: { stability: 0.3, similarity_boost: 0.9 },
    });
    expect(Buffer.from(audio).equals(Buffer.from(mulawToneFor('Hej, jag ringer om bokningen.')))).toBe(true);
  });

  it('leaves language_code out for a model that cannot take it', async () => {
    const fake = await startElevenLabsFake();
    fakes.push(fake);
    const tts = new ElevenLabsTts({ apiKey: FAKE_ELEVENLABS_KEY, baseUrl: fake.url });
    await collect(tts.synthesize({ text: 'Hej.', voice: { provider: 'elevenlabs', voice: 'EXAVITQu4vr4xnSDxMaL', model: 'eleven_multilingual_v2' }, language: 'sv', signal: new AbortController().signal }));
    expect(fake.received[0].json).toEqual({ text: 'Hej.', model_id: 'eleven_multilingual_v2' });
  });
});

describe('Azure', () => {
  it('sends SSML with the voice, style, role, background audio and the text escaped', async () => {
    const fake = await started(SUBJECTS[2]);
    const tts = new AzureTts({ apiKey: FAKE_AZURE_KEY, baseUrl: fake.url });
    const voice: VoiceChoice = {
      provider: 'azure',
      voice: 'sv-SE-SofieNeural',
      style: 'cheerful',
      role: 'YoungAdultFemale',
      backgroundAudio: { src: 'https://example.com/office.mp3?a=1&b=2', volume: 0.3, fadeInMs: 1000, fadeOutMs: 500 },
    };
    const text = 'Tom & Jerry <3 "quotes" it\'s';
    const audio = await collect(tts.synthesize({ text, voice, language: 'sv', signal: new AbortController().signal }));
    expect(audio.length).toBe(mulawToneFor(text).length);
    const r = fake.received[0];
    expect(r.headers['x-microsoft-outputformat']).toBe('raw-8khz-8bit-mono-mulaw');
    expect(r.headers['content-type']).toBe('application/ssml+xml');
    const ssml = r.body.toString('utf8');
    expect(ssml).toContain('xml:lang="sv-SE"');
    expect(ssml).toContain('<mstts:backgroundaudio src="https://example.com/office.mp3?a=1&amp;b=2" volume="30" fadein="1000" fadeout="500"/>');
    expect(ssml).toContain('<voice name="sv-SE-SofieNeural">');
    expect(ssml).toContain('<mstts:express-as style="cheerful" role="YoungAdultFemale">Tom &amp; Jerry &lt;3 &quot;quotes&quot; it&apos;s</mstts:express-as>');
    expect(ssml.indexOf('backgroundaudio')).toBeLessThan(ssml.indexOf('<voice'));
  });

  it('speaks plain text without express-as when no style or role is asked', async () => {
    const fake = await started(SUBJECTS[2]);
    const tts = new AzureTts({ apiKey: FAKE_AZURE_KEY, baseUrl: fake.url });
    await collect(tts.synthesize({ text: 'Hello.', voice: { provider: 'azure', voice: 'en-US-GuyNeural' }, language: 'en', signal: new AbortController().signal }));
    const ssml = fake.received[0].body.toString('utf8');
    expect(ssml).toContain('<voice name="en-US-GuyNeural">Hello.</voice>');
    expect(ssml).not.toContain('express-as');
    expect(ssml).not.toContain('backgroundaudio');
  });
});
