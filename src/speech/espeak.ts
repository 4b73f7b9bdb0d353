/**
 * Offline speech synthesis with espeak-ng: text → PCM (or WAV), in a voice and at a pace. The simulated
 * network speaks its recordings with it; offline text-to-speech reuses it. espeak-ng reads the text on
 * stdin (never as an argument) and writes a WAV on stdout.
 *
 * @example
 *   const pcm = await speak('Good evening, Bella Cucina.', { language: 'en', variant: 'f3', wordsPerMinute: 160, sampleRate: 8000 });
 */
// alawmulaw is CommonJS: Node gives it to ES modules as one default export.
import alawmulaw from 'alawmulaw';
import { fromWav, resample, toWav, type Pcm } from './audio.js';
import { spellCodes } from './codes.js';
import { runTool } from './run.js';

export interface EspeakOptions {
  /** BCP 47-ish language (`en`, `en-GB`, `sv`); picks espeak-ng's voice for it. Default `en`. */
  language?: string;
  /** An espeak-ng voice variant (`m3`, `f3`, `klatt`, …) to tell speakers apart. Default: the language's own. */
  variant?: string;
  /** Speaking rate in words per minute (espeak-ng's `-s`, 80–450). Default 160. */
  wordsPerMinute?: number;
  /** Pitch, 0–99 (espeak-ng's `-p`). Default 50. */
  pitch?: number;
  /** Sample rate of the result; espeak-ng speaks at 22050 Hz and sox resamples. Default: 22050. */
  sampleRate?: number;
  /** Stops espeak-ng (and sox) when aborted; `speak` then rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/** espeak-ng's own sample rate. */
export const ESPEAK_SAMPLE_RATE = 22050;

/** espeak-ng voices by language (its names where they differ from the BCP 47 tag). */
const VOICES: Record<string, string> = { en: 'en-us', 'en-us': 'en-us', 'en-gb': 'en-gb', sv: 'sv', es: 'es', de: 'de', fr: 'fr-fr', it: 'it', pt: 'pt-br', nl: 'nl', da: 'da', nb: 'nb', no: 'nb', fi: 'fi', ja: 'ja' };

/** The espeak-ng voice name for `language` (`en` → `en-us`); the language itself when espeak-ng may know it. */
export function espeakVoice(language: string): string {
  const tag = language.toLowerCase();
  const base = tag.split('-')[0];
  const known = Object.hasOwn(VOICES, tag) ? VOICES[tag] : Object.hasOwn(VOICES, base) ? VOICES[base] : undefined;
  if (known) return known;
  // Only plain tags reach espeak-ng (it is given a voice name, never free text).
  return /^[a-z]{2,3}(-[a-z0-9]{2,8})?$/.test(tag) ? tag : 'en-us';
}

/** `text` spoken by espeak-ng, as PCM. Empty text gives no samples. */
export async function speak(text: string, opts: EspeakOptions = {}): Promise<Pcm> {
  const rate = opts.sampleRate ?? ESPEAK_SAMPLE_RATE;
  if (!text.trim()) return { sampleRate: rate, samples: new Int16Array(0) };
  const voice = espeakVoice(opts.language ?? 'en') + (opts.variant && /^[a-zA-Z0-9_]{1,20}$/.test(opts.variant) ? `+${opts.variant}` : '');
  const wpm = Math.round(Math.min(450, Math.max(80, opts.wordsPerMinute ?? 160)));
  const pitch = Math.round(Math.min(99, Math.max(0, opts.pitch ?? 50)));
  const wav = await runTool('espeak-ng', ['-v', voice, '-s', String(wpm), '-p', String(pitch), '--stdin', '--stdout'], spellCodes(text), undefined, opts.signal);
  const pcm = fromWav(wav);
  return rate === pcm.sampleRate ? pcm : resample(pcm, rate, opts.signal);
}

/** `text` spoken by espeak-ng as telephone audio: G.711 μ-law, 8 kHz, mono (offline text-to-speech, the simulated network's voices). */
export async function speakMulaw(text: string, opts: Omit<EspeakOptions, 'sampleRate'> = {}): Promise<Uint8Array> {
  const pcm = await speak(text, { ...opts, sampleRate: 8000 });
  return alawmulaw.mulaw.encode(pcm.samples);
}

/** `text` spoken by espeak-ng, as a WAV file. */
export async function speakWav(text: string, opts: EspeakOptions = {}): Promise<Buffer> {
  return toWav(await speak(text, opts));
}
