/**
 * Word error rate of the offline speech pair on the simulated network's own lines: every line a party of
 * an English scenario can say (greetings, questions, replies, menu prompts, hold messages) is spoken by
 * espeak-ng in the party's voice as telephone audio (μ-law 8 kHz), fed in 20 ms frames to the offline
 * recogniser (PocketSphinx, one stream per scenario, as on a call: a second of silence after each line),
 * and what it heard is compared with what was said. The recogniser runs with the domain language model a
 * simulated call runs with (src/engine/offline-speech-model.ts) unless WER_MODEL says otherwise. Prints WER per scenario and overall. Stops by itself.
 *
 *   npm run bench:wer
 *   WER_VERBOSE=1 npm run bench:wer   # also prints what was said and what was heard
 *   WER_SCENARIO=+15550104 npm run bench:wer   # one scenario (number or name)
 *   WER_MODEL=general npm run bench:wer        # PocketSphinx's general model instead of the domain one
 *   WER_MODEL=heldout npm run bench:wer        # each scenario scored with a domain model made without it
 *   WER_NOISE_REMOVAL=1 WER_TELEPHONE_CMN=0 WER_MODEL=general npm run bench:wer   # the recogniser as it was before
 *   WER_STREAMS=line npm run bench:wer         # every line a new stream's first words
 *   WER_AGENT=1 WER_SCENARIO=none npm run bench:wer   # the offline agent's phrases, as the parties hear them
 *
 * WER = (substitutions + deletions + insertions) / words said, over each scenario's text as a whole (the
 * recogniser may cut or join utterances differently from the lines). Words are compared lower-case,
 * without punctuation, with 0–99 written out as espeak-ng says them. Scenarios in other languages are
 * listed and skipped: the offline recogniser has an English model only.
 * Timing figures live here, printed; never in test assertions.
 */
import os from 'node:os';
import { distance } from 'fastest-levenshtein';
import { DEFAULT_WORDS_PER_SECOND, linesOf, loadScenarios, type Scenario } from '../src/carriers/sim/index.js';
import { SIM_VOICES } from '../src/carriers/sim/recording.js';
import { domainSentences } from '../src/engine/offline-speech-model.js';
import { phraseSamples } from '../src/ai/rules/index.js';
import { speakMulaw, type EspeakOptions } from '../src/speech/espeak.js';
import { domainLanguageModel, spokenWords as words } from '../src/speech/language-model.js';
import { Recognizer } from '../src/speech/recognizer.js';

/**
 * WER_MODEL: `domain` (default, what a call on the simulated network runs with: OFFLINE_SPEECH_MODEL=auto),
 * `general` (PocketSphinx's general English model), or `heldout` — the domain model built without the scored
 * scenario's lines and keywords, which says what the model is worth on lines it was not made from.
 */
const MODEL = process.env.WER_MODEL ?? 'domain';
if (!['domain', 'general', 'heldout'].includes(MODEL)) throw new Error(`WER_MODEL must be domain, general or heldout, not ${MODEL}`);
/** WER_NOISE_REMOVAL=1: PocketSphinx's spectral subtraction on, as it was before 2026-12-02 (the simulated network now turns it off). */
const NOISE_REMOVAL = process.env.WER_NOISE_REMOVAL === '1';
/** WER_TELEPHONE_CMN=0: the model's own initial cepstral mean, as before 2026-12-02 (the simulated network now starts from telephone audio's). */
const TELEPHONE_CMN = process.env.WER_TELEPHONE_CMN !== '0';
/**
 * WER_STREAMS=line: a new recogniser for every line, so each line is a stream's first words (as a call's
 * first sentence is); default one stream per scenario, as on a call that goes on.
 */
const PER_LINE = process.env.WER_STREAMS === 'line';
/** WER_AGENT=1: also score the offline agent's phrases in the agent's voice, as the simulated parties hear them. */
const AGENT = process.env.WER_AGENT === '1';

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

/** How a speaker's lines are spoken: the language, the espeak-ng voice and pace. */
type Voice = Omit<EspeakOptions, 'sampleRate'>;

/** A scenario's party, as the simulated network speaks it. */
const partyVoice = (s: Scenario): Voice => ({ language: s.language, ...SIM_VOICES.party, wordsPerMinute: (s.wordsPerSecond ?? DEFAULT_WORDS_PER_SECOND) * 60 });

async function recognise(voice: Voice, lines: string[], languageModel: string | undefined): Promise<string[]> {
  if (PER_LINE && lines.length > 1) {
    const heard: string[] = [];
    for (const line of lines) heard.push(...(await recognise(voice, [line], languageModel)));
    return heard;
  }
  const rec = new Recognizer({ endpointingMs: 500, languageModel, noiseRemoval: NOISE_REMOVAL, telephoneCmn: TELEPHONE_CMN });
  const heard: string[] = [];
  rec.onUtterance((t) => heard.push(t));
  let failure: Error | undefined;
  rec.onError((err) => (failure = err));
  for (const line of lines) {
    const audio = await speakMulaw(line, voice);
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
    const model = MODEL === 'general' ? undefined : domainLanguageModel(domainSentences(MODEL === 'heldout' ? scenarios.filter((x) => x !== s) : scenarios));
    const started = Date.now();
    const heard = await recognise(partyVoice(s), lines, model?.file);
    const ref = words(lines.join(' '));
    rows.push({ name: s.name, lines: lines.length, words: ref.length, edits: wordEdits(ref, words(heard.join(' '))), seconds: (Date.now() - started) / 1000 });
    const r = rows.at(-1)!;
    if (process.env.WER_VERBOSE === '1') process.stderr.write(`said:  ${lines.join(' ')}\nheard: ${heard.join(' / ')}\n`);
    process.stderr.write(`${r.name}: ${r.lines} lines, WER ${((100 * r.edits) / r.words).toFixed(1)}%\n`);
  }
  // What the parties hear: the offline agent's phrases in the agent's voice (espeak-ng's default pace). Not
  // for `heldout`: the agent's phrases are always in the model, whichever scenario is left out.
  if (AGENT && MODEL !== 'heldout') {
    const lines = [...new Set(phraseSamples('en'))];
    const model = MODEL === 'general' ? undefined : domainLanguageModel(domainSentences(scenarios));
    const started = Date.now();
    const heard = await recognise({ language: 'en', ...SIM_VOICES.agent }, lines, model?.file);
    const ref = words(lines.join(' '));
    rows.push({ name: 'offline agent (rules brain)', lines: lines.length, words: ref.length, edits: wordEdits(ref, words(heard.join(' '))), seconds: (Date.now() - started) / 1000 });
    if (process.env.WER_VERBOSE === '1') process.stderr.write(`said:  ${lines.join(' ')}\nheard: ${heard.join(' / ')}\n`);
  }
  const total = rows.reduce((a, r) => ({ words: a.words + r.words, edits: a.edits + r.edits, lines: a.lines + r.lines }), { words: 0, edits: 0, lines: 0 });
  const pad = Math.max(...rows.map((r) => r.name.length), 'overall'.length);
  const full = MODEL === 'general' ? undefined : domainLanguageModel(domainSentences(scenarios));
  console.log(`\nmodel: ${MODEL}, noise removal ${NOISE_REMOVAL ? 'on' : 'off'}, ${TELEPHONE_CMN ? 'telephone' : "the model's"} initial cepstral mean, ${PER_LINE ? 'a stream per line' : 'a stream per scenario'}${full ? ` (${full.words.length} words; not in the dictionary, left out: ${full.dropped.join(', ')})` : ''}, load average ${os.loadavg()[0].toFixed(1)}`);
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
