/**
 * A simulated call in audio mode: the same parties and scenario logic as a text line (./line.ts), with
 * sound in between. What a party says is spoken by espeak-ng and sent to the agent as 20 ms μ-law frames,
 * paced on the line's clock (so `SIM_TIME_SCALE` speeds it up); what the agent plays is "heard" at the
 * same pace and runs through the offline recogniser (PocketSphinx), whose transcripts are what the party
 * hears. Keypad digits reach the party as on a text line; the party's hang-up ends the channel.
 *
 * Like a telephone line, the channel sends a frame every 20 ms whether anyone speaks or not (silence then),
 * so the agent's voice activity detection sees real pauses.
 */
import type { AudioChannel, AudioInput, CarrierUsage, PlayResult } from '../carrier.js';
import type { Clock } from '../../lib/clock.js';
import { AsyncQueue } from '../../lib/async-queue.js';
import type { Logger } from '../../lib/logger.js';
import { writeSpelledCodes } from '../../speech/codes.js';
import { speakMulaw } from '../../speech/espeak.js';
import { Recognizer, type ModelFile } from '../../speech/recognizer.js';
import { Line, type SpeakOptions } from './line.js';
import { SIM_VOICES } from './recording.js';

/** One frame: 20 ms of μ-law 8 kHz. */
const FRAME_MS = 20;
const FRAME_BYTES = 160;
/** μ-law's zero (0xFF): silence. */
const SILENCE = new Uint8Array(FRAME_BYTES).fill(0xff);
/** Frames kept for an agent that is not reading (a minute; older ones are dropped, like a live line). */
const MAX_UNREAD_FRAMES = 3000;
/** More lag than this (the process was busy) is skipped, not caught up: a live line does not replay the past. */
const MAX_CATCH_UP_FRAMES = 50;
/** The recogniser ends an utterance after this much silence. */
const ENDPOINTING_MS = 500;
/**
 * After the agent's audio stops, the party is still taking in what it heard until the recogniser reports
 * it (on a busy machine, seconds later) — for at most this long (ms of the line's clock).
 */
const TAKING_IN_MS = 5000;
/** Silence fed to the recogniser after the agent stops, so it ends the utterance; then it rests. */
const TAIL_FRAMES = Math.ceil((ENDPOINTING_MS + 500) / FRAME_MS);

/** What the agent has queued: audio (with how much of it was heard), or a mark. */
type Queued = { audio: Uint8Array; at: number; done: (r: PlayResult) => void } | { mark: string; done: (r: PlayResult) => void };

/** A party's utterance on its way to the agent. */
interface Utterance {
  audio: Uint8Array;
  at: number;
  finished: () => void;
}

export class AudioLine extends Line {
  readonly audio: AudioChannel;
  private readonly toAgent = new AsyncQueue<Uint8Array>({ limit: MAX_UNREAD_FRAMES, overflow: 'drop_oldest' });
  private readonly recognizer: Recognizer;
  private inputListener: ((input: AudioInput) => void) | undefined;
  private inputQueued: AudioInput[] = [];
  private played: Queued[] = [];
  private partySpeech: Utterance | undefined;
  private quietWaiters: Array<() => void> = [];
  /** When the agent's current utterance began to be heard (clock ms), until the recogniser reports it. */
  private agentSince: number | undefined;
  /** When the agent's audio was last heard (clock ms). */
  private agentLastHeard = 0;
  private tail = TAIL_FRAMES;
  /** The party's utterances, one after another. */
  private partyTurn: Promise<unknown> = Promise.resolve();

  constructor(
    clock: Clock,
    wordsPerSecond: number,
    private readonly language: string,
    onEnd: (how: 'party' | 'agent' | 'transfer') => void,
    logger: Pick<Logger, 'error'>,
    /** Whether a number exists on the network (a transfer target must). */
    reachable: (to: string) => boolean = () => false,
    /** The ARPA model the party hears the agent through (SimCarrierOptions.languageModel); default the general one. */
    languageModel?: ModelFile,
  ) {
    super(clock, wordsPerSecond, onEnd, reachable, logger);
    // What the party hears is espeak-ng's voice on a telephone line, noiseless: spectral subtraction would
    // only distort it, and the agent's first words need telephone audio's cepstral mean from the start.
    this.recognizer = new Recognizer({ endpointingMs: ENDPOINTING_MS, languageModel, noiseRemoval: false, telephoneCmn: true });
    this.recognizer.onUtterance((text) => this.agentHeard(text));
    this.recognizer.onError((err) => logger.error({ err }, 'sim line recogniser failed: the party hears nothing more'));
    this.audio = {
      frames: () => this.toAgent,
      play: (mulaw) => this.enqueue({ audio: mulaw, at: 0, done: () => {} }),
      mark: (name) => this.enqueue({ mark: name, done: () => {} }),
      clear: () => this.clear(),
      sendDigits: (digits) => this.digits(digits),
      hangup: async () => this.end('agent'),
      // As on Twilio: the agent falls quiet first (what it is saying is heard to its end), then the network
      // connects the callee to `to` like a text line's transfer; the party hears no hang-up.
      transfer: async (to, opts) => {
        const speakAgain = await opts.quiet?.();
        try {
          await this.channel.transfer!(to, opts);
        } catch (err) {
          speakAgain?.();
          throw err;
        }
      },
      onInput: (listener) => {
        this.inputListener = listener;
        for (const i of this.inputQueued.splice(0)) listener(i);
      },
    };
    this.run('sim audio pump', () => this.pump());
  }

  /** Audio calls are carried as media: connected time and streamed seconds (the engine does the speech). */
  override usage(): CarrierUsage {
    const seconds = this.openMs / 1000;
    return { connectedSeconds: seconds, mediaSeconds: seconds };
  }

  /** The agent's audio is playing, or the party is still taking in what it just heard (see TAKING_IN_MS). */
  override agentSpeaking(): boolean {
    if (this.played.some((q) => 'audio' in q)) return true;
    return this.agentSince !== undefined && this.clock.now() - this.agentLastHeard < TAKING_IN_MS;
  }

  /** The party says `text`: espeak-ng speaks it and the frames go to the agent in real time. */
  override speak(text: string, opts: SpeakOptions = {}): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      const stop = opts.cut ? AbortSignal.any([this.signal, opts.cut]) : this.signal;
      // A person waits for the agent to finish; a machine talks regardless.
      if (!opts.overAgent) while (this.agentSpeaking() && !stop.aborted) await new Promise<void>((r) => this.quietWaiters.push(r));
      if (stop.aborted) return false;
      const voice = SIM_VOICES.party;
      let audio: Uint8Array;
      try {
        audio = await speakMulaw(text, { language: this.language, variant: voice.variant, pitch: voice.pitch, wordsPerMinute: this.wordsPerSecond * 60, signal: stop });
      } catch (err) {
        if (stop.aborted) return false;
        throw err;
      }
      const start = this.clock.now();
      const utterance: Utterance = { audio, at: 0, finished: () => {} };
      const stopped = new Promise<void>((resolve) => {
        utterance.finished = resolve;
        this.partySpeech = utterance;
      });
      await this.until(stopped, stop);
      if (this.partySpeech === utterance) this.partySpeech = undefined;
      const full = utterance.at >= audio.length;
      const words = text.split(/\s+/).filter(Boolean);
      const said = full ? text : words.slice(0, Math.floor((words.length * utterance.at) / Math.max(1, audio.length))).join(' ');
      if (said) {
        this.sounds.push({ kind: 'speech', who: 'party', text: said, at: start - this.openedAt, ms: this.clock.now() - start });
        this.log.push({ who: 'party', text: said });
      }
      return full && !this.isEnded;
    };
    const p = this.partyTurn.then(run, run);
    this.partyTurn = p.catch(() => {});
    return p;
  }

  protected override end(how: 'party' | 'agent' | 'transfer'): void {
    if (this.isEnded) return;
    if (how === 'party') this.input({ type: 'hangup' });
    super.end(how);
    this.toAgent.close();
    this.recognizer.abort();
    this.clear();
    for (const r of this.quietWaiters.splice(0)) r();
  }

  /** Waits for `done`, or until `stop` aborts (its listener is removed either way). */
  private async until(done: Promise<void>, stop: AbortSignal): Promise<void> {
    let onAbort = () => {};
    const aborted = new Promise<void>((resolve) => (onAbort = resolve));
    stop.addEventListener('abort', onAbort, { once: true });
    if (stop.aborted) onAbort();
    await Promise.race([done, aborted]);
    stop.removeEventListener('abort', onAbort);
  }

  // ---- the line's pace ----------------------------------------------------------------------

  /** Moves one frame each way every 20 ms of the line's clock, until the call ends. */
  private async pump(): Promise<void> {
    const t0 = this.clock.now();
    let moved = 0;
    while (await this.pause(FRAME_MS)) {
      let due = Math.floor((this.clock.now() - t0) / FRAME_MS) - moved;
      if (due > MAX_CATCH_UP_FRAMES) {
        moved += due - MAX_CATCH_UP_FRAMES;
        due = MAX_CATCH_UP_FRAMES;
      }
      for (; due > 0 && !this.isEnded; due--, moved++) this.tick();
    }
  }

  private tick(): void {
    // The party's side: its speech, or the line's silence.
    const u = this.partySpeech;
    if (u) {
      const frame = u.audio.subarray(u.at, u.at + FRAME_BYTES);
      u.at += frame.length;
      this.toAgent.push(frame.length === FRAME_BYTES ? frame : padded(frame));
      if (u.at >= u.audio.length) u.finished();
    } else this.toAgent.push(SILENCE);
    // The agent's side: what it queued is heard, and the recogniser listens.
    const heard = this.takeAgentFrame();
    if (heard) {
      this.agentSince ??= this.clock.now() - FRAME_MS;
      this.agentLastHeard = this.clock.now();
      this.tail = 0;
      this.recognizer.push(heard);
    } else if (this.tail < TAIL_FRAMES) {
      this.tail++;
      this.recognizer.push(SILENCE);
    }
    if (this.quietWaiters.length > 0 && !this.agentSpeaking()) for (const r of this.quietWaiters.splice(0)) r();
  }

  // ---- the agent's audio --------------------------------------------------------------------

  private enqueue(q: Queued): Promise<PlayResult> {
    if (this.isEnded) return Promise.resolve({ played: false });
    // A mark with nothing before it has been reached already.
    if ('mark' in q && this.played.length === 0) return Promise.resolve({ played: true });
    return new Promise((resolve) => {
      q.done = resolve;
      this.played.push(q);
    });
  }

  /** The next 20 ms of the agent's queued audio (marks on the way are reached), or null when it has none. */
  private takeAgentFrame(): Uint8Array | null {
    const frame = new Uint8Array(FRAME_BYTES).fill(0xff);
    let filled = 0;
    while (this.played.length > 0) {
      const head = this.played[0];
      if ('mark' in head) {
        this.played.shift();
        head.done({ played: true });
        continue;
      }
      if (filled === FRAME_BYTES) break;
      const part = head.audio.subarray(head.at, head.at + FRAME_BYTES - filled);
      frame.set(part, filled);
      filled += part.length;
      head.at += part.length;
      if (head.at >= head.audio.length) {
        this.played.shift();
        head.done({ played: true });
      }
    }
    return filled > 0 ? frame : null;
  }

  /** Drops what the agent queued and has not been heard; returns how many ms that was. */
  private clear(): number {
    let bytes = 0;
    for (const q of this.played.splice(0)) {
      if ('audio' in q) bytes += q.audio.length - q.at;
      q.done({ played: false });
    }
    for (const r of this.quietWaiters.splice(0)) r();
    return Math.round(bytes / 8);
  }

  /** The recogniser heard the agent say `text`: the party hears it. */
  private agentHeard(text: string): void {
    if (this.isEnded) return;
    const at = this.agentSince ?? this.clock.now();
    this.agentSince = undefined;
    this.sounds.push({ kind: 'speech', who: 'agent', text, at: at - this.openedAt, ms: this.clock.now() - at });
    this.log.push({ who: 'agent', text });
    // A reference read out letter by letter is noted down as one ("a b one two three" → "ab123").
    this.party?.hear(writeSpelledCodes(text));
  }

  /** Keypad digits from the agent (`w`: half a second's pause), heard by the party one by one. */
  private async digits(digits: string): Promise<void> {
    for (const d of digits) {
      if (this.isEnded) return;
      if (d === 'w' || d === 'W') await this.pause(500);
      else await this.agentDigits(d);
    }
  }

  private input(i: AudioInput): void {
    if (this.inputListener) this.inputListener(i);
    else this.inputQueued.push(i);
  }
}

function padded(part: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_BYTES).fill(0xff);
  frame.set(part);
  return frame;
}
