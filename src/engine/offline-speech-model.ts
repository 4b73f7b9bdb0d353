/**
 * Which language model the offline recogniser runs with (OFFLINE_SPEECH_MODEL, docs/voice.md), and the
 * sentences of the domain model: what the simulated parties say and listen for (their scenario files), what
 * the offline agent says (the rules brain's phrases) and the common words of a call. Here because it draws
 * on both the simulated network and the agent, which may not import each other; the app and
 * bench/offline-wer.ts build the model through it, so the bench measures the model a call runs with.
 */
import fs from 'node:fs';
import type { SpeechConfig } from '../config/index.js';
import { keywordsOf, linesOf, type Scenario } from '../carriers/sim/index.js';
import { phraseSamples } from '../ai/rules/index.js';
import { callSentences, domainLanguageModel, EN_US_DICTIONARY } from '../speech/language-model.js';
import type { RecognizerTuning } from '../speech/recognizer.js';

/** The recogniser's model has English words only: scenarios in other languages add nothing to it. */
const isEnglish = (s: Scenario) => /^en\b/i.test(s.language);

/** The domain model's sentences: `scenarios`' lines and keywords (English ones), the agent's phrases, call words. */
export function domainSentences(scenarios: readonly Scenario[]): string[] {
  const english = scenarios.filter(isEnglish);
  return [...english.flatMap(linesOf), ...english.flatMap(keywordsOf), ...phraseSamples('en'), ...callSentences()];
}

/**
 * How offline speech-to-text listens, and the model the simulated parties hear with. The language model is
 * the domain one, built once when the first audio stream starts (nothing at start-up; a text-only node
 * builds nothing), or PocketSphinx's general one (undefined): `auto` uses the domain model on the simulated
 * network (`scenarios` given) and the general one on a real carrier, whose callers may say anything. On the simulated network, whose audio is espeak-ng's and noiseless, noise removal is off and the
 * cepstral mean starts from telephone audio's (src/speech/acoustic-model.ts).
 * Without the recogniser's dictionary (pocketsphinx-en-us missing) there is no domain model: the recogniser
 * then fails on its own, saying what is missing.
 */
export function offlineSpeechModel(speech: Pick<SpeechConfig, 'offlineModel'>, scenarios: readonly Scenario[] | undefined): RecognizerTuning {
  // Both measured on espeak-ng's telephone audio only (docs/performance.md): a real line keeps PocketSphinx's defaults.
  const acoustic = { noiseRemoval: !scenarios, telephoneCmn: !!scenarios };
  const choice = speech.offlineModel ?? 'auto';
  if (choice === 'general' || (choice === 'auto' && !scenarios)) return acoustic;
  let file: string | undefined;
  const languageModel = () => {
    if (!file && fs.existsSync(EN_US_DICTIONARY)) file = domainLanguageModel(domainSentences(scenarios ?? [])).file;
    return file;
  };
  return { languageModel, ...acoustic };
}
