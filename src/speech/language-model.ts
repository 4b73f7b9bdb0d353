/**
 * The offline recogniser's domain language model: a trigram model, in the ARPA format PocketSphinx reads
 * (`-lm`), of the sentences a call on the simulated network can hold — what its parties say (the scenario
 * files), what the offline agent says (the rules brain's phrases) and the common words of a call (numbers,
 * days, times, yes and no). PocketSphinx's general English model spreads its guesses over 130,000 words; the
 * parties match keywords and speak a few hundred, so a model of those words alone makes the decoder pick
 * among them (docs/voice.md, docs/performance.md "Offline speech: word error rate").
 *
 * No npm package estimates an ARPA model (the n-gram packages count n-grams; none discounts or writes backoff
 * weights), and the Debian tools that do (SRILM, the CMU toolkit) are not packaged for bookworm. The model is
 * small enough to estimate here: interpolated absolute discounting (Ney's discount per order), written the way
 * SRILM writes an interpolated model — each listed n-gram carries its interpolated probability, each context
 * its interpolation weight as the backoff weight, which makes every context's distribution sum to one.
 *
 * @example
 *   const model = domainLanguageModel(['Good evening, how can I help you?', ...]);
 *   new Recognizer({ languageModel: model.file });
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spellCodes } from './codes.js';

/** Debian's `pocketsphinx-en-us`: the US English model the recogniser runs with. */
export const EN_US_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
/** Its pronunciation dictionary: a word the model may hold must be in it, or the decoder cannot say it. */
export const EN_US_DICTIONARY = path.join(EN_US_MODEL_DIR, 'cmudict-en-us.dict');

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** 0–99 as words (what espeak-ng says for them). */
function spelled(n: number): string {
  if (n < 20) return ONES[n];
  return TENS[Math.floor(n / 10)] + (n % 10 ? ' ' + ONES[n % 10] : '');
}

/**
 * The words of `text` as the recogniser reports them: lower case, without punctuation (apostrophes kept:
 * the dictionary has "i'm"), codes spelled out (AB123: "a b one two three"), with 0–99 written out as espeak-ng says them. Longer numbers stay digits,
 * which no dictionary word matches. The model is built from these words and the WER bench scores with them.
 */
export function spokenWords(text: string): string[] {
  return spellCodes(text) // as espeak-ng is given it (src/speech/espeak.ts)
    .toLowerCase()
    .replace(/\b\d{1,2}\b/g, (d) => spelled(Number(d)))
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter(Boolean);
}

const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth', 'seventeenth', 'eighteenth', 'nineteenth', 'twentieth', 'twenty first', 'twenty second', 'twenty third', 'twenty fourth', 'twenty fifth', 'twenty sixth', 'twenty seventh', 'twenty eighth', 'twenty ninth', 'thirtieth', 'thirty first'];

/**
 * The common words of a call, as short sentences: yes and no, numbers and digit strings, days, dates and
 * times of day, the letters of a reference. Whatever the scenarios say, a caller may answer with these.
 */
export function callSentences(): string[] {
  const out = [
    'yes', 'no', 'yes please', 'no thank you', 'okay', 'ok', 'sure', 'right', 'thank you', 'thanks', 'please', 'sorry',
    'hello', 'hi', 'goodbye', 'bye', 'yes that is right', "that's right", "that's correct", 'correct', 'exactly',
    'one moment please', 'could you repeat that', 'sorry i did not catch that', 'can you say that again',
    'today', 'tomorrow', 'tonight', 'this evening', 'this morning', 'this afternoon', 'next week', 'yesterday',
    'in the morning', 'in the afternoon', 'in the evening', 'at noon', 'at midnight',
  ];
  for (let n = 0; n < 100; n++) out.push(spelled(n));
  for (let h = 1; h <= 12; h++) {
    out.push(`${ONES[h]} o'clock`, `at ${ONES[h]} am`, `at ${ONES[h]} pm`, `${ONES[h]} thirty`, `${ONES[h]} fifteen`, `${ONES[h]} forty five`, `half past ${ONES[h]}`);
  }
  for (const d of DAYS) out.push(d, `on ${d}`, `next ${d}`, `${d} morning`, `${d} afternoon`, `${d} evening`, `${d} at seven pm`);
  for (const m of MONTHS) out.push(m, `the ${ORDINALS[0]} of ${m}`, `${m} ${ORDINALS[14]}`);
  for (const o of ORDINALS) out.push(`the ${o}`);
  // A reference or a phone number read out digit by digit, and letter by letter.
  out.push(ONES.slice(0, 10).join(' '), 'nine eight seven six five four three two one zero', 'oh one two', 'double two', 'a b c d e f g h i j k l m n o p q r s t u v w x y z');
  return out;
}

/** What `domainLanguageModel` built. */
export interface LanguageModel {
  /** The ARPA file (in a cache folder, named by the hash of its content). */
  file: string;
  /** Its words (without `<s>`, `</s>`), sorted. */
  words: string[];
  /** Words of the sentences that the dictionary does not have: left out (each splits its sentence in two). */
  dropped: string[];
}

/**
 * Which of `wanted` the recogniser's pronunciation dictionary has. One pass over its 135,000 entries, keeping
 * only the words asked about: building a set of them all would cost most of a model's build time.
 */
export function inDictionary(wanted: Iterable<string>, file = EN_US_DICTIONARY): Set<string> {
  const want = new Set(wanted);
  const found = new Set<string>();
  const text = fs.readFileSync(file, 'utf8');
  for (let at = 0; at < text.length; ) {
    const end = text.indexOf('\n', at);
    const stop = end < 0 ? text.length : end;
    const space = text.indexOf(' ', at);
    if (space > at && space < stop) {
      let word = text.slice(at, space);
      // Alternate pronunciations are listed as `word(2)`.
      if (word.endsWith(')')) word = word.slice(0, word.lastIndexOf('('));
      if (want.has(word)) found.add(word);
    }
    at = stop + 1;
  }
  return found;
}

let ownCache: string | undefined;

/**
 * The folder the built models are kept in: `switchboard-lm-<uid>` in the system's temporary folder, made
 * private to this user. A folder of that name that someone else owns (another user made it first, in a
 * shared /tmp) is not trusted — a model or acoustic model planted there would be what the recogniser hears
 * with — and a fresh private folder is used instead.
 */
export function modelCacheDir(): string {
  if (ownCache && fs.existsSync(ownCache)) return ownCache;
  const uid = process.getuid?.();
  const dir = path.join(os.tmpdir(), `switchboard-lm-${uid ?? 0}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  ownCache = st.isDirectory() && (uid === undefined || st.uid === uid) ? dir : fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-lm-'));
  return ownCache;
}

/** Built models of this process, by the hash of their sentences: a sim line or a stream asks per call. */
const built = new Map<string, LanguageModel>();

/**
 * The trigram model of `sentences` (any text: it is split into words by `spokenWords`), written once into
 * `cacheDir` (default: `modelCacheDir()`) under the hash of its content, and reused from there
 * by later calls and processes. A cache, not data: a lost file is rebuilt in milliseconds.
 * Throws when the dictionary cannot be read (pocketsphinx-en-us is not installed).
 */
export function domainLanguageModel(sentences: readonly string[], cacheDir = modelCacheDir()): LanguageModel {
  const key = createHash('sha256').update(JSON.stringify(sentences)).digest('hex').slice(0, 16);
  const known = built.get(`${cacheDir}\0${key}`);
  if (known && fs.existsSync(known.file)) return known;
  const split = sentences.map(spokenWords);
  const dictionary = inDictionary(split.flat());
  const dropped = new Set<string>();
  const runs: string[][] = [];
  for (const words of split) {
    let run: string[] = [];
    for (const w of words) {
      if (dictionary.has(w)) run.push(w);
      else {
        dropped.add(w);
        if (run.length) runs.push(run);
        run = [];
      }
    }
    if (run.length) runs.push(run);
  }
  const arpa = arpaOf(runs);
  const hash = createHash('sha256').update(arpa).digest('hex').slice(0, 16);
  const file = path.join(cacheDir, `domain-${hash}.arpa`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    // Written aside and renamed: a recogniser started by another process never reads half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, arpa);
    fs.renameSync(tmp, file);
  }
  const model: LanguageModel = { file, words: [...new Set(runs.flat())].sort(), dropped: [...dropped].sort() };
  built.set(`${cacheDir}\0${key}`, model);
  return model;
}

const BOS = '<s>';
const EOS = '</s>';
const ORDER = 3;

/**
 * An interpolated absolute-discounting trigram model of `sentences` (each a list of words), as ARPA text.
 *
 * For a context h seen c(h) times with N(h) different next words, and discount D of its order:
 *   p(w | h) = max(c(h w) − D, 0) / c(h) + γ(h) · p(w | h′),  γ(h) = D · N(h) / c(h)
 * where h′ is h without its first word. A listed n-gram carries p(w | h); an unlisted one is reached by
 * backing off with weight γ(h), which gives the same value because the sum of the discounted masses and γ(h)
 * is one. Unigrams are relative frequencies: every word of the model was seen.
 */
export function arpaOf(sentences: readonly (readonly string[])[]): string {
  // counts[n − 1]: n-gram (words joined by a space) → count.
  const counts: Array<Map<string, number>> = Array.from({ length: ORDER }, () => new Map());
  for (const s of sentences) {
    const ws = [BOS, ...s, EOS];
    for (let n = 1; n <= ORDER; n++) {
      for (let i = 0; i + n <= ws.length; i++) {
        const gram = ws.slice(i, i + n);
        // `<s>` is never predicted: only n-grams that start with it, as their context, are counted.
        if (gram.indexOf(BOS, 1) > 0 || (n === 1 && gram[0] === BOS)) continue;
        const k = gram.join(' ');
        counts[n - 1].set(k, (counts[n - 1].get(k) ?? 0) + 1);
      }
    }
  }
  // Ney's discount per order: n1 / (n1 + 2 n2), from how many n-grams were seen once and twice.
  const discount = counts.map((m) => {
    let n1 = 0;
    let n2 = 0;
    for (const c of m.values()) (c === 1 ? n1++ : c === 2 ? n2++ : 0);
    return Math.min(0.9, Math.max(0.1, n1 + n2 === 0 ? 0.5 : n1 / (n1 + 2 * n2)));
  });
  // Per context of each order (n-gram minus its last word): total count and number of different next words.
  const contexts: Array<Map<string, { total: number; types: number }>> = Array.from({ length: ORDER }, () => new Map());
  for (let n = 2; n <= ORDER; n++) {
    for (const [k, c] of counts[n - 1]) {
      const h = k.slice(0, k.lastIndexOf(' '));
      const e = contexts[n - 1].get(h) ?? { total: 0, types: 0 };
      e.total += c;
      e.types += 1;
      contexts[n - 1].set(h, e);
    }
  }
  const gamma = (n: number, h: string): number => {
    const e = contexts[n - 1].get(h);
    return e ? (discount[n - 1] * e.types) / e.total : 1;
  };
  let unigramTotal = 0;
  for (const c of counts[0].values()) unigramTotal += c;
  // probs[n − 1]: n-gram → interpolated probability.
  const probs: Array<Map<string, number>> = [new Map()];
  for (const [w, c] of counts[0]) probs[0].set(w, c / unigramTotal);
  /** p(w | h) at order n for any h, w: listed, or backed off. */
  const p = (n: number, gram: string[]): number => {
    if (n === 1) return probs[0].get(gram[0]) ?? 0;
    const listed = probs[n - 1].get(gram.join(' '));
    if (listed !== undefined) return listed;
    return gamma(n, gram.slice(0, -1).join(' ')) * p(n - 1, gram.slice(1));
  };
  for (let n = 2; n <= ORDER; n++) {
    const m = new Map<string, number>();
    probs.push(m);
    for (const [k, c] of counts[n - 1]) {
      const gram = k.split(' ');
      const h = gram.slice(0, -1).join(' ');
      const e = contexts[n - 1].get(h)!;
      m.set(k, Math.max(c - discount[n - 1], 0) / e.total + gamma(n, h) * p(n - 1, gram.slice(1)));
    }
  }
  const log = (x: number) => Math.log10(x).toFixed(6);
  const out: string[] = ['\\data\\'];
  const unigrams = [BOS, ...[...probs[0].keys()].sort()];
  out.push(`ngram 1=${unigrams.length}`);
  for (let n = 2; n <= ORDER; n++) out.push(`ngram ${n}=${probs[n - 1].size}`);
  for (let n = 1; n <= ORDER; n++) {
    out.push('', `\\${n}-grams:`);
    const keys = n === 1 ? unigrams : [...probs[n - 1].keys()].sort();
    for (const k of keys) {
      // `<s>` is only a context: ARPA's convention for "never predicted" is −99.
      const prob = k === BOS ? '-99' : log(probs[n - 1].get(k)!);
      const backoff = n < ORDER && contexts[n].has(k) ? `\t${log(gamma(n + 1, k))}` : '';
      out.push(`${prob}\t${k}${backoff}`);
    }
  }
  out.push('', '\\end\\', '');
  return out.join('\n');
}
