/**
 * Which way a call's voice is carried: by the carrier's own synthesis in text mode, or by the engine in
 * audio mode. The voice itself is resolved by the core (core/voice, `CallService.voiceOf`).
 */
import type { VoiceChoice } from '../ai/tts/index.js';
import type { CarrierCapabilities } from '../carriers/carrier.js';
import { own } from '../lib/own.js';

/**
 * Whether `choice` needs audio mode on a carrier with `caps`: the carrier speaks text only in voices it
 * declares (`textVoices`: ConversationRelay has ElevenLabs, not OpenAI or Azure, and only some ElevenLabs
 * models and settings). A carrier that declares none (the simulated network) is not heard as audio in text
 * mode, and a carrier with no text mode is always audio.
 *
 * @example
 *   needsAudioMode({ provider: 'openai', voice: 'marin' }, twilio.capabilities) // → true: Media Streams
 */
export function needsAudioMode(choice: VoiceChoice, caps: CarrierCapabilities): boolean {
  if (!caps.textMode) return true;
  if (!caps.textVoices) return false;
  const support = own(caps.textVoices, choice.provider);
  if (!support) return true;
  if (choice.model && support.models && !support.models.includes(choice.model)) return true;
  const settings = Object.entries(choice.settings ?? {}).filter(([, v]) => v !== undefined).map(([k]) => k);
  return settings.some((k) => !(support.settings as readonly string[] | undefined)?.includes(k));
}
