/**
 * Test doubles for the audio pipeline's own tests (the interfaces, not the providers' wire formats: those
 * are tested against their fakes in test/fakes/<provider>/): a hand-moved pacer clock, a scripted
 * speech-to-text, a text-to-speech that yields one 20 ms frame per character, and an audio channel that
 * records every frame with the clock's time.
 */
import type { AudioChannel, AudioInput, PlayResult, TransferOptions } from '../../../src/carriers/carrier.js';
import type { SpeechToText, SttEvent, SttOptions, SttStream } from '../../../src/ai/stt/stt.js';
import type { TextToSpeech, TtsRequest } from '../../../src/ai/tts/tts.js';
import { AsyncQueue } from '../../../src/lib/async-queue.js';
import type { PacerClock } from '../../../src/engine/voice/pacer.js';

/** Time moves only when the test says so; the pacer's tick runs every 20 ms of it. */
export class ManualClock implements PacerClock {
  t = 0;
  private ticks: Array<{ every: number; next: number; tick: () => void }> = [];
  now(): number {
    return this.t;
  }
  every(ms: number, tick: () => void): () => void {
    const entry = { every: ms, next: this.t + ms, tick };
    this.ticks.push(entry);
    return () => (this.ticks = this.ticks.filter((e) => e !== entry));
  }
  /** Moves time on by `ms`, firing due ticks in order. */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = this.ticks.filter((e) => e.next <= until).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      due.next += due.every;
      due.tick();
    }
    this.t = until;
  }
  get timers(): number {
    return this.ticks.length;
  }
}

export class ScriptedSttStream implements SttStream {
  pushed = 0;
  /** How many times the pipeline said the callee stopped speaking. */
  paused = 0;
  closed = false;
  private listener: ((e: SttEvent) => void) | undefined;
  private early: SttEvent[] = [];
  constructor(readonly opts: SttOptions) {}
  push(frame: Uint8Array): void {
    this.pushed += frame.length;
  }
  speechPaused(): void {
    this.paused++;
  }
  /** How many times the pipeline said the callee spoke again. */
  resumed = 0;
  speechResumed(): void {
    this.resumed++;
  }
  flush(): void {}
  onEvent(listener: (e: SttEvent) => void): void {
    this.listener = listener;
    for (const e of this.early.splice(0)) listener(e);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  get audioSeconds(): number {
    return this.pushed / 8000;
  }
  /** The provider says something. */
  emit(e: SttEvent): void {
    if (this.listener) this.listener(e);
    else this.early.push(e);
  }
  interim(text: string): void {
    this.emit({ type: 'transcript', text, final: false, endOfTurn: false });
  }
  final(text: string, endOfTurn = true): void {
    this.emit({ type: 'transcript', text, final: true, endOfTurn });
  }
}

export class ScriptedStt implements SpeechToText {
  readonly provider = 'offline' as const;
  readonly streams: ScriptedSttStream[] = [];
  stream(opts: SttOptions): SttStream {
    const s = new ScriptedSttStream(opts);
    this.streams.push(s);
    return s;
  }
  get current(): ScriptedSttStream {
    return this.streams.at(-1)!;
  }
}

/**
 * One 160-byte frame per character of the text, each filled with the character's code (so a test can
 * read back which characters were played), yielded a word at a time. `gate`: synthesis waits for it.
 */
export class FrameTts implements TextToSpeech {
  readonly provider = 'espeak' as const;
  readonly requests: TtsRequest[] = [];
  gate: Promise<void> | undefined;
  async *synthesize(req: TtsRequest): AsyncIterable<Uint8Array> {
    this.requests.push(req);
    if (this.gate) await this.gate;
    for (const word of req.text.match(/\S+\s*/g) ?? []) {
      if (req.signal.aborted) return;
      const chunk = new Uint8Array(word.length * 160);
      for (let i = 0; i < word.length; i++) chunk.fill(word.charCodeAt(i) & 0x7f, i * 160, (i + 1) * 160);
      yield chunk;
    }
  }
}

/** μ-law frames: 20 ms of a loud tone (speech to the detector) and of silence. */
export const LOUD = Uint8Array.from({ length: 160 }, (_, i) => (i % 2 ? 0x10 : 0x90));
export const QUIET = new Uint8Array(160).fill(0xff);

export class RecordingChannel implements AudioChannel {
  readonly inbox = new AsyncQueue<Uint8Array>({ limit: 10_000, overflow: 'drop_oldest' });
  /** Every frame played, with the clock's time. */
  readonly sent: Array<{ at: number; frame: Uint8Array }> = [];
  readonly marks: string[] = [];
  readonly digits: string[] = [];
  clears = 0;
  /** What `clear` says it dropped (ms not yet played at the carrier). */
  unplayedMs = 0;
  /** Marks wait for `releaseMarks` instead of echoing at once. */
  holdMarks = false;
  private held: Array<(r: PlayResult) => void> = [];
  private listener: ((i: AudioInput) => void) | undefined;
  hungUp = false;
  /** Where the test wants the line to transfer: it plays the carrier's part (see `TransferOptions.quiet`). */
  transfer?: (to: string, opts: TransferOptions) => Promise<void>;

  constructor(private readonly clock: ManualClock) {}

  frames(): AsyncIterable<Uint8Array> {
    return this.inbox;
  }
  async play(mulaw: Uint8Array): Promise<PlayResult> {
    this.sent.push({ at: this.clock.now(), frame: mulaw });
    return { played: true };
  }
  mark(name: string): Promise<PlayResult> {
    this.marks.push(name);
    if (!this.holdMarks) return Promise.resolve({ played: true });
    return new Promise((r) => this.held.push(r));
  }
  releaseMarks(): void {
    for (const r of this.held.splice(0)) r({ played: true });
  }
  clear(): number {
    this.clears++;
    for (const r of this.held.splice(0)) r({ played: false });
    return this.unplayedMs;
  }
  async sendDigits(digits: string): Promise<void> {
    this.digits.push(digits);
  }
  async hangup(): Promise<void> {
    this.hungUp = true;
  }
  onInput(listener: (i: AudioInput) => void): void {
    this.listener = listener;
  }
  /** The far end presses a key or hangs up. */
  input(i: AudioInput): void {
    this.listener?.(i);
  }
  /** Bytes played, as text: each frame's fill is the character it stands for. */
  get playedText(): string {
    return this.sent.map((s) => String.fromCharCode(s.frame[0])).join('');
  }
}

/** Lets the audio I/O's frame loop and promise chains run. */
export const settle = () => new Promise<void>((r) => setImmediate(r));
