/**
 * Builds the text-to-speech adapters of the configured providers (docs/voice.md). Which one a call uses is
 * decided per call from its voice fields (src/core/voice/).
 */
import type { SpeechConfig } from '../../config/index.js';
import { AzureTts } from './azure/index.js';
import { ElevenLabsTts } from './elevenlabs/index.js';
import { EspeakTts } from './espeak/index.js';
import { OpenAiTts } from './openai/index.js';
import type { TextToSpeech, TtsProvider } from './tts.js';

export type { TextToSpeech, TtsProvider, TtsRequest, VoiceChoice } from './tts.js';
export { TtsError, type TtsErrorKind } from './errors.js';

/** The adapters of every configured provider, by provider (espeak-ng is always there: it needs no key). Each adapter adds its line here. */
export function createTtsProviders(speech: SpeechConfig): Partial<Record<TtsProvider, TextToSpeech>> {
  const providers: Partial<Record<TtsProvider, TextToSpeech>> = { espeak: new EspeakTts() };
  if (speech.openai) providers.openai = new OpenAiTts({ apiKey: speech.openai.apiKey, baseUrl: speech.openai.baseUrl });
  if (speech.elevenlabs) providers.elevenlabs = new ElevenLabsTts({ apiKey: speech.elevenlabs.apiKey, baseUrl: speech.elevenlabs.baseUrl });
  if (speech.azure) providers.azure = new AzureTts({ apiKey: speech.azure.apiKey, baseUrl: speech.azure.baseUrl });
  return providers;
}
