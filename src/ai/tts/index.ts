/**
 * Builds the text-to-speech adapters of the configured providers (docs/voice.md). Which one a call uses is
 * decided per call from its voice fields (src/core/voice/).
 */
import type { SpeechConfig } from '../../config/index.js';
import { EspeakTts } from './espeak/index.js';
import type { TextToSpeech, TtsProvider } from './tts.js';

export type { TextToSpeech, TtsProvider, TtsRequest, VoiceChoice } from './tts.js';

/** The adapters of every configured provider, by provider (espeak-ng is always there: it needs no key). Each adapter adds its line here. */
export function createTtsProviders(speech: SpeechConfig): Partial<Record<TtsProvider, TextToSpeech>> {
  void speech;
  const providers: Partial<Record<TtsProvider, TextToSpeech>> = { espeak: new EspeakTts() };
  return providers;
}
