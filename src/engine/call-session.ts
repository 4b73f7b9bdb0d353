/**
 * One live call: the call controller. It dials through the carrier (or answers), moves the call's state as
 * the carrier reports progress, obeys commands sent over the bus, runs the call's timers, carries out the
 * agent's actions, writes the call's events in order, and closes the call with its outcome. The
 * conversation itself (turn-taking, barge-in, speech handles) is the agent activity's (./agent-activity.ts),
 * over one I/O (./io/); what the agent says and does is the brain's (./brain.ts).
 */
import type { Bus } from '../bus/bus.js';
import { channels } from '../bus/bus.js';
import type { CallService } from '../core/calls/service.js';
import type { CallRequest } from '../core/calls/request.js';
import type { CallCommand, CommandEnvelope, CommandReply, LiveChanges } from '../core/calls/events.js';
import type { CallState } from '../core/calls/states.js';
import type { CallRow } from '../store/index.js';
import type { CalendarConnections } from '../core/calendar/connections.js';
import { bookingSentences, runCalendarRequest, type CalendarBooking, type CalendarRequest } from '../core/calendar/agent-requests.js';
import type { Calendar } from '../core/calendar/calendar.js';
import type { AnsweredBy, AudioChannel, Carrier, CarrierAccount, CarrierCallHandle, CarrierEvent, ConferenceStatus, InboundCall, UserOnCallHandle, VoiceMode } from '../carriers/carrier.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { background } from '../lib/background.js';
import type { ActionResult, AgentBrief, Brain, RoomLine } from './brain.js';
import { withDtmfRules } from './dtmf-rules.js';
import { OK } from './brain.js';
import { MASKED_DIGIT, buildBrief, keypadDigits, keypadFieldLabel, shownKeys } from './brief.js';
import { goodbyeLine } from './lines.js';
import type { Metrics, TurnLatency } from '../metrics/index.js';
import type { Activity, ActionHost } from './activity.js';
import { AgentActivity } from './agent-activity.js';
import { TextIO } from './io/text-io.js';
import type { AgentIO } from './io/io.js';
import { ev, type CloseReason, type ReportedAction, type SessionEvent, type SessionObserver } from './events.js';
import { UsageMeter, type UsageReporter } from '../core/credits/usage.js';
import { roomState } from './user-on-call.js';
import { AudioIO } from './voice/audio-io.js';
import { chooseVoiceMode } from './voice/mode.js';
import { listenToRoom, type RoomTrack } from './voice/room-listener.js';
import type { CallSpeech } from './voice/speech.js';
import { speechToSpeechActivity, type SpeechToSpeechConfig } from './realtime/index.js';

export interface SessionSettings {
  operatorAnswerTimeoutSeconds: number;
  voicemailAction: 'leave_message' | 'hang_up';
}

/** After a connected call: a summary, whether the goal was reached, and data extracted from the transcript. */
export type Summarizer = (input: {
  brief: AgentBrief;
  transcript: Array<{ role: string; text: string }>;
  goalCompleted?: boolean;
  /** Where the summary's model usage is reported (it is part of the call's cost). */
  usage?: UsageReporter;
}) => Promise<{ summary: string; goalCompleted: boolean; extracted: Record<string, unknown> }>;

export interface CallSessionDeps {
  settings: SessionSettings;
  metrics?: Metrics;
  summarize?: Summarizer;
  calls: CallService;
  bus: Bus;
  carrier: Carrier;
  brain: Brain;
  clock: Clock;
  log: Logger;
  nodeId: string;
  /** Sees every session event of every call, in order (tests; later the dashboard). */
  observe?: SessionObserver;
  /** The API keys' connected calendars (calls with `enable_calendar`). */
  calendar?: CalendarConnections;
  /** Speech for calls in audio mode (the cascaded pipeline); without it every call runs in text mode. */
  speech?: CallSpeech;
  /** VOICE_ENGINE=realtime: calls on carriers that carry audio are dialled in audio mode and run speech-to-speech. */
  speechToSpeech?: SpeechToSpeechConfig;
  /**
   * The carrier account a call from `from` is placed on (the number's own credentials, core/numbers.ts);
   * undefined: the deployment's. Without it every call uses the deployment's account.
   */
  carrierAccount?: (orgId: string, from: string | undefined) => Promise<CarrierAccount | undefined>;
}

/** How the conversation ended, as the controller saw it. */
interface Outcome {
  goalCompleted?: boolean;
  reason?: string;
  closedBy?: CloseReason;
  /** The callee was handed over to another number. */
  transferred?: boolean;
  /** Why the call could not be carried (answered in a voice mode the engine cannot drive). */
  refused?: string;
}

/**
 * Where the call stands, for the controller: `dialing` until answered, `live` while the agent talks,
 * `closing` once our side ends it (hang-up asked), `ended` once the carrier reported the end.
 */
type CallPhase = 'dialing' | 'live' | 'closing' | 'ended';

const result = {
  refused: (message: string): ActionResult => ({ ok: false, error: 'not_allowed', message }),
  unavailable: (message: string): ActionResult => ({ ok: false, error: 'unavailable', message }),
  failed: (message: string): ActionResult => ({ ok: false, error: 'failed', message }),
};

export class CallSession implements ActionHost {
  readonly callId: string;
  private req: CallRequest;
  private handle: CarrierCallHandle | undefined;
  private io: AgentIO | undefined;
  private activity: Activity | undefined;
  private phase: CallPhase = 'dialing';
  private answeredBy: AnsweredBy = 'unknown';
  private answeredAt = 0;
  private outcome: Outcome = {};
  private writes: Promise<unknown> = Promise.resolve();
  /** A person is on the line (not a menu, a recording or a queue). */
  private humanReached = false;
  private readonly life = new AbortController();
  private unsubscribe: (() => Promise<void>) | undefined;
  private turnNo = 0;
  /** Appointments the agent booked, moved or cancelled on this call, by event id. */
  private readonly bookings = new Map<string, CalendarBooking>();
  private calendar: Promise<Calendar | null> | undefined;
  /**
   * What the call uses, as the carrier, the model and (later) speech adapters report it; priced and charged
   * when the call ends (core/credits).
   */
  private readonly usage = new UsageMeter();
  /** A user-on-call session (001): the room of the user and the target, until the agent takes over. */
  private room: UserOnCallHandle | undefined;
  /** The room was connected (user and target both in it): the call was carried, even if the agent never spoke. */
  private roomConnected = false;
  /** What was said in the room before the agent took over, in order (the agent's brief carries it). */
  private readonly roomLines: RoomLine[] = [];
  /** Transcribing the room (./voice/room-listener.ts): settles once listening stopped and the last line is in. */
  private roomHeard: Promise<void> | undefined;
  private finished!: () => void;
  /** Resolves when the call has reached an end state. */
  readonly done = new Promise<void>((r) => (this.finished = r));

  constructor(
    private readonly call: CallRow,
    private readonly d: CallSessionDeps,
    /** A call that rings one of our numbers: the session answers it instead of dialling. */
    private readonly inbound?: InboundCall,
  ) {
    this.callId = call.id;
    this.req = d.calls.requestOf(call);
  }

  /** The agent's part of the call is over: no turn may act any more. */
  get closing(): boolean {
    return this.phase === 'closing' || this.phase === 'ended';
  }

  brief(): AgentBrief {
    // Every turn asks for the brief; the request only changes as a whole (a PATCH, a language switch), so the
    // brief made from it is kept until then: building it scans the task text for personal data (libphonenumber).
    if (this.briefOf?.req !== this.req) this.briefOf = { req: this.req, brief: buildBrief(this.req) };
    const brief = this.briefOf.brief;
    return this.roomLines.length ? { ...brief, roomTranscript: [...this.roomLines] } : brief;
  }

  /** The brief made from the request as it was last asked for (see brief()). */
  private briefOf: { req: CallRequest; brief: AgentBrief } | undefined;

  /** Takes ownership of the call and dials (or answers an inbound call). Returns once dialling has begun. */
  async start(): Promise<void> {
    this.unsubscribe = await this.d.bus.subscribe(channels.callCommands(this.callId), (m) =>
      background(this.d.log, 'call command failed', this.onCommand(m as CommandEnvelope), { callId: this.callId }),
    );
    // A call claimed or stored by this node already names it and its brain (claimQueued, startInbound).
    if (this.call.owner_node !== this.d.nodeId || this.call.brain !== this.d.brain.name) {
      await this.d.clock.hold(this.d.calls.setOwner(this.callId, this.d.nodeId, this.d.brain.name));
    }
    const onEvent = (e: CarrierEvent) => background(this.d.log, 'carrier event failed', this.onCarrierEvent(e), { callId: this.callId });
    if (this.inbound) {
      try {
        const req = { callId: this.callId, sid: this.call.sid, language: this.req.language, record: this.req.record, voiceMode: this.voiceMode, voice: this.d.calls.voiceOf(this.req) };
        this.handle = await this.inbound.answer(req, onEvent);
      } catch (err) {
        this.d.log.warn({ err, callId: this.callId }, 'answer failed');
        await this.finish('failed', { reason: 'answer_failed', error: (err as Error).message });
      }
      return;
    }
    if (this.req.userOnCall && this.d.carrier.startUserOnCall) {
      await this.startRoom(onEvent);
      return;
    }
    try {
      // Looked up at dial time (not stored with the call), so the secret never reaches the call's record.
      const account = await this.d.carrierAccount?.(this.call.org_id, this.req.fromNumber);
      this.handle = await this.d.carrier.dial(
        {
          callId: this.callId,
          sid: this.call.sid,
          to: this.req.to,
          from: this.req.fromNumber,
          language: this.req.language,
          ringTimeoutSeconds: this.req.ringTimeoutSeconds,
          record: this.req.record,
          voiceMode: this.voiceMode,
          voice: this.d.calls.voiceOf(this.req),
          ...(account ? { account } : {}),
        },
        onEvent,
      );
    } catch (err) {
      this.d.log.warn({ err, callId: this.callId }, 'dial failed');
      await this.finish('failed', { reason: 'dial_failed', error: (err as Error).message });
      return;
    }
    // Not part of dialling: the call goes on even if its carrier id could not be kept.
    const carrierCallSid = this.handle.carrierCallSid;
    if (carrierCallSid) {
      await this.d.calls.setCarrierCallSid(this.callId, carrierCallSid).catch((err: unknown) => this.d.log.warn({ err, callId: this.callId }, 'keeping the carrier call sid failed'));
    }
  }

  /** Dials a user-on-call session: the target and the user's legs into one room (see carrier.ts). */
  private async startRoom(onEvent: (e: CarrierEvent) => void): Promise<void> {
    const user = this.req.userOnCall!;
    try {
      this.room = await this.d.carrier.startUserOnCall!(
        {
          callId: this.callId,
          sid: this.call.sid,
          user: user.userPhone,
          target: this.req.to,
          from: this.req.fromNumber,
          language: this.req.language,
          voice: this.d.calls.voiceOf(this.req),
          ringTimeoutSeconds: this.req.ringTimeoutSeconds,
          onRoomChange: (status) => background(this.d.log, 'user-on-call change not recorded', this.onRoomChange(status), { callId: this.callId }),
          onUserSpeech: (text) => this.roomLine('user', text),
        },
        onEvent,
      );
      this.handle = this.room;
      this.listenToRoom(this.room);
    } catch (err) {
      this.d.log.warn({ err, callId: this.callId }, 'user-on-call dial failed');
      await this.finish('failed', { reason: 'dial_failed', error: (err as Error).message });
    }
  }

  /**
   * The room changed: its state is stored (conference-status reads it), each new state is an event of the
   * call, and once the user and the target are both in the room the call is connected (`in_progress`).
   */
  private async onRoomChange(status: ConferenceStatus): Promise<void> {
    if (this.phase === 'ended') return; // the final state is written by finish()
    const state = roomState(status, this.roomIds());
    const connectedNow = status.phase === 'connected' && !this.roomConnected;
    if (connectedNow) {
      this.roomConnected = true;
      this.answeredAt = this.d.clock.now();
      this.answeredBy = 'human';
      if (!this.closing) this.phase = 'live';
    }
    // The call is in progress before the room reads `connected` (a client that sees one sees the other).
    if (connectedNow) await this.move(this.callId, 'in_progress', { answeredBy: 'human' });
    await this.inOrder(() => this.d.calls.setRoom(this.callId, state));
    // How the session ended (completed, failed, transferred) is finish()'s to say.
    if (status.phase !== 'completed' && state.state !== this.lastRoomState) {
      this.lastRoomState = state.state;
      await this.rec({ type: 'command', command: 'user_on_call', value: state.state });
    }
  }

  private lastRoomState: string | undefined;

  /**
   * A line said in the room: a line of the call's transcript (the user's is `operator`, the target's
   * `callee`), and, before the takeover, part of what the agent is told the room said.
   */
  private roomLine(speaker: RoomLine['speaker'], text: string): void {
    if (!this.activity) this.roomLines.push({ speaker, text });
    const role = speaker === 'user' ? 'operator' : 'callee';
    background(this.d.log, 'room line not recorded', this.rec({ type: 'transcript', role, text }), { callId: this.callId });
  }

  /** Where the room carries audio (Twilio's media fork) and speech is configured, both tracks are transcribed. */
  private listenToRoom(room: UserOnCallHandle): void {
    const speech = this.d.speech;
    if (!speech) return;
    const speakers: Record<RoomTrack, RoomLine['speaker']> = { inbound: 'callee', outbound: 'user' };
    this.roomHeard = listenToRoom({
      callId: this.callId,
      frames: room.listen(),
      stt: () => speech.stt(),
      language: this.req.language,
      endpointingMs: speech.turnTakingFor(this.req).endpointingMs,
      onLine: (track, text) => this.roomLine(speakers[track], text),
      usage: this.usage,
      log: this.d.log,
    });
  }

  private roomIds() {
    return { callSid: this.call.sid, userCallSid: this.req.userOnCall?.userCallSid ?? '' };
  }

  /** Ends the call from our side (API, supervisor, shutdown, a timer, the agent). */
  async hangup(reason: string, by: CloseReason = 'command'): Promise<void> {
    if (this.closing) return;
    this.phase = 'closing';
    this.outcome.reason ??= reason;
    this.outcome.closedBy ??= by;
    this.activity?.interrupt();
    if (this.io) await this.io.hangup().catch((err) => this.d.log.warn({ err, callId: this.callId }, 'hang-up failed'));
    else await this.handle?.hangup().catch((err) => this.d.log.warn({ err, callId: this.callId }, 'hang-up failed'));
    // A carrier that never started the call sends no `ended`: close it ourselves.
    if (!this.handle) await this.finish('canceled', { reason });
  }

  private emit(e: SessionEvent): void {
    try {
      this.d.observe?.(this.callId, e);
    } catch (err) {
      this.d.log.warn({ err, callId: this.callId }, 'session observer failed');
    }
    // What entered the conversation is the call's transcript.
    if (e.type === 'conversation_item_added') {
      const role = e.source === 'supervisor' ? 'supervisor' : e.role;
      background(this.d.log, 'transcript not recorded', this.rec({ type: 'transcript', role, text: e.text }), { callId: this.callId });
    }
  }

  /** Records an event; the session's clock stands still meanwhile (see Clock.hold). */
  private rec(e: Parameters<CallService['record']>[1]) {
    const turn = this.pendingTurn;
    this.pendingTurn = undefined;
    return this.inOrder(async () => {
      const stored = await this.d.calls.record(this.callId, e, turn);
      if (e.type !== 'status') this.recorded[e.type]++;
      return stored;
    });
  }

  /**
   * The events this session stored, by kind, for /metrics at the end: every transcript line, command and
   * override of a call is stored by its session (rec), so counting here spares a count of the call's log.
   */
  private readonly recorded = { transcript: 0, command: 0, override: 0 };

  private move(...args: Parameters<CallService['transition']>) {
    return this.inOrder(() => this.d.calls.transition(...args));
  }

  /**
   * The call's writes run one after another, in the order they were asked for (so sequence numbers follow
   * what happened, even over a pool of connections), without the agent's next turn having to wait for
   * them. The session's clock stands still while any is under way (see Clock.hold).
   */
  private inOrder<T>(write: () => Promise<T>): Promise<T> {
    const p = this.writes.then(write);
    this.writes = p.catch((err) => this.d.log.error({ err, callId: this.callId }, 'call write failed'));
    return this.d.clock.hold(p);
  }

  /**
   * Runs `fire` after `ms` of the call's clock unless `signal` aborts first. A timer never swallows a
   * failure: it is logged under `failed` (a static message).
   */
  private after(ms: number, signal: AbortSignal, failed: string, fire: () => Promise<void>): void {
    const run = async () => {
      try {
        await this.d.clock.sleep(ms, signal);
      } catch {
        return; // cancelled
      }
      await fire();
    };
    background(this.d.log, failed, run, { callId: this.callId });
  }

  // ---- carrier progress ------------------------------------------------------------------------

  private async onCarrierEvent(e: CarrierEvent): Promise<void> {
    this.emit(ev.carrier(e.type));
    if (e.type === 'ringing') {
      await this.move(this.callId, 'ringing');
    } else if (e.type === 'answered' && e.mode === 'audio' && this.d.speechToSpeech) {
      await this.onAnsweredSpeechToSpeech(e.answeredBy, e.audio, this.d.speechToSpeech);
    } else if (e.type === 'answered' && e.mode === 'audio') {
      await this.onAnsweredAudio(e.answeredBy, e.audio);
    } else if (e.type === 'answered') {
      const io = new TextIO(e.channel);
      await this.onAnswered(e.answeredBy, io, () => this.agentActivity(io));
    } else {
      await this.onEnded(e);
    }
  }

  /**
   * How the call asks the carrier to carry speech: audio for speech-to-speech where the carrier can, else as
   * `chooseVoiceMode` decides (the cascaded pipeline: the call's voice, the setting).
   */
  private get voiceMode(): VoiceMode {
    if (this.d.speechToSpeech && this.d.carrier.capabilities.mediaStream) return 'audio';
    return chooseVoiceMode(this.req, this.d.carrier.capabilities, this.d.speech);
  }

  /** Answered in audio mode with VOICE_ENGINE=realtime: the model hears and speaks on the channel itself. */
  private async onAnsweredSpeechToSpeech(answeredBy: AnsweredBy, audio: AudioChannel, config: SpeechToSpeechConfig): Promise<void> {
    const activity = speechToSpeechActivity(config, {
      callId: this.callId,
      channel: audio,
      request: this.req,
      host: this,
      emit: (e) => this.emit(e),
      usage: this.usage,
      onTurnFigures: (latency) => this.turnFigures(latency),
      log: this.d.log,
    });
    await this.onAnswered(answeredBy, activity.line, () => activity);
  }

  private agentActivity(io: AgentIO): Activity {
    return new AgentActivity({
      callId: this.callId,
      io,
      brain: withDtmfRules(this.d.brain.startCall(this.brief(), { usage: this.usage }), this.req.agent?.dtmfRules),
      host: this,
      emit: (e) => this.emit(e),
      onTurnFigures: (latency) => this.turnFigures(latency),
      log: this.d.log,
    });
  }

  /** A turn's latency figures: to /metrics and stored on the call. */
  private turnFigures(latency: TurnLatency): void {
    this.d.metrics?.observeTurn(latency);
    const turn = { turn: ++this.turnNo, latency };
    // The agent's line usually follows in the same tick (AgentActivity reports a turn's figures just before
    // its first line heard): that line's write takes them along (rec). Else they are stored on their own.
    this.pendingTurn = turn;
    queueMicrotask(() => {
      if (this.pendingTurn !== turn) return;
      this.pendingTurn = undefined;
      background(this.d.log, 'turn figures not stored', this.inOrder(() => this.d.calls.recordTurn(this.callId, turn.turn, turn.latency)), { callId: this.callId });
    });
  }

  /** A turn's figures waiting for the next event written in the same tick (see turnFigures). */
  private pendingTurn: { turn: number; latency: TurnLatency } | undefined;

  private async onAnswered(answeredBy: AnsweredBy, io: AgentIO, makeActivity: () => Activity): Promise<void> {
    this.answeredBy = answeredBy;
    // A user-on-call call was connected when its room was (the agent takes over later).
    if (!this.roomConnected) this.answeredAt = this.d.clock.now();
    this.io = io;
    const wasClosing = this.closing;
    if (!wasClosing) this.phase = 'live';
    await this.move(this.callId, 'in_progress', { answeredBy });
    if (wasClosing || this.closing) {
      await io.hangup();
      return;
    }
    if (answeredBy === 'machine' && this.d.settings.voicemailAction === 'hang_up') {
      this.outcome = { goalCompleted: false, reason: 'voicemail' };
      await this.hangup('voicemail', 'agent');
      return;
    }
    // Taking over a user-on-call room: the agent starts knowing what was said in it (listening stopped at activation).
    if (this.roomHeard) {
      await this.roomHeard;
      if (this.closing) return;
    }
    const activity = makeActivity();
    this.activity = activity;
    this.startTimers();
    activity.start(answeredBy);
  }

  /**
   * Answered in audio mode: the agent talks through the cascaded pipeline (./voice/). Where no speech can
   * be built for the call (none configured, no speech-to-text, no text-to-speech for its voice), nothing
   * could speak on it: it is hung up and ends `failed` with the reason, instead of staying silent.
   */
  private async onAnsweredAudio(answeredBy: AnsweredBy, audio: AudioChannel): Promise<void> {
    const speech = this.d.speech;
    if (!speech) return this.refuseAudio(audio, 'voice_mode_unsupported');
    const voice = speech.voiceFor(this.req);
    const tts = speech.tts[voice.provider];
    let stt;
    try {
      stt = speech.stt();
    } catch (err) {
      this.d.log.warn({ err, callId: this.callId }, 'no speech-to-text for an audio call');
    }
    if (!stt || !tts) return this.refuseAudio(audio, 'voice_mode_unsupported');
    const io = new AudioIO({
      callId: this.callId,
      channel: audio,
      stt,
      tts,
      voice: (language) => speech.voiceFor({ ...this.req, language }),
      language: this.req.language,
      turnTaking: speech.turnTakingFor(this.req),
      pacer: speech.pacer,
      usage: this.usage,
      log: this.d.log,
    });
    await this.onAnswered(answeredBy, io, () => this.agentActivity(io));
  }

  private async refuseAudio(audio: AudioChannel, reason: string): Promise<void> {
    this.d.log.warn({ callId: this.callId, reason }, 'call answered in audio mode with no speech to drive it');
    this.outcome.refused = reason;
    this.phase = 'closing';
    await audio.hangup().catch((err) => this.d.log.warn({ err, callId: this.callId }, 'hang-up failed'));
  }

  private async onEnded(e: Extract<CarrierEvent, { type: 'ended' }>): Promise<void> {
    if (e.usage) this.usage.add(e.usage);
    const closedByUs = this.closing;
    this.phase = 'ended';
    this.life.abort();
    if (this.outcome.refused) {
      await this.finish('failed', { reason: this.outcome.refused, error: this.outcome.refused }, 'error');
      return;
    }
    if (!this.io && this.roomConnected && e.status !== 'failed') {
      // A user-on-call room that ended before the agent took over: the user and the target talked (their
      // last lines, still being transcribed, belong to the call before it closes).
      await this.roomHeard;
      await this.finish('completed', { reason: e.reason ?? (closedByUs ? this.outcome.reason : 'callee_hung_up') }, closedByUs ? this.outcome.closedBy : 'callee');
      return;
    }
    if (!this.io) {
      // Never connected: the carrier's word is the outcome (busy, no answer, failed, canceled).
      const status: CallState = e.status === 'completed' ? 'canceled' : e.status;
      await this.finish(status, { reason: e.reason ?? (closedByUs ? this.outcome.reason : undefined), error: e.error }, closedByUs ? this.outcome.closedBy : 'callee');
      return;
    }
    const activity = this.activity;
    if (activity) {
      activity.lineGone();
      // A turn under way may still hold the agent's verdict (its `end` action): let it finish briefly.
      await Promise.race([activity.settle(), new Promise((r) => setTimeout(r, 250).unref())]);
      activity.close();
      await activity.settle();
    }
    // The speech streams close and report their usage before the call's usage is totalled.
    await this.io.close?.();
    const voicemail = this.answeredBy === 'machine';
    // The model kept failing: the call did not do its job, and says why.
    const broken = this.outcome.reason === 'llm_error';
    await this.finish(
      broken ? 'failed' : voicemail ? 'voicemail' : 'completed',
      {
        reason: this.outcome.reason ?? (closedByUs ? undefined : this.req.direction === 'inbound' ? 'caller_hung_up' : 'callee_hung_up'),
        ...(broken ? { error: 'llm_error' } : {}),
      },
      this.outcome.closedBy ?? 'callee',
    );
  }

  private async finish(status: CallState, f: { reason?: string; error?: string }, closedBy: CloseReason = 'error'): Promise<void> {
    this.emit(ev.close(closedBy, f.reason));
    this.phase = 'ended';
    const connected = this.answeredAt ? (this.d.clock.now() - this.answeredAt) / 1000 : 0;
    const voicemail = status === 'voicemail';
    const report = await this.report();
    // The agent's own verdict wins; without one (the callee hung up, a timer ended the call) the model's.
    const goalCompleted = this.io ? (this.outcome.goalCompleted ?? report?.goalCompleted ?? false) : false;
    if (this.room) {
      const room = roomState(this.room.conferenceStatus(), this.roomIds(), { everConnected: this.roomConnected && status !== 'failed', transferred: !!this.outcome.transferred });
      await this.inOrder(() => this.d.calls.setRoom(this.callId, room));
      this.lastRoomState = room.state;
      await this.rec({ type: 'command', command: 'user_on_call', value: room.state });
    }
    await this.move(this.callId, status, {
      reason: f.reason,
      error: f.error,
      answeredBy: this.io || this.roomConnected ? this.answeredBy : undefined,
      outcome: voicemail
        ? 'voicemail'
        : this.outcome.transferred
          ? 'transferred'
          : this.io
            ? goalCompleted
              ? 'goal_completed'
              : 'goal_not_completed'
            : status,
      goalCompleted,
      ...this.withBookings(report?.summary ?? this.summary(status, f.reason), report?.extracted),
      durationSeconds: connected,
      // The carrier's connected time when it reported one, else the session's own measure.
      usage: { ...this.usage.total(), connectedSeconds: this.usage.total().connectedSeconds || connected },
    });
    await this.unsubscribe?.();
    if (this.d.metrics) {
      const c = this.recorded;
      this.d.metrics.observeCall(status, {
        call_duration_seconds: connected,
        transcript_count: c.transcript,
        command_count: c.command,
        override_count: c.override,
      });
    }
    this.finished();
  }

  private get history() {
    return this.activity?.history ?? [];
  }

  /** The model's report on a connected call (summary, goal, extracted data), when a model is configured. */
  private async report(): Promise<Awaited<ReturnType<Summarizer>> | undefined> {
    if (!this.d.summarize || !this.io) return undefined;
    const transcript = this.history.map((t) => ({ role: t.role, text: t.text }));
    if (transcript.length === 0) return undefined;
    try {
      return await this.d.clock.hold(this.d.summarize({ brief: this.brief(), transcript, goalCompleted: this.outcome.goalCompleted, usage: this.usage }));
    } catch (err) {
      this.d.log.warn({ err, callId: this.callId }, 'call summary failed');
      return undefined;
    }
  }

  /** The summary and extracted data, with the appointments booked on the call (001: they appear in both). */
  private withBookings(summary: string, extracted: Record<string, unknown> | undefined): { summary: string; extracted?: Record<string, unknown> } {
    if (!this.bookings.size) return { summary, extracted };
    const bookings = [...this.bookings.values()];
    return { summary: `${summary} ${bookingSentences(bookings)}`, extracted: { ...(extracted ?? {}), calendar_bookings: bookings } };
  }

  /** A short factual summary (LLM summaries replace this when a model is configured). */
  private summary(status: CallState, reason?: string): string {
    const said = this.history.length;
    if (!this.io) return `The call was not connected (${status}).`;
    const goal = this.outcome.goalCompleted ? 'The task was completed.' : 'The task was not completed.';
    const who = this.req.direction === 'inbound' ? 'A caller called in and the agent answered.' : this.answeredBy === 'machine' ? 'An answering machine answered.' : 'A person answered.';
    return `${who} ${goal} ${said} turns were spoken${reason ? `; the call ended: ${reason.replace(/_/g, ' ')}` : ''}.`;
  }

  // ---- commands from the bus -------------------------------------------------------------------

  private async onCommand(env: CommandEnvelope): Promise<void> {
    let reply: CommandReply;
    try {
      this.emit(ev.command(env.command.type));
      reply = await this.obey(env.command);
    } catch (err) {
      reply = { ok: false, error: (err as Error).message };
    }
    await this.d.bus.publish(channels.commandReplies(env.replyTo), reply);
  }

  private async obey(c: CallCommand): Promise<CommandReply> {
    // A person's command (a supervisor) is stored with who gave it, and counted as an override.
    const by = 'by' in c ? c.by : undefined;
    switch (c.type) {
      case 'say': {
        const activity = this.activity;
        if (!activity || this.phase !== 'live') return { ok: false, error: 'not_connected' };
        // The line itself is what a supervisor did (the audit trail); the command says when it was said.
        await this.rec({ type: 'override', command: c.when === 'interrupt' ? 'say' : 'say_after_sentence', value: c.text, by: c.by });
        background(this.d.log, 'supervisor line failed', this.supervisorSay(activity, c.text, c.when), { callId: this.callId });
        return { ok: true };
      }
      case 'press':
        if (!this.io || this.phase !== 'live') return { ok: false, error: 'not_connected' };
        await this.rec({ type: 'override', command: 'press', value: shownKeys(this.req, c.digits), by: c.by, keys: shownKeys(this.req, c.digits) });
        // Keys take the line's time to play: the command is acknowledged once accepted.
        background(this.d.log, 'supervisor keys failed', this.io.sendDigits(c.digits), { callId: this.callId });
        return { ok: true };
      case 'end':
        if (by) await this.rec({ type: 'override', command: 'end', by });
        background(this.d.log, 'hang-up failed', this.hangup(c.reason ?? 'ended_by_api', 'command'), { callId: this.callId });
        return { ok: true };
      case 'update':
        this.applyChanges(c.changes);
        return { ok: true };
      case 'operator_answer': {
        const q = this.question;
        if (!q) return { ok: false, error: 'no_pending_question' };
        this.question = undefined;
        q.timeout.abort();
        await this.rec(by ? { type: 'override', command: 'operator_answer', by } : { type: 'command', command: 'operator_answer' });
        this.activity?.push({ type: 'operator_answer', question: q.text, answer: c.answer });
        return { ok: true };
      }
      case 'activate':
        return this.activate(c.dropUser, c.changes, c.by);
      case 'drop_user': {
        if (!this.room) return { ok: false, error: 'not_user_on_call' };
        if (c.by) await this.rec({ type: 'override', command: 'drop_user', by: c.by });
        try {
          await this.room.dropUser();
        } catch (err) {
          this.d.log.warn({ err, callId: this.callId }, 'user-on-call drop-user failed');
          await this.writes; // whatever the room's state is now, stored before the answer (as on success)
          return { ok: false, error: 'carrier_failed' };
        }
        // The room's new state is stored before the command is acknowledged (conference-status reads it).
        await this.writes;
        return { ok: true };
      }
      case 'user_say': {
        const room = this.room;
        if (!room) return { ok: false, error: 'not_user_on_call' };
        if (!room.userSay) return { ok: false, error: 'not_supported' };
        // The line enters the transcript once said (onUserSpeech), like any line on the call.
        return room.userSay(c.text).then(
          () => ({ ok: true }),
          (err: Error & { code?: string }) => ({ ok: false, error: err.code === 'user_not_in_room' ? 'user_not_in_room' : 'carrier_failed' }),
        );
      }
      case 'transfer':
        if (!this.io) return { ok: false, error: 'not_connected' };
        if (by) await this.rec({ type: 'override', command: 'transfer', value: `${c.warm ? 'warm' : 'cold'} ${c.to}`, by });
        background(this.d.log, 'transfer failed', this.transfer(c.to, c.warm, c.reason ?? 'transferred_by_api'), { callId: this.callId });
        return { ok: true };
    }
  }

  /**
   * The agent takes over a connected user-on-call session: the brief gets the changes, then the carrier moves
   * the target to the agent (`answered` with its channel follows, and the agent's loop starts as on any call).
   */
  private async activate(dropUser: boolean, changes: LiveChanges, by?: string): Promise<CommandReply> {
    const room = this.room;
    if (!room) return { ok: false, error: 'not_user_on_call' };
    const phase = room.conferenceStatus().phase;
    if (phase === 'initiated') return { ok: false, error: 'not_connected' };
    if (phase !== 'connected' || this.closing) return { ok: false, error: this.closing ? 'not_connected' : 'already_active' };
    this.applyChanges(changes);
    await this.rec(by ? { type: 'override', command: 'activate', value: dropUser ? 'drop_user' : 'keep_user', by } : { type: 'command', command: 'activate', value: dropUser ? 'drop_user' : 'keep_user' });
    try {
      await room.activate({ dropUser });
    } catch (err) {
      this.d.log.warn({ err, callId: this.callId }, 'user-on-call activation failed');
      this.emit(ev.error('activate', err));
      // The room went back to `connected`: stored before the 500, so a client that reads it next sees that.
      await this.writes;
      return { ok: false, error: 'carrier_failed' };
    }
    await this.writes;
    return { ok: true };
  }

  /**
   * A supervisor's line: the agent gives way (at once, or once its sentence ends), the line is said in the
   * agent's voice and enters the conversation (the transcript marks it `supervisor`), and the agent goes on.
   */
  private async supervisorSay(activity: Activity, text: string, when: 'interrupt' | 'after_sentence'): Promise<void> {
    await activity.giveWay(when === 'interrupt' ? 'now' : 'after_clause');
    await activity.speak(text, 'supervisor').waitForPlayout();
  }

  /** A PATCH: the next turn sees the new brief; a new max_duration restarts its timer from now. */
  private applyChanges(ch: LiveChanges): void {
    const r = this.req;
    this.req = {
      ...r,
      ...(ch.task !== undefined ? { task: ch.task } : {}),
      ...(ch.transferNumber !== undefined ? { transferNumber: ch.transferNumber } : {}),
      ...(ch.additionalPrompt !== undefined ? { additionalPrompt: [r.additionalPrompt, ch.additionalPrompt].filter(Boolean).join('\n') } : {}),
      ...(ch.maxDurationSeconds !== undefined ? { maxDurationSeconds: ch.maxDurationSeconds } : {}),
    };
    if (ch.maxDurationSeconds !== undefined && this.io) this.startMaxDuration(ch.maxDurationSeconds);
  }

  // ---- the agent's actions -----------------------------------------------------------------------

  /** Carries out one action the agent decided (speech is the activity's) and says how it went. */
  async act(a: ReportedAction, signal: AbortSignal): Promise<ActionResult> {
    void signal; // every action here is short; a hang-up interrupts through `closing`
    const io = this.io!;
    switch (a.type) {
      case 'press':
        await io.sendDigits(a.digits);
        await this.rec({ type: 'command', command: 'press', value: shownKeys(this.req, a.digits), keys: shownKeys(this.req, a.digits) });
        return OK;
      case 'press_field': {
        const digits = keypadDigits(this.req, a.field);
        const label = keypadFieldLabel(a.field);
        if (!digits) return result.refused(`The ${label} may not be entered by keypad on this call.`);
        // An answering machine records the tones: personal details are never typed into a voicemail.
        if (this.answeredBy === 'machine') return result.refused(`The ${label} is not entered on an answering machine.`);
        await io.sendDigits(digits);
        // The transcript shows that something was typed, never what: the digits stay out of every record.
        await this.rec({ type: 'transcript', role: 'agent', text: `[entered ${label} by keypad]` });
        await this.rec({ type: 'command', command: 'press_field', value: a.field, keys: MASKED_DIGIT.repeat(digits.length) });
        return OK;
      }
      case 'wait':
        return OK;
      case 'switch_language':
        return this.switchLanguage(a.language);
      case 'end':
        this.outcome = { ...this.outcome, goalCompleted: a.goalCompleted, reason: a.reason };
        await this.rec({ type: 'command', command: 'end_call', value: a.reason });
        await this.hangup(a.reason, 'agent');
        return OK;
      case 'transfer': {
        const to = a.to || this.req.transferNumber;
        if (!to || !this.mayTransferTo(to)) {
          await this.rec({ type: 'command', command: 'transfer_refused' });
          return result.refused('That transfer destination is not allowed for this call.');
        }
        return this.transfer(to, a.warm, 'transferred');
      }
      case 'ask_operator':
        await this.askOperator(a.question);
        return { ok: true, pending: true };
      case 'human_answered':
        if (this.humanReached) return OK;
        this.humanReached = true;
        await this.rec({ type: 'command', command: 'human_answered' });
        // With a transfer number, a person on the line is the moment to hand over (001: auto transfer).
        if (this.req.transferNumber) return this.transfer(this.req.transferNumber, false, 'auto_transfer');
        return OK;
      case 'calendar':
        return this.useCalendar(a.request);
    }
  }

  /** A calendar request from the agent, carried out in the call's time zone with the call's permissions. */
  private async useCalendar(request: CalendarRequest): Promise<ActionResult> {
    const c = this.req.calendar;
    if (!c?.enabled || !c.keyId || !c.timeZone || !this.d.calendar) return result.unavailable('There is no calendar on this call.');
    const calendars = this.d.calendar;
    const keyId = c.keyId;
    this.calendar ??= this.d.clock.hold(calendars.open(keyId));
    let calendar: Calendar | null;
    try {
      calendar = await this.calendar;
    } catch (err) {
      this.calendar = undefined;
      this.d.log.warn({ err, callId: this.callId }, 'calendar could not be opened');
      return result.failed('The calendar could not be reached.');
    }
    const r = await this.d.clock.hold(
      runCalendarRequest(calendar, request, { timeZone: c.timeZone, permissions: c.permissions, booked: this.bookings, now: this.d.clock.now() }),
    );
    if (!r.ok) {
      await this.rec({ type: 'command', command: `calendar_${request.op}_refused` });
      return { ok: false, error: r.error, message: r.message };
    }
    // A change is stored as a command event (what and when, never who): it shows in the call's events and summary.
    if (r.booking) await this.rec({ type: 'command', command: `calendar_${r.booking.status}`, value: `${r.booking.start} ${r.booking.title}`.slice(0, 200) });
    return { ok: true, data: r.data };
  }

  /**
   * The callee cannot follow the call's language: from now on the agent speaks (and the carrier's speech
   * runs in) `language`; the brief, and so the next prompt, says so. Carriers that do the speech are told.
   */
  private async switchLanguage(language: string): Promise<ActionResult> {
    if (language === this.req.language) return OK;
    try {
      await this.io?.setLanguage?.(language);
    } catch (err) {
      this.d.log.warn({ err, callId: this.callId }, 'language switch failed');
      return result.failed('The language could not be switched.');
    }
    this.req = { ...this.req, language };
    await this.rec({ type: 'command', command: 'switch_language', value: language });
    return OK;
  }

  // ---- transfers --------------------------------------------------------------------------------

  /** The transfer number of the call, or a number the task or the extra instructions name. */
  private mayTransferTo(to: string): boolean {
    if (to === this.req.transferNumber) return true;
    const digits = to.replace(/\D/g, '');
    const allowed = `${this.req.task} ${this.req.additionalPrompt}`.replace(/[^\d+]/g, ' ');
    return digits.length >= 6 && allowed.split(/\s+/).some((n) => n.replace(/\D/g, '') === digits);
  }

  /** Hands the callee to `to`; ok when the agent's part of the call is over. */
  private async transfer(to: string, warm: boolean, reason: string): Promise<ActionResult> {
    const io = this.io;
    if (!io?.transfer || !this.d.carrier.capabilities.transfer) {
      await this.rec({ type: 'command', command: 'transfer_unavailable' });
      return result.unavailable('Transfer is not available on this call.');
    }
    await this.rec({ type: 'command', command: 'transfer', value: `${warm ? 'warm' : 'cold'} ${to}` });
    const before = this.outcome;
    this.outcome = { ...before, goalCompleted: before.goalCompleted ?? true, reason, closedBy: 'transfer', transferred: true };
    try {
      const briefing = warm ? `Transferring a call about: ${this.brief().task}` : undefined;
      await io.transfer(to, { warm, briefing });
      // The agent's part of the call is over: no turn acts any more.
      if (this.phase === 'live') this.phase = 'closing';
      return OK;
    } catch (err) {
      this.outcome = before;
      this.d.log.warn({ err, callId: this.callId }, 'transfer failed');
      this.emit(ev.error('transfer', err));
      await this.rec({ type: 'command', command: 'transfer_failed' });
      return result.failed('The transfer failed.');
    }
  }

  // ---- the operator ---------------------------------------------------------------------------

  private question: { text: string; timeout: AbortController } | undefined;

  /**
   * Records the question for the operator (API: POST /v1/calls/:callSid/operator-answer). The answer
   * comes back as an input; without one in time, the agent is told so and carries on.
   */
  private async askOperator(question: string): Promise<void> {
    this.question?.timeout.abort();
    const timeout = new AbortController();
    this.question = { text: question, timeout };
    await this.rec({ type: 'command', command: 'ask_operator', value: question });
    this.after(this.d.settings.operatorAnswerTimeoutSeconds * 1000, AbortSignal.any([timeout.signal, this.life.signal]), 'operator question timer failed', async () => {
      if (this.question?.timeout !== timeout) return;
      this.question = undefined;
      this.emit(ev.timer('operator_answer'));
      this.activity?.push({ type: 'operator_answer', question, answer: null });
      await this.rec({ type: 'command', command: 'operator_timeout' });
    });
  }

  // ---- timers ----------------------------------------------------------------------------------

  private startTimers(): void {
    if (this.req.maxDurationSeconds) this.startMaxDuration(this.req.maxDurationSeconds);
    const queue = this.req.maxQueueSeconds;
    if (queue && queue > 0 && this.answeredBy !== 'machine') {
      this.after(queue * 1000, this.life.signal, 'queue timer failed', async () => {
        if (this.humanReached || this.closing) return;
        this.emit(ev.timer('max_queue_time'));
        this.outcome.goalCompleted ??= false; // a timer, not the agent, ended it
        await this.hangup('queue_timeout', 'timer');
      });
    }
  }

  private maxDurationTimer: AbortController | undefined;

  /** `max_duration` counts connected seconds from now: then a short goodbye, and the call ends. */
  private startMaxDuration(seconds: number): void {
    this.maxDurationTimer?.abort();
    const t = (this.maxDurationTimer = new AbortController());
    this.after(seconds * 1000, AbortSignal.any([t.signal, this.life.signal]), 'max duration timer failed', () => this.maxDurationReached());
  }

  /** The goodbye is best effort: whatever happens to it, the call is hung up. */
  private async maxDurationReached(): Promise<void> {
    if (this.closing) return;
    this.emit(ev.timer('max_duration'));
    this.outcome.reason = 'max_duration';
    this.outcome.goalCompleted ??= false; // a timer, not the agent, ended it
    this.outcome.closedBy = 'timer';
    try {
      const activity = this.activity!;
      activity.interrupt();
      await activity.settle();
      await activity.speak(goodbyeLine(this.req.language), 'engine').waitForPlayout();
    } catch (err) {
      this.d.log.error({ err, callId: this.callId }, 'max duration goodbye failed');
    } finally {
      await this.hangup('max_duration', 'timer');
    }
  }
}
