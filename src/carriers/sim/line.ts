/**
 * The two ends of one simulated call. The agent's end is a text-mode `VoiceChannel`; the party's end
 * (`PartyEnd`) lets a scripted party speak, listen and hang up. Speech takes clock time at the line's pace
 * (words per second), so a call watched at real speed reads like a real one, and a `VirtualClock` runs it
 * at once. What each side hears arrives when the other side has finished speaking (or the part said
 * before being cut off).
 */
import type { CalleeInput, CarrierUsage, SayResult, VoiceChannel } from '../carrier.js';
import type { Clock } from '../../lib/clock.js';
import { background } from '../../lib/background.js';
import { fallbackLogger, type Logger } from '../../lib/logger.js';

/** What a party does with what reaches it. Implemented by the parties in ./parties/. */
export interface Party {
  /** The call was answered: the party starts (greets, plays its welcome, …). */
  start(): void;
  /** The agent finished saying `text` (or was cut off after it). */
  hear(text: string): void;
  /** The agent pressed keypad digits. */
  digits(digits: string): void;
}

export interface SpeakOptions {
  /** Speak even while the agent is talking, cutting the agent off (IVR prompts, hold messages, beeps). */
  overAgent?: boolean;
  /** Stops the utterance early (an IVR prompt cut by a key press). */
  cut?: AbortSignal;
}

/** The party's side of the line. */
export interface PartyEnd {
  readonly clock: Clock;
  /** Aborted when the call has ended. */
  readonly signal: AbortSignal;
  /** Says `text`; resolves true when said in full. Utterances of one party never overlap. */
  speak(text: string, opts?: SpeakOptions): Promise<boolean>;
  /** Sleeps on the line's clock; resolves false (never rejects) when the call ended or `signal` aborted. */
  pause(ms: number, signal?: AbortSignal): Promise<boolean>;
  agentSpeaking(): boolean;
  hangup(): void;
  /**
   * Runs a step of the party nobody awaits (its script, a delayed reply). A failure is a bug in the party:
   * it is logged (`step` names it) and the party hangs up, so the call still ends.
   */
  run(step: string, work: () => Promise<unknown>): void;
}

export type LineLog = Array<{ who: 'agent' | 'party'; text: string }>;

/**
 * What was heard on the line and when, for its recording: speech (as far as it was said before being cut
 * off) and keypad keys, each at `at` ms after the line opened, lasting `ms`.
 */
export type LineSound =
  | { kind: 'speech'; who: 'agent' | 'party'; text: string; at: number; ms: number }
  | { kind: 'key'; who: 'agent'; key: string; at: number; ms: number };

function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** The agent's speech currently on the line. */
interface AgentSpeech {
  start: number;
  words: string[];
  stop: AbortController;
}

export class Line implements PartyEnd {
  readonly channel: VoiceChannel;
  readonly log: LineLog = [];
  /** Every sound on the line, timed (the simulated network's recording is made from it). */
  readonly sounds: LineSound[] = [];
  /** When the line opened (the call was answered), on the line's clock. */
  readonly openedAt: number;
  party: Party | undefined;
  private readonly ended = new AbortController();
  private listener: ((input: CalleeInput) => void) | undefined;
  private queued: CalleeInput[] = [];
  private agent: AgentSpeech | undefined;
  private agentQuiet: Array<() => void> = [];
  private partyChain: Promise<unknown> = Promise.resolve();
  private sayChain: Promise<unknown> = Promise.resolve();
  /** Characters of the agent's speech the network synthesised (cut-off speech included: it was made). */
  private synthesised = 0;

  constructor(
    readonly clock: Clock,
    readonly wordsPerSecond: number,
    /** Called once when the call ends: the party hung up, the agent did, or the agent transferred the call. */
    private readonly onEnd: (how: 'party' | 'agent' | 'transfer') => void,
    /** Whether a number exists on the network (a transfer target must). */
    private readonly reachable: (to: string) => boolean = () => true,
    private readonly logger: Pick<Logger, 'error'> = fallbackLogger(),
  ) {
    this.openedAt = clock.now();
    this.channel = {
      say: (text, signal) => this.agentSay(text, signal),
      sendDigits: (d) => this.agentDigits(d),
      hangup: async () => this.end('agent'),
      transfer: (to, opts) => this.agentTransfer(to, opts),
      onInput: (l) => {
        this.listener = l;
        const q = this.queued;
        this.queued = [];
        for (const i of q) l(i);
      },
    };
  }

  run(step: string, work: () => Promise<unknown>): void {
    background(
      this.logger,
      'simulated party failed',
      async () => {
        try {
          await work();
        } catch (err) {
          this.hangup();
          throw err;
        }
      },
      { step },
    );
  }

  get signal(): AbortSignal {
    return this.ended.signal;
  }

  get isEnded(): boolean {
    return this.ended.signal.aborted;
  }

  /**
   * What the simulated network used, as a carrier that does the speech reports it (like ConversationRelay):
   * the connected time, its recognition listening all that time, and the characters it synthesised.
   */
  usage(): CarrierUsage {
    const seconds = this.openMs / 1000;
    return { connectedSeconds: seconds, sttSeconds: seconds, ttsCharacters: this.synthesised };
  }

  /** Clock milliseconds needed to say `n` words. */
  durationOf(n: number): number {
    return Math.round((n / this.wordsPerSecond) * 1000);
  }

  // ---- the party's end -----------------------------------------------------------------------

  speak(text: string, opts: SpeakOptions = {}): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      if (this.isEnded || opts.cut?.aborted) return false;
      // A person waits for the agent to finish; a machine talks regardless.
      if (!opts.overAgent) while (this.agent) await new Promise<void>((r) => this.agentQuiet.push(r));
      if (this.isEnded || opts.cut?.aborted) return false;
      if (this.agent) {
        this.agent.stop.abort();
        this.deliver({ type: 'speech_started' });
      }
      const w = words(text);
      const start = this.clock.now();
      const stop = opts.cut ? AbortSignal.any([this.signal, opts.cut]) : this.signal;
      const full = await this.pause(this.durationOf(w.length), stop);
      const said = full ? text : w.slice(0, this.wordsBy(start)).join(' ');
      if (said) this.sounds.push({ kind: 'speech', who: 'party', text: said, at: start - this.openedAt, ms: this.clock.now() - start });
      if (said && !this.isEnded) {
        this.log.push({ who: 'party', text: said });
        this.deliver({ type: 'speech', text: said });
      }
      return full && !this.isEnded;
    };
    const p = this.partyChain.then(run, run);
    this.partyChain = p.catch(() => {});
    return p;
  }

  async pause(ms: number, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.clock.sleep(ms, signal ? AbortSignal.any([this.signal, signal]) : this.signal);
      return true;
    } catch {
      return false;
    }
  }

  agentSpeaking(): boolean {
    return this.agent !== undefined;
  }

  hangup(): void {
    this.end('party');
  }

  // ---- the agent's end -----------------------------------------------------------------------

  private agentSay(text: string, signal?: AbortSignal): Promise<SayResult> {
    const run = async (): Promise<SayResult> => {
      if (this.isEnded || signal?.aborted) return { done: false, heard: '' };
      this.synthesised += text.length;
      const w = words(text);
      const speech: AgentSpeech = { start: this.clock.now(), words: w, stop: new AbortController() };
      this.agent = speech;
      const stops = [this.signal, speech.stop.signal, ...(signal ? [signal] : [])];
      const full = await this.pause(this.durationOf(w.length), AbortSignal.any(stops));
      this.agent = undefined;
      const heard = full ? text : w.slice(0, this.wordsBy(speech.start)).join(' ');
      if (heard) this.sounds.push({ kind: 'speech', who: 'agent', text: heard, at: speech.start - this.openedAt, ms: this.clock.now() - speech.start });
      if (heard && !this.isEnded) {
        this.log.push({ who: 'agent', text: heard });
        this.party?.hear(heard);
      }
      for (const r of this.agentQuiet.splice(0)) r();
      return full && !this.isEnded ? { done: true } : { done: false, heard };
    };
    const p = this.sayChain.then(run, run);
    this.sayChain = p.catch(() => {});
    return p;
  }

  protected async agentDigits(digits: string): Promise<void> {
    for (const d of digits) {
      // A keypad tone lasts about a tenth of a second, with a short gap.
      const at = this.clock.now() - this.openedAt;
      if (this.isEnded || !(await this.pause(150))) return;
      this.sounds.push({ kind: 'key', who: 'agent', key: d, at, ms: 100 });
      this.log.push({ who: 'agent', text: `[pressed ${d}]` });
      this.party?.digits(d);
    }
  }

  // ---- both ----------------------------------------------------------------------------------

  private wordsBy(start: number): number {
    return Math.floor(((this.clock.now() - start) / 1000) * this.wordsPerSecond);
  }

  private deliver(input: CalleeInput): void {
    if (this.listener) this.listener(input);
    else this.queued.push(input);
  }

  /** The simulated network bridges the callee to `to`; the agent's part of the call ends. */
  private async agentTransfer(to: string, opts: { warm: boolean; briefing?: string }): Promise<void> {
    if (this.isEnded) return;
    if (!this.reachable(to)) throw new Error('transfer destination is not reachable');
    // Connecting takes a moment; a warm transfer also briefs the person who answers.
    if (!(await this.pause(opts.warm ? 4000 : 1000))) return;
    this.log.push({ who: 'agent', text: `[${opts.warm ? 'warm' : 'cold'} transfer${opts.briefing ? `: ${opts.briefing}` : ''}]` });
    this.end('transfer');
  }

  /** How long the line has been (or was) open, in clock ms. */
  get openMs(): number {
    return (this.closedAt ?? this.clock.now()) - this.openedAt;
  }

  private closedAt: number | undefined;

  protected end(how: 'party' | 'agent' | 'transfer'): void {
    if (this.isEnded) return;
    this.closedAt = this.clock.now();
    if (how === 'party') this.deliver({ type: 'hangup' });
    this.ended.abort();
    for (const r of this.agentQuiet.splice(0)) r();
    this.onEnd(how);
  }
}
