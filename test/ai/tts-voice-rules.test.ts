/**
 * The voice rules (core/voice) through the configured adapters (createTtsProviders) to the providers' fakes:
 * what each provider receives for a call's voice fields — issue 10's "captured provider requests show the
 * voice rules": a Swedish call → ElevenLabs with the chosen voice, an English call with no voice → OpenAI's
 * default for the gender, Azure SSML with style and role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type SpeechConfig } from '../../src/config/index.js';
import { createTtsProviders } from '../../src/ai/tts/index.js';
import { configuredTtsProviders, voiceForCall, type VoiceFields } from '../../src/core/voice/index.js';
import type { AudioFake } from '../fakes/audio-fake-common.js';
import { FAKE_AZURE_KEY, startAzureSpeechFake } from '../fakes/azure-speech/fake-azure-speech.js';
import { FAKE_ELEVENLABS_KEY, startElevenLabsFake } from '../fakes/elevenlabs/fake-elevenlabs.js';
import { FAKE_OPENAI_KEY, startOpenAiSpeechFake } from '../fakes/openai-speech/fake-openai-speech.js';

describe('a call’s voice fields, as the providers receive them', () => {
  let openai: AudioFake;
  let eleven: AudioFake;
  let azure: AudioFake;
  let speech: SpeechConfig;

  beforeAll(async () => {
    [openai, eleven, azure] = await Promise.all([startOpenAiSpeechFake(), startElevenLabsFake(), startAzureSpeechFake()]);
    speech = loadConfig({
      LOG_LEVEL: 'silent',
      OPENAI_API_KEY: FAKE_OPENAI_KEY,
      OPENAI_BASE_URL: `${openai.url}/v1`,
      ELEVENLABS_API_KEY: FAKE_ELEVENLABS_KEY,
      ELEVENLABS_BASE_URL: eleven.url,
      AZURE_SPEECH_KEY: FAKE_AZURE_KEY,
      AZURE_SPEECH_REGION: 'westeurope',
      AZURE_SPEECH_BASE_URL: azure.url,
    }).speech;
  });
  afterAll(async () => {
    await Promise.all([openai?.close(), eleven?.close(), azure?.close()]);
  });

  async function speak(voice: VoiceFields, language: string, text: string): Promise<void> {
    const choice = voiceForCall({ voice, language }, configuredTtsProviders(speech));
    const tts = createTtsProviders(speech)[choice.provider]!;
    for await (const chunk of tts.synthesize({ text, voice: choice, language, signal: new AbortController().signal })) void chunk;
  }

  it('a Swedish call with a chosen voice → ElevenLabs with that voice', async () => {
    await speak({ ttsProvider: 'auto', gender: 'male', elevenLabsVoice: 'EXAVITQu4vr4xnSDxMaL' }, 'sv', 'Hej, jag ringer om bokningen.');
    const r = eleven.received.at(-1)!;
    expect(r.path).toBe('/v1/text-to-speech/EXAVITQu4vr4xnSDxMaL/stream');
    expect(r.json).toMatchObject({ text: 'Hej, jag ringer om bokningen.', language_code: 'sv' });
  });

  it('an English call with no voice → OpenAI’s default for the gender', async () => {
    await speak({ ttsProvider: 'auto', gender: 'female' }, 'en', 'Hello there.');
    await speak({ ttsProvider: 'auto', gender: 'male' }, 'en', 'Hello again.');
    expect(openai.received.slice(-2).map((r) => r.json.voice)).toEqual(['marin', 'cedar']);
  });

  it('an Azure voice with style and role → SSML carrying them', async () => {
    await speak({ ttsProvider: 'azure', gender: 'female', azureStyle: 'cheerful', azureRole: 'YoungAdultFemale' }, 'sv', 'Hej!');
    const ssml = azure.received.at(-1)!.body.toString('utf8');
    expect(ssml).toContain('<voice name="sv-SE-SofieNeural"><mstts:express-as style="cheerful" role="YoungAdultFemale">Hej!</mstts:express-as></voice>');
  });

  it('an agent’s voice_settings → ElevenLabs’ voice_settings', async () => {
    await speak({ ttsProvider: 'auto', gender: 'female', settings: { stability: 0.5, similarity_boost: 0.75 } }, 'en', 'Hello.');
    expect(eleven.received.at(-1)!.json).toMatchObject({ voice_settings: { stability: 0.5, similarity_boost: 0.75 } });
  });
});
