/**
 * One event vocabulary per live call: what the call controller and the agent activity report while a call
 * runs, keyed by `type` (like LiveKit agents-js' `voice/events.ts` and Pipecat's frames). Tests pin the
 * engine's behaviour down by asserting exact sequences of these; the controller turns some of them into
 * stored call events (transcripts, commands). They live in memory only: never logged (they carry what
 * was said).
 */
import type { ActionResult, AgentAction } from './brain.js';

/** What the agent is doing: `initializing` until the call is answered and its brain starts. */
export type AgentState = 'initializing' | 'listening' | 'thinking' | 'speaking';

/** What the person on the line is doing, as far as the I/O can tell; `away` once they hung up. */
export type UserState = 'listening' | 'speaking' | 'away';

/** Who spoke a line: the brain's reply, the engine's own words (the max-duration goodbye), or a supervisor. */
export type SpeechSource = 'brain' | 'engine' | 'supervisor';

/**
 * Why the agent's part of the call closed: the agent ended it, the far end hung up, it was handed over,
 * a timer fired, a command (API, supervisor, shutdown) ended it, or something failed.
 */
export type CloseReason = 'agent' | 'callee' | 'transfer' | 'timer' | 'command' | 'error';

/** An action as reported in events: personal digits never appear (a keypad field is named, not typed out). */
export type ReportedAction = Exclude<AgentAction, { type: 'say' }>;

export type SessionEvent =
  /** The carrier's progress (`ended` carries the carrier's end status). */
  | { type: 'carrier_progress'; status: 'ringing' | 'answered' | 'ended' }
  | { type: 'agent_state_changed'; old: AgentState; new: AgentState }
  | { type: 'user_state_changed'; old: UserState; new: UserState }
  /** A transcript of the callee: interim ones may change; a final one is what was said. */
  | { type: 'user_input_transcribed'; transcript: string; final: boolean }
  | { type: 'dtmf_received'; digits: string }
  /** A speech handle was created (queued for playout). */
  | { type: 'speech_created'; id: number; source: SpeechSource }
  /** A speech handle finished: heard in full, or interrupted with the part that was heard. */
  | { type: 'speech_done'; id: number; heard: string; interrupted: boolean }
  /** A line entered the conversation (the brain's history and the call's transcript); `source`: whose words the agent's voice said. */
  | { type: 'conversation_item_added'; role: 'agent' | 'callee'; text: string; source?: SpeechSource }
  /** An action other than speech was carried out (or refused), with its result as the brain got it. */
  | { type: 'action_executed'; action: ReportedAction; result: ActionResult }
  /** A command arrived over the bus (API, supervisor). */
  | { type: 'command_received'; command: string }
  | { type: 'timer_fired'; timer: 'max_duration' | 'max_queue_time' | 'operator_answer' }
  /** Something failed and was dealt with (the call went on, or ended with a reason). */
  | { type: 'error'; where: string; error: string }
  /** The agent's part of the call is over; `reason` is the call's end reason. */
  | { type: 'close'; closedBy: CloseReason; reason?: string };

export type SessionEventType = SessionEvent['type'];

/** Receives a call's events in order (tests, and later the dashboard's live view). Must not throw. */
export type SessionObserver = (callId: string, event: SessionEvent) => void;

/** Factories: one place that builds each event. */
export const ev = {
  carrier: (status: 'ringing' | 'answered' | 'ended'): SessionEvent => ({ type: 'carrier_progress', status }),
  agentState: (old: AgentState, next: AgentState): SessionEvent => ({ type: 'agent_state_changed', old, new: next }),
  userState: (old: UserState, next: UserState): SessionEvent => ({ type: 'user_state_changed', old, new: next }),
  transcribed: (transcript: string, final: boolean): SessionEvent => ({ type: 'user_input_transcribed', transcript, final }),
  dtmf: (digits: string): SessionEvent => ({ type: 'dtmf_received', digits }),
  speechCreated: (id: number, source: SpeechSource): SessionEvent => ({ type: 'speech_created', id, source }),
  speechDone: (id: number, heard: string, interrupted: boolean): SessionEvent => ({ type: 'speech_done', id, heard, interrupted }),
  item: (role: 'agent' | 'callee', text: string, source?: SpeechSource): SessionEvent => ({ type: 'conversation_item_added', role, text, ...(source ? { source } : {}) }),
  action: (action: ReportedAction, result: ActionResult): SessionEvent => ({ type: 'action_executed', action, result }),
  command: (command: string): SessionEvent => ({ type: 'command_received', command }),
  timer: (timer: 'max_duration' | 'max_queue_time' | 'operator_answer'): SessionEvent => ({ type: 'timer_fired', timer }),
  error: (where: string, err: unknown): SessionEvent => ({ type: 'error', where, error: err instanceof Error ? err.message : String(err) }),
  close: (closedBy: CloseReason, reason?: string): SessionEvent => ({ type: 'close', closedBy, ...(reason ? { reason } : {}) }),
};
