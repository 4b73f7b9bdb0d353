/**
 * Offline speech recognition with CMU PocketSphinx (Debian's `pocketsphinx` and `pocketsphinx-en-us`): one
 * `pocketsphinx_continuous` process per stream, fed telephone audio on stdin, printing one line per
 * utterance once its voice activity detector has heard the utterance end. Offline speech-to-text
 * (src/ai/stt/offline/) and the simulated network's listening parties (src/carriers/sim/) use it.
 *
 * Debian bookworm ships PocketSphinx 5prealpha, whose command is `pocketsphinx_continuous` (the `pocketsphinx
 * live` of PocketSphinx 5.0 is not packaged). It reads raw 16 kHz 16-bit PCM from `-infile` (here
 * /dev/stdin), so μ-law 8 kHz frames are decoded (alawmulaw) and upsampled (wave-resampler) on the way in.
 * Its English model is a 16 kHz one: telephone audio carries nothing above 4 kHz, which costs accuracy
 * (docs/voice.md gives the word error rate). It reports final utterances only: no interim hypotheses.
 *
 * @example
 *   const rec = new Recognizer({ endpointingMs: 500 });
 *   rec.onUtterance((text) => console.log(text));
 *   rec.push(frame); // μ-law 8 kHz
 *   await rec.close();
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
// Both are CommonJS: Node gives them to ES modules as one default export.
import alawmulaw from 'alawmulaw';
import waveResampler from 'wave-resampler';
import { telephoneAcousticModel } from './acoustic-model.js';
import { AudioToolError } from './run.js';

/** The program this module runs. */
export const RECOGNIZER_PROGRAM = 'pocketsphinx_continuous';
const IN_RATE = 8000;
const MODEL_RATE = 16000;
/** Audio the process may fall behind by before new audio is dropped (a minute at 16 kHz, 16-bit: tests and the bench push faster than real time). */
const MAX_BACKLOG_BYTES = 60 * MODEL_RATE * 2;
/**
 * How long `close` waits for the last utterance before it kills the process. Generous: on a busy machine
 * PocketSphinx runs slower than real time, and it still has the audio pushed faster than that to decode.
 */
const CLOSE_WAIT_MS = 60_000;

export interface RecognizerOptions {
  /** Silence after speech that ends an utterance, ms (PocketSphinx's `-vad_postspeech`, in 10 ms frames). Default 500. */
  endpointingMs?: number;
  /** The program to run (tests point it at a missing one). Default `pocketsphinx_continuous`. */
  program?: string;
  /**
   * An ARPA language model file (`-lm`), such as the domain model of ./language-model.ts; the recogniser
   * then hears only its words. A function is asked when the process starts (the first audio), so that a model
   * is built only once a stream needs it; undefined from it is the general model. Default: PocketSphinx's
   * general US English model.
   */
  languageModel?: ModelFile;
  /**
   * PocketSphinx's spectral subtraction (`-remove_noise`), default on. Off for synthetic, noiseless audio
   * (espeak-ng on the simulated network), where it only distorts the speech: bench/offline-wer.ts measured
   * 46 % → 36 % word error rate with the domain model, 86 % → 82 % with the general one, on a sample of lines.
   */
  noiseRemoval?: boolean;
  /**
   * Start the cepstral mean from telephone audio's (./acoustic-model.ts) rather than from the 16 kHz
   * recordings' the model was trained on, so that a stream's first words are not decoded with the wrong one.
   * Default off.
   */
  telephoneCmn?: boolean;
}

/** How the offline recogniser of a stream listens: the part of RecognizerOptions a configuration chooses. */
export type RecognizerTuning = Pick<RecognizerOptions, 'languageModel' | 'noiseRemoval' | 'telephoneCmn'>;

/** An ARPA file, or a function giving one (or undefined: the general model) when a recogniser starts. */
export type ModelFile = string | (() => string | undefined);

type Proc = ChildProcessByStdio<Writable, Readable, null>;

export class Recognizer {
  private proc: Proc | undefined;
  private exited: Promise<void> | undefined;
  private utteranceListener: ((text: string) => void) | undefined;
  private errorListener: ((err: Error) => void) | undefined;
  private pending: string[] = [];
  private failed = false;
  private closing = false;
  private bytesIn = 0;

  constructor(private readonly opts: RecognizerOptions = {}) {}

  /** Seconds of audio pushed so far. */
  get audioSeconds(): number {
    return this.bytesIn / IN_RATE;
  }

  /** Receives each recognised utterance (lower-case words; never empty). One listener; earlier ones are kept. */
  onUtterance(listener: (text: string) => void): void {
    this.utteranceListener = listener;
    for (const t of this.pending.splice(0)) listener(t);
  }

  /** Receives the failure that ended recognition (the program is missing, or died). One listener. */
  onError(listener: (err: Error) => void): void {
    this.errorListener = listener;
  }

  /** Appends μ-law 8 kHz audio. The process starts with the first audio; nothing is started for a silent stream. */
  push(mulaw: Uint8Array): void {
    if (this.failed || this.closing || mulaw.length === 0) return;
    this.bytesIn += mulaw.length;
    this.write(alawmulaw.mulaw.decode(mulaw));
  }

  /**
   * Ends the current utterance now: feeds silence longer than the endpointing, so the detector closes it
   * (the process has no other way to be told).
   */
  flush(): void {
    if (!this.proc || this.failed || this.closing) return;
    this.write(new Int16Array(Math.round(((this.endpointingMs() + 300) / 1000) * IN_RATE)));
  }

  /** Flushes, waits (bounded) for the last utterance, ends the process. Never rejects. */
  async close(): Promise<void> {
    if (this.closing) return this.exited;
    this.flush();
    this.closing = true;
    const proc = this.proc;
    if (!proc || !this.exited) return;
    proc.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise<void>((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) killGroup(proc.pid);
  }

  /**
   * Resolves once the recogniser has taken in what was pushed (its input pipe drained). A live call pushes
   * in real time and never needs it; whoever pushes recorded audio faster (bench/offline-wer.ts) awaits it
   * between pushes, so that nothing is dropped for running a minute ahead.
   */
  async caughtUp(): Promise<void> {
    const stdin = this.proc?.stdin;
    if (!stdin || this.failed || !stdin.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        stdin.off('drain', done);
        stdin.off('close', done);
        resolve();
      };
      stdin.on('drain', done);
      stdin.on('close', done);
    });
  }

  /** Ends the process now, without waiting for what it has not decoded yet (the call is over). */
  abort(): void {
    this.closing = true;
    if (this.proc?.pid && this.proc.exitCode === null && this.proc.signalCode === null) killGroup(this.proc.pid);
  }

  private endpointingMs(): number {
    return Math.min(5000, Math.max(100, this.opts.endpointingMs ?? 500));
  }

  private write(pcm8k: Int16Array): void {
    const proc = this.proc ?? this.start();
    if (!proc) return;
    // Each 8 kHz sample becomes two; 20 ms frames resampled one by one differ from one long resample only at
    // their edges, which the recogniser's 25 ms analysis windows do not notice.
    const up = waveResampler.resample(pcm8k, IN_RATE, MODEL_RATE, { method: 'cubic', LPF: false });
    const out = Buffer.alloc(up.length * 2);
    for (let i = 0; i < up.length; i++) out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(up[i]))), i * 2);
    // Bounded: a recogniser that cannot keep up loses the newest audio rather than holding it all.
    if (proc.stdin.writableLength > MAX_BACKLOG_BYTES) return;
    proc.stdin.write(out);
  }

  private start(): Proc | undefined {
    if (this.failed) return undefined;
    const program = this.opts.program ?? RECOGNIZER_PROGRAM;
    const frames = Math.round(this.endpointingMs() / 10);
    // The program opens its `-infile` by name, and Node's stdin for a child is a socket, which /dev/stdin
    // cannot open: `cat` turns it into a real pipe. The program's name and arguments reach the shell as
    // positional parameters, never as script text. Its own process group, so `close` can end all three.
    const args = ['-infile', '/dev/stdin', '-logfn', '/dev/null', '-vad_postspeech', String(frames)];
    const lm = typeof this.opts.languageModel === 'function' ? this.opts.languageModel() : this.opts.languageModel;
    if (lm) args.push('-lm', lm);
    if (this.opts.noiseRemoval === false) args.push('-remove_noise', 'no');
    const hmm = this.opts.telephoneCmn ? acousticModel() : undefined;
    if (hmm) args.push('-hmm', hmm);
    const script = 'command -v "$0" >/dev/null || exit 127; cat | "$0" "$@"';
    const proc = spawn('sh', ['-c', script, program, ...args], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    this.proc = proc;
    this.exited = new Promise<void>((resolve) => {
      proc.on('close', (code, stoppedBy) => {
        // 127: the shell found no such program.
        const why = code === 127 ? 'is not installed (scripts/system-deps.sh installs pocketsphinx)' : stoppedBy ? `was stopped (${stoppedBy})` : `exited with ${code}`;
        if (code === 127 || (!this.closing && !this.failed)) this.fail(new AudioToolError(program, `${program} ${why}`));
        resolve();
      });
    });
    proc.on('error', (e) => this.fail(new AudioToolError(program, `${program} could not be started`, { cause: e })));
    // A process that died leaves a broken pipe behind; its exit is reported above.
    proc.stdin.on('error', () => {});
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const text = line.trim();
      if (!text) return;
      if (this.utteranceListener) this.utteranceListener(text);
      else if (this.pending.push(text) > 100) this.pending.shift();
    });
    return proc;
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    // The recogniser died: `cat` in front of it would otherwise wait for input for as long as the call lasts.
    if (this.proc?.pid) killGroup(this.proc.pid);
    this.errorListener?.(err);
  }
}

/** The telephone acoustic model, or undefined when the model is not installed (the recogniser then says so itself). */
function acousticModel(): string | undefined {
  try {
    return telephoneAcousticModel();
  } catch {
    return undefined;
  }
}

/** Ends a process group (the shell, `cat` and the recogniser); it may be gone already. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already exited.
  }
}
