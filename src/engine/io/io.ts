/**
 * The agent activity's one I/O interface: the person on the line comes in as user events, and speech goes
 * out clause by clause. Every way of carrying a call's speech implements it, so turn-taking, barge-in and
 * speech handles are written once (LiveKit agents-js `voice/io.ts`; Pipecat translates wire formats at the
 * transport, and so do we: carrier messages stop in the carrier, the activity sees only these types).
 *
 * Implementations:
 * - `TextIO` (./text-io.ts): carriers that do speech themselves and exchange text (the simulated
 *   network's line, Twilio ConversationRelay).
 * - `AudioIO` (../voice/audio-io.ts), the cascaded audio pipeline: an `AgentIO` over a carrier's
 *   `AudioChannel` — voice activity detection and streaming speech-to-text make the user events,
 *   `playClause` is streaming text-to-speech into paced μ-law frames with a mark at the clause's end.
 * A speech-to-speech model does its own turn-taking: it is another `Activity` (../activity.ts), not an I/O.
 */
import type { SayResult } from '../../carriers/carrier.js';

/**
 * What the person on the line does. `speech_started` may interrupt the agent (barge-in); a final
 * `transcript` is what they said. Text carriers report `speech_started` only when someone talks over the
 * agent, and an utterance's end only by its final transcript; audio pipelines report both ends and
 * interim transcripts too.
 */
export type UserInput =
  | { type: 'speech_started' }
  | { type: 'speech_ended' }
  /** `sttMs` (audio pipelines, final ones): from the end of the callee's sound to this transcript. */
  | { type: 'transcript'; text: string; final: boolean; sttMs?: number }
  | { type: 'dtmf'; digits: string }
  /** The far end hung up (the carrier's `ended` follows). */
  | { type: 'hangup' };

/**
 * How one clause fared: heard in full, or cut off (barge-in, abort, the end of the call) with the part heard.
 * Audio pipelines add when its first frame went out (ms after `playClause` was called) and how long the
 * text-to-speech took to its first byte, for the turn's latency figures.
 */
export type PlayoutResult = SayResult & { audio?: { firstFrameMs: number; ttsFirstByteMs: number | null } };

/** What an I/O can do besides speaking and hearing; the activity and the controller read these, never the kind. */
export interface IOCapabilities {
  /** Reports interim transcripts and `speech_ended` (audio pipelines). */
  interimTranscripts: boolean;
  /**
   * A streamed reply's first clause ("Sure,") is handed over as soon as the model has written it, so its speech
   * starts before the sentence is complete: the cascaded pipeline's synthesis, and a far end that takes a reply
   * as streamed text (ConversationRelay). Where the far end takes whole texts (the simulated network's
   * people), whole sentences go.
   */
  earlyFirstClause: boolean;
}

export interface AgentIO {
  readonly capabilities: IOCapabilities;
  /** Receives the user's side (one listener; inputs that came before it are kept and delivered). */
  onInput(listener: (input: UserInput) => void): void;
  /**
   * Speaks one clause. Resolves once it was heard in full, or cut off (the callee spoke over it, `signal`
   * aborted, the call ended) with the part that was heard. Clauses are played one at a time, in order.
   */
  playClause(text: string, signal: AbortSignal): Promise<PlayoutResult>;
  /**
   * The clause after the one playing will be `text` (dropped when `signal` aborts): an audio pipeline starts
   * synthesising it now, so the next `playClause(text)` has no wait. Absent where speech needs no preparing.
   */
  prepareClause?(text: string, signal: AbortSignal): void;
  /**
   * The reply being played has no more clauses (its text ended, or it was cut short): an I/O whose far end
   * takes a reply as streamed text closes it (ConversationRelay's `last: true`). Absent where clauses stand alone.
   */
  endReply?(): void;
  sendDigits(digits: string): Promise<void>;
  hangup(): Promise<void>;
  /** Hands the callee over to `to`; absent where the line cannot transfer. */
  transfer?(to: string, opts: { warm: boolean; briefing?: string }): Promise<void>;
  /** From now on speak and hear `language`; absent where the speech needs no telling. */
  setLanguage?(language: string): Promise<void>;
  /** The call is over: release what the I/O holds (speech streams) and report its usage. Never rejects. */
  close?(): Promise<void>;
}
