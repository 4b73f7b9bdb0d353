/**
 * A speech-to-speech model as the call's `Activity` (../activity.ts): OpenAI Realtime hears the callee's
 * μ-law frames, detects speech (server VAD) and answers in μ-law, which goes to the carrier's
 * `AudioChannel` untouched, paced at 20 ms a frame (../voice/pacer.ts) so that it can be held. What the
 * engine keeps doing itself:
 * - turn-taking: the server neither answers nor cancels on its own (`create_response` and
 *   `interrupt_response` off). The cascaded pipeline's rule decides (../voice/interruptions.ts, the same
 *   settings): a cough or an "mm-hm" over the agent does not interrupt and gets no reply, longer sound
 *   without words yet holds the agent's audio, and a false interruption resumes it;
 * - barge-in: once the callee's speech over the agent is an interruption, the channel's queued audio is
 *   cleared at once, the reply being generated is cancelled, and the model is told how much of its reply
 *   was actually heard (`conversation.item.truncate`); the call's transcript keeps only that part;
 * - the conversation: the callee's transcribed words and the agent's heard words go into the call's
 *   transcript through the same session events as the agent activity (`conversation_item_added`, …);
 * - actions: the model's function calls become the engine's actions (../../ai/agent/tools.ts, the same
 *   checks as the text brain), carried out by the controller (`ActionHost.act`) once the speech before them
 *   was heard; the result goes back as the function's output;
 * - lines that are not the model's (a supervisor's, the engine's goodbye) are spoken by the model word for
 *   word, as speech handles like any other;
 * - transfers (`transfer_call`, or the API's), where the channel can: right before the callee's leg is
 *   handed over, the reply being heard is let end (or cut where it was heard, after QUIET_MS) and no reply
 *   is played after it, as in the cascaded pipeline.
 */
import type { AudioChannel } from '../../carriers/carrier.js';
import type { RealtimeClientEvent, RealtimeConnection, RealtimeServerEvent, RealtimeSession } from '../../ai/realtime/index.js';
import { toolCallToAction } from '../../ai/agent/tools.js';
import type { ActionResult, AgentBrief, BrainInput, Turn } from '../brain.js';
import type { Activity, ActionHost } from '../activity.js';
import type { AgentIO, PlayoutResult } from '../io/io.js';
import { ev, type AgentState, type SessionEvent, type SpeechSource, type UserState } from '../events.js';
import { Conversation } from '../conversation.js';
import { SpeechHandle } from '../speech-handle.js';
import type { UsageReporter } from '../../core/credits/usage.js';
import type { TurnLatency } from '../../metrics/index.js';
import type { Logger } from '../../lib/logger.js';
import { background } from '../../lib/background.js';
import { EnergyVad } from '../voice/vad.js';
import { DEFAULT_TURN_TAKING, InterruptionDetector, interruptingWords, type TurnTaking } from '../voice/interruptions.js';
import { Pacer, type PacedOutput } from '../voice/pacer.js';
import { cutToHeard } from './heard.js';
import { QUIET_MS } from '../voice/audio-io.js';

export interface RealtimeActivityOptions {
  callId: string;
  channel: AudioChannel;
  /** Opens the call's model connection (called once, at `start`). */
  connect: () => RealtimeConnection;
  /** The model's session for the brief as it is now (instructions, tools, voice, turn detection). */
  session: (brief: AgentBrief) => RealtimeSession;
  host: ActionHost;
  /** Receives every event, in order. Must not throw. */
  emit: (e: SessionEvent) => void;
  /** Where the model's tokens and transcribed seconds are reported (billing). */
  usage?: UsageReporter;
  /** The latency figures of a reply to the callee's speech (speech stopped → reply created → first audio). */
  onTurnFigures?: (latency: TurnLatency) => void;
  /** On a call we placed: how long a person who answered may stay silent before the agent greets (default 2.5 s). */
  greetAfterMs?: number;
  /** What interrupts the agent (VOICE_MIN_INTERRUPTION_MS, …; default DEFAULT_TURN_TAKING): the cascaded pipeline's rule. */
  turnTaking?: TurnTaking;
  /** Paces the model's audio to the carrier (default: the node's shared pacer). */
  pacer?: Pacer;
  log: Logger;
}

/** μ-law at 8 kHz: 8 bytes per millisecond. */
const BYTES_PER_MS = 8;

/** One reply of the model being played: its audio's fate and its transcript. */
interface OutItem {
  id: string;
  responseId: string;
  handle: SpeechHandle;
  /** The line to say word for word (engine and supervisor lines): it, not the model's transcript, is what was said. */
  line?: string;
  transcript: string;
  /** Audio received from the model (its transcript so far goes with it). */
  bytes: number;
  /**
   * Audio handed to the carrier, and audio the carrier played: frame by frame as their plays settle, or, where
   * the channel `send`s, all of it once the reply's end mark comes back (less what a cut dropped).
   */
  sentBytes: number;
  heardBytes: number;
  /** Frames handed to the carrier whose play has not settled (or the reply's end mark, with `send`). */
  pending: number;
  /** The response is over (no more audio or transcript comes). */
  complete: boolean;
  /** Every byte of it has left the pacer (its end mark was reached). */
  allSent: boolean;
  /** Cut off: the rest is dropped. */
  cut: boolean;
  done: boolean;
}

/** A `response.create` Switchboard wants: to answer a note, or to say a line (with its handle). */
interface ResponseRequest {
  instructions?: string;
  speech?: { handle: SpeechHandle; line: string };
  /** An answer to the callee's speech (its latency figures are reported). */
  turn?: boolean;
  /** The callee interrupted before the response began: it is cancelled as soon as it is created. */
  cut?: boolean;
}

/** One utterance of the callee as the server's VAD saw it (an input audio item), until its transcript. */
interface Utterance {
  itemId: string;
  /** Spoken while the agent's audio was playing or held (`hasFloor`). */
  overAgent: boolean;
  /** Its sound ended (`speech_stopped`). */
  stopped: boolean;
  /** A response to it was asked. */
  answered: boolean;
  /** It interrupted the agent. */
  interrupted: boolean;
  /** Its transcript so far (`…input_audio_transcription.delta`). */
  text: string;
}

/** A function call of a response, waiting for the response to end. */
interface FunctionCall {
  callId: string;
  name: string;
  arguments: string;
}

/**
 * Utterances kept waiting for their transcript. The server sends one (or a failure) for each, so only a
 * misbehaving server reaches this; the oldest is then forgotten (its words, if they come, are a plain line).
 */
const MAX_UTTERANCES = 32;

/** Error codes of the server that only say a cancel or a truncate came too late: nothing to do. */
const HARMLESS = new Set(['response_cancel_not_active']);

/** The output of a function call dropped because the callee spoke over the speech before it, or the call ended. */
const INTERRUPTED: ActionResult = { ok: false, error: 'interrupted', message: 'not carried out: the callee spoke over it' };
const ENDED: ActionResult = { ok: false, error: 'interrupted', message: 'not carried out: the call has ended' };

export class RealtimeActivity implements Activity {
  private readonly conv = new Conversation((e) => this.o.emit(e));
  private rt: RealtimeConnection | undefined;
  private readonly items = new Map<string, OutItem>();
  /** The response being generated (between `response.created` and `response.done`). */
  private active: { id: string; speech?: ResponseRequest['speech']; calls: FunctionCall[]; cut: boolean; figures?: Figures } | undefined;
  /** A `response.create` was sent and its `response.created` has not come yet. */
  private asked: ResponseRequest | undefined;
  private readonly wanted: ResponseRequest[] = [];
  /** Function calls being carried out, one response's at a time. */
  private acting: Promise<void> = Promise.resolve();
  private actingCount = 0;
  private speechIds = 0;
  private gone = false;
  private closed = false;
  /** The callee has spoken (an opening greeting is no longer needed). */
  private heardCallee = false;
  private greetTimer: NodeJS.Timeout | undefined;
  /** When the callee's last utterance ended (performance.now()), for the next reply's figures. */
  private stoppedAt: number | undefined;
  private instructions = '';
  private waiters: Array<() => void> = [];
  /** Events to send once the connection is open (notes, lines); audio before it is not kept. Bounded by what a call asks before it opens. */
  private early: RealtimeClientEvent[] | undefined = [];
  private failing = false;
  /** A transfer is handing the callee over: no reply is asked for or played (see `quiet`). */
  private holding = false;
  /**
   * Responses whose speech the callee cut (or the engine cancelled) while their function calls may still
   * run: those calls are dropped. Kept only for a response being generated or whose calls are running.
   */
  private readonly cutResponses = new Set<string>();
  private readonly callsOf = new Set<string>();
  /** The agent's audio on its way to the carrier, 20 ms a frame: held on a possible interruption. */
  private readonly out: PacedOutput;
  /** The reply whose frames the pacer is sending (set by a mark before its first byte). */
  private sending: OutItem | undefined;
  /** The callee's sound, frame by frame, for the interruption rule's durations (the server's VAD events come late). */
  private readonly vad = new EnergyVad();
  private readonly detector: InterruptionDetector;
  /** The callee's utterances whose transcript has not come yet, by input item id. */
  private readonly utterances = new Map<string, Utterance>();
  /** The latest utterance, and the one whose transcript is being read. */
  private current: Utterance | undefined;
  private deciding: Utterance | undefined;

  /**
   * The line as the controller sees it (keys, hang-up). `playClause` speaks through the model, like
   * `speak`; the callee's side is heard by the activity itself, so `onInput` has nothing to deliver.
   */
  readonly line: AgentIO;

  constructor(private readonly o: RealtimeActivityOptions) {
    const channel = o.channel;
    this.out = (o.pacer ?? Pacer.shared()).output((frame) => this.sendFrame(frame), channel.outboundFrameMs, channel.outboundLeadMs);
    this.detector = new InterruptionDetector(o.turnTaking ?? DEFAULT_TURN_TAKING, {
      agentSpeaking: () => this.hasFloor(),
      pause: () => this.out.pause(),
      resume: () => this.out.resume(),
      interrupt: () => this.calleeInterrupts(),
      ended: () => undefined, // the server's speech_stopped says when the callee's sound ended
    });
    this.line = {
      capabilities: { interimTranscripts: false, earlyFirstClause: false },
      onInput: () => undefined,
      playClause: (text, signal) => this.playLine(text, signal),
      sendDigits: (digits) => channel.sendDigits(digits),
      hangup: () => channel.hangup(),
      ...(channel.transfer ? { transfer: (to, opts) => channel.transfer!(to, { ...opts, quiet: () => this.quiet() }) } : {}),
    };
  }

  /**
   * A transfer is about to redirect the callee's leg: the reply being heard may end (at most QUIET_MS), then
   * whatever still plays or is being generated is cut where it was heard (the model is told, the transcript
   * keeps the heard part), and no reply is asked for or played meanwhile. Resolves with the undo, for a
   * hand-over that failed.
   */
  private async quiet(): Promise<() => void> {
    this.holding = true;
    clearTimeout(this.greetTimer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.until(() => !this.speaking()), new Promise<void>((r) => (timer = setTimeout(r, QUIET_MS)))]);
    clearTimeout(timer);
    this.cutNow();
    return () => {
      this.holding = false;
      this.sendWanted();
    };
  }

  get agentState(): AgentState {
    return this.conv.agent;
  }

  get userState(): UserState {
    return this.conv.user;
  }

  get history(): readonly Turn[] {
    return this.conv.history;
  }

  start(answeredBy: 'human' | 'machine' | 'unknown'): void {
    this.conv.setAgent('listening');
    const rt = (this.rt = this.o.connect());
    rt.onEvent((e) => this.onServerEvent(e));
    rt.onClose(({ error }) => {
      if (error && !this.closed) this.failed(error);
    });
    this.o.channel.onInput((input) => {
      if (this.closed) return;
      if (input.type === 'hangup') {
        this.gone = true;
        this.conv.setUser('away');
        return;
      }
      this.o.emit(ev.dtmf(input.digits));
      this.push({ type: 'dtmf', digits: input.digits });
    });
    background(this.o.log, 'realtime audio failed', this.run(rt, answeredBy), { callId: this.o.callId });
  }

  /** Configures the session, opens the conversation and streams the callee's audio to the model. */
  private async run(rt: RealtimeConnection, answeredBy: 'human' | 'machine' | 'unknown'): Promise<void> {
    try {
      await rt.ready;
    } catch (err) {
      this.failed(err as Error);
      return;
    }
    // The session first, then what was asked before the connection opened.
    const early = this.early ?? [];
    this.early = undefined;
    this.refreshSession();
    for (const e of early) rt.send(e);
    this.open(answeredBy);
    this.sendWanted();
    // Frames handed over as they arrive where the channel can (no promise per frame, 50 a second a call);
    // either way the audio queued while the connection opened comes first.
    const channel = this.o.channel;
    if (channel.onFrame) {
      channel.onFrame((frame) => {
        if (this.closed) return;
        try {
          this.hear(rt, frame);
        } catch (err) {
          this.o.log.error({ err, callId: this.o.callId }, 'realtime audio frame failed');
        }
      });
      return;
    }
    for await (const frame of channel.frames()) {
      if (this.closed) break;
      this.hear(rt, frame);
    }
  }

  /** One frame of the callee's: to the model, and through the detector. */
  private hear(rt: RealtimeConnection, frame: Uint8Array): void {
    this.out.nudge();
    rt.appendAudio(frame);
    // The same cheap detector as the cascaded pipeline: how long the callee's sound has lasted, in their audio.
    const change = this.vad.push(frame);
    this.detector.frame(frame.length / BYTES_PER_MS, change, this.vad.speaking);
  }

  /** How the conversation opens: as the text brain does (llm-brain.ts), in notes the model answers. */
  private open(answeredBy: 'human' | 'machine' | 'unknown'): void {
    const brief = this.o.host.brief();
    if (answeredBy === 'machine') {
      // The machine's greeting runs first; the model answers after it (server VAD), with this in mind.
      this.note('[An answering machine answered. After its greeting and the beep, leave a short message saying who you are and why you called, then end the call.]', false);
      return;
    }
    if (brief.inbound) {
      if (brief.greeting?.trim()) this.speak(brief.greeting.trim(), 'brain');
      else this.note('[You have just answered an incoming call. Greet the caller and ask how you can help.]', true);
      return;
    }
    // Calling out: the one who answers speaks first; if they stay silent, the agent greets.
    this.greetTimer = setTimeout(() => {
      if (!this.heardCallee && !this.closed && !this.active && !this.asked) {
        this.note('[The call has been answered and nobody has said anything yet. Greet them and say why you are calling.]', true);
      }
    }, this.o.greetAfterMs ?? 2500);
    this.greetTimer.unref?.();
  }

  push(input: BrainInput): void {
    if (this.closed || this.gone) return;
    switch (input.type) {
      case 'answered':
        return;
      case 'speech':
        this.note(input.text, true);
        return;
      case 'dtmf':
        this.note(`[The other side pressed the keys ${input.digits}.]`, true);
        return;
      case 'operator_answer':
        this.note(
          input.answer === null
            ? `[Your client did not answer your question "${input.question}" in time. Carry on without it.]`
            : `[Your client answered your question "${input.question}": ${input.answer}]`,
          true,
        );
        return;
      case 'notice':
        this.note(`[Note: ${input.text}]`, true);
        return;
    }
  }

  speak(text: string | AsyncIterable<string>, source: SpeechSource): SpeechHandle {
    const handle = new SpeechHandle(++this.speechIds, source);
    this.o.emit(ev.speechCreated(handle.id, source));
    const queue = async () => {
      // The model says a line in one go: a streamed line is gathered first.
      let line = '';
      if (typeof text === 'string') line = text;
      else for await (const part of text) line += part;
      line = line.trim();
      if (!line || handle.interrupted || this.closed) return this.finishUnsaid(handle);
      const request: ResponseRequest = {
        instructions: `Say exactly the following, word for word, in the language it is written in, and nothing else: ${JSON.stringify(line)}`,
        speech: { handle, line },
      };
      handle.signal.addEventListener('abort', () => this.dropRequest(request), { once: true });
      this.want(request);
    };
    background(this.o.log, 'realtime line failed', queue(), { callId: this.o.callId });
    return handle;
  }

  async giveWay(when: 'now' | 'after_clause'): Promise<void> {
    // A Realtime reply has no clause marks: "after the clause" lets the reply being said end.
    if (when === 'now') this.cutNow();
    await this.until(() => !this.speaking() && !this.active && !this.asked);
  }

  interrupt(): void {
    for (const r of this.wanted.splice(0)) if (r.speech) this.finishUnsaid(r.speech.handle);
    this.cutNow();
  }

  async settle(): Promise<void> {
    await this.until(() => this.closed || (!this.speaking() && !this.active && !this.asked && !this.wanted.length && !this.actingCount));
  }

  lineGone(): void {
    this.gone = true;
    for (const r of this.wanted.splice(0)) if (r.speech) this.finishUnsaid(r.speech.handle);
    this.conv.setUser('away');
    this.changed();
  }

  close(): void {
    if (this.closed) return;
    this.interrupt();
    this.closed = true;
    clearTimeout(this.greetTimer);
    for (const item of this.items.values()) this.finishItem(item);
    this.out.clear();
    if (this.asked?.speech) this.finishUnsaid(this.asked.speech.handle);
    this.asked = undefined;
    this.active = undefined;
    this.rt?.close();
    this.changed();
  }

  // ---- the model's events --------------------------------------------------------------------

  private onServerEvent(e: RealtimeServerEvent): void {
    if (this.closed) return;
    switch (e.type) {
      case 'input_audio_buffer.speech_started':
        return this.onSpeechStarted(e.item_id);
      case 'input_audio_buffer.speech_stopped':
        return this.onSpeechStopped(e.item_id);
      // Text fields of another type are skipped here: they are read later, by paths (a mark's echo, a cut)
      // that the connection's guard does not cover.
      case 'conversation.item.input_audio_transcription.delta':
        if (typeof e.delta === 'string') this.onTranscriptDelta(e.item_id, e.delta);
        return;
      case 'conversation.item.input_audio_transcription.completed':
        return this.onTranscript(e.item_id, typeof e.transcript === 'string' ? e.transcript : '', e.usage);
      case 'conversation.item.input_audio_transcription.failed':
        // No words will come: the utterance is decided on what is known (no words: not an interruption).
        this.o.log.warn({ callId: this.o.callId, code: e.error?.code }, 'realtime transcription failed');
        return this.onTranscript(e.item_id, '', undefined);
      case 'response.created':
        return this.onResponseCreated(e.response.id);
      case 'response.output_audio.delta':
        return this.onAudio(e.response_id, e.item_id, e.delta);
      case 'response.output_audio_transcript.delta':
        if (typeof e.delta === 'string') this.item(e.response_id, e.item_id).transcript += e.delta;
        return;
      case 'response.output_audio_transcript.done':
        if (typeof e.transcript === 'string') this.item(e.response_id, e.item_id).transcript = e.transcript;
        return;
      case 'response.function_call_arguments.done':
        // Arguments as an object (as some servers send a whole call) are read as its JSON; anything else that is
        // not text reaches the tool as such, which refuses it to the model (not JSON, not an object).
        if (this.active?.id === e.response_id && typeof e.name === 'string') {
          this.active.calls.push({ callId: String(e.call_id), name: e.name, arguments: typeof e.arguments === 'string' ? e.arguments : JSON.stringify(e.arguments ?? null) });
        }
        return;
      case 'response.done':
        return this.onResponseDone(e.response);
      case 'error':
        return this.onError(e.error);
      default:
        return;
    }
  }

  /**
   * The server hears the callee start to speak. Nothing is cut yet: whether it interrupts the agent is the
   * interruption rule's call (`calleeInterrupts`), on the sound's length and the transcript's words.
   */
  private onSpeechStarted(itemId: string): void {
    this.heardCallee = true;
    clearTimeout(this.greetTimer);
    this.conv.setUser('speaking');
    const u: Utterance = { itemId, overAgent: this.hasFloor(), stopped: false, answered: false, interrupted: false, text: '' };
    this.utterances.set(itemId, u);
    if (this.utterances.size > MAX_UTTERANCES) this.utterances.delete(this.utterances.keys().next().value!);
    this.current = u;
    this.detector.sttSpeechStarted();
    // Realtime transcribes an utterance once it is over: its words come late, and decide then.
    this.detector.awaitWords();
  }

  /**
   * The callee's utterance ended (server VAD). Speech while the agent was silent, or speech that already
   * interrupted it, is answered at once; speech over the agent waits for its transcript (a cough or an
   * "mm-hm" gets no reply).
   */
  private onSpeechStopped(itemId: string): void {
    this.stoppedAt = performance.now();
    this.conv.setUser('listening');
    const u = this.utterances.get(itemId);
    if (!u || this.gone) return;
    u.stopped = true;
    u.overAgent ||= this.hasFloor();
    if (u.overAgent && !u.interrupted) return; // its transcript decides
    this.dropUnheardAnswer();
    this.answer(u);
  }

  private onTranscriptDelta(itemId: string, delta: string): void {
    const u = this.utterances.get(itemId);
    if (!u) return;
    u.text += delta;
    this.deciding = u;
    this.detector.words(interruptingWords(u.text));
    this.deciding = undefined;
  }

  private onTranscript(itemId: string, text: string, usage: Extract<RealtimeServerEvent, { type: 'conversation.item.input_audio_transcription.completed' }>['usage']): void {
    if (usage?.type === 'duration') this.o.usage?.add({ sttSeconds: usage.seconds });
    else if (usage?.type === 'tokens') this.o.usage?.add({ llmInputTokens: usage.input_tokens ?? 0, llmOutputTokens: usage.output_tokens ?? 0 });
    const said = text.trim();
    const u = this.utterances.get(itemId);
    this.utterances.delete(itemId);
    if (this.current === u) this.current = undefined;
    if (u) {
      this.deciding = u;
      this.detector.words(interruptingWords(said)); // may interrupt now (long enough, and words)
      this.detector.endOfTurn(); // not an interruption: held audio resumes
      this.deciding = undefined;
      if (u.overAgent && !u.interrupted && !u.answered) {
        // A cough, a door, an "mm-hm" over the agent: not a turn (not in the call's transcript, no reply).
        // The model keeps the input item, as it heard it; the agent talks on.
        return;
      }
      if (!u.answered) this.answer(u);
    }
    this.o.emit(ev.transcribed(said, true));
    if (!said) return;
    this.heardCallee = true;
    this.conv.addItem('callee', said);
  }

  /** Asks the model to answer the callee's utterance (once). */
  private answer(u: Utterance): void {
    if (u.answered || this.gone || this.closed) return;
    u.answered = true;
    this.want({ turn: true });
  }

  /**
   * The interruption rule decided that the callee takes the turn. Over the agent, that is a barge-in: the
   * reply being generated is cancelled and the audio cleared in this call stack (no frame leaves after it).
   */
  private calleeInterrupts(): void {
    const u = this.deciding ?? this.current;
    // Speech while the agent is silent (or already answered): a turn, nothing to cut. The floor may have
    // ended while the sound was held (an empty reply): whatever the output holds goes on.
    if (!u || u.answered || u.interrupted || (!u.overAgent && !this.hasFloor())) {
      this.out.resume();
      return;
    }
    u.overAgent = true;
    u.interrupted = true;
    if (this.asked && !this.asked.speech) this.asked.cut = true;
    this.cutNow();
    // Its sound already ended: it is answered now (else when it ends).
    if (u.stopped) this.answer(u);
  }

  private onResponseCreated(id: string): void {
    const request = this.asked;
    this.asked = undefined;
    const figures = this.stoppedAt !== undefined && request?.turn ? { heardAt: this.stoppedAt, startedAt: performance.now() } : undefined;
    if (request?.turn) this.stoppedAt = undefined;
    this.active = { id, speech: request?.speech, calls: [], cut: false, figures };
    // A line cut before its response began is not said at all; nor is an answer the callee spoke over, nor
    // any reply while the call is handed over.
    if (request?.speech?.handle.interrupted || request?.cut || this.holding) this.cancelActive();
    this.conv.setAgent('thinking');
  }

  private onAudio(responseId: string, itemId: string, delta: string): void {
    const item = this.item(responseId, itemId);
    if (item.cut || this.gone) return; // late audio of a reply that was cut
    const audio = Buffer.from(delta, 'base64');
    if (!audio.length) return;
    const f = this.active?.id === responseId ? this.active.figures : undefined;
    if (f && f.firstAudio === undefined) f.firstAudio = performance.now();
    // Frames never span a mark: from this mark on, the frames sent are this reply's.
    if (item.bytes === 0) this.out.enqueueMark(() => (this.sending = item));
    item.bytes += audio.length;
    this.conv.setAgent('speaking');
    this.out.enqueue(audio);
  }

  /**
   * The pacer's sink: one frame of the reply being sent, to the carrier. Where the channel can `send`, no
   * report comes per frame (a promise and a mark each way, 50 a second a call): the reply's end mark says it
   * was all heard (`allSent`), and a cut counts what the channel dropped (`cutAudio`).
   */
  private sendFrame(frame: Uint8Array): void {
    const item = this.sending;
    if (!item || item.cut) return;
    item.sentBytes += frame.length;
    if (this.o.channel.send) return this.o.channel.send(frame);
    item.pending++;
    this.o.channel.play(frame).then(
      (r) => {
        if (r.played) item.heardBytes += frame.length;
        item.pending--;
        this.maybeFinish(item);
      },
      (err: unknown) => {
        this.o.log.warn({ err, callId: this.o.callId }, 'realtime audio not played');
        item.pending--;
        this.maybeFinish(item);
      },
    );
  }

  /** A reply sent without a report per frame (`sendFrame`): its end is heard once the channel echoes a mark after it. */
  private awaitHeard(item: OutItem): void {
    item.pending++;
    this.o.channel.mark(`reply-${item.id}`).then(
      (r) => {
        if (r.played) item.heardBytes = item.sentBytes;
        item.pending--;
        this.maybeFinish(item);
      },
      (err: unknown) => {
        this.o.log.warn({ err, callId: this.o.callId }, 'realtime reply mark failed');
        item.pending--;
        this.maybeFinish(item);
      },
    );
  }

  private onResponseDone(r: Extract<RealtimeServerEvent, { type: 'response.done' }>['response']): void {
    if (r.usage) this.o.usage?.add({ llmInputTokens: r.usage.input_tokens ?? 0, llmOutputTokens: r.usage.output_tokens ?? 0 });
    const active = this.active?.id === r.id ? this.active : undefined;
    if (active) this.active = undefined;
    for (const item of this.items.values()) {
      if (item.responseId !== r.id || item.complete) continue;
      item.complete = true;
      // Its last frame leaves the pacer when this mark is reached.
      this.out.enqueueMark(() => {
        item.allSent = true;
        if (this.o.channel.send) this.awaitHeard(item);
        else this.maybeFinish(item);
      });
    }
    if (active) {
      // A line whose response produced no audio (cancelled before it began) was not said.
      if (active.speech && ![...this.items.values()].some((i) => i.handle === active.speech!.handle)) this.finishUnsaid(active.speech.handle);
      if (active.figures && this.o.onTurnFigures && r.status === 'completed') {
        const f = active.figures;
        this.o.onTurnFigures({
          transcript_to_gpt_ms: f.startedAt - f.heardAt,
          gpt_first_token_ms: f.firstAudio !== undefined ? f.firstAudio - f.startedAt : null,
          first_audio_playback_ms: f.firstAudio !== undefined ? f.firstAudio - f.heardAt : null,
        });
      }
      if (active.calls.length && (active.cut || r.status === 'cancelled')) this.cutResponses.add(r.id);
      else if (!active.calls.length) this.cutResponses.delete(r.id);
      if (active.calls.length) this.runCalls(r.id, active.calls);
    }
    if (!this.speaking()) this.conv.setAgent('listening');
    this.sendWanted();
    this.changed();
  }

  private onError(error: Extract<RealtimeServerEvent, { type: 'error' }>['error']): void {
    if (error.code && HARMLESS.has(error.code)) return;
    if (error.code === 'conversation_already_has_active_response' && this.asked) {
      // The server began a reply of its own (the callee spoke) as ours was asked: ours goes after it.
      this.wanted.unshift(this.asked);
      this.asked = undefined;
      this.changed();
      return;
    }
    // The provider's message may quote what was said: it stays in the session's events, not the log.
    this.o.log.warn({ callId: this.o.callId, code: error.code, param: error.param }, 'realtime model reported an error');
    this.o.emit(ev.error('realtime', error.message));
  }

  /** The model's connection failed: the call cannot go on without it (it ends `failed`, `llm_error`). */
  private failed(err: Error): void {
    if (this.closed || this.failing) return;
    this.failing = true;
    this.o.log.error({ err, callId: this.o.callId }, 'realtime model connection failed');
    this.o.emit(ev.error('realtime', err));
    const end = { type: 'end' as const, goalCompleted: false, reason: 'llm_error' };
    background(this.o.log, 'ending the call failed', this.o.host.act(end, new AbortController().signal), { callId: this.o.callId });
  }

  // ---- the agent's speech ----------------------------------------------------------------------

  private item(responseId: string, itemId: string): OutItem {
    let item = this.items.get(itemId);
    if (item) return item;
    const active = this.active?.id === responseId ? this.active : undefined;
    const speech = active?.speech;
    const handle = speech?.handle ?? new SpeechHandle(++this.speechIds, 'brain');
    if (!speech) this.o.emit(ev.speechCreated(handle.id, 'brain'));
    item = { id: itemId, responseId, handle, line: speech?.line, transcript: '', bytes: 0, sentBytes: 0, heardBytes: 0, pending: 0, complete: false, allSent: false, cut: !!active?.cut, done: false };
    this.items.set(itemId, item);
    return item;
  }

  /** Audio being played or still to come. */
  private speaking(): boolean {
    return [...this.items.values()].some((i) => !i.done);
  }

  /**
   * The agent has the floor: its audio is playing, held, or on its way (a reply whose audio began). As in the
   * cascaded pipeline, a reply still being thought about does not count: speech then is a turn.
   */
  private hasFloor(): boolean {
    return [...this.items.values()].some((i) => !i.done && !i.cut);
  }

  /**
   * The callee went on speaking while the answer to what they said before was being prepared: that answer,
   * not yet heard at all, is dropped (the server's `interrupt_response` did the same), and a new one is asked.
   */
  private dropUnheardAnswer(): void {
    if (this.asked && !this.asked.speech) this.asked.cut = true;
    const a = this.active;
    if (a && !a.speech && !a.cut && ![...this.items.values()].some((i) => i.responseId === a.id)) this.cancelActive();
  }

  /**
   * Barge-in on the audio: the pacer and the channel drop what was not yet heard, at once, and the model is
   * told where its reply was cut, so that its idea of the conversation is what the callee heard.
   */
  private cutAudio(): void {
    // The pacer is emptied (and unpaused) even with no reply playing: it may hold a reply's first frames.
    this.out.clear();
    const playing = [...this.items.values()].filter((i) => !i.done && !i.cut);
    if (!playing.length) return;
    const droppedMs = this.o.channel.clear();
    // Sent with no report per frame: what the channel dropped was the end of what it was sent, the latest
    // reply's first (replies are sent one after another, in the order they were created).
    if (this.o.channel.send) {
      let dropped = droppedMs * BYTES_PER_MS;
      for (const item of [...playing].reverse()) {
        const unheard = Math.min(dropped, item.sentBytes);
        dropped -= unheard;
        item.heardBytes = Math.max(item.heardBytes, item.sentBytes - unheard);
      }
    }
    for (const item of playing) {
      item.cut = true;
      if (this.active?.id === item.responseId || this.callsOf.has(item.responseId)) this.cutResponses.add(item.responseId);
      item.handle.interrupt();
      if (item.heardBytes < item.bytes || !item.complete) {
        this.send({ type: 'conversation.item.truncate', item_id: item.id, content_index: 0, audio_end_ms: Math.floor(item.heardBytes / BYTES_PER_MS) });
      }
      this.maybeFinish(item);
    }
  }

  /** The engine cuts the agent off (a supervisor's line, a timer, the end of the call). */
  private cutNow(): void {
    this.cancelActive();
    this.cutAudio();
    clearTimeout(this.greetTimer);
  }

  private cancelActive(): void {
    if (!this.active || this.active.cut) return;
    this.active.cut = true;
    this.cutResponses.add(this.active.id);
    this.send({ type: 'response.cancel' });
  }

  private maybeFinish(item: OutItem): void {
    if (item.done || item.pending > 0 || !((item.complete && item.allSent) || item.cut)) return;
    this.finishItem(item);
  }

  /** A reply is over: what was heard of it enters the conversation, and its handle says so. */
  private finishItem(item: OutItem): void {
    if (item.done) return;
    item.done = true;
    this.items.delete(item.id);
    const said = item.line ?? item.transcript.trim();
    const whole = !item.cut && item.heardBytes >= item.bytes;
    const heard = whole ? said : cutToHeard(said, item.heardBytes, item.bytes);
    if (heard) {
      item.handle.addHeard(heard);
      this.conv.addItem('agent', heard, item.handle.source);
    }
    const r = item.handle.finish(!whole);
    this.o.emit(ev.speechDone(item.handle.id, r.heard, r.interrupted));
    if (!this.speaking() && this.conv.agent === 'speaking') this.conv.setAgent(this.active ? 'thinking' : 'listening');
    this.changed();
  }

  private finishUnsaid(handle: SpeechHandle): void {
    if (handle.done) return;
    const r = handle.finish(true);
    this.o.emit(ev.speechDone(handle.id, r.heard, r.interrupted));
    this.changed();
  }

  /** Speaks one clause for the controller's line (`AgentIO.playClause`). */
  private async playLine(text: string, signal: AbortSignal): Promise<PlayoutResult> {
    const handle = this.speak(text, 'engine');
    signal.addEventListener('abort', () => handle.interrupt(), { once: true });
    const r = await handle.waitForPlayout();
    return r.interrupted ? { done: false, heard: r.heard } : { done: true };
  }

  // ---- responses Switchboard asks for ------------------------------------------------------------

  /** Tells the model something (as a user-side note) and, with `answer`, asks it to respond. */
  private note(text: string, answer: boolean): void {
    this.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    if (answer) this.want({});
  }

  private want(request: ResponseRequest): void {
    if (this.closed || this.gone) {
      if (request.speech) this.finishUnsaid(request.speech.handle);
      return;
    }
    // One waiting "answer" covers every note before it: the queue holds at most one, plus the lines to say.
    const waiting = !request.speech && !request.instructions && this.wanted.find((r) => !r.speech && !r.instructions);
    if (waiting) {
      waiting.turn ||= request.turn;
      return;
    }
    this.wanted.push(request);
    this.sendWanted();
  }

  /** One response at a time (the server refuses a second): the next wanted one goes once none is active. */
  private sendWanted(): void {
    if (this.active || this.asked || this.closed || this.holding || !this.rt?.isOpen) return;
    const next = this.wanted.shift();
    if (!next) return;
    this.refreshSession();
    this.asked = next;
    this.rt.send({ type: 'response.create', ...(next.instructions ? { response: { instructions: next.instructions, ...(next.speech ? { tool_choice: 'none' as const } : {}) } } : {}) });
  }

  private dropRequest(request: ResponseRequest): void {
    const i = this.wanted.indexOf(request);
    if (i >= 0) this.wanted.splice(i, 1);
    if (request.speech && this.active?.speech === request.speech) this.cutNow();
    if (request.speech && i >= 0) this.finishUnsaid(request.speech.handle);
  }

  /**
   * Sends the session again when the brief changed (a PATCH of the task, a language switch): the model's
   * instructions and tools are always those of the brief as it is now.
   */
  private refreshSession(): void {
    const session = this.o.session(this.o.host.brief());
    const key = JSON.stringify([session.instructions, session.tools, session.audio?.input?.transcription]);
    if (key === this.instructions) return;
    const first = !this.instructions;
    this.instructions = key;
    // After the first update only what a brief changes is sent (voice and formats stay as they were).
    this.send({ type: 'session.update', session: first ? session : { type: 'realtime', instructions: session.instructions, tools: session.tools, audio: { input: { transcription: session.audio?.input?.transcription } } } });
  }

  // ---- the model's function calls --------------------------------------------------------------

  /** Carries out a response's function calls in order; their outputs go back, then the model goes on. */
  private runCalls(responseId: string, calls: FunctionCall[]): void {
    this.actingCount++;
    this.callsOf.add(responseId);
    const run = async () => {
      let answer = false;
      for (const call of calls) {
        const out = await this.runCall(call, responseId);
        answer ||= out.answer;
        this.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.callId, output: JSON.stringify(out.output) } });
      }
      const cut = this.cutResponses.delete(responseId);
      this.callsOf.delete(responseId);
      if (answer && !cut && !this.o.host.closing && !this.gone) this.want({});
    };
    this.acting = this.acting.then(run).catch((err: unknown) => {
      this.o.log.error({ err, callId: this.o.callId }, 'realtime function call failed');
      this.o.emit(ev.error('turn', err));
    }).finally(() => {
      this.actingCount--;
      this.changed();
    });
  }

  private async runCall(call: FunctionCall, responseId: string): Promise<{ output: unknown; answer: boolean }> {
    const mapped = toolCallToAction({ name: call.name, arguments: call.arguments }, this.o.host.brief());
    if (!mapped.ok) return { output: { ok: false, error: mapped.error }, answer: true };
    const action = mapped.action;
    if (action.type === 'say') return { output: { ok: false, error: 'speak instead' }, answer: true };
    // The speech before an action is heard first: a goodbye before the hang-up, a sentence before the keys.
    await this.until(() => !this.speaking());
    // As in the agent activity: speech cut by the callee drops the rest of its turn; once the line is gone,
    // only a verdict (`end`) still counts.
    const gone = this.gone || this.closed || this.o.host.closing;
    if (gone && action.type !== 'end') return { output: ENDED, answer: false };
    if (!gone && this.cutResponses.has(responseId)) return { output: INTERRUPTED, answer: false };
    const signal = new AbortController().signal;
    const result = await this.o.host.act(action, signal);
    this.o.emit(ev.action(action, result));
    const { playout: _playout, ...shown } = result as ActionResult & { playout?: unknown };
    // A silent wait asks for no reply; every other outcome is something the model answers.
    return { output: shown, answer: action.type !== 'wait' };
  }

  /** Sends to the model; before the connection is open, notes and truncations wait for it. */
  private send(e: RealtimeClientEvent): void {
    if (this.early && e.type !== 'response.create' && e.type !== 'response.cancel') this.early.push(e);
    else this.rt?.send(e);
  }

  // ---- states and the conversation ---------------------------------------------------------------


  /** Resolves once `done()` holds (checked whenever the activity's state changes). */
  private async until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((r) => this.waiters.push(r));
  }

  private changed(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** The timings of one reply to the callee's speech (performance.now() ms). */
interface Figures {
  heardAt: number;
  startedAt: number;
  firstAudio?: number;
}
