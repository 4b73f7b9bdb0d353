/**
 * Each provider's default voices, by the call's `voice_gender` (001: "used to auto-select default OpenAI +
 * ElevenLabs voices when explicit voice IDs are not provided"), and the languages each has a voice for
 * (what `tts_provider: auto` asks of a language other than Swedish or English).
 */
/** 001's `voice_gender`. */
export type VoiceGender = 'female' | 'male';

/** OpenAI's two newest voices, made for `gpt-4o-mini-tts` and Realtime; both speak every language OpenAI does. */
export const OPENAI_DEFAULT_VOICES: Record<VoiceGender, string> = { female: 'marin', male: 'cedar' };

/** The voices OpenAI speech and Realtime accept (protocols.md §10). */
export const OPENAI_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse', 'marin', 'cedar'] as const;

/** ElevenLabs premade voices every account has (Sarah, George); its multilingual models speak Swedish with them. */
export const ELEVENLABS_DEFAULT_VOICES: Record<VoiceGender, string> = { female: 'EXAVITQu4vr4xnSDxMaL', male: 'JBFqnCBsd6RMkjVDRZzb' };

/** Languages ElevenLabs' default model (`eleven_flash_v2_5`) speaks. */
export const ELEVENLABS_LANGUAGES = new Set([
  'en', 'ja', 'zh', 'de', 'hi', 'fr', 'ko', 'pt', 'it', 'es', 'id', 'nl', 'tr', 'pl', 'sv', 'bg', 'ro', 'ar', 'cs',
  'el', 'fi', 'hr', 'ms', 'sk', 'da', 'ta', 'uk', 'ru', 'hu', 'no', 'nb', 'vi',
]);

/** Azure neural voices by language: [female, male]. Azure voices are per locale, so a language without one here has none by default. */
export const AZURE_DEFAULT_VOICES: Record<string, [female: string, male: string]> = {
  en: ['en-US-JennyNeural', 'en-US-GuyNeural'],
  sv: ['sv-SE-SofieNeural', 'sv-SE-MattiasNeural'],
  de: ['de-DE-KatjaNeural', 'de-DE-ConradNeural'],
  fr: ['fr-FR-DeniseNeural', 'fr-FR-HenriNeural'],
  es: ['es-ES-ElviraNeural', 'es-ES-AlvaroNeural'],
  it: ['it-IT-ElsaNeural', 'it-IT-DiegoNeural'],
  nl: ['nl-NL-ColetteNeural', 'nl-NL-MaartenNeural'],
  da: ['da-DK-ChristelNeural', 'da-DK-JeppeNeural'],
  no: ['nb-NO-PernilleNeural', 'nb-NO-FinnNeural'],
  nb: ['nb-NO-PernilleNeural', 'nb-NO-FinnNeural'],
  fi: ['fi-FI-NooraNeural', 'fi-FI-HarriNeural'],
  pt: ['pt-BR-FranciscaNeural', 'pt-BR-AntonioNeural'],
  pl: ['pl-PL-ZofiaNeural', 'pl-PL-MarekNeural'],
  ar: ['ar-SA-ZariyahNeural', 'ar-SA-HamedNeural'],
  tr: ['tr-TR-EmelNeural', 'tr-TR-AhmetNeural'],
  ja: ['ja-JP-NanamiNeural', 'ja-JP-KeitaNeural'],
  zh: ['zh-CN-XiaoxiaoNeural', 'zh-CN-YunxiNeural'],
  hi: ['hi-IN-SwaraNeural', 'hi-IN-MadhurNeural'],
};

/** Azure's default voice for `language` and `gender`, or undefined when Azure has none by default. */
export function azureDefaultVoice(language: string, gender: VoiceGender): string | undefined {
  const pair = Object.hasOwn(AZURE_DEFAULT_VOICES, language) ? AZURE_DEFAULT_VOICES[language] : undefined;
  return pair?.[gender === 'female' ? 0 : 1];
}
