/**
 * User-on-call over Twilio (001 "User-on-call explained"): the user (an operator) and the target are
 * dialled straight into one conference room with the Participants resource (`POST /Conferences/{room}/
 * Participants.json`, protocols.md §1), so they talk to each other. On activation the target's leg is
 * redirected to `/start_call` (`POST /Calls/{CallSid}.json Url=…`): it leaves the room and reaches the
 * agent over ConversationRelay, exactly like a dialled call, so the engine's agent loop runs unchanged.
 * The user's leg is ended by kicking it from the room (`DELETE …/Participants/{CallSid}.json`).
 *
 * The agent listens before activation, silently: once the target's leg has answered (and so is in the
 * room), a unidirectional media fork of that leg is started with the Streams resource (`POST /Calls/
 * {CallSid}/Streams.json Track=both_tracks`, the REST form of `<Start><Stream>`, protocols.md §3) towards
 * our Media Streams socket, signed like an audio-mode stream (`callId` + `token` parameters). On that
 * leg `inbound` is the target's voice and `outbound` what the target hears: the room, i.e. the user.
 * The frames reach the engine through `listen()`; nothing is ever sent back on a fork. Activation stops
 * the fork (`POST …/Streams/{sid}.json Status=stopped`) before the target is moved to the agent; the
 * target's leg ending ends it too. What the engine does with the audio (transcripts, context for the
 * agent at takeover) comes with the voice pipeline; until then the agent still starts from what it is
 * told at activation (task, additional prompt).
 *
 * Three-way (`activate` with `dropUser: false`, where the carrier has an agent number): the target stays in
 * the room, and the agent joins it as a third leg (`ConferenceHost.agentLoop`): its channel comes with that
 * leg's `answered`. The target's leg ending ends the agent's leg too; the agent's leg ending (the agent hung
 * up) hangs up the target, whose end ends the session as usual.
 */
import type { CarrierEvent, ConferenceParticipant, ConferenceStatus, DialRequest, ListenFrame, ListenState, UserOnCallHandle, UserOnCallPhase, UserOnCallRequest } from '../carrier.js';
import type { Logger } from '../../lib/logger.js';
import type { TwilioMediaStream } from './media-stream.js';
import { AsyncQueue } from '../../lib/async-queue.js';
import { background } from '../../lib/background.js';

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
  track(
    callSid: string,
    req: DialRequest,
    onEvent: (e: CarrierEvent) => void,
    onStatus: (status: string) => void,
    onFork?: (stream: TwilioMediaStream) => boolean,
  ): { hangup(): Promise<void> };
  /**
   * `POST /Calls/{CallSid}/Streams.json`: a unidirectional fork of both tracks of the leg to our media
   * socket, its parameters signed for `callId`; resolves with the stream's sid (MZ…). The stream itself
   * arrives at the `onFork` given to `track` for that leg, which accepts it or not.
   */
  startFork(callSid: string, callId: string, name: string): Promise<string>;
  /** `POST /Calls/{CallSid}/Streams/{sid or name}.json Status=stopped`. */
  stopFork(callSid: string, sidOrName: string): Promise<void>;
  /**
   * Three-way rooms (only with an agent number configured): places the agent's leg into `room`; its events
   * (`answered` with the agent's channel on relay setup, `ended`) go to `onEvent`. Resolves once the leg is
   * in the room; rejects (nothing left up) when it could not get there.
   */
  agentLoop?(room: string, req: DialRequest, onEvent: (e: CarrierEvent) => void): Promise<{ hangup(): Promise<void> }>;
}

/** The `Name` of the listening fork on the target's leg (Twilio also accepts it in place of the sid to stop it). */
export const LISTEN_STREAM_NAME = 'switchboard-listen';

/** Frames kept for a `listen()` nobody iterates yet: a minute of both tracks (20 ms frames). */
const LISTEN_BACKLOG_FRAMES = 2 * 50 * 60;

/** The room of a user-on-call session (distinct from a warm transfer's room of the same call). */
export function userOnCallRoom(callId: string): string {
  return `sb-${callId}-user`;
}

const STATUS_EVENTS = ['initiated', 'ringing', 'answered', 'completed'];

export class UserOnCallSession implements UserOnCallHandle {
  private phase: UserOnCallPhase = 'initiated';
  private readonly legs: { user?: ConferenceParticipant; target?: ConferenceParticipant } = {};
  private target: { hangup(): Promise<void> } | undefined;
  /** The agent's leg in a three-way room, once placed. */
  private agent: { hangup(): Promise<void> } | undefined;
  private listening: ListenState = 'idle';
  /** The listening fork: its sid once Twilio confirmed it, the request, and the stream once it connected. */
  private fork: { sid?: string; started: Promise<void>; stream?: TwilioMediaStream } | undefined;
  /** The frames heard on the fork until listening stops; a minute kept for a reader that is behind. */
  private readonly heard = new AsyncQueue<ListenFrame>({ limit: LISTEN_BACKLOG_FRAMES, overflow: 'drop_oldest' });

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
    const legReq = (to: string): DialRequest => ({ callId: req.callId, sid: req.sid, to, from, language: req.language, record: false, voice: req.voice });
    const userSid = await host.addParticipant(s.room, { ...common, to: req.user, label: 'user' });
    s.legs.user = { label: 'user', callSid: userSid, status: 'queued' };
    host.track(userSid, legReq(req.user), (e) => s.onUserEvent(e), (st) => s.onStatus(s.legs.user!, st));
    try {
      const targetSid = await host.addParticipant(s.room, { ...common, to: req.target, label: 'target' });
      s.legs.target = { label: 'target', callSid: targetSid, status: 'queued' };
      s.target = host.track(
        targetSid,
        legReq(req.target),
        (e) => s.onTargetEvent(e),
        (st) => s.onStatus(s.legs.target!, st),
        (stream) => s.acceptFork(stream),
      );
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
    return { room: this.room, phase: this.phase, participants, listening: this.listening };
  }

  listen(): AsyncIterable<ListenFrame> {
    return this.heard;
  }

  async activate(opts: { dropUser: boolean }): Promise<void> {
    if (this.phase !== 'connected') throw new Error(this.phase === 'initiated' ? 'the target has not answered yet' : 'the agent has already taken over or the call is over');
    this.phase = 'ai_takeover';
    this.changed();
    // The agent stops listening before it takes over: the fork is stopped, then the target is moved.
    await this.stopListening();
    if (!opts.dropUser && this.host.agentLoop) return this.joinAgent();
    try {
      // The target leaves the room for the relay; `answered` with the agent's channel follows on relay setup.
      await this.host.redirectToUrl(this.targetCallSid, `${this.host.publicUrl}/start_call`);
    } catch (err) {
      this.phase = 'connected';
      this.changed();
      throw err;
    }
    this.host.log.info({ callId: this.req.callId, room: this.room, dropUser: opts.dropUser }, 'twilio user-on-call activated');
    if (opts.dropUser) await this.dropUser();
  }

  /** Three-way: the agent joins the room as a third leg; the target and the user stay where they are. */
  private async joinAgent(): Promise<void> {
    const legReq: DialRequest = { callId: this.req.callId, sid: this.req.sid, to: this.req.target, language: this.req.language, record: false, voice: this.req.voice };
    try {
      this.agent = await this.host.agentLoop!(this.room, legReq, (e) => this.onAgentEvent(e));
    } catch (err) {
      this.phase = 'connected';
      this.changed();
      throw err;
    }
    this.host.log.info({ callId: this.req.callId, room: this.room }, 'twilio user-on-call activated, three-way');
  }

  private onAgentEvent(e: CarrierEvent): void {
    if (e.type === 'answered' && this.phase === 'ai_takeover') {
      this.phase = 'active';
      this.changed();
      this.onEvent(e);
    }
    // The agent left the room (it hung up, or its relay ended): the call is over for the target too.
    if (e.type === 'ended' && this.phase !== 'completed') {
      const target = this.target;
      if (target) background(this.host.log, 'target leg hang-up failed', target.hangup(), { callId: this.req.callId });
    }
  }

  async dropUser(): Promise<void> {
    const user = this.legs.user;
    if (!user || isOver(user.status)) return;
    // Kicked from the room; a leg not (yet) in it is hung up instead.
    await this.host.removeParticipant(this.room, user.callSid).catch(() => this.host.endLeg(user.callSid));
    user.status = 'completed';
    this.changed();
  }

  /** Tells the engine how the session stands now (`UserOnCallRequest.onRoomChange`). */
  private changed(): void {
    try {
      this.req.onRoomChange?.(this.conferenceStatus());
    } catch (err) {
      this.host.log.warn({ err, callId: this.req.callId }, 'user-on-call status listener failed');
    }
  }

  async hangup(): Promise<void> {
    this.endListening();
    await Promise.all([this.target?.hangup(), this.agent?.hangup(), this.dropUser()]);
  }

  private onStatus(leg: ConferenceParticipant, status: string): void {
    if (isOver(leg.status)) return;
    const before = `${this.phase} ${leg.status}`;
    if (status === 'ringing' && leg.status === 'queued') leg.status = 'ringing';
    if (status === 'in-progress') leg.status = 'connected';
    if (this.phase === 'initiated' && this.legs.target?.status === 'connected') {
      this.phase = 'connected';
      // The target has answered: its leg is in the room, and the agent starts listening there.
      this.startListening();
    }
    if (`${this.phase} ${leg.status}` !== before) this.changed();
  }

  /** Asks Twilio for the listening fork on the target's leg; a refusal leaves the call as it is, unheard. */
  private startListening(): void {
    if (this.listening !== 'idle') return;
    this.listening = 'starting';
    const fork: NonNullable<UserOnCallSession['fork']> = { started: Promise.resolve() };
    this.fork = fork;
    fork.started = this.host.startFork(this.targetCallSid, this.req.callId, LISTEN_STREAM_NAME).then(
      (sid) => {
        fork.sid = sid;
        // A stream that connected before the answer must be the one Twilio created.
        if (fork.stream && fork.stream.started?.streamSid !== sid) this.endListening('failed');
        else if (this.listening === 'starting') this.listening = 'listening';
        this.host.log.info({ callId: this.req.callId, callSid: this.targetCallSid, streamSid: sid }, 'twilio user-on-call listening');
      },
      (err) => {
        this.host.log.warn({ err, callId: this.req.callId, callSid: this.targetCallSid }, 'twilio user-on-call listening fork refused');
        if (this.listening === 'starting') this.endListening('failed');
      },
    );
  }

  /**
   * A verified media stream (right token, naming the target's CallSid): taken as the listening fork while
   * the session listens and has none yet, and is not a stream other than the one Twilio created.
   */
  private acceptFork(stream: TwilioMediaStream): boolean {
    const fork = this.fork;
    if (!fork || fork.stream || (this.listening !== 'starting' && this.listening !== 'listening')) return false;
    if (fork.sid && stream.started?.streamSid !== fork.sid) return false;
    fork.stream = stream;
    stream.tap((f) => this.heard.push(f));
    // Twilio ends the fork (`stop`) when it is stopped or the leg ends.
    stream.on('close', () => this.endListening());
    return true;
  }

  /** Ends listening for the agent, stops the fork on Twilio's side, then closes its socket if Twilio has not. */
  private async stopListening(): Promise<void> {
    const fork = this.fork;
    const was = this.listening;
    // Over for the agent at once; the socket is left for Twilio to end once the fork is stopped.
    this.endListening('stopped', false);
    if (!fork || (was !== 'starting' && was !== 'listening')) return;
    // A fork still being created is waited for: its sid is what is stopped (none: Twilio refused it).
    await fork.started;
    if (fork.sid !== undefined) {
      await this.host.stopFork(this.targetCallSid, fork.sid).catch((err) => {
        this.host.log.warn({ err, callId: this.req.callId, callSid: this.targetCallSid }, 'twilio user-on-call listening fork stop failed');
      });
    }
    if (fork.stream && !fork.stream.isClosed) fork.stream.close(1000);
  }

  /** Listening is over: no stream is accepted any more, `listen()` ends and (unless told) the fork's socket is closed. */
  private endListening(state: 'stopped' | 'failed' = 'stopped', closeSocket = true): void {
    if (this.listening === 'stopped' || this.listening === 'failed') return;
    this.listening = state;
    const stream = this.fork?.stream;
    if (closeSocket && stream && !stream.isClosed) stream.close(1000);
    this.heard.close();
  }

  private onTargetEvent(e: CarrierEvent): void {
    // The user never joined (see onUserEvent): the session failed, whatever ended the target's leg.
    if (e.type === 'ended' && this.userNotReached) e = { type: 'ended', status: 'failed', reason: 'user_not_reached' };
    if (e.type === 'answered') this.phase = 'active';
    if (e.type === 'ended') {
      this.legs.target!.status = e.status;
      this.phase = 'completed';
      this.endListening();
      // A three-way room's agent leaves with the target.
      const agent = this.agent;
      if (agent) background(this.host.log, 'agent leg hang-up failed', agent.hangup(), { callId: this.req.callId });
      // The call is over: the user is not left alone in the room.
      void this.dropUser().catch((err) => this.host.log.warn({ err, callId: this.req.callId }, 'user leg hang-up failed'));
    }
    if (e.type !== 'ringing') this.changed();
    this.onEvent(e);
  }

  private onUserEvent(e: CarrierEvent): void {
    if (e.type === 'ended' && this.legs.user && !isOver(this.legs.user.status)) {
      const joined = this.legs.user.status === 'connected';
      this.legs.user.status = e.status;
      this.changed();
      // The user could not be reached before the room connected (busy, no answer): 001's initiated → failed;
      // the target is not left alone in the room.
      if (!joined && this.phase === 'initiated') {
        this.userNotReached = true;
        const target = this.target;
        if (target) background(this.host.log, 'target leg hang-up failed', target.hangup(), { callId: this.req.callId });
      }
    }
  }

  /** The user's leg ended before it ever joined the room, while the session was being set up. */
  private userNotReached = false;
}

function isOver(status: ConferenceParticipant['status']): boolean {
  return !['queued', 'ringing', 'connected'].includes(status);
}
