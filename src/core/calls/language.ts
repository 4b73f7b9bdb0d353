/**
 * Language names and codes as clients send them (`swedish`, `sv-SE`, `Svenska`, `EN`) folded to one
 * lowercase ISO 639-1 code. Unknown values are refused rather than guessed.
 */
import { own } from '../../lib/own.js';
const NAMES: Record<string, string> = {
  swedish: 'sv', svenska: 'sv', english: 'en', engelska: 'en', german: 'de', deutsch: 'de', tyska: 'de',
  french: 'fr', français: 'fr', francais: 'fr', spanish: 'es', español: 'es', espanol: 'es',
  norwegian: 'no', norsk: 'no', bokmål: 'nb', danish: 'da', dansk: 'da', finnish: 'fi', suomi: 'fi',
  dutch: 'nl', nederlands: 'nl', italian: 'it', italiano: 'it', portuguese: 'pt', português: 'pt',
  polish: 'pl', polski: 'pl', arabic: 'ar', turkish: 'tr', japanese: 'ja', chinese: 'zh', hindi: 'hi',
};

export const DEFAULT_LANGUAGE = 'sv';

/** Returns the normalised code, or null when `input` is not a language we recognise. */
export function normalizeLanguage(input: string): string | null {
  const v = input.trim().toLowerCase();
  const named = own(NAMES, v);
  if (named) return named;
  const m = /^([a-z]{2})(?:[-_][a-z0-9]{2,8})*$/.exec(v);
  return m ? m[1] : null;
}
