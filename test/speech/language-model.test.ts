import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { linesOf, keywordsOf, loadScenarios } from '../../src/carriers/sim/index.js';
import { domainSentences, offlineSpeechModel } from '../../src/engine/offline-speech-model.js';
import { TELEPHONE_CMN, telephoneAcousticModel } from '../../src/speech/acoustic-model.js';
import { arpaOf, domainLanguageModel, inDictionary, EN_US_DICTIONARY, spokenWords } from '../../src/speech/language-model.js';

interface Arpa {
  counts: number[];
  /** n-gram (words joined by a space) → log10 probability, and backoff weight. */
  grams: Map<string, { logp: number; backoff: number }>;
}

/** Reads an ARPA file as PocketSphinx does: the header's counts, then each order's section. */
function parseArpa(text: string): Arpa {
  const counts: number[] = [];
  const grams = new Map<string, { logp: number; backoff: number }>();
  let order = 0;
  for (const line of text.split('\n')) {
    const count = /^ngram (\d+)=(\d+)$/.exec(line);
    if (count) counts[Number(count[1]) - 1] = Number(count[2]);
    const section = /^\\(\d+)-grams:$/.exec(line);
    if (section) order = Number(section[1]);
    else if (order && line.trim() && !line.startsWith('\\')) {
      const [logp, gram, backoff] = line.split('\t');
      expect(gram.split(' ')).toHaveLength(order);
      grams.set(gram, { logp: Number(logp), backoff: backoff === undefined ? 0 : Number(backoff) });
    }
  }
  return { counts, grams };
}

/** p(w | context) by the ARPA backoff rule: the listed n-gram, else the context's backoff weight times p(w | shorter context). */
function prob(arpa: Arpa, context: string[], w: string): number {
  const listed = arpa.grams.get([...context, w].join(' '));
  if (listed) return 10 ** listed.logp;
  if (context.length === 0) return 0;
  const backoff = arpa.grams.get(context.join(' '))?.backoff ?? 0;
  return 10 ** backoff * prob(arpa, context.slice(1), w);
}

/** Every context's next-word distribution sums to one (PocketSphinx decodes garbage, silently, when it does not). */
function expectNormalised(arpa: Arpa): void {
  const vocabulary = [...arpa.grams.keys()].filter((g) => !g.includes(' ') && g !== '<s>');
  const contexts = new Set([...arpa.grams.keys()].filter((g) => g.split(' ').length < 3 && g !== '</s>'));
  for (const context of ['', ...contexts]) {
    const h = context ? context.split(' ') : [];
    const total = vocabulary.reduce((sum, w) => sum + prob(arpa, h, w), 0);
    expect(total, `p(· | ${context || 'nothing'})`).toBeCloseTo(1, 4);
  }
}

describe('the offline recogniser’s domain language model', () => {
  it('is a trigram ARPA model whose header counts its entries and whose every context sums to one', () => {
    const arpa = parseArpa(
      arpaOf([
        ['yes', 'please'],
        ['no', 'thank', 'you'],
        ['thank', 'you', 'goodbye'],
        ['yes', 'thank', 'you'],
      ]),
    );
    expect(arpa.counts).toEqual([1, 2, 3].map((n) => [...arpa.grams.keys()].filter((g) => g.split(' ').length === n).length));
    // A word it was made from is likelier after its own context than after another.
    expect(prob(arpa, ['thank'], 'you')).toBeGreaterThan(0.5);
    expect(prob(arpa, ['no', 'thank'], 'you')).toBeGreaterThan(prob(arpa, ['no', 'thank'], 'goodbye'));
    expect(arpa.grams.get('<s>')?.logp).toBe(-99);
    expectNormalised(arpa);
  });

  it.skipIf(!fs.existsSync(EN_US_DICTIONARY))('holds every dictionary word the English scenarios say or listen for, and the agent’s and a call’s common words; drops (and names) words the dictionary lacks', async () => {
    const scenarios = await loadScenarios('scenarios');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lm-test-'));
    try {
      const model = domainLanguageModel(domainSentences(scenarios), dir);
      const words = new Set(model.words);
      const said = scenarios.filter((x) => x.language === 'en').flatMap((s) => spokenWords([...linesOf(s), ...keywordsOf(s)].join(' ')));
      expect(said.length).toBeGreaterThan(1000);
      const dictionary = inDictionary(said);
      for (const w of said) expect(words.has(w) || !dictionary.has(w), w).toBe(true);
      expect(inDictionary(['booking', 'reference', 'cucina'])).toEqual(new Set(['booking', 'reference']));
      for (const w of ['reference', 'prescription', 'message', 'tuesday', 'seven', 'pm', 'yes', 'no', 'calling', 'behalf', 'goodbye']) expect(words, w).toContain(w);
      // Bella Cucina's name is not an English word the dictionary knows.
      expect(model.dropped).toContain('cucina');
      expect(words).not.toContain('cucina');
      // A Swedish scenario adds nothing: the model is English.
      expect(words).not.toContain('hej');
      expectNormalised(parseArpa(fs.readFileSync(model.file, 'utf8')));
      // The same sentences give the same file, written once.
      expect(domainLanguageModel(domainSentences(scenarios), dir).file).toBe(model.file);
      expect(fs.readdirSync(dir)).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is what a call runs with on the simulated network unless OFFLINE_SPEECH_MODEL says general; a real carrier gets the general model by default', async () => {
    const scenarios = await loadScenarios('scenarios');
    const simulated = offlineSpeechModel({ offlineModel: 'auto' }, scenarios);
    expect(simulated).toMatchObject({ languageModel: expect.any(Function), noiseRemoval: false, telephoneCmn: true });
    if (typeof simulated.languageModel === 'function' && fs.existsSync(EN_US_DICTIONARY)) expect(fs.readFileSync(simulated.languageModel()!, 'utf8')).toMatch(/^\\data\\\nngram 1=/);
    expect(offlineSpeechModel({ offlineModel: 'auto' }, undefined)).toEqual({ noiseRemoval: true, telephoneCmn: false });
    expect(offlineSpeechModel({ offlineModel: 'general' }, scenarios)).toEqual({ noiseRemoval: false, telephoneCmn: true });
    expect(offlineSpeechModel({ offlineModel: 'domain' }, undefined)).toMatchObject({ languageModel: expect.any(Function), noiseRemoval: true, telephoneCmn: false });
  });

  it.skipIf(!fs.existsSync(EN_US_DICTIONARY))('starts the acoustic model from telephone audio’s cepstral mean: a copy of the model folder whose feat.params says so, made once', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hmm-test-'));
    try {
      const hmm = telephoneAcousticModel(dir);
      const params = fs.readFileSync(path.join(hmm, 'feat.params'), 'utf8');
      expect(params.match(/^-cmninit .*$/gm)).toEqual([`-cmninit ${TELEPHONE_CMN.join(',')}`]);
      expect(params).toMatch(/^-upperf 6800$/m);
      for (const file of ['mdef', 'means', 'variances', 'sendump', 'noisedict', 'transition_matrices']) expect(fs.existsSync(path.join(hmm, file)), file).toBe(true);
      expect(telephoneAcousticModel(dir)).toBe(hmm);
      expect(fs.readdirSync(dir)).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
