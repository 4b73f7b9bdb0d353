/**
 * Picks and builds the speech-to-text of audio calls from the configuration (STT_PROVIDER, docs/voice.md).
 */
import type { ProviderAccount, SpeechConfig } from '../../config/index.js';
import { DeepgramStt } from './deepgram/index.js';
import { OfflineStt } from './offline/index.js';
import { OpenAiStt } from './openai/index.js';
import type { SpeechToText, SttProvider } from './stt.js';

export type { SpeechToText, SttEvent, SttOptions, SttProvider, SttStream } from './stt.js';
export { SttError, type SttErrorKind } from './errors.js';

/** `auto`: Deepgram when configured, else OpenAI when configured, else the offline recogniser. */
export function chooseStt(speech: SpeechConfig): SttProvider {
  if (speech.stt !== 'auto') return speech.stt;
  return speech.deepgram ? 'deepgram' : speech.openai ? 'openai' : 'offline';
}

/** The configured speech-to-text. Each adapter adds its case here. */
export function createStt(speech: SpeechConfig): SpeechToText {
  const provider = chooseStt(speech);
  switch (provider) {
    case 'deepgram':
      return new DeepgramStt({ ...configured(speech.deepgram, 'DEEPGRAM_API_KEY'), ...chunking(speech) });
    case 'openai':
      return new OpenAiStt({ ...configured(speech.openai, 'OPENAI_API_KEY'), ...chunking(speech) });
    case 'offline':
      return new OfflineStt(speech.offlineRecognizer);
    default:
      throw new Error(`speech-to-text provider ${provider} is not available in this build`);
  }
}

/** STT_CHUNK_MS and STT_SILENCE_MS when set (an absent one keeps the adapter's default rather than overriding it with `undefined`). */
function chunking(speech: SpeechConfig): { chunkMs?: number; silenceMs?: number | 'all' } {
  return {
    ...(speech.sttChunkMs === undefined ? {} : { chunkMs: speech.sttChunkMs }),
    ...(speech.sttSilenceMs === undefined ? {} : { silenceMs: speech.sttSilenceMs }),
  };
}

/** The provider's account; config/index.ts already refuses to start without it, so this is a guard for other callers. */
function configured(account: ProviderAccount | undefined, variable: string): ProviderAccount {
  if (!account) throw new Error(`speech-to-text provider needs ${variable}`);
  return account;
}
