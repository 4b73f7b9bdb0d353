/**
 * The call's voice on `<ConversationRelay>` (Twilio synthesises speech itself there). ConversationRelay
 * offers ElevenLabs, Google and Amazon voices; of the providers a call can name, only ElevenLabs. Its
 * ElevenLabs `voice` carries the model and settings in the voice string itself:
 * `<voiceId>-<model>-<speed>_<stability>_<similarity>` (e.g. `ZF6FPAbjXT4488VcRRnw-flash_v2_5-1.2_1.0_1.0`),
 * the model without its `eleven_` prefix. A voice ConversationRelay lacks (OpenAI, Azure, another
 * ElevenLabs model or setting) is carried in audio mode over Media Streams instead (engine/voice-choice.ts).
 */
import type { CarrierVoice, TextVoices } from '../carrier.js';
import { own } from '../../lib/own.js';

/** ElevenLabs models ConversationRelay takes, in ElevenLabs' own names. */
const RELAY_ELEVENLABS_MODELS = ['eleven_flash_v2_5', 'eleven_turbo_v2_5', 'eleven_flash_v2', 'eleven_turbo_v2'] as const;

/** What the Twilio carrier declares as `textVoices`. */
export const RELAY_TEXT_VOICES: TextVoices = {
  elevenlabs: { models: RELAY_ELEVENLABS_MODELS, settings: ['speed', 'stability', 'similarityBoost'] },
};

/** ElevenLabs' defaults, for the numbers a call leaves out (the voice string takes all three or none). */
const ELEVENLABS_DEFAULT_SETTINGS = { speed: 1, stability: 0.5, similarityBoost: 0.75 };

/** `<ConversationRelay>`'s `ttsProvider` and `voice` for the call's voice; none (Twilio's default voice) when it has no voice there. */
export function relayVoiceAttributes(voice: CarrierVoice | undefined): { ttsProvider?: string; voice?: string } {
  if (!voice || voice.provider !== 'elevenlabs') return {};
  const s = voice.settings;
  const hasNumbers = s && (s.speed !== undefined || s.stability !== undefined || s.similarityBoost !== undefined);
  let value = voice.voice;
  if (voice.model || hasNumbers) value += '-' + (voice.model ?? 'eleven_flash_v2_5').replace(/^eleven_/, '');
  if (hasNumbers) {
    const n = { ...ELEVENLABS_DEFAULT_SETTINGS, ...Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) };
    value += `-${fmt(n.speed)}_${fmt(n.stability)}_${fmt(n.similarityBoost)}`;
  }
  return { ttsProvider: 'ElevenLabs', voice: value };
}

/** `1` → `1.0`, `0.75` → `0.75`: as Twilio's examples write them. */
function fmt(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/**
 * Whether ConversationRelay can speak with `voice` as it is (provider, model and settings among
 * `RELAY_TEXT_VOICES`): the same test the engine makes to keep a call in text mode. A warm transfer's
 * destination, always dialled in text mode, is given the call's voice only then (else Twilio's default).
 */
export function relayOffers(voice: CarrierVoice | undefined): voice is CarrierVoice {
  const support = voice && own(RELAY_TEXT_VOICES, voice.provider);
  if (!voice || !support) return false;
  if (voice.model && support.models && !support.models.includes(voice.model)) return false;
  const settings = Object.entries(voice.settings ?? {}).filter(([, v]) => v !== undefined).map(([k]) => k);
  return settings.every((k) => (support.settings as readonly string[] | undefined)?.includes(k));
}
