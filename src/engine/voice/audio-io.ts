/**
 * The cascaded audio pipeline (issue 10 §2): an `AgentIO` over a carrier's `AudioChannel`.
 *
 * In: every μ-law frame of the callee goes through the voice activity detector (./vad.ts) and into the
 * speech-to-text stream, which the detector's starts and ends of speech let stop sending long silences; the detector and the transcripts drive turn-taking (./interruptions.ts), and the
 * activity hears `speech_started` / `speech_ended` / interim and final transcripts / keypad digits / hang-up.
 * A turn's final transcript is the finals of the utterance joined, sent once the speech-to-text says the turn
 * ended (endpointing).
 *
 * Out: `playClause` synthesises the clause, paces its audio at 20 ms a frame through the node's one pacer
 * (./pacer.ts) and marks its end; the clause was heard once the carrier echoes that mark. Cut off (a
 * barge-in, `signal`, the end of the call), the unsent audio is dropped at once, the carrier drops what it
 * had not played yet (`clear`), and the words heard are estimated from the frames actually played.
 *
 * Transfer (where the channel can): right before the callee's leg is handed over, the I/O falls quiet — the
 * clause being said is heard to its end (or cut where it was heard, after `QUIET_MS`) and no clause is
 * played after it — so the redirect cuts no word off, and the transcript keeps what was heard.
 */
import type { AudioChannel, AudioInput } from '../../carriers/carrier.js';
import type { SpeechToText, SttEvent, SttStream } from '../../ai/stt/stt.js';
import type { TextToSpeech, VoiceChoice } from '../../ai/tts/tts.js';
import type { UsageReporter } from '../../core/credits/usage.js';
import type { Logger } from '../../lib/logger.js';
import { background } from '../../lib/background.js';
import { AsyncQueue } from '../../lib/async-queue.js';
import { ROUTINE_ABORT } from '../../lib/abort.js';
import type { AgentIO, IOCapabilities, PlayoutResult, UserInput } from '../io/io.js';
import { EnergyVad } from './vad.js';
import { InterruptionDetector, interruptingWords, type TurnTaking } from './interruptions.js';
import { Pacer, type PacedOutput } from './pacer.js';
import { heardPart } from './heard.js';
import { endsMidSentence } from '../../ai/agent/sentences.js';

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
/**
 * Before a transfer's redirect: how long the clause being said may take to be heard to its end before it
 * is cut (a clause is a sentence or part of one: a few seconds; a paused clause would wait for ever).
 */
export const QUIET_MS = 8_000;

/**
 * One clause's synthesis, running ahead of its playout: started by `prepareClause` while the clause before
 * it plays (so the clause boundary costs no time to first byte), or by `playClause`.
 */
interface Synthesis {
  text: string;
  /** Aborts it. */
  ctl: AbortController;
  /** Its audio as it arrives (a clause is seconds of audio: a few dozen chunks). */
  chunks: AsyncQueue<Uint8Array>;
  /** When its first byte arrived (pacer clock). */
  firstByteAt?: number;
}

/** The clause being played. */
interface Clause {
  text: string;
  synthesis: Synthesis;
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
  /** Resolves once the clause is over, however (heard, cut, failed). */
  ended: Promise<void>;
  settle: (r: PlayoutResult) => void;
  fail: (err: Error) => void;
}

export class AudioIO implements AgentIO {
  readonly capabilities: IOCapabilities = { interimTranscripts: true, earlyFirstClause: true };
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
  /** The next clause's synthesis, started early (`prepareClause`). */
  private prepared: Synthesis | undefined;
  /** The last synthesis started, and for which speech (its signal): the next clause of a sentence follows it. */
  private lastStarted: { text: string; signal: AbortSignal } | undefined;
  private paused = false;
  private marks = 0;
  /** Finals of the utterance so far (the turn's transcript, once it ends). */
  private finals: string[] = [];
  /** When the callee's last sound was heard (pacer clock): the start of the speech-to-text's delay. */
  private lastSoundAt = 0;
  private closed = false;
  /** A transfer is handing the callee over: nothing more is played (see `quiet`). */
  private holding = false;
  readonly transfer?: AgentIO['transfer'];

  constructor(private readonly o: AudioIOOptions) {
    const channel = o.channel;
    if (channel.transfer) this.transfer = (to, opts) => channel.transfer!(to, { ...opts, quiet: () => this.quiet() });
    this.language = o.language;
    this.pacer = o.pacer ?? Pacer.shared();
    this.out = this.pacer.output((frame) => this.send(frame), channel.outboundFrameMs, channel.outboundLeadMs);
    this.detector = new InterruptionDetector(o.turnTaking, {
      agentSpeaking: () => !!this.clause,
      pause: () => this.pause(),
      resume: () => this.resume(),
      interrupt: () => this.takeTurn(),
      ended: () => this.emit({ type: 'speech_ended' }),
    });
    this.stream = this.openStt();
    o.channel.onInput((input) => this.onChannelInput(input));
    if (o.channel.onFrame) o.channel.onFrame((frame) => this.hearSafely(frame));
    else background(o.log, 'audio frames failed', this.listen(), { callId: o.callId });
  }

  onInput(listener: (input: UserInput) => void): void {
    this.listener = listener;
    for (const input of this.early.splice(0)) listener(input);
  }

  playClause(text: string, signal: AbortSignal): Promise<PlayoutResult> {
    if (signal.aborted || this.closed || this.holding) return Promise.resolve({ done: false, heard: '' });
    const startedAt = this.pacer.clock.now();
    const synthesis = this.preparedFor(text) ?? this.startSynthesis(text, signal);
    if (this.prepared && this.prepared !== synthesis) this.prepared.ctl.abort(ROUTINE_ABORT);
    this.prepared = undefined;
    let over!: () => void;
    const ended = new Promise<void>((r) => (over = r));
    return new Promise<PlayoutResult>((settle, fail) => {
      const clause: Clause = {
        text,
        synthesis,
        ctl: synthesis.ctl,
        startedAt,
        bytes: 0,
        synthesized: false,
        sent: 0,
        over: false,
        ended,
        settle: (r) => {
          over();
          settle(r);
        },
        fail: (err) => {
          over();
          fail(err);
        },
      };
      this.clause = clause;
      const onAbort = () => this.cut(clause);
      signal.addEventListener('abort', onAbort, { once: true });
      clause.ctl.signal.addEventListener('abort', () => signal.removeEventListener('abort', onAbort), { once: true });
      background(this.o.log, 'synthesis failed', this.synthesize(clause), { callId: this.o.callId });
    });
  }

  /** The next clause will be `text`: its synthesis starts now, while the current one plays. */
  prepareClause(text: string, signal: AbortSignal): void {
    if (this.closed || this.holding || signal.aborted || this.preparedFor(text)) return;
    this.prepared?.ctl.abort(ROUTINE_ABORT);
    const synthesis = (this.prepared = this.startSynthesis(text, signal));
    signal.addEventListener('abort', () => synthesis.ctl.abort(ROUTINE_ABORT), { once: true, signal: synthesis.ctl.signal });
  }

  /** The prepared synthesis of `text`, unless it was dropped. */
  private preparedFor(text: string): Synthesis | undefined {
    const p = this.prepared;
    return p && p.text === text && !p.ctl.signal.aborted ? p : undefined;
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
    this.prepared?.ctl.abort(ROUTINE_ABORT); // synthesised in the old language
    const old = this.stream;
    this.stream = this.openStt();
    await this.closeStt(old);
  }

  /**
   * A transfer is about to redirect the callee's leg: the clause being said is heard to its end (cut where
   * it was heard after QUIET_MS), nothing is played after it, and what is prepared is dropped. Resolves once
   * the line is quiet, with the undo for a hand-over that failed (the agent speaks again).
   */
  private async quiet(): Promise<() => void> {
    this.holding = true;
    this.prepared?.ctl.abort(ROUTINE_ABORT);
    this.prepared = undefined;
    const clause = this.clause;
    if (clause) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([clause.ended, new Promise<void>((r) => (timer = setTimeout(r, QUIET_MS)))]);
      clearTimeout(timer);
      this.cut(clause);
    }
    return () => {
      this.holding = false;
    };
  }

  /** The call is over: speech stops, the speech-to-text stream closes, usage is reported. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.clause) this.cut(this.clause);
    this.prepared?.ctl.abort(ROUTINE_ABORT);
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

  /** A channel without `onFrame`: its frames, iterated. */
  private async listen(): Promise<void> {
    for await (const frame of this.o.channel.frames()) {
      if (this.closed) break;
      this.hear(frame);
    }
  }

  /** A frame handed over synchronously (`onFrame`): a failure is logged, and the next frame is heard. */
  private hearSafely(frame: Uint8Array): void {
    if (this.closed) return;
    try {
      this.hear(frame);
    } catch (err) {
      this.o.log.error({ err, callId: this.o.callId }, 'audio frame failed');
    }
  }

  /** Every frame: the detector, then the speech-to-text. */
  private hear(frame: Uint8Array): void {
    this.pacer.nudge();
    const change = this.vad.push(frame);
    if (this.vad.speaking) this.lastSoundAt = this.pacer.clock.now();
    this.stream.push(frame);
    // The speech-to-text may hold frames for one message; its endpointing needs the silence now.
    if (change === 'end') this.stream.speechPaused();
    else if (change === 'start') this.stream.speechResumed();
    this.detector.frame(frame.length / BYTES_PER_MS, change, this.vad.speaking);
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
        this.detector.words(interruptingWords(text));
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
    // `hear` tells the stream each start and end of speech, so it may stop sending the callee's long silences.
    const stream = this.o.stt.stream({ language: this.language, endpointingMs: this.o.turnTaking.endpointingMs, interim: true, gateSilence: true });
    stream.onEvent((e) => this.onStt(stream, e));
    // A stream opened while the callee speaks (a new language, a reopen after a failure) starts gated: open it.
    if (this.vad.speaking) stream.speechResumed();
    return stream;
  }

  private async closeStt(stream: SttStream): Promise<void> {
    await stream.close();
    this.sttSeconds += stream.audioSeconds;
  }

  // ---- the agent's side --------------------------------------------------------------------------

  /**
   * Starts synthesising `text` (a clause of the speech `signal` belongs to) into a buffer the clause plays from.
   * The rest of a sentence whose first clause went on its own is given that clause, for its intonation.
   */
  private startSynthesis(text: string, signal: AbortSignal): Synthesis {
    this.ttsCharacters += text.length;
    const before = this.lastStarted;
    const previousText = before && before.signal === signal && endsMidSentence(before.text) ? before.text : undefined;
    this.lastStarted = { text, signal };
    const synthesis: Synthesis = { text, ctl: new AbortController(), chunks: new AsyncQueue<Uint8Array>({ limit: 100_000, overflow: 'fail' }) };
    const { ctl, chunks } = synthesis;
    const run = async () => {
      try {
        for await (const chunk of this.o.tts.synthesize({ text, voice: this.o.voice(this.language), language: this.language, signal: ctl.signal, ...(previousText ? { previousText } : {}) })) {
          if (ctl.signal.aborted) break;
          synthesis.firstByteAt ??= this.pacer.clock.now();
          chunks.push(chunk);
        }
        chunks.close();
      } catch (err) {
        chunks.fail(err as Error);
      }
    };
    background(this.o.log, 'synthesis failed', run, { callId: this.o.callId });
    // Aborted (a barge-in, a clause never played): whoever reads it stops at once.
    ctl.signal.addEventListener('abort', () => chunks.close(), { once: true });
    return synthesis;
  }

  /** Plays a clause from its synthesis, frame by frame, then marks its end. */
  private async synthesize(clause: Clause): Promise<void> {
    try {
      for await (const chunk of clause.synthesis.chunks) {
        if (clause.over) return;
        // Synthesis that ran ahead had its first byte before the clause began: no wait at all.
        clause.ttsFirstByteMs ??= Math.max(0, (clause.synthesis.firstByteAt ?? this.pacer.clock.now()) - clause.startedAt);
        clause.bytes += chunk.length;
        this.out.enqueue(chunk);
      }
    } catch (err) {
      if (clause.over) return;
      // The synthesis failed: what was queued is dropped, and the activity hears the failure (an `error` event).
      clause.over = true;
      clause.ctl.abort(ROUTINE_ABORT);
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
    // The clause's own mark says when it was heard: no report per frame where the channel can skip it.
    if (this.o.channel.send) this.o.channel.send(frame);
    else background(this.o.log, 'audio frame not played', this.o.channel.play(frame), { callId: this.o.callId });
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
    this.prepared?.ctl.abort(ROUTINE_ABORT);
    this.prepared = undefined;
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
    clause.ctl.abort(ROUTINE_ABORT);
    if (this.clause === clause) this.clause = undefined;
    const audio = clause.firstFrameAt !== undefined ? { firstFrameMs: clause.firstFrameAt - clause.startedAt, ttsFirstByteMs: clause.ttsFirstByteMs ?? null } : undefined;
    clause.settle(audio ? { ...r, audio } : r);
  }
}

/** Speech runs at about 14 characters a second: a clause's audio length before synthesis has finished. */
function estimatedBytes(text: string): number {
  return (text.length / 14) * 1000 * BYTES_PER_MS;
}
