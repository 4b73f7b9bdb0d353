/**
 * Our call language (a BCP 47 tag such as `en`, `sv`, `pt-BR`) → Deepgram's `language` parameter. The one table
 * of it: a bare language picks the variant telephone callers most likely speak (`en` → `en-US`); a regional
 * tag Deepgram knows is kept; anything else is sent as its primary subtag, and Deepgram refuses what it does
 * not support (an `error` event naming a bad request).
 */
const DEEPGRAM_LANGUAGES: Record<string, string> = {
  en: 'en-US',
  'en-us': 'en-US',
  'en-gb': 'en-GB',
  'en-au': 'en-AU',
  'en-in': 'en-IN',
  'en-nz': 'en-NZ',
  sv: 'sv',
  'sv-se': 'sv-SE',
  da: 'da',
  'da-dk': 'da-DK',
  no: 'no',
  nb: 'no',
  fi: 'fi',
  de: 'de',
  'de-ch': 'de-CH',
  nl: 'nl',
  'nl-be': 'nl-BE',
  fr: 'fr',
  'fr-ca': 'fr-CA',
  es: 'es',
  'es-419': 'es-419',
  'es-mx': 'es-419',
  pt: 'pt',
  'pt-br': 'pt-BR',
  'pt-pt': 'pt-PT',
  it: 'it',
  pl: 'pl',
  ru: 'ru',
  tr: 'tr',
  hi: 'hi',
  ja: 'ja',
  ko: 'ko',
  zh: 'zh-CN',
  'zh-cn': 'zh-CN',
  'zh-tw': 'zh-TW',
};

export function deepgramLanguage(language: string): string {
  const tag = language.trim().toLowerCase().replace(/_/g, '-');
  const primary = tag.split('-')[0]!;
  return DEEPGRAM_LANGUAGES[tag] ?? DEEPGRAM_LANGUAGES[primary] ?? primary;
}
