/**
 * User-on-call on the simulated network (001 "User-on-call explained", its state model): the target is
 * dialled first; once it answers, the user's (operator's) leg is dialled, and when the user answers both
 * are in one room (`connected`). The user's number is a scenario too (a person answers after its ring time;
 * a busy or unanswered line fails the session). Before activation the room is quiet: the simulated target's
 * party waits, and nothing is heard by the agent (the network is text-mode: `listen()` yields nothing).
 * `activate` hands the target's line to the agent (`answered` with its channel; the party starts talking to
 * it); with `dropUser: false` the user stays in the room with the target and the agent, and sees it end.
 *
 * The user's leg speaks text, as the rest of the network: a user whose scenario has `asUser` lines says them
 * once the room is connected (until the takeover), and a person at the dashboard speaks as the user with
 * `userSay` while the user is in the room. Each line takes the line's speaking time and is then reported
 * through `onUserSpeech` (the call's transcript). The target's scripted party talks with the agent only: it
 * does not answer the user.
 */
import type { CarrierEndStatus, CarrierEvent, ConferenceParticipant, ConferenceStatus, ListenFrame, UserOnCallHandle, UserOnCallPhase, UserOnCallRequest } from '../carrier.js';
import type { Logger } from '../../lib/logger.js';
import { newCallSid } from '../../lib/ids.js';
import type { Line } from './line.js';
import type { Scenario } from './scenarios.js';

/** What the session needs from the simulated network. */
export interface SimNetwork {
  scenarioOf(number: string): Scenario | undefined;
  ring(
    scenario: Scenario | undefined,
    ringTimeoutSeconds: number | undefined,
    signal: AbortSignal,
    onRinging: () => void,
  ): Promise<{ answered: true } | { answered: false; status: CarrierEndStatus; reason?: string }>;
  answer(scenario: Scenario, callId: string, onEnd: (how: 'party' | 'agent' | 'transfer') => void): Line;
}

export class SimUserOnCall implements UserOnCallHandle {
  readonly room: string;
  private phase: UserOnCallPhase = 'initiated';
  private readonly user: ConferenceParticipant = { label: 'user', callSid: newCallSid(), status: 'queued' };
  private readonly target: ConferenceParticipant = { label: 'target', callSid: newCallSid(), status: 'queued' };
  private readonly ringing = new AbortController();
  private line: Line | undefined;
  private ended = false;
  /** Why the session failed after the target answered (the user could not be reached). */
  private failure: { status: CarrierEndStatus; reason: string } | undefined;

  private constructor(
    private readonly net: SimNetwork,
    private readonly log: Logger,
    private readonly req: UserOnCallRequest,
    private readonly onEvent: (e: CarrierEvent) => void,
  ) {
    this.room = `sim-${req.callId}-user`;
  }

  /** Starts dialling (the target first); resolves at once, progress follows through `onEvent`. */
  static start(net: SimNetwork, log: Logger, req: UserOnCallRequest, onEvent: (e: CarrierEvent) => void): Promise<SimUserOnCall> {
    const s = new SimUserOnCall(net, log, req, onEvent);
    s.run().catch((err: Error) => {
      if (err.name === 'AbortError') return; // hung up while ringing: already reported
      log.error({ err, callId: req.callId }, 'sim user-on-call failed');
      s.end('failed', 'simulation_error');
    });
    return Promise.resolve(s);
  }

  get userCallSid(): string {
    return this.user.callSid;
  }

  get targetCallSid(): string {
    return this.target.callSid;
  }

  conferenceStatus(): ConferenceStatus {
    return { room: this.room, phase: this.phase, participants: [{ ...this.user }, { ...this.target }], listening: 'idle' };
  }

  /** The simulated network carries text, not audio: there is nothing to listen to before activation. */
  async *listen(): AsyncIterable<ListenFrame> {}

  async activate(opts: { dropUser: boolean }): Promise<void> {
    const line = this.line;
    if (this.phase !== 'connected' || !line) throw new Error(this.phase === 'initiated' ? 'the target has not answered yet' : 'the agent has already taken over or the call is over');
    this.set('ai_takeover');
    if (opts.dropUser) this.leave(this.user, 'completed');
    // The target's line is the agent's from now on; its party starts talking to the agent.
    this.phase = 'active';
    this.emit({ type: 'answered', answeredBy: 'human', channel: line.channel });
    this.changed();
    line.party!.start();
  }

  async dropUser(): Promise<void> {
    this.leave(this.user, 'completed');
  }

  async userSay(text: string): Promise<void> {
    if (!this.say(text)) throw new UserNotInRoomError();
  }

  /** The user says `text` in the room (it takes the line's speaking time); false when the user is not in it. */
  private say(text: string): boolean {
    const line = this.line;
    if (!line || this.ended || this.user.status !== 'connected') return false;
    line.run('user line', async () => {
      const said = await line.pause(line.durationOf(text.split(/\s+/).filter(Boolean).length));
      if (said && this.user.status === 'connected') this.report(text);
    });
    return true;
  }

  /** A scripted user (`asUser` in its scenario) says its lines, one after the other, until the agent takes over. */
  private playScript(): void {
    const script = this.net.scenarioOf(this.req.user)?.asUser;
    const line = this.line;
    if (!script || !line) return;
    const gapMs = Math.round((script.gapSeconds ?? 1) * 1000);
    line.run('scripted user', async () => {
      for (const text of script.lines) {
        if (!(await line.pause(gapMs)) || this.phase !== 'connected' || this.user.status !== 'connected') return;
        const said = await line.pause(line.durationOf(text.split(/\s+/).filter(Boolean).length));
        if (!said || this.user.status !== 'connected') return;
        this.report(text);
      }
    });
  }

  private report(text: string): void {
    try {
      this.req.onUserSpeech?.(text);
    } catch (err) {
      this.log.warn({ err, callId: this.req.callId }, 'user speech listener failed');
    }
  }

  async hangup(): Promise<void> {
    if (this.ended) return;
    if (this.line) return this.line.channel.hangup();
    this.ringing.abort();
    this.leave(this.user, 'canceled');
    this.end('canceled');
  }

  private async run(): Promise<void> {
    const { net, req } = this;
    const target = await net.ring(net.scenarioOf(req.target), req.ringTimeoutSeconds, this.ringing.signal, () => {
      this.target.status = 'ringing';
      this.emit({ type: 'ringing' });
      this.changed();
    });
    if (!target.answered) {
      this.leave(this.user, 'canceled');
      return this.end(target.status, target.reason);
    }
    this.target.status = 'connected';
    this.line = net.answer(net.scenarioOf(req.target)!, req.callId, (how) => this.targetGone(how));
    this.changed();
    const user = await net.ring(net.scenarioOf(req.user), req.ringTimeoutSeconds, this.ringing.signal, () => {
      this.user.status = 'ringing';
      this.changed();
    });
    if (!user.answered) {
      // The user never joined: the session failed, and the target is not left waiting in the room.
      this.user.status = user.status;
      this.failure = { status: 'failed', reason: 'user_not_reached' };
      return this.line.channel.hangup();
    }
    this.user.status = 'connected';
    this.set('connected');
    this.log.info({ callId: req.callId, room: this.room }, 'sim user-on-call connected');
    this.playScript();
  }

  /** The target's line ended (its party hung up, the agent did or handed it over, or the session failed). */
  private targetGone(how: 'party' | 'agent' | 'transfer'): void {
    const reason = this.failure?.reason ?? (how === 'party' ? 'callee_hung_up' : how === 'transfer' ? 'transferred' : 'caller_hung_up');
    this.leave(this.user, 'completed');
    this.end(this.failure?.status ?? 'completed', reason);
  }

  private end(status: CarrierEndStatus, reason?: string): void {
    if (this.ended) return;
    if (this.target.status !== status && ['queued', 'ringing', 'connected'].includes(this.target.status)) this.target.status = status;
    this.phase = 'completed';
    this.changed();
    this.emit({ type: 'ended', status, ...(reason ? { reason } : {}) });
  }

  private leave(leg: ConferenceParticipant, status: CarrierEndStatus): void {
    if (!['queued', 'ringing', 'connected'].includes(leg.status)) return;
    leg.status = status;
    this.changed();
  }

  private set(phase: UserOnCallPhase): void {
    this.phase = phase;
    this.changed();
  }

  private changed(): void {
    try {
      this.req.onRoomChange?.(this.conferenceStatus());
    } catch (err) {
      this.log.warn({ err, callId: this.req.callId }, 'user-on-call status listener failed');
    }
  }

  private emit(e: CarrierEvent): void {
    if (this.ended) return;
    if (e.type === 'ended') this.ended = true;
    try {
      this.onEvent(e);
    } catch (err) {
      this.log.error({ err, callId: this.req.callId }, 'sim carrier listener failed');
    }
  }
}

/** `userSay` while the user's leg is not in the room (not yet connected, dropped, or the call is over). */
export class UserNotInRoomError extends Error {
  readonly code = 'user_not_in_room';
  constructor() {
    super('the user is not in the room');
  }
}
