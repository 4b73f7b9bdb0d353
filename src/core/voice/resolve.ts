/**
 * The voice rules of 000/001 (docs/voice.md "Voice options"), in one place: a call's voice fields, its
 * language and the providers this server has keys for → the one voice the call speaks with.
 *
 * - `tts_provider` names the provider; `auto` (the default) picks by language: Swedish → ElevenLabs,
 *   English → OpenAI, another language → the configured provider that has a voice for it, else OpenAI.
 * - A provider's own fields (`openaiVoice`; `11labsVoice`/`elevenLabsVoice`, `elevenLabsModel`; `azureVoice`,
 *   `style`, `role`, `azureBackgroundAudio`) name that provider too: under `auto` a call that names one
 *   provider gets it; one that names several gets the language's choice among them (voices for each
 *   language). An agent's `voice_settings` (002, ElevenLabs' settings) make its calls speak with
 *   ElevenLabs where this server has ElevenLabs.
 * - `voice_gender` (default male) picks each provider's default voice; an explicit voice wins.
 * - A provider chosen explicitly (by `tts_provider` or its own fields) that this server has no key for is a
 *   400 naming the field, and so is a field of another provider than `tts_provider`: no accepted voice
 *   field silently does nothing. `auto` alone never fails: with no hosted provider configured the call
 *   speaks with espeak-ng (offline).
 */
import { validationError } from '../errors.js';
import type { TtsProvider, VoiceChoice } from '../../ai/tts/tts.js';
import { ELEVENLABS_DEFAULT_VOICES, ELEVENLABS_LANGUAGES, OPENAI_DEFAULT_VOICES, OPENAI_VOICES, azureDefaultVoice, type VoiceGender } from './defaults.js';

export type { VoiceGender };
/** The providers a call may name (espeak-ng is the offline fallback of `auto`, never named). */
export type HostedTtsProvider = Exclude<TtsProvider, 'espeak'>;

/** A call's voice fields, as the core keeps them (CallRequest['voice']). */
export interface VoiceFields {
  ttsProvider: 'auto' | HostedTtsProvider;
  gender: VoiceGender;
  openaiVoice?: string;
  elevenLabsVoice?: string;
  elevenLabsModel?: string;
  azureVoice?: string;
  azureStyle?: string;
  azureRole?: string;
  azureBackgroundAudio?: { src: string; volume?: number; fadeInMs?: number; fadeOutMs?: number };
  /** An agent's `voice_settings` (002), ElevenLabs' own spelling. */
  settings?: ElevenLabsVoiceSettings;
}

/** 002's `voice_settings`: ElevenLabs' voice settings object. */
export interface ElevenLabsVoiceSettings {
  stability?: number;
  similarity_boost?: number;
  style?: number;
  use_speaker_boost?: boolean;
  speed?: number;
}

/** The field names the documents use, for the 400s. */
const FIELD_OF = {
  openaiVoice: 'openaiVoice',
  elevenLabsVoice: 'elevenLabsVoice',
  elevenLabsModel: 'elevenLabsModel',
  azureVoice: 'azureVoice',
  azureStyle: 'style',
  azureRole: 'role',
  azureBackgroundAudio: 'azureBackgroundAudio',
} as const;

const PROVIDER_OF: Record<keyof typeof FIELD_OF, HostedTtsProvider> = {
  openaiVoice: 'openai',
  elevenLabsVoice: 'elevenlabs',
  elevenLabsModel: 'elevenlabs',
  azureVoice: 'azure',
  azureStyle: 'azure',
  azureRole: 'azure',
  azureBackgroundAudio: 'azure',
};

const NAMES: Record<HostedTtsProvider, string> = { openai: 'OpenAI', elevenlabs: 'ElevenLabs', azure: 'Azure' };

/** Azure limits `mstts:backgroundaudio` fades to 10 s. */
const AZURE_MAX_FADE_MS = 10_000;

/** The provider-naming fields a call gave, in the order of FIELD_OF, with the provider each names. */
function namedFields(v: VoiceFields): { field: string; provider: HostedTtsProvider }[] {
  return (Object.keys(FIELD_OF) as (keyof typeof FIELD_OF)[])
    .filter((k) => v[k] !== undefined)
    .map((k) => ({ field: FIELD_OF[k], provider: PROVIDER_OF[k] }));
}

/**
 * `auto`'s choice for `language` among `available`: Swedish → ElevenLabs, English → OpenAI, else who has a
 * voice for it (Azure first: its voices are native to each locale; then ElevenLabs' multilingual voices),
 * else OpenAI (its voices speak most languages), else `fallback`.
 */
function byLanguage(language: string, available: readonly HostedTtsProvider[], fallback: TtsProvider): TtsProvider {
  const has = (p: HostedTtsProvider) => available.includes(p);
  if (language === 'sv' && has('elevenlabs')) return 'elevenlabs';
  if (language === 'en' && has('openai')) return 'openai';
  if (has('azure') && azureDefaultVoice(language, 'male')) return 'azure';
  if (has('elevenlabs') && ELEVENLABS_LANGUAGES.has(language)) return 'elevenlabs';
  if (has('openai')) return 'openai';
  return fallback;
}

function hasSettings(v: VoiceFields): boolean {
  return Object.values(v.settings ?? {}).some((x) => x !== undefined);
}

function notConfigured(field: string, provider: HostedTtsProvider): Error {
  return validationError(field, `${field} asks for ${NAMES[provider]} text-to-speech, which is not configured on this server`);
}

/**
 * The voice a call speaks with. Throws a validation error (400) naming the field when the fields ask for
 * something this server cannot do.
 *
 * @example
 *   resolveVoice({ ttsProvider: 'auto', gender: 'female' }, 'en', ['openai', 'elevenlabs'])
 *   // → { provider: 'openai', voice: 'marin' }
 */
export function resolveVoice(v: VoiceFields, language: string, configured: readonly HostedTtsProvider[]): VoiceChoice {
  const named = namedFields(v);
  let provider: TtsProvider;
  if (v.ttsProvider !== 'auto') {
    provider = v.ttsProvider;
    if (!configured.includes(provider)) throw notConfigured('tts_provider', provider);
    const other = named.find((n) => n.provider !== provider);
    if (other) throw validationError(other.field, `${other.field} applies to ${NAMES[other.provider]} voices, but tts_provider is ${provider}`);
  } else {
    const providers = [...new Set(named.map((n) => n.provider))];
    const missing = named.find((n) => !configured.includes(n.provider));
    if (providers.length === 1 && missing) throw notConfigured(missing.field, missing.provider);
    if (providers.length) {
      // The call named its voices: one of those providers, whatever the language.
      const usable = providers.filter((p) => configured.includes(p));
      if (usable.length === 0) throw notConfigured(missing!.field, missing!.provider);
      provider = usable.length === 1 ? usable[0] : byLanguage(language, usable, usable[0]);
    } else if (hasSettings(v) && configured.includes('elevenlabs')) {
      // An agent's voice_settings are ElevenLabs settings: its calls speak with ElevenLabs where this server
      // has it. Softly (no 400 without it): 002's agents carry them on every server, keyed or not.
      provider = 'elevenlabs';
    } else {
      // Nothing named: a configured provider with a voice for the language, else espeak-ng (offline).
      provider = byLanguage(language, configured, 'espeak');
    }
  }
  return voiceOf(provider, v, language);
}

/**
 * The voice a call that was already accepted speaks with: as `resolveVoice`, but should the server's
 * providers have changed since the call was checked, `auto`'s choice for its language instead of an error
 * (a call in progress must still speak).
 */
export function voiceForCall(call: { voice: VoiceFields; language: string }, configured: readonly HostedTtsProvider[]): VoiceChoice {
  try {
    return resolveVoice(call.voice, call.language, configured);
  } catch {
    return resolveVoice({ ttsProvider: 'auto', gender: call.voice.gender }, call.language, configured);
  }
}

/** The provider's voice for the call: its explicit fields, else its default for the gender (and language). */
function voiceOf(provider: TtsProvider, v: VoiceFields, language: string): VoiceChoice {
  switch (provider) {
    case 'openai': {
      const voice = v.openaiVoice ?? OPENAI_DEFAULT_VOICES[v.gender];
      if (!(OPENAI_VOICES as readonly string[]).includes(voice)) {
        throw validationError('openaiVoice', `openaiVoice must be one of ${OPENAI_VOICES.join(', ')}`);
      }
      return { provider, voice };
    }
    case 'elevenlabs': {
      const voice = v.elevenLabsVoice ?? ELEVENLABS_DEFAULT_VOICES[v.gender];
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(voice)) throw validationError('elevenLabsVoice', 'elevenLabsVoice must be an ElevenLabs voice id');
      if (v.elevenLabsModel !== undefined && !/^[a-z0-9_]{1,64}$/.test(v.elevenLabsModel)) {
        throw validationError('elevenLabsModel', 'elevenLabsModel must be an ElevenLabs model id such as eleven_flash_v2_5');
      }
      const s = v.settings;
      const settings = s && hasSettings(v)
        ? { stability: s.stability, similarityBoost: s.similarity_boost, style: s.style, useSpeakerBoost: s.use_speaker_boost, speed: s.speed }
        : undefined;
      return { provider, voice, ...(v.elevenLabsModel ? { model: v.elevenLabsModel } : {}), ...(settings ? { settings } : {}) };
    }
    case 'azure': {
      const voice = v.azureVoice ?? azureDefaultVoice(language, v.gender);
      if (!voice) throw validationError('azureVoice', 'azureVoice is required: Azure has no default voice for the call’s language');
      if (!/^[a-z]{2,3}-[A-Za-z0-9]{2,8}(-[A-Za-z0-9:]+)+$/.test(voice)) {
        throw validationError('azureVoice', 'azureVoice must be an Azure neural voice name such as en-US-JennyNeural');
      }
      const bg = v.azureBackgroundAudio;
      if (bg && (bg.fadeInMs ?? 0) > AZURE_MAX_FADE_MS) throw validationError('azureBackgroundAudio', 'azureBackgroundAudio.fadeInMs must be at most 10000 with Azure');
      if (bg && (bg.fadeOutMs ?? 0) > AZURE_MAX_FADE_MS) throw validationError('azureBackgroundAudio', 'azureBackgroundAudio.fadeOutMs must be at most 10000 with Azure');
      if (bg && !bg.src.startsWith('https://')) throw validationError('azureBackgroundAudio', 'azureBackgroundAudio.src must be an https URL (Azure fetches it)');
      return {
        provider,
        voice,
        ...(v.azureStyle ? { style: v.azureStyle } : {}),
        ...(v.azureRole ? { role: v.azureRole } : {}),
        ...(bg ? { backgroundAudio: bg } : {}),
      };
    }
    case 'espeak':
      // espeak-ng's variants: a female and a male voice of every language it speaks.
      return { provider, voice: v.gender === 'female' ? 'f3' : 'm3' };
  }
}

const SETTING_RANGES: Record<Exclude<keyof ElevenLabsVoiceSettings, 'use_speaker_boost'>, [number, number]> = {
  stability: [0, 1],
  similarity_boost: [0, 1],
  style: [0, 1],
  speed: [0.7, 1.2],
};

/**
 * An agent's `voice_settings` (002: "ElevenLabs voice settings object"), checked: `stability`,
 * `similarity_boost`, `style` (0–1), `speed` (0.7–1.2), `use_speaker_boost` (boolean). Any other key is
 * refused, so that nothing is stored that no voice would honour.
 */
export function parseVoiceSettings(value: unknown): ElevenLabsVoiceSettings {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw validationError('voice_settings', 'voice_settings must be an object');
  const out: ElevenLabsVoiceSettings = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = `voice_settings.${key}`;
    if (key === 'use_speaker_boost') {
      if (typeof v !== 'boolean') throw validationError(field, `${field} must be true or false`);
      out.use_speaker_boost = v;
    } else if (Object.hasOwn(SETTING_RANGES, key)) {
      const [min, max] = SETTING_RANGES[key as keyof typeof SETTING_RANGES];
      if (typeof v !== 'number' || !(v >= min && v <= max)) throw validationError(field, `${field} must be a number from ${min} to ${max}`);
      out[key as keyof typeof SETTING_RANGES] = v;
    } else {
      throw validationError(field, `${field} is not an ElevenLabs voice setting (stability, similarity_boost, style, use_speaker_boost, speed)`);
    }
  }
  return out;
}
