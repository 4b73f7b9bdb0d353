/**
 * Word error rate of the offline speech pair on the simulated network's own lines: every line a party of
 * an English scenario can say (greetings, questions, replies, menu prompts, hold messages) is spoken by
 * espeak-ng in the party's voice as telephone audio (μ-law 8 kHz), fed in 20 ms frames to the offline
 * recogniser (PocketSphinx, one stream per scenario, as on a call: a second of silence after each line),
 * and what it heard is compared with what was said. Prints WER per scenario and overall. Stops by itself.
 *
 *   npm run bench:wer
 *   WER_VERBOSE=1 npm run bench:wer   # also prints what was said and what was heard
 *   WER_SCENARIO=+15550104 npm run bench:wer   # one scenario (number or name)
 *
 * WER = (substitutions + deletions + insertions) / words said, over each scenario's text as a whole (the
 * recogniser may cut or join utterances differently from the lines). Words are compared lower-case,
 * without punctuation, with 0–99 written out as espeak-ng says them. Scenarios in other languages are
 * listed and skipped: the offline recogniser has an English model only.
 * Timing figures live here, printed; never in test assertions.
 */
import { distance } from 'fastest-levenshtein';
import { loadScenarios, type Scenario } from '../src/carriers/sim/index.js';
import { DEFAULT_WORDS_PER_SECOND } from '../src/carriers/sim/index.js';
import { SIM_VOICES } from '../src/carriers/sim/recording.js';
import { speakMulaw } from '../src/speech/espeak.js';
import { Recognizer } from '../src/speech/recognizer.js';

/** Keys whose strings are not speech (matching rules, names of menus, descriptions). */
const NOT_SPOKEN = new Set(['number', 'name', 'kind', 'language', 'description', 'keywords', 'expect', 'key', 'intent', 'outcome', 'start', 'then', 'calls', 'whenDefault', 'digits', 'file', 'after']);

/** Every line a scenario's party can say, once each, with `{when}` as the scenario's default. */
function linesOf(s: Scenario): string[] {
  const lines = new Set<string>();
  const walk = (v: unknown, key: string, when: string): void => {
    if (typeof v === 'string') {
      if (!NOT_SPOKEN.has(key) && /\s/.test(v.trim())) lines.add(v.replace(/\{when\}/g, when));
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key, when));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const w = typeof o.whenDefault === 'string' ? o.whenDefault : when;
      for (const [k, x] of Object.entries(o)) if (k !== 'asUser') walk(x, k, w);
    }
  };
  walk(s, '', 'Tuesday at 7 pm');
  return [...lines];
}

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** 0–99 as words (what espeak-ng says for them); other numbers stay digits. */
function spelled(n: number): string {
  if (n < 20) return ONES[n];
  return TENS[Math.floor(n / 10)] + (n % 10 ? ' ' + ONES[n % 10] : '');
}

function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/\b\d{1,2}\b/g, (d) => spelled(Number(d)))
    .replace(/[^a-z0-9' ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/**
 * Word-level edit distance. fastest-levenshtein measures strings: each distinct word becomes one character
 * (from the Unicode private use area), so its character distance is the word distance.
 */
function wordEdits(ref: string[], hyp: string[]): number {
  const code = new Map<string, string>();
  const enc = (ws: string[]) => ws.map((w) => code.get(w) ?? (code.set(w, String.fromCharCode(0xe000 + code.size)), code.get(w)!)).join('');
  return distance(enc(ref), enc(hyp));
}

const SILENCE = new Uint8Array(8000).fill(0xff);

async function recognise(s: Scenario, lines: string[]): Promise<string[]> {
  const rec = new Recognizer({ endpointingMs: 500 });
  const heard: string[] = [];
  rec.onUtterance((t) => heard.push(t));
  let failure: Error | undefined;
  rec.onError((err) => (failure = err));
  const voice = SIM_VOICES.party;
  for (const line of lines) {
    const audio = await speakMulaw(line, { language: s.language, variant: voice.variant, pitch: voice.pitch, wordsPerMinute: (s.wordsPerSecond ?? DEFAULT_WORDS_PER_SECOND) * 60 });
    for (let at = 0; at < audio.length; at += 160) rec.push(audio.subarray(at, at + 160));
    for (let at = 0; at < SILENCE.length; at += 160) rec.push(SILENCE.subarray(at, at + 160));
    // Faster than real time: let the recogniser take each line in before the next (it drops what runs a minute ahead).
    await rec.caughtUp();
  }
  await rec.close();
  if (failure) throw failure;
  return heard;
}

async function main(): Promise<void> {
  const scenarios = await loadScenarios('scenarios');
  const rows: Array<{ name: string; lines: number; words: number; edits: number; seconds: number }> = [];
  const skipped: string[] = [];
  const only = process.env.WER_SCENARIO;
  for (const s of scenarios) {
    if (only && s.name !== only && s.number !== only) continue;
    const lines = linesOf(s);
    if (lines.length === 0) continue;
    if (!/^en\b/i.test(s.language)) {
      skipped.push(`${s.name} (${s.language})`);
      continue;
    }
    const started = Date.now();
    const heard = await recognise(s, lines);
    const ref = words(lines.join(' '));
    rows.push({ name: s.name, lines: lines.length, words: ref.length, edits: wordEdits(ref, words(heard.join(' '))), seconds: (Date.now() - started) / 1000 });
    const r = rows.at(-1)!;
    if (process.env.WER_VERBOSE === '1') process.stderr.write(`said:  ${lines.join(' ')}\nheard: ${heard.join(' / ')}\n`);
    process.stderr.write(`${r.name}: ${r.lines} lines, WER ${((100 * r.edits) / r.words).toFixed(1)}%\n`);
  }
  const total = rows.reduce((a, r) => ({ words: a.words + r.words, edits: a.edits + r.edits, lines: a.lines + r.lines }), { words: 0, edits: 0, lines: 0 });
  const pad = Math.max(...rows.map((r) => r.name.length), 'overall'.length);
  console.log(`\n${'scenario'.padEnd(pad)} | lines | words |   WER | seconds`);
  console.log(`${'-'.repeat(pad)}-|-------|-------|-------|--------`);
  for (const r of rows) console.log(`${r.name.padEnd(pad)} | ${String(r.lines).padStart(5)} | ${String(r.words).padStart(5)} | ${((100 * r.edits) / r.words).toFixed(1).padStart(4)}% | ${r.seconds.toFixed(0).padStart(7)}`);
  console.log(`${'overall'.padEnd(pad)} | ${String(total.lines).padStart(5)} | ${String(total.words).padStart(5)} | ${((100 * total.edits) / total.words).toFixed(1).padStart(4)}% |`);
  if (skipped.length) console.log(`\nskipped (no offline model for the language): ${skipped.join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
