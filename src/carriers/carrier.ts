import type { CallUsage } from '../core/credits/usage.js';

/**
 * The telephony side of a call, behind one small interface. A carrier dials, reports the call's progress
 * as `CarrierEvent`s and, once answered, hands the engine a `VoiceChannel` to talk through (in audio
 * mode, an `AudioChannel` of μ-law frames). Carrier wire formats stop here: the engine sees only these
 * types. Capabilities are data: the engine reads the flags and never asks which carrier it has.
 */

export interface CarrierCapabilities {
  /** Can send keypad digits into the call. */
  dtmfOut: boolean;
  /** Exchanges text (the carrier does speech recognition and synthesis). */
  textMode: boolean;
  /** Exchanges μ-law audio frames (the engine does speech). */
  mediaStream: boolean;
  /** Knows in advance which destinations exist (the simulated network). */
  knowsDestinations: boolean;
  /** Can hand the callee over to another number (cold or warm). */
  transfer: boolean;
  /** Delivers calls that ring our numbers (`onInbound`). */
  inbound?: boolean;
  /** Verifies caller IDs by calling the number with a code the owner types (`verifyCallerId`). */
  callerIdVerification?: boolean;
  /** Puts a user (an operator) and the target in one room, and lets the agent take over (`startUserOnCall`). */
  userOnCall?: boolean;
  /**
   * With `userOnCall`: the user may stay when the agent takes over (`activate` with `dropUser: false`), all
   * three in one room. Without it, activation always leaves the user out of the agent's conversation.
   */
  userOnCallThreeWay?: boolean;
  /** Records calls that ask for it (`record`) and hands the recording over (`onRecording`, `fetchRecording`). */
  recording?: boolean;
  /**
   * Text-mode carriers whose speech the callee hears (ConversationRelay): the voices they synthesise
   * themselves, by provider. A call whose voice is not among them runs in audio mode (the engine speaks).
   * Absent: the carrier's text mode is not heard as audio (the simulated network), so any voice will do.
   */
  textVoices?: TextVoices;
}

/**
 * By provider (`elevenlabs`, …): the models a text-mode carrier's own synthesis takes (any when absent) and
 * the voice settings it can carry (none when absent).
 */
export type TextVoices = Readonly<Record<string, { models?: readonly string[]; settings?: readonly (keyof NonNullable<CarrierVoice['settings']>)[] }>>;

/**
 * The voice a call speaks with (core/voice resolves it from the call's fields), as plain data: for carriers
 * that synthesise speech themselves in text mode.
 */
export interface CarrierVoice {
  /** `openai`, `elevenlabs`, `azure`, `espeak`. */
  provider: string;
  /** The provider's voice id or name. */
  voice: string;
  model?: string;
  /** ElevenLabs voice settings (an agent's `voice_settings`). */
  settings?: { stability?: number; similarityBoost?: number; style?: number; useSpeakerBoost?: boolean; speed?: number };
}

/**
 * A call's recording is ready at the carrier: `ref` is the carrier's own handle on it (plain JSON, kept in
 * a job until it is fetched), given back to `fetchRecording`.
 */
export interface RecordingReady {
  /** Switchboard's call id. */
  callId: string;
  ref: unknown;
}

/**
 * A user-on-call session (001 "User-on-call explained"): the user's leg and the target's leg are dialled
 * into one conference room and talk; on `activate` the target is moved to the agent.
 */
export interface UserOnCallRequest {
  /** The engine's call (the target's leg is that call). */
  callId: string;
  sid: string;
  /** The user's (operator's) phone (E.164). */
  user: string;
  /** The number the call is about (E.164). */
  target: string;
  from?: string;
  /** BCP 47-ish language code the agent speaks after activation. */
  language: string;
  /** The voice the agent speaks with after activation (as in DialRequest). */
  voice?: CarrierVoice;
  /** Seconds each leg rings before giving up. */
  ringTimeoutSeconds?: number;
  /**
   * Called with the session's status whenever its phase or a leg's status changes (the engine keeps the
   * call's `conference-status` from it). Must not throw.
   */
  onRoomChange?(status: ConferenceStatus): void;
  /**
   * Called with each line the user says in the room, where the carrier knows it as text (the simulated
   * network: a scripted user, or a person at the dashboard through `userSay`). Must not throw.
   */
  onUserSpeech?(text: string): void;
}

/** `initiated` legs dialled → `connected` both in the room → `ai_takeover` activation asked → `active` the agent talks → `completed`. */
export type UserOnCallPhase = 'initiated' | 'connected' | 'ai_takeover' | 'active' | 'completed';

/** One leg of a user-on-call session, as the carrier last heard of it. */
export interface ConferenceParticipant {
  label: 'user' | 'target';
  callSid: string;
  status: 'queued' | 'ringing' | 'connected' | CarrierEndStatus;
}

/**
 * The agent listening to the room before activation (a media fork of the target's leg):
 * `idle` not asked yet (the target has not answered) → `starting` fork requested → `listening` the carrier
 * confirmed it → `stopped` (activation, the target's leg or the room ended, or the fork closed); `failed`
 * the carrier refused the fork (the user and the target still talk; the agent just hears nothing).
 */
export type ListenState = 'idle' | 'starting' | 'listening' | 'stopped' | 'failed';

export interface ConferenceStatus {
  /** The conference room's name (unique per call). */
  room: string;
  phase: UserOnCallPhase;
  participants: ConferenceParticipant[];
  /** Whether the agent is listening to the room (see `UserOnCallHandle.listen`). */
  listening: ListenState;
}

/**
 * One frame of the room heard from the target's leg: G.711 μ-law, 8 kHz, mono (Twilio: 20 ms, 160 bytes).
 * `inbound` is the target's voice; `outbound` is what the target hears (the room: the user).
 */
export interface ListenFrame {
  track: 'inbound' | 'outbound';
  frame: Uint8Array;
}

/**
 * A running user-on-call session. The target's leg reports through `onEvent` like a dialled call:
 * `ringing`, then `answered` with the agent's channel only once `activate` has moved the target to the
 * agent, and `ended` when the target's leg ends (the user's leg is then dropped too). `hangup` ends both legs.
 */
export interface UserOnCallHandle extends CarrierCallHandle {
  readonly room: string;
  readonly userCallSid: string;
  readonly targetCallSid: string;
  conferenceStatus(): ConferenceStatus;
  /**
   * Moves the target's leg to the agent (only while `connected`); with `dropUser`, also ends the user's leg.
   * Rejects when the session is not connected or the carrier refused the redirect (the legs stay as they were).
   */
  activate(opts: { dropUser: boolean }): Promise<void>;
  /** Ends the user's leg; the target's leg goes on. Idempotent. */
  dropUser(): Promise<void>;
  /**
   * Where the user's leg is text (the simulated network): a person at the dashboard says `text` as the user,
   * heard in the room and reported through `onUserSpeech`. Rejects while the user is not in the room.
   */
  userSay?(text: string): Promise<void>;
  /**
   * The room as the agent hears it before activation, for the engine's voice layer (silent listening:
   * nothing is ever sent into the room this way). The carrier forks the target's leg once it is in the
   * room (`conferenceStatus().listening`); frames of both tracks arrive interleaved, each track in order.
   * Frames that arrive before anyone iterates are kept (the most recent minute). One iteration at a
   * time; it ends when listening stops: on `activate` (before the target is moved to the agent), when the
   * target's leg or the room ends, on `hangup`, or when the fork could not be started or closed.
   */
  listen(): AsyncIterable<ListenFrame>;
}

/** A caller-ID verification call: the carrier calls `phoneNumber` and asks its owner to type `code`. */
export interface CallerIdVerificationRequest {
  /** Switchboard's verification id (for logs and correlation). */
  verificationId: string;
  /** The number to verify (E.164). */
  phoneNumber: string;
  /** Switchboard's proposed validation code (6 digits). */
  code: string;
  /**
   * Called once, as soon as the carrier knows the code the owner will actually be asked to type: the
   * proposed one, or the carrier's own (Twilio chooses its code). The API answers with that code.
   */
  onCode?(code: string): void;
}

/** How a verification call ended: the code was typed (`verified`) or not (`failed`: not typed, not answered, no such number). */
export type CallerIdVerificationResult = 'verified' | 'failed';

export interface DialRequest {
  callId: string;
  sid: string;
  to: string;
  from?: string;
  /** BCP 47-ish language code of the call (`en`, `sv`, …). */
  language: string;
  /** Seconds to ring before giving up as no-answer. */
  ringTimeoutSeconds?: number;
  record: boolean;
  /**
   * How the call's speech is carried (default `text`): `text` — the carrier does speech and exchanges text
   * (`answered` carries a VoiceChannel); `audio` — the carrier exchanges μ-law frames (`answered` carries
   * an AudioChannel; carriers with the `mediaStream` capability). The engine asks for text only, for now.
   */
  voiceMode?: VoiceMode;
  /** The call's voice, for a text-mode carrier that synthesises speech itself (`textVoices`). */
  voice?: CarrierVoice;
  /**
   * The carrier account to place the call on, when `from` is a number stored with credentials of its own;
   * absent: the deployment's account. Opaque here (see CarrierAccount).
   */
  account?: CarrierAccount;
}

/**
 * A number's own carrier credentials, unsealed, as stored with it (Twilio: `{account_sid, auth_token}`).
 * Only the carrier reads its fields; a carrier without accounts (the simulated network) ignores it. Secret:
 * never logged, stored or put in an event.
 */
export type CarrierAccount = Readonly<Record<string, unknown>>;

/** How a call's speech is carried: as text (the carrier does speech) or as audio frames (the engine does). */
export type VoiceMode = 'text' | 'audio';

/** How a call that never connected, or that connected and then ended, finished on the carrier side. */
export type CarrierEndStatus = 'completed' | 'busy' | 'no_answer' | 'failed' | 'canceled';

export type AnsweredBy = 'human' | 'machine' | 'unknown';

export type CarrierEvent =
  | { type: 'ringing' }
  | { type: 'answered'; answeredBy: AnsweredBy; channel: VoiceChannel; mode?: 'text' }
  /** Answered in audio mode (the call asked for `voiceMode: 'audio'`): the engine's voice layer does the speech. */
  | { type: 'answered'; answeredBy: AnsweredBy; mode: 'audio'; audio: AudioChannel }
  | { type: 'ended'; status: CarrierEndStatus; reason?: string; error?: string; usage?: CarrierUsage };

/**
 * What the carrier used on a call, reported with its `ended` event (billing, docs/billing.md): connected
 * time, media streamed, and, for carriers that do the speech (text mode), their recognition and synthesis.
 */
export type CarrierUsage = Partial<Pick<CallUsage, 'connectedSeconds' | 'mediaSeconds' | 'sttSeconds' | 'ttsCharacters'>>;

/** What the callee's side sends to the agent through a voice channel. */
export type CalleeInput =
  /** A finished utterance of the callee (a final transcript). */
  | { type: 'speech'; text: string }
  /** The callee has started speaking (barge-in signal); may be followed by `speech`. */
  | { type: 'speech_started' }
  /** Keypad digits pressed on the far end. */
  | { type: 'dtmf'; digits: string }
  /** The far end hung up. */
  | { type: 'hangup' };

export type SayResult = { done: true } | { done: false; heard: string };

/** How a transfer goes (`VoiceChannel.transfer`, `AudioChannel.transfer`). */
export interface TransferOptions {
  /** Cold: the agent leaves at once; warm: `briefing` is said to the destination before the agent leaves. */
  warm: boolean;
  briefing?: string;
  /**
   * Audio calls: called right before the callee's leg is handed over. Resolves once the agent's outbound
   * audio has been heard to the end of what was being said (or cleared, what was heard kept) and nothing
   * more will be played, so the callee hears no word cut off by the redirect. Resolves with the undo, for a
   * hand-over that failed (the agent may speak again).
   */
  quiet?: () => Promise<() => void>;
}

/**
 * The live speech path of an answered call in text mode (the carrier does the audio).
 * Audio modes (Media Streams, realtime models) implement the same interface in the engine's voice layer,
 * on top of an AudioChannel.
 */
export interface VoiceChannel {
  /**
   * Speaks `text` to the callee. Resolves when it has been said in full (`{done: true}`), or when the
   * callee spoke over it or `signal` aborted, with the part that was actually heard.
   */
  say(text: string, signal?: AbortSignal): Promise<SayResult>;
  /**
   * Carriers that take a reply as streamed text (ConversationRelay): `text` goes to the far end now, as the
   * next part of the reply being spoken, to be said after what is already queued — no gap while it waits for
   * the part before it to be heard. The `say(text)` that follows for it sends nothing more and resolves once
   * it was heard. `endReply` closes the reply (a `say` not prepared is a whole reply on its own).
   */
  prepareSay?(text: string, signal: AbortSignal): void;
  endReply?(): void;
  sendDigits(digits: string): Promise<void>;
  /** Ends the call from our side. */
  hangup(): Promise<void>;
  /**
   * Hands the callee over to `to` (carriers with the `transfer` capability). Cold: the agent leaves at once;
   * warm: `briefing` is said to the destination before the agent leaves. The agent's part of the call ends:
   * the carrier then reports `ended` with `completed`, reason `transferred`, and no `hangup` input.
   */
  transfer?(to: string, opts: TransferOptions): Promise<void>;
  /** Receives the callee's side. Only one listener is kept. */
  onInput(listener: (input: CalleeInput) => void): void;
  /**
   * Carriers that do the speech (ConversationRelay): from now on synthesise and recognise `language`
   * (BCP 47, `es-ES`). Absent where the text needs no telling (the simulated network).
   */
  setLanguage?(language: string): Promise<void>;
}

/** What the far end sends through an audio channel besides its audio. */
export type AudioInput = Extract<CalleeInput, { type: 'dtmf' | 'hangup' }>;

/** How queued audio fared: heard in full (`played`), or dropped by `clear()` or the end of the call. */
export interface PlayResult {
  played: boolean;
}

/**
 * The live audio path of an answered call in audio mode (the carrier moves frames; the engine's voice
 * layer does speech: STT → LLM → TTS, or a speech-to-speech model). Audio is G.711 μ-law, 8 kHz, mono,
 * both ways. The channel outlives the carrier's own transports: when the carrier has to reconnect its
 * stream (e.g. to send digits), frames keep flowing through the same channel.
 */
export interface AudioChannel {
  /**
   * The callee's audio, in order, as the carrier delivers it (Twilio: 20 ms, 160-byte frames). One
   * iteration at a time; it ends when the far end is gone or the call ends.
   */
  frames(): AsyncIterable<Uint8Array>;
  /**
   * The callee's audio as `frames()` would give it, handed to `listener` synchronously as each frame arrives:
   * no promise per frame (50 a second a call). A channel has one reader: once this is called, `frames()`
   * yields nothing more (frames already queued go to the listener first). The listener must not throw.
   * Absent: iterate `frames()`.
   */
  onFrame?(listener: (frame: Uint8Array) => void): void;
  /**
   * Queues audio for the callee. Resolves when all of it has been heard (`played: true`) or when it was
   * dropped (`clear()`, the call ended, or no stream was attached — await `sendDigits` before playing).
   */
  play(mulaw: Uint8Array): Promise<PlayResult>;
  /**
   * Queues audio for the callee like `play`, with no report of when it was heard: for a caller that marks the
   * end of what it plays itself (the cascaded pipeline sends 50 frames a second a call; a report for each
   * cost a mark message each way). `clear()` still counts what was heard (to within the channel's own
   * bookkeeping: Twilio's to 100 ms). Absent: `play` it and leave the result.
   */
  send?(mulaw: Uint8Array): void;
  /**
   * The audio per outbound message this carrier takes best, in ms: 20 (the default when absent) up to 100, a
   * multiple of 20. Twilio plays a `media` message of any length, so its channel takes 80 ms: a quarter of the
   * messages (socket writes, framing, base64 calls) of 20 ms frames, at the same 40 ms cushion ahead of real
   * time (engine/voice/pacer.ts).
   */
  readonly outboundFrameMs?: number;
  /**
   * How far ahead of real time this carrier's audio is kept, in ms: 40 (the default when absent) up to 200, a
   * multiple of 20. A longer cushion rides out longer stalls of our event loop without a gap in what the callee
   * hears; a barge-in's `clear` drops it at the carrier all the same (engine/voice/pacer.ts).
   */
  readonly outboundLeadMs?: number;
  /** Marks the current end of the queued audio; resolves like `play` once the audio before it was heard or dropped. */
  mark(name: string): Promise<PlayResult>;
  /** Barge-in: drops the audio not yet heard (pending plays and marks resolve unplayed). Returns at most how many ms were dropped. */
  clear(): number;
  /** Sends keypad digits (`0-9 * # A-D`, `w` = 0.5 s pause); resolves once they have been played and audio flows again. */
  sendDigits(digits: string): Promise<void>;
  /** Ends the call from our side. */
  hangup(): Promise<void>;
  /**
   * Hands the callee over to `to`, as `VoiceChannel.transfer` (carriers with the `transfer` capability
   * whose audio calls can be handed over; absent where they cannot). The frames end; the carrier reports
   * `ended` with `completed`, reason `transferred`, and no `hangup` input.
   */
  transfer?(to: string, opts: TransferOptions): Promise<void>;
  /** Receives keypad digits pressed on the far end and its hang-up. Only one listener is kept. */
  onInput(listener: (input: AudioInput) => void): void;
}

/** What the engine needs to know to answer an inbound call. */
export interface AnswerRequest {
  callId: string;
  sid: string;
  /** BCP 47-ish language code of the call (the answering agent's). */
  language: string;
  record: boolean;
  /** As in DialRequest (default `text`). */
  voiceMode?: VoiceMode;
  /** As in DialRequest. */
  voice?: CarrierVoice;
}

/**
 * A call ringing one of our numbers, handed to the engine by a carrier with the `inbound` capability.
 * The engine either answers it (then it runs like an answered outbound call: `answered` with the channel,
 * later `ended`, through `onEvent`) or rejects it (the caller hears `message`, if any, and the line drops).
 * Exactly one of the two is called, once.
 */
export interface InboundCall {
  /** The caller's number (E.164). */
  from: string;
  /** Our number that was dialled (E.164). */
  to: string;
  answer(req: AnswerRequest, onEvent: (e: CarrierEvent) => void): Promise<CarrierCallHandle>;
  reject(message?: string): Promise<void>;
}

export interface CarrierCallHandle {
  /** The carrier's own id of the call (Twilio's Call SID), when it has one apart from Switchboard's `sid`. */
  readonly carrierCallSid?: string;
  /** Hangs up (or cancels, while ringing). Idempotent. */
  hangup(): Promise<void>;
}

export interface Carrier {
  readonly name: string;
  readonly capabilities: CarrierCapabilities;
  /**
   * Places a call. Progress arrives through `onEvent` (`ringing`, `answered` with its channel, `ended`),
   * in order, each at most once; `ended` is always the last.
   */
  dial(req: DialRequest, onEvent: (e: CarrierEvent) => void): Promise<CarrierCallHandle>;
  /** With `knowsDestinations`: why `to` cannot be dialled, or null when it can. */
  checkDestination?(to: string): string | null;
  /** With `inbound`: receives every call that rings one of our numbers (one handler is kept). */
  onInbound?(handler: (call: InboundCall) => void): void;
  /**
   * With `callerIdVerification`: places the verification call and resolves once it is over, with whether
   * the owner typed the code. Twilio: the OutgoingCallerIds validation request; sim: a scenario decides.
   */
  verifyCallerId?(req: CallerIdVerificationRequest): Promise<CallerIdVerificationResult>;
  /**
   * With `userOnCall`: dials the user and the target into one room (see `UserOnCallHandle`). Resolves once
   * both legs are placed; rejects (with nothing left dialling) when either could not be placed.
   */
  startUserOnCall?(req: UserOnCallRequest, onEvent: (e: CarrierEvent) => void): Promise<UserOnCallHandle>;
  /**
   * With `recording`: receives every recording of a call that asked for one, once the carrier has it (after
   * the call; for Twilio, when its recording status callback arrives). One handler is kept.
   */
  onRecording?(handler: (r: RecordingReady) => void): void;
  /** With `recording`: the audio of a recording announced to `onRecording`, as a WAV file. Rejects while not ready. */
  fetchRecording?(ref: unknown): Promise<Buffer>;
}
