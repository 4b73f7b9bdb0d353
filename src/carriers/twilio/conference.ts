/**
 * User-on-call over Twilio (001 "User-on-call explained"): the user (an operator) and the target are
 * dialled straight into one conference room with the Participants resource (`POST /Conferences/{room}/
 * Participants.json`, protocols.md §1), so they talk to each other. On activation the target's leg is
 * redirected to `/start_call` (`POST /Calls/{CallSid}.json Url=…`): it leaves the room and reaches the
 * agent over ConversationRelay, exactly like a dialled call, so the engine's agent loop runs unchanged.
 * The user's leg is ended by kicking it from the room (`DELETE …/Participants/{CallSid}.json`).
 *
 * Not here: the agent listening to the room before activation. ConversationRelay is a leg of its own
 * (text in, text out); hearing the conference needs a media fork of the room's audio (`<Start><Stream>`
 * on a leg, or a participant running `<Connect><Stream>`), which comes with the voice pipeline. Until
 * then, the agent knows only what it is told at activation (task, additional prompt).
 */
import type { CarrierEvent, ConferenceParticipant, ConferenceStatus, DialRequest, UserOnCallHandle, UserOnCallPhase, UserOnCallRequest } from '../carrier.js';
import type { Logger } from '../../lib/logger.js';

/** What a user-on-call session needs from the carrier. */
export interface ConferenceHost {
  log: Logger;
  publicUrl: string;
  /** `POST /Conferences/{room}/Participants.json`: dials a leg into `room`; resolves with its CallSid. */
  addParticipant(room: string, params: Record<string, unknown>): Promise<string>;
  /** `DELETE /Conferences/{room}/Participants/{CallSid}.json`: the leg leaves the room and ends. */
  removeParticipant(room: string, callSid: string): Promise<void>;
  /** `POST /Calls/{CallSid}.json` with `Url`: the call leaves what it runs and fetches TwiML from `url`. */
  redirectToUrl(callSid: string, url: string): Promise<void>;
  /** Hangs up a leg over REST (`Status=completed`). */
  endLeg(callSid: string): Promise<void>;
  /**
   * Follows a leg we placed outside `dial`: its signed status callbacks and relay socket are handled like
   * those of a dialled call; events go to `onEvent`, and every CallStatus to `onStatus` first.
   */
  track(callSid: string, req: DialRequest, onEvent: (e: CarrierEvent) => void, onStatus: (status: string) => void): { hangup(): Promise<void> };
}

/** The room of a user-on-call session (distinct from a warm transfer's room of the same call). */
export function userOnCallRoom(callId: string): string {
  return `sb-${callId}-user`;
}

const STATUS_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

export class UserOnCallSession implements UserOnCallHandle {
  private phase: UserOnCallPhase = 'initiated';
  private readonly legs: { user?: ConferenceParticipant; target?: ConferenceParticipant } = {};
  private target: { hangup(): Promise<void> } | undefined;

  private constructor(
    private readonly host: ConferenceHost,
    private readonly req: UserOnCallRequest,
    readonly room: string,
    private readonly onEvent: (e: CarrierEvent) => void,
  ) {}

  /**
   * Dials the user, then the target, into the room. Both join as they answer and start the conference;
   * neither ends it on leaving: the target's leg ending ends the session (and drops the user), while the
   * user may leave and the agent still take over.
   */
  static async start(host: ConferenceHost, req: UserOnCallRequest, from: string, onEvent: (e: CarrierEvent) => void): Promise<UserOnCallSession> {
    const s = new UserOnCallSession(host, req, userOnCallRoom(req.callId), onEvent);
    const common = {
      from,
      statusCallback: `${host.publicUrl}/twilio/status`,
      statusCallbackMethod: 'POST',
      statusCallbackEvent: STATUS_EVENTS,
      timeout: Math.min(600, Math.max(1, Math.round(req.ringTimeoutSeconds ?? 60))),
      startConferenceOnEnter: true,
      endConferenceOnExit: false,
      beep: 'false',
    };
    const legReq = (to: string): DialRequest => ({ callId: req.callId, sid: req.sid, to, from, language: req.language, record: false });
    const userSid = await host.addParticipant(s.room, { ...common, to: req.user, label: 'user' });
    s.legs.user = { label: 'user', callSid: userSid, status: 'queued' };
    host.track(userSid, legReq(req.user), (e) => s.onUserEvent(e), (st) => s.onStatus(s.legs.user!, st));
    try {
      const targetSid = await host.addParticipant(s.room, { ...common, to: req.target, label: 'target' });
      s.legs.target = { label: 'target', callSid: targetSid, status: 'queued' };
      s.target = host.track(targetSid, legReq(req.target), (e) => s.onTargetEvent(e), (st) => s.onStatus(s.legs.target!, st));
    } catch (err) {
      await s.dropUser();
      throw err;
    }
    host.log.info({ callId: req.callId, room: s.room, userCallSid: userSid, targetCallSid: s.targetCallSid }, 'twilio user-on-call started');
    return s;
  }

  get userCallSid(): string {
    return this.legs.user!.callSid;
  }

  get targetCallSid(): string {
    return this.legs.target!.callSid;
  }

  conferenceStatus(): ConferenceStatus {
    const participants = [this.legs.user, this.legs.target].filter((p): p is ConferenceParticipant => !!p).map((p) => ({ ...p }));
    return { room: this.room, phase: this.phase, participants };
  }

  async activate(opts: { dropUser: boolean }): Promise<void> {
    if (this.phase !== 'connected') throw new Error(this.phase === 'initiated' ? 'the target has not answered yet' : 'the agent has already taken over or the call is over');
    this.phase = 'ai_takeover';
    try {
      // The target leaves the room for the relay; `answered` with the agent's channel follows on relay setup.
      await this.host.redirectToUrl(this.targetCallSid, `${this.host.publicUrl}/start_call`);
    } catch (err) {
      this.phase = 'connected';
      throw err;
    }
    this.host.log.info({ callId: this.req.callId, room: this.room, dropUser: opts.dropUser }, 'twilio user-on-call activated');
    if (opts.dropUser) await this.dropUser();
  }

  async dropUser(): Promise<void> {
    const user = this.legs.user;
    if (!user || isOver(user.status)) return;
    // Kicked from the room; a leg not (yet) in it is hung up instead.
    await this.host.removeParticipant(this.room, user.callSid).catch(() => this.host.endLeg(user.callSid));
    user.status = 'completed';
  }

  async hangup(): Promise<void> {
    await Promise.all([this.target?.hangup(), this.dropUser()]);
  }

  private onStatus(leg: ConferenceParticipant, status: string): void {
    if (isOver(leg.status)) return;
    if (status === 'ringing' && leg.status === 'queued') leg.status = 'ringing';
    if (status === 'in-progress') leg.status = 'connected';
    if (this.phase === 'initiated' && this.legs.target?.status === 'connected') this.phase = 'connected';
  }

  private onTargetEvent(e: CarrierEvent): void {
    if (e.type === 'answered') this.phase = 'active';
    if (e.type === 'ended') {
      this.legs.target!.status = e.status;
      this.phase = 'completed';
      // The call is over: the user is not left alone in the room.
      void this.dropUser().catch((err) => this.host.log.warn({ err, callId: this.req.callId }, 'user leg hang-up failed'));
    }
    this.onEvent(e);
  }

  private onUserEvent(e: CarrierEvent): void {
    if (e.type === 'ended' && this.legs.user) this.legs.user.status = e.status;
  }
}

function isOver(status: ConferenceParticipant['status']): boolean {
  return !['queued', 'ringing', 'connected'].includes(status);
}
