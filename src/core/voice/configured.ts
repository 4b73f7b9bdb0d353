import type { SpeechConfig } from '../../config/index.js';
import type { HostedTtsProvider } from './resolve.js';

/** The hosted text-to-speech providers this server has keys for (SpeechConfig), in a stable order. */
export function configuredTtsProviders(speech: SpeechConfig): HostedTtsProvider[] {
  const out: HostedTtsProvider[] = [];
  if (speech.openai) out.push('openai');
  if (speech.elevenlabs) out.push('elevenlabs');
  if (speech.azure) out.push('azure');
  return out;
}
