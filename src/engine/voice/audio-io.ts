/**
 * The cascaded audio pipeline (issue 10 §2): an `AgentIO` over a carrier's `AudioChannel`.
 *
 * In: every μ-law frame of the callee goes through the voice activity detector (./vad.ts) and into the
 * speech-to-text stream; the detector and the transcripts drive turn-taking (./interruptions.ts), and the
 * activity hears `speech_started` / `speech_ended` / interim and final transcripts / keypad digits / hang-up.
 * A turn's final transcript is the finals of the utterance joined, sent once the speech-to-text says the turn
 * ended (endpointing).
 *
 * Out: `playClause` synthesises the clause, paces its audio at 20 ms a frame through the node's one pacer
 * (./pacer.ts) and marks its end; the clause was heard once the carrier echoes that mark. Cut off (a
 * barge-in, `signal`, the end of the call), the unsent audio is dropped at once, the carrier drops what it
 * had not played yet (`clear`), and the words heard are estimated from the frames actually played.
 */
import type { AudioChannel, AudioInput } from '../../carriers/carrier.js';
import type { SpeechToText, SttEvent, SttStream } from '../../ai/stt/stt.js';
import type { TextToSpeech, VoiceChoice } from '../../ai/tts/tts.js';
import type { UsageReporter } from '../../core/credits/usage.js';
import type { Logger } from '../../lib/logger.js';
import { background } from '../../lib/background.js';
import type { AgentIO, IOCapabilities, PlayoutResult, UserInput } from '../io/io.js';
import { EnergyVad } from './vad.js';
import { InterruptionDetector, type TurnTaking } from './interruptions.js';
import { Pacer, type PacedOutput } from './pacer.js';
import { heardPart } from './heard.js';

export interface AudioIOOptions {
  callId: string;
  channel: AudioChannel;
  stt: SpeechToText;
  tts: TextToSpeech;
  /** The voice to speak `language` with (it may change with the language). */
  voice: (language: string) => VoiceChoice;
  language: string;
  turnTaking: TurnTaking;
  /** Default: the node's shared pacer. */
  pacer?: Pacer;
  /** Where speech-to-text seconds and synthesised characters are reported (billing), at `close`. */
  usage?: UsageReporter;
  log: Logger;
}

/** μ-law bytes a millisecond (8 kHz). */
const BYTES_PER_MS = 8;
/** A speech-to-text stream that fails is reopened at most this many times in a call. */
const STT_REOPENS = 3;

/** The clause being played. */
interface Clause {
  text: string;
  /** Aborts its synthesis. */
  ctl: AbortController;
  startedAt: number;
  /** Bytes synthesised, and whether synthesis is over (then `bytes` is the clause's whole length). */
  bytes: number;
  synthesized: boolean;
  /** Bytes handed to the carrier. */
  sent: number;
  firstFrameAt?: number;
  ttsFirstByteMs?: number;
  over: boolean;
  settle: (r: PlayoutResult) => void;
  fail: (err: Error) => void;
}

export class AudioIO implements AgentIO {
  readonly capabilities: IOCapabilities = { interimTranscripts: true };
  private listener: ((input: UserInput) => void) | undefined;
  private early: UserInput[] = [];
  private readonly vad = new EnergyVad();
  private readonly detector: InterruptionDetector;
  private readonly out: PacedOutput;
  private readonly pacer: Pacer;
  private stream: SttStream;
  private sttReopens = 0;
  private sttSeconds = 0;
  private ttsCharacters = 0;
  private language: string;
  private clause: Clause | undefined;
  private paused = false;
  private marks = 0;
  /** Finals of the utterance so far (the turn's transcript, once it ends). */
  private finals: string[] = [];
  /** When the callee's last sound was heard (pacer clock): the start of the speech-to-text's delay. */
  private lastSoundAt = 0;
  private closed = false;

  constructor(private readonly o: AudioIOOptions) {
    this.language = o.language;
    this.pacer = o.pacer ?? Pacer.shared();
    this.out = this.pacer.output((frame) => this.send(frame));
    this.detector = new InterruptionDetector(o.turnTaking, {
      agentSpeaking: () => !!this.clause,
      pause: () => this.pause(),
      resume: () => this.resume(),
      interrupt: () => this.takeTurn(),
      ended: () => this.emit({ type: 'speech_ended' }),
    });
    this.stream = this.openStt();
    o.channel.onInput((input) => this.onChannelInput(input));
    background(o.log, 'audio frames failed', this.listen(), { callId: o.callId });
  }

  onInput(listener: (input: UserInput) => void): void {
    this.listener = listener;
    for (const input of this.early.splice(0)) listener(input);
  }

  playClause(text: string, signal: AbortSignal): Promise<PlayoutResult> {
    if (signal.aborted || this.closed) return Promise.resolve({ done: false, heard: '' });
    return new Promise<PlayoutResult>((settle, fail) => {
      const clause: Clause = { text, ctl: new AbortController(), startedAt: this.pacer.clock.now(), bytes: 0, synthesized: false, sent: 0, over: false, settle, fail };
      this.clause = clause;
      const onAbort = () => this.cut(clause);
      signal.addEventListener('abort', onAbort, { once: true });
      clause.ctl.signal.addEventListener('abort', () => signal.removeEventListener('abort', onAbort), { once: true });
      background(this.o.log, 'synthesis failed', this.synthesize(clause), { callId: this.o.callId });
    });
  }

  sendDigits(digits: string): Promise<void> {
    return this.o.channel.sendDigits(digits);
  }

  hangup(): Promise<void> {
    return this.o.channel.hangup();
  }

  async setLanguage(language: string): Promise<void> {
    if (language === this.language) return;
    this.language = language;
    const old = this.stream;
    this.stream = this.openStt();
    await this.closeStt(old);
  }

  /** The call is over: speech stops, the speech-to-text stream closes, usage is reported. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.clause) this.cut(this.clause);
    this.out.clear();
    await this.closeStt(this.stream);
    this.o.usage?.add({ sttSeconds: this.sttSeconds, ttsCharacters: this.ttsCharacters });
  }

  // ---- the callee's side -------------------------------------------------------------------------

  private emit(input: UserInput): void {
    if (this.closed && input.type !== 'hangup') return;
    if (this.listener) this.listener(input);
    else this.early.push(input);
  }

  private onChannelInput(input: AudioInput): void {
    this.emit(input.type === 'dtmf' ? { type: 'dtmf', digits: input.digits } : { type: 'hangup' });
  }

  /** Every frame: the detector, then the speech-to-text. */
  private async listen(): Promise<void> {
    for await (const frame of this.o.channel.frames()) {
      if (this.closed) break;
      const change = this.vad.push(frame);
      if (this.vad.speaking) this.lastSoundAt = this.pacer.clock.now();
      this.stream.push(frame);
      this.detector.frame(frame.length / BYTES_PER_MS, change, this.vad.speaking);
    }
  }

  private onStt(stream: SttStream, e: SttEvent): void {
    if (stream !== this.stream || this.closed) return;
    switch (e.type) {
      case 'speech_started':
        this.detector.sttSpeechStarted();
        return;
      case 'error':
        this.o.log.warn({ err: e.error, callId: this.o.callId }, 'speech-to-text stream failed');
        if (this.sttReopens++ < STT_REOPENS) {
          this.stream = this.openStt();
          background(this.o.log, 'speech-to-text close failed', this.closeStt(stream), { callId: this.o.callId });
        }
        return;
      case 'transcript': {
        const text = [...this.finals, e.text].filter(Boolean).join(' ').trim();
        if (e.final) this.finals.push(e.text);
        this.detector.words(countWords(text));
        if (!e.endOfTurn) {
          if (text) this.emit({ type: 'transcript', text, final: false });
          return;
        }
        this.finals = [];
        const isTurn = this.detector.endOfTurn();
        // A backchannel ("mm-hm") over the agent is not a turn: the agent talks on (docs/voice.md).
        if (isTurn && text) this.emit({ type: 'transcript', text, final: true, sttMs: Math.max(0, this.pacer.clock.now() - this.lastSoundAt) });
        return;
      }
    }
  }

  private openStt(): SttStream {
    const stream = this.o.stt.stream({ language: this.language, endpointingMs: this.o.turnTaking.endpointingMs, interim: true });
    stream.onEvent((e) => this.onStt(stream, e));
    return stream;
  }

  private async closeStt(stream: SttStream): Promise<void> {
    await stream.close();
    this.sttSeconds += stream.audioSeconds;
  }

  // ---- the agent's side --------------------------------------------------------------------------

  private async synthesize(clause: Clause): Promise<void> {
    this.ttsCharacters += clause.text.length;
    try {
      const chunks = this.o.tts.synthesize({ text: clause.text, voice: this.o.voice(this.language), language: this.language, signal: clause.ctl.signal });
      for await (const chunk of chunks) {
        if (clause.over) return;
        clause.ttsFirstByteMs ??= this.pacer.clock.now() - clause.startedAt;
        clause.bytes += chunk.length;
        this.out.enqueue(chunk);
      }
    } catch (err) {
      if (clause.over) return;
      // The synthesis failed: what was queued is dropped, and the activity hears the failure (an `error` event).
      clause.over = true;
      clause.ctl.abort();
      if (this.clause === clause) {
        this.clause = undefined;
        this.out.clear();
        this.o.channel.clear();
      }
      clause.fail(err as Error);
      return;
    }
    if (clause.over) return;
    clause.synthesized = true;
    const name = `clause-${++this.marks}`;
    // Every frame of the clause is out: the carrier's echo of this mark says the callee heard them all.
    this.out.enqueueMark(() =>
      background(this.o.log, 'clause mark failed', async () => {
        const r = await this.o.channel.mark(name);
        if (r.played) this.finish(clause, { done: true });
        else this.cut(clause);
      }, { callId: this.o.callId }),
    );
  }

  /** The pacer's sink: one frame to the carrier. */
  private send(frame: Uint8Array): void {
    const c = this.clause;
    if (c) {
      c.sent += frame.length;
      c.firstFrameAt ??= this.pacer.clock.now();
    }
    background(this.o.log, 'audio frame not played', this.o.channel.play(frame), { callId: this.o.callId });
  }

  private pause(): void {
    this.paused = true;
    this.out.pause();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.out.resume();
  }

  /** The callee takes the turn: the agent's audio is cleared at once, then the activity hears it. */
  private takeTurn(): void {
    if (this.clause) this.cut(this.clause);
    this.emit({ type: 'speech_started' });
  }

  /** Stops the clause: unsent audio dropped here, unplayed audio dropped at the carrier; heard = what was played. */
  private cut(clause: Clause): void {
    if (clause.over) return;
    let dropped = 0;
    if (this.clause === clause) {
      this.out.clear();
      this.paused = false;
      dropped = this.o.channel.clear() * BYTES_PER_MS;
    }
    const played = Math.max(0, clause.sent - dropped);
    // Synthesis still running: the clause's length is not known yet; estimate it from the text.
    const total = clause.synthesized ? clause.bytes : Math.max(clause.bytes, estimatedBytes(clause.text));
    this.finish(clause, { done: false, heard: heardPart(clause.text, total ? played / total : 0) });
  }

  private finish(clause: Clause, r: PlayoutResult): void {
    if (clause.over) return;
    clause.over = true;
    clause.ctl.abort();
    if (this.clause === clause) this.clause = undefined;
    const audio = clause.firstFrameAt !== undefined ? { firstFrameMs: clause.firstFrameAt - clause.startedAt, ttsFirstByteMs: clause.ttsFirstByteMs ?? null } : undefined;
    clause.settle(audio ? { ...r, audio } : r);
  }
}

/** Speech runs at about 14 characters a second: a clause's audio length before synthesis has finished. */
function estimatedBytes(text: string): number {
  return (text.length / 14) * 1000 * BYTES_PER_MS;
}

function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}
