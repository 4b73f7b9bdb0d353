/**
 * The simulated phone network, the default carrier. Each number belongs to a scenario (scenarios/*.yaml):
 * a person, a phone menu with a queue, an answering machine, or a line that is busy, never answered or
 * not in service. Every wait runs on the injected clock, so `RealClock(20)` runs calls twenty times
 * faster and `VirtualClock` runs them at once.
 */
import type {
  AnswerRequest,
  Carrier,
  CarrierCallHandle,
  CarrierCapabilities,
  CarrierEndStatus,
  CarrierEvent,
  CallerIdVerificationRequest,
  CallerIdVerificationResult,
  DialRequest,
  InboundCall,
  UserOnCallHandle,
  UserOnCallRequest,
  RecordingReady,
} from '../carrier.js';
import { SimUserOnCall } from './user-on-call.js';
import { isSimRecordingRef, renderSimRecording, type SimRecordingRef } from './recording.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { maskPhone } from '../../lib/phone.js';
import { Line, type LineLog, type LineSound, type Party } from './line.js';
import { AudioLine } from './audio-line.js';
import type { Scenario } from './scenarios.js';
import { HumanParty } from './parties/human.js';
import { IvrParty } from './parties/ivr.js';
import { VoicemailParty } from './parties/voicemail.js';
import { ReplayParty } from './parties/replay.js';
import { CallerParty } from './parties/caller.js';
import type { ModelFile } from '../../speech/recognizer.js';

/** How an inbound call placed on the network went: answered by the engine (with its call id) or not. */
export type InboundOutcome = { answered: true; callId: string } | { answered: false; message?: string; log: LineLog };

export interface SimCarrierOptions {
  scenarios: Scenario[];
  clock: Clock;
  log: Logger;
  /** SIM_AUDIO: every call is carried as audio (./audio-line.ts), whatever voice mode it asks for. */
  audio?: boolean;
  /**
   * The ARPA language model the parties of audio calls hear the agent through (src/speech/language-model.ts;
   * the app builds it from these scenarios and the offline agent's phrases). Default: PocketSphinx's general model.
   */
  languageModel?: ModelFile;
}

/** Speaking pace when a scenario sets none: about 160 words a minute. */
export const DEFAULT_WORDS_PER_SECOND = 2.7;
const DEFAULT_RING_SECONDS = 4;
/** How long the network rings an unanswered line before giving up, when the caller sets no timeout. */
const NO_ANSWER_RING_SECONDS = 30;
const MAX_KEPT_LINES = 200;
/** How long the network's verification prompt takes before the code can be typed. */
const VERIFICATION_PROMPT_SECONDS = 4;

export class SimCarrier implements Carrier {
  readonly name = 'sim';
  readonly capabilities: CarrierCapabilities = {
    dtmfOut: true,
    textMode: true,
    mediaStream: true,
    knowsDestinations: true,
    transfer: true,
    inbound: true,
    callerIdVerification: true,
    userOnCall: true,
    userOnCallThreeWay: true,
    recording: true,
  };
  private recordingHandler: ((r: RecordingReady) => void) | undefined;
  private readonly byNumber = new Map<string, Scenario>();
  private readonly lines = new Map<string, Line>();
  private inboundHandler: ((call: InboundCall) => void) | undefined;

  constructor(private readonly opts: SimCarrierOptions) {
    for (const s of opts.scenarios) this.byNumber.set(s.number, s);
  }

  checkDestination(to: string): string | null {
    if (this.byNumber.get(to)?.kind === 'caller') return 'this number belongs to a simulated caller: it calls in and never answers';
    if (this.byNumber.has(to)) return null;
    return 'no party on the simulated network answers this number; run `npx switchboard scenarios` to list them';
  }

  /** The numbers on this network and who answers each (the dashboard offers them), sorted by number. */
  numbers(): Array<{ number: string; name: string; kind: string; language?: string; description?: string }> {
    return [...this.byNumber.values()]
      .map((s) => ({ number: s.number, name: s.name, kind: s.kind, language: s.language, description: s.description }))
      .sort((a, b) => a.number.localeCompare(b.number));
  }

  /**
   * Everything said on a call's line (agent and party, as heard), for tests and debugging. Kept until the
   * carrier is dropped; not part of the `Carrier` interface.
   */
  lineLog(callId: string): LineLog | undefined {
    return this.lines.get(callId)?.log;
  }

  /** What was heard on a call's line and when (its recording's script), for tests; as `lineLog`. */
  lineSounds(callId: string): LineSound[] | undefined {
    return this.lines.get(callId)?.sounds;
  }

  async dial(req: DialRequest, onEvent: (e: CarrierEvent) => void): Promise<CarrierCallHandle> {
    const { clock, log } = this.opts;
    const scenario = this.byNumber.get(req.to);
    const ringing = new AbortController();
    let ended = false;
    let line: Line | undefined;
    const emit = (e: CarrierEvent) => {
      if (ended) return;
      if (e.type === 'ended') ended = true;
      try {
        onEvent(e);
      } catch (err) {
        log.error({ err, callId: req.callId }, 'sim carrier listener failed');
      }
    };
    const finish = (status: CarrierEndStatus, reason?: string) => {
      log.info({ callId: req.callId, status, reason }, 'sim call ended');
      emit({ type: 'ended', status, ...(reason ? { reason } : {}), ...(line ? { usage: line.usage() } : {}) });
    };
    log.info({ callId: req.callId, dest: maskPhone(req.to), scenario: scenario?.name }, 'sim call dialled');

    const run = async () => {
      const rang = await this.ring(scenario, req.ringTimeoutSeconds, ringing.signal, () => emit({ type: 'ringing' }));
      if (!rang.answered) return finish(rang.status, rang.reason);
      const audio = req.voiceMode === 'audio' || this.opts.audio === true;
      line = this.answer(scenario!, req.callId, (how) => {
        if (req.record && line) this.recorded(req.callId, line, req.language);
        finish('completed', how === 'party' ? 'callee_hung_up' : how === 'transfer' ? 'transferred' : 'caller_hung_up');
      }, audio);
      const answeredBy = scenario!.kind === 'voicemail' ? 'machine' : 'human';
      emit(line instanceof AudioLine ? { type: 'answered', answeredBy, mode: 'audio', audio: line.audio } : { type: 'answered', answeredBy, channel: line.channel });
      line.party!.start();
    };
    run().catch((err: Error) => {
      if (err.name === 'AbortError') return; // canceled while ringing: already reported
      log.error({ err, callId: req.callId }, 'sim call failed');
      finish('failed', 'simulation_error');
    });

    return {
      hangup: async () => {
        if (ended) return;
        if (line) return line.channel.hangup();
        ringing.abort();
        finish('canceled');
      },
    };
  }

  /**
   * Rings `scenario`'s line as the network does: a moment to set the call up, then `onRinging` and the
   * scenario's ring time; resolves answered, or with how the line ended (busy, no answer, not in service).
   * Rejects with an AbortError when `signal` aborts (the caller gave up).
   */
  async ring(
    scenario: Scenario | undefined,
    ringTimeoutSeconds: number | undefined,
    signal: AbortSignal,
    onRinging: () => void,
  ): Promise<{ answered: true } | { answered: false; status: CarrierEndStatus; reason?: string }> {
    const { clock } = this.opts;
    // Setting up the call takes a moment on any network.
    await clock.sleep(300, signal);
    if (!scenario || scenario.kind === 'invalid' || scenario.kind === 'caller') return { answered: false, status: 'failed', reason: 'invalid_number' };
    onRinging();
    const ringSeconds = scenario.ringSeconds ?? (scenario.kind === 'no_answer' ? NO_ANSWER_RING_SECONDS : scenario.kind === 'busy' ? 1 : DEFAULT_RING_SECONDS);
    const limit = ringTimeoutSeconds ?? Infinity;
    if (scenario.kind === 'no_answer' || limit < ringSeconds) {
      await clock.sleep(Math.min(ringSeconds, limit, NO_ANSWER_RING_SECONDS * 4) * 1000, signal);
      return { answered: false, status: 'no_answer' };
    }
    await clock.sleep(ringSeconds * 1000, signal);
    if (scenario.kind === 'busy') return { answered: false, status: 'busy' };
    return { answered: true };
  }

  /** The scenario answering `number`, if any. */
  scenarioOf(number: string): Scenario | undefined {
    return this.byNumber.get(number);
  }

  /**
   * User-on-call on the simulated network (./user-on-call.ts): the target is dialled, then the user's leg
   * once the target has answered; the agent takes the target's line over on `activate`.
   */
  async startUserOnCall(req: UserOnCallRequest, onEvent: (e: CarrierEvent) => void): Promise<UserOnCallHandle> {
    return SimUserOnCall.start(this, this.opts.log, req, onEvent);
  }

  /**
   * Caller-ID verification on the simulated network: the network calls the number, says that a code is
   * needed, and the scenario decides whether the code is typed (`verification: types_code` on a `human`
   * scenario). Everything else fails: numbers in no scenario, busy or unanswered lines, answering machines,
   * and people who ignore the call. Resolves when the verification call is over, on the carrier's clock.
   */
  async verifyCallerId(req: CallerIdVerificationRequest): Promise<CallerIdVerificationResult> {
    const { clock, log } = this.opts;
    const scenario = this.byNumber.get(req.phoneNumber);
    const done = (result: CallerIdVerificationResult, reason: string) => {
      log.info({ verificationId: req.verificationId, dest: maskPhone(req.phoneNumber), result, reason }, 'sim caller-ID verification ended');
      return result;
    };
    log.info({ verificationId: req.verificationId, dest: maskPhone(req.phoneNumber), scenario: scenario?.name }, 'sim caller-ID verification call');
    req.onCode?.(req.code); // the simulated network asks for Switchboard's code
    // Setting up the call takes a moment on any network.
    await clock.sleep(300);
    if (!scenario || scenario.kind === 'invalid' || scenario.kind === 'caller') return done('failed', 'invalid_number');
    if (scenario.kind === 'busy') {
      await clock.sleep((scenario.ringSeconds ?? 1) * 1000);
      return done('failed', 'busy');
    }
    const ringSeconds = scenario.ringSeconds ?? (scenario.kind === 'no_answer' ? NO_ANSWER_RING_SECONDS : DEFAULT_RING_SECONDS);
    await clock.sleep(Math.min(ringSeconds, NO_ANSWER_RING_SECONDS) * 1000);
    if (scenario.kind !== 'human') return done('failed', scenario.kind === 'no_answer' ? 'no_answer' : 'not_a_person');
    // The network's prompt ("Please enter your verification code"), then the person types or hangs up.
    await clock.sleep(VERIFICATION_PROMPT_SECONDS * 1000);
    if (scenario.verification === 'types_code') {
      await clock.sleep(req.code.length * 500);
      return done('verified', 'code_typed');
    }
    return done('failed', 'code_not_typed');
  }

  onRecording(handler: (r: RecordingReady) => void): void {
    this.recordingHandler = handler;
  }

  /** A recorded line has ended: its recording (what was heard, timed) is handed over at once. */
  private recorded(callId: string, line: Line, language: string): void {
    const ref: SimRecordingRef = { kind: 'sim', language, wordsPerSecond: line.wordsPerSecond, durationMs: line.openMs, sounds: line.sounds };
    try {
      this.recordingHandler?.({ callId, ref });
    } catch (err) {
      this.opts.log.error({ err, callId }, 'sim recording handler failed');
    }
  }

  /** Renders a simulated call's recording offline (espeak-ng), as a WAV file. */
  async fetchRecording(ref: unknown): Promise<Buffer> {
    if (!isSimRecordingRef(ref)) throw new Error('not a simulated network recording');
    return renderSimRecording(ref);
  }

  onInbound(handler: (call: InboundCall) => void): void {
    this.inboundHandler = handler;
  }

  /**
   * A simulated person calls one of our numbers: the caller scenario numbered `from` (or named by
   * `scenario`, number or name) rings `to` (default: the scenario's `calls`). Resolves once the engine has
   * answered (with its call id; the conversation then runs on) or refused the call (with what was said).
   */
  async placeInbound(o: { from?: string; to?: string; scenario?: string }): Promise<InboundOutcome> {
    const { clock, log } = this.opts;
    const key = o.scenario ?? o.from;
    const scenario = [...this.byNumber.values()].find((s) => s.kind === 'caller' && (s.number === key || s.name === key));
    if (!scenario || scenario.kind !== 'caller') throw new Error(`no caller scenario ${key ?? '(none named)'} on the simulated network`);
    const to = o.to ?? scenario.caller.calls;
    if (!to) throw new Error(`caller scenario ${scenario.name} names no number to call; pass \`to\``);
    const from = o.from ?? scenario.number;
    const handler = this.inboundHandler;
    if (!handler) throw new Error('nothing takes inbound calls on this carrier');
    log.info({ from: maskPhone(from), to: maskPhone(to), scenario: scenario.name }, 'sim inbound call');
    // Setting up the call takes a moment on any network.
    await clock.sleep(300);
    return new Promise<InboundOutcome>((resolve) => {
      let settled = false;
      const once = () => {
        if (settled) throw new Error('inbound call already answered or rejected');
        settled = true;
      };
      handler({
        from,
        to,
        answer: async (req: AnswerRequest, onEvent) => {
          once();
          let ended = false;
          const emit = (e: CarrierEvent) => {
            if (ended) return;
            if (e.type === 'ended') ended = true;
            try {
              onEvent(e);
            } catch (err) {
              log.error({ err, callId: req.callId }, 'sim carrier listener failed');
            }
          };
          const line: Line = this.newLine(scenario, req.callId, (how) => {
            if (req.record) this.recorded(req.callId, line, req.language);
            emit({
              type: 'ended',
              status: 'completed',
              reason: how === 'party' ? 'caller_hung_up' : how === 'transfer' ? 'transferred' : 'agent_hung_up',
              usage: line.usage(),
            });
          });
          emit({ type: 'answered', answeredBy: 'human', channel: line.channel });
          line.party!.start();
          resolve({ answered: true, callId: req.callId });
          return { hangup: () => line.channel.hangup() };
        },
        reject: async (message) => {
          once();
          const line = this.newLine(scenario, `rejected:${from}:${clock.now()}`, () => {});
          if (message) await line.channel.say(message);
          await line.channel.hangup();
          log.info({ to: maskPhone(to) }, 'sim inbound call rejected');
          resolve({ answered: false, message, log: line.log });
        },
      });
    });
  }

  private newLine(scenario: Scenario, id: string, onEnd: (how: 'party' | 'agent' | 'transfer') => void): Line {
    const line = new Line(this.opts.clock, scenario.wordsPerSecond ?? DEFAULT_WORDS_PER_SECOND, onEnd, (to) => this.byNumber.has(to), this.opts.log);
    if (scenario.kind === 'caller') line.party = new CallerParty(scenario.caller, line, scenario.language);
    this.keep(id, line);
    return line;
  }

  private keep(id: string, line: Line): void {
    this.lines.set(id, line);
    // Keep only recent lines' logs so a long-running server does not grow without bound.
    if (this.lines.size > MAX_KEPT_LINES) this.lines.delete(this.lines.keys().next().value!);
  }

  /**
   * An answered line of `scenario` with its party, not started yet (the caller starts it): a text line, or
   * with `audio` an audio line (./audio-line.ts).
   */
  answer(scenario: Scenario, callId: string, onEnd: (how: 'party' | 'agent' | 'transfer') => void, audio = false): Line {
    const pace = scenario.wordsPerSecond ?? DEFAULT_WORDS_PER_SECOND;
    const line =
      audio
        ? new AudioLine(this.opts.clock, pace, scenario.language, onEnd, this.opts.log, (to) => this.byNumber.has(to), this.opts.languageModel)
        : new Line(this.opts.clock, pace, onEnd, (to) => this.byNumber.has(to), this.opts.log);
    let party: Party;
    if (scenario.kind === 'human') party = new HumanParty(scenario.person, line, scenario.language);
    else if (scenario.kind === 'ivr') party = new IvrParty(scenario.ivr, line, scenario.language);
    else if (scenario.kind === 'voicemail') party = new VoicemailParty(scenario.voicemail, line);
    else if (scenario.kind === 'replay') party = new ReplayParty(scenario.replay, line);
    else throw new Error('scenario kind cannot answer');
    line.party = party;
    this.keep(callId, line);
    return line;
  }
}
