/**
 * The agent activity: turn-taking for one call, over one `AgentIO`. User events come in (speech started,
 * transcripts, keypad digits, hang-up); the brain is run one turn at a time on what was heard; its speech
 * goes out as `SpeechHandle`s played in order, clause by clause, while the brain goes on producing; its
 * other actions go to the controller (`ActionHost`), whose result is handed back to the brain as a value.
 * Barge-in (`speech_started`) interrupts the turn and its speech; only what was heard stays in the
 * conversation. The activity reports everything as session events (./events.ts).
 */
import type { ActionResult, AgentAction, BrainInput, BrainSession, BrainContext, Turn } from './brain.js';
import { OK } from './brain.js';
import type { Activity, ActionHost } from './activity.js';
import type { AgentIO, PlayoutResult, UserInput } from './io/io.js';
import { ev, type AgentState, type SessionEvent, type SpeechSource, type UserState } from './events.js';
import { Conversation } from './conversation.js';
import { SpeechHandle } from './speech-handle.js';
import { SentenceSplitter, endsMidSentence, speakable } from '../ai/agent/sentences.js';
import { TextStream } from '../lib/text-stream.js';
import type { Logger } from '../lib/logger.js';
import type { TurnLatency } from '../metrics/index.js';

export interface AgentActivityOptions {
  callId: string;
  io: AgentIO;
  brain: BrainSession;
  host: ActionHost;
  /** Receives every event, in order. Must not throw. */
  emit: (e: SessionEvent) => void;
  /** The latency figures of a turn that answered the callee's speech. */
  onTurnFigures?: (latency: TurnLatency) => void;
  log: Logger;
}

/** The turn under way: its abort, whether it has begun to act, and its timings (performance.now() ms). */
interface TurnState {
  ctl: AbortController;
  acted: boolean;
  timing?: TurnTiming;
  /** Its latency figures were reported (once per turn: see `play`). */
  reported?: boolean;
}

/**
 * When a turn that answers speech heard it, began, got the brain's first output and handed its first
 * clause to speech; on audio calls also the speech-to-text's delay and the first clause's audio figures.
 */
interface TurnTiming {
  heardAt: number;
  startedAt: number;
  firstOutput?: number;
  firstSay?: number;
  sttMs?: number;
  audio?: NonNullable<PlayoutResult['audio']>;
}

const INTERRUPTED: ActionResult = { ok: false, error: 'interrupted', message: 'not carried out: the call has ended' };

export class AgentActivity implements Activity {
  private readonly conv = new Conversation((e) => this.o.emit(e));
  private pending: Array<{ input: BrainInput; heardAt?: number; sttMs?: number }> = [];
  private turn: TurnState | undefined;
  /** The turn loop while it runs. */
  private running: Promise<void> | undefined;
  /** Speech queued or playing, in order; `playing` settles when the last of it has. */
  private readonly speech: SpeechHandle[] = [];
  private playing: Promise<void> = Promise.resolve();
  /** What each queued speech says (so the I/O can prepare the next one while one plays). */
  private readonly texts = new Map<SpeechHandle, string | AsyncIterable<string>>();
  private speechIds = 0;
  private gone = false;
  private closed = false;
  /** Someone else's line waits: speech stops at the end of the clause being said. */
  private yieldAfterClause = false;

  constructor(private readonly o: AgentActivityOptions) {}

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
    this.o.io.onInput((input) => this.onInput(input));
    this.push({ type: 'answered', answeredBy });
  }

  push(input: BrainInput, heardAt?: number, sttMs?: number): void {
    if (this.closed) return;
    this.pending.push({ input, heardAt, sttMs });
    this.running ??= this.work();
  }

  speak(text: string | AsyncIterable<string>, source: SpeechSource, turn?: TurnState): SpeechHandle {
    const handle = new SpeechHandle(++this.speechIds, source, turn?.ctl.signal);
    this.speech.push(handle);
    this.texts.set(handle, text);
    this.o.emit(ev.speechCreated(handle.id, source));
    const play = () => this.play(handle, text, turn);
    this.playing = this.playing.then(play, play);
    return handle;
  }

  async giveWay(when: 'now' | 'after_clause'): Promise<void> {
    if (when === 'now' || !this.speech.length) this.cut();
    else this.yieldAfterClause = true;
    await this.speechIdle();
    this.yieldAfterClause = false;
  }

  /** Drops the turn under way and all speech. */
  private cut(): void {
    this.turn?.ctl.abort();
    for (const h of this.speech) h.interrupt();
  }

  interrupt(): void {
    this.pending = [];
    this.turn?.ctl.abort();
    for (const h of this.speech) h.interrupt();
  }

  async settle(): Promise<void> {
    while (this.running || this.speech.length) {
      await this.running;
      await this.playing;
    }
  }

  lineGone(): void {
    this.gone = true;
    this.pending = [];
    this.conv.setUser('away');
  }

  close(): void {
    this.closed = true;
    this.interrupt();
  }

  // ---- the user's side -------------------------------------------------------------------------

  private onInput(input: UserInput): void {
    if (this.closed) return;
    switch (input.type) {
      case 'hangup':
        this.gone = true;
        this.conv.setUser('away');
        return;
      case 'speech_started':
        // Barge-in: the callee talks over the agent; what is being said and planned is dropped.
        this.conv.setUser('speaking');
        this.turn?.ctl.abort();
        for (const h of this.speech) h.interrupt();
        return;
      case 'speech_ended':
        this.conv.setUser('listening');
        return;
      case 'dtmf':
        this.o.emit(ev.dtmf(input.digits));
        this.push({ type: 'dtmf', digits: input.digits });
        return;
      case 'transcript':
        this.o.emit(ev.transcribed(input.text, input.final));
        if (!input.final) return;
        this.conv.setUser('listening');
        this.conv.addItem('callee', input.text);
        // New words supersede a turn that is still deciding; a turn that has begun to act runs to its end
        // (talking over the agent is a barge-in, signalled by `speech_started`).
        if (this.turn && !this.turn.acted) this.turn.ctl.abort();
        this.push({ type: 'speech', text: input.text }, performance.now(), input.sttMs);
        return;
    }
  }

  // ---- turns -------------------------------------------------------------------------------------

  /** Runs queued inputs through the brain one turn at a time. */
  private async work(): Promise<void> {
    await Promise.resolve(); // `running` is set before this loop can end
    try {
      while (this.pending.length && !this.closed && !this.gone && !this.o.host.closing) {
        const { input, heardAt, sttMs } = this.pending.shift()!;
        const turn: TurnState = { ctl: new AbortController(), acted: false };
        if (heardAt !== undefined) turn.timing = { heardAt, startedAt: performance.now(), sttMs };
        this.turn = turn;
        this.conv.setAgent('thinking');
        try {
          await this.runTurn(input, turn);
        } catch (err) {
          if ((err as Error).name !== 'AbortError') {
            this.o.log.error({ err, callId: this.o.callId }, 'agent turn failed');
            this.o.emit(ev.error('turn', err));
          }
        }
        await this.speechIdle();
        this.turn = undefined;
        if (this.conv.agent === 'thinking') this.conv.setAgent('listening');
        this.figures(turn);
      }
    } finally {
      this.running = undefined;
    }
  }

  /**
   * One turn: pulls the brain's actions and hands each result back. Speech is queued and the brain goes on
   * at once (its next clause is written while this one is said); any other action first waits until the
   * speech before it was heard, so a goodbye is heard before the hang-up and a sentence before the keys.
   */
  private async runTurn(input: BrainInput, turn: TurnState): Promise<void> {
    const signal = turn.ctl.signal;
    const ctx: BrainContext = { brief: this.o.host.brief(), history: this.conv.history, signal };
    const actions = this.o.brain.next(input, ctx);
    let result: ActionResult | undefined;
    let finished = false;
    try {
      for (;;) {
        const step = await actions.next(result);
        if (step.done) {
          finished = true;
          break;
        }
        if (signal.aborted || this.closed || this.o.host.closing) break;
        const a: AgentAction = step.value;
        if (turn.timing) turn.timing.firstOutput ??= performance.now();
        turn.acted = true;
        if (this.gone && a.type !== 'end') {
          result = INTERRUPTED; // the line is gone; only the verdict counts
          continue;
        }
        if (a.type === 'say') {
          result = { ok: true, playout: this.speak(a.text, 'brain', turn).waitForPlayout() };
          continue;
        }
        if (a.type === 'wait') {
          result = OK;
          continue;
        }
        await this.speechIdle();
        if (signal.aborted) break; // the callee cut the speech before it: the rest of the turn is dropped
        result = await this.o.host.act(a, signal);
        this.o.emit(ev.action(a, result));
        // A change of language shows in the brief the brain reads for the rest of this turn too.
        if (a.type === 'switch_language') ctx.brief = this.o.host.brief();
        if (this.o.host.closing) break;
      }
    } finally {
      if (!finished) await actions.return(undefined);
    }
  }

  /** Stores the latency figures of a turn that answered speech. */
  private figures(turn: TurnState): void {
    const t = turn.timing;
    if (!t || !this.o.onTurnFigures || turn.reported) return;
    turn.reported = true;
    if (this.o.log.isLevelEnabled('debug')) this.timeline(t);
    this.o.onTurnFigures({
      transcript_to_gpt_ms: t.startedAt - t.heardAt,
      gpt_first_token_ms: t.firstOutput !== undefined ? t.firstOutput - t.startedAt : null,
      // On audio, to the first frame out: the clause handed to speech plus synthesis and pacing up to it.
      first_audio_playback_ms: t.firstSay !== undefined ? t.firstSay - t.heardAt + (t.audio?.firstFrameMs ?? 0) : null,
      ...(t.sttMs !== undefined ? { stt_final_ms: t.sttMs } : {}),
      ...(t.audio ? { tts_first_byte_ms: t.audio.ttsFirstByteMs } : {}),
    });
  }

  /**
   * LOG_LEVEL=debug: where a turn's time went, from the final transcript heard to the first audio frame
   * handed to the carrier, one line a turn (`npm run bench:voice` with BENCH_TRACE=1 reads them). `at` is the
   * transcript's arrival on the wall clock (ms since the epoch, fractional), so another process can set the
   * line beside its own clock; the rest are ms after it.
   */
  private timeline(t: TurnTiming): void {
    const since = (at: number | undefined) => (at === undefined ? null : Math.round((at - t.heardAt) * 10) / 10);
    const say = since(t.firstSay);
    this.o.log.debug({
      callId: this.o.callId,
      timeline: {
        at: performance.timeOrigin + t.heardAt,
        turnStart: since(t.startedAt),
        firstOutput: since(t.firstOutput),
        firstClause: say,
        ttsFirstByte: t.audio?.ttsFirstByteMs ?? null,
        firstFrame: say !== null && t.audio ? Math.round((say + t.audio.firstFrameMs) * 10) / 10 : null,
      },
    }, 'turn timeline');
  }

  // ---- speech ------------------------------------------------------------------------------------

  /** Resolves once everything queued so far has been heard or cut. */
  private async speechIdle(): Promise<void> {
    while (this.speech.length) await this.playing;
  }

  /** Plays one handle, clause by clause; what was heard enters the conversation. Never rejects. */
  private async play(handle: SpeechHandle, text: string | AsyncIterable<string>, turn: TurnState | undefined): Promise<void> {
    // Where the I/O takes it, a streamed reply's first clause goes before its sentence is complete.
    const firstClause = typeof text !== 'string' && this.o.io.capabilities.earlyFirstClause;
    const source = (typeof text === 'string' ? one(text) : clauses(text, handle.signal, firstClause))[Symbol.asyncIterator]();
    let firstPiece = true;
    let finished = false;
    // What was heard of a sentence said in pieces (a first clause, then the rest): the transcript gets it whole.
    let sentence = '';
    const lineHeard = () => {
      if (sentence) this.conv.addItem('agent', sentence, handle.source);
      sentence = '';
    };
    try {
      for (let step = await source.next(); !step.done; ) {
        const clause = step.value;
        if (handle.interrupted || this.closed) {
          handle.interrupt();
          break;
        }
        if (turn?.timing) turn.timing.firstSay ??= performance.now();
        this.conv.setAgent('speaking');
        const following = source.next();
        // The I/O may synthesise what comes next while this clause plays (audio: no gap at the boundary).
        if (this.o.io.prepareClause) following.then((s) => this.prepareNext(handle, s), () => undefined);
        const r = await this.o.io.playClause(clause, handle.signal);
        if (turn?.timing && r.audio) turn.timing.audio ??= r.audio;
        // The turn's figures are final once its first clause was played (an audio pipeline's once that
        // clause's audio figures are in): reported now, just before the line heard, they are stored with it
        // (CallSession: one statement for both) rather than on their own at the end of the turn.
        if (turn?.timing && (turn.timing.audio || !this.o.io.capabilities.interimTranscripts)) this.figures(turn);
        const heard = r.done ? clause : r.heard.trim();
        if (heard) {
          handle.addHeard(heard);
          sentence = sentence ? `${sentence} ${heard}` : heard;
        }
        // Only the first piece can be a clause whose sentence goes on (later ones are whole sentences or lines).
        const midSentence = firstClause && firstPiece && endsMidSentence(clause);
        firstPiece = false;
        if (!r.done || !midSentence) lineHeard();
        if (!r.done) {
          handle.interrupt();
          break;
        }
        // A line waiting for its turn lets the agent end the sentence it began (a first clause said on its own).
        if (this.yieldAfterClause && !midSentence) this.cut();
        step = await following;
        finished = !!step.done;
      }
    } catch (err) {
      this.o.log.error({ err, callId: this.o.callId }, 'speech failed');
      this.o.emit(ev.error('speech', err));
      handle.interrupt();
    } finally {
      // Cut short: the text source is let go (a streamed reply stops being read), and the reply is closed.
      if (!finished) {
        source.return?.(undefined).catch(() => undefined);
        this.o.io.endReply?.();
      }
      lineHeard();
      this.texts.delete(handle);
      const r = handle.finish(false);
      this.speech.splice(this.speech.indexOf(handle), 1);
      this.o.emit(ev.speechDone(handle.id, r.heard, r.interrupted));
      // Speech of a turn that was cut off: the rest of that turn is dropped too.
      if (r.interrupted) turn?.ctl.abort();
      if (!this.speech.length && this.conv.agent === 'speaking') this.conv.setAgent(this.turn ? 'thinking' : 'listening');
    }
  }

  /**
   * While a clause of `handle` plays: the I/O is told what will be said next, the handle's next clause, or,
   * after its last, that the reply is complete and what the next queued speech is when it is plain text.
   */
  private prepareNext(handle: SpeechHandle, next: IteratorResult<string>): void {
    if (handle.interrupted || this.closed) return;
    if (!next.done) return this.o.io.prepareClause!(next.value, handle.signal);
    this.o.io.endReply?.();
    const after = this.speech[this.speech.indexOf(handle) + 1];
    const text = after && this.texts.get(after);
    if (typeof text === 'string' && text.trim() && !after.interrupted) this.o.io.prepareClause!(text, after.signal);
  }

  // ---- states and the conversation ---------------------------------------------------------------

}

async function* one(text: string): AsyncGenerator<string> {
  if (text.trim()) yield text;
}

/**
 * Streaming text cut into speakable pieces as they complete, so the first is said while the rest is still
 * being written: sentences, and with `firstClause` (an I/O that takes it early) the reply's first clause before
 * its sentence is complete. Stops waiting for more text as soon as `signal` aborts.
 */
async function* clauses(source: AsyncIterable<string>, signal: AbortSignal, firstClause: boolean): AsyncGenerator<string> {
  const splitter = new SentenceSplitter({ firstClause });
  const it = source[Symbol.asyncIterator]();
  // One listener for the whole reply wakes the step in flight. (Racing every piece against one long-lived
  // "aborted" promise left a reaction on it per piece, all held until the reply ended.)
  let wake: ((aborted: 'aborted') => void) | undefined;
  const onAbort = () => wake?.('aborted');
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal.aborted) return;
      const step = await new Promise<IteratorResult<string> | 'aborted'>((resolve, reject) => {
        wake = resolve;
        it.next().then(resolve, reject);
      });
      wake = undefined;
      if (step === 'aborted') return;
      if (step.done) break;
      for (const s of splitter.push(step.value)) {
        const text = speakable(s);
        if (text) yield text;
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  // A reply broken off mid-clause (its model failed or stalled) ends with its last whole clause, not a fragment.
  if (source instanceof TextStream && source.isBrokenOff) return;
  for (const s of splitter.flush()) {
    const text = speakable(s);
    if (text) yield text;
  }
}
