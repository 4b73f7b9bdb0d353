/**
 * The agent's mind: what to say and do next. The rules brain (offline) and the LLM brains implement it;
 * the agent activity (./agent-activity.ts: turns, speech) drives it and the call controller
 * (./call-session.ts) carries its actions out. A brain never sees the carrier.
 *
 * A turn is a generator: the brain yields actions, and each `yield` evaluates to that action's result
 * (`const r = yield { type: 'press_field', field: 'phone' }` → `{ ok: false, error: 'not_allowed', … }`),
 * so the outcome goes back to whoever asked, as a value, never as a note in the history.
 */

import type { Persona, SharePolicy } from '../core/calls/persona.js';
import type { CalendarRequest } from '../core/calendar/agent-requests.js';
import type { UsageReporter } from '../core/credits/usage.js';
import type { TaskKeypadField } from '../core/privacy/index.js';

export type { Persona, SharePolicy };

/** A detail the agent may type without seeing it: a persona field, or a number found in the task text. */
export type KeypadField = 'phone' | 'personal_security_number' | TaskKeypadField;

/** What the agent knows about its call. Personal fields the share policy forbids are already left out. */
export interface AgentBrief {
  /** The task, with personal data written into it replaced by placeholders (core/privacy/task-text.ts). */
  task: string;
  additionalPrompt: string;
  /** Normalised language code (`en`, `sv`, …). */
  language: string;
  /** Persona fields the agent may say aloud (never a field whose `*_voice` flag is false). */
  persona: Persona;
  /** Persona fields the agent may type on the keypad without seeing them. */
  keypadFields: KeypadField[];
  transferNumber?: string;
  /** The agent's own system prompt (an agents/tasks or Truedy agent), variables already rendered. */
  agentPrompt?: string;
  /** The agent's opening line (its starting message), variables already rendered. */
  greeting?: string;
  /** Someone called us (`from`, when known): the agent answers, speaks first, and helps the caller. */
  inbound?: { from?: string };
  /** `enable_calendar`: the client's calendar, read (free times) and, with `write`, booked; times in `timeZone`. */
  calendar?: { timeZone: string; read: boolean; write: boolean };
  /** User-on-call: what was said in the room before the agent took over, in order (docs/user-on-call.md). */
  roomTranscript?: RoomLine[];
}

/** A line said in a user-on-call room: by the user (the client's operator) or by the callee (the target). */
export interface RoomLine {
  speaker: 'user' | 'callee';
  text: string;
}

/** One thing said in the conversation, as the brain is told it (agent turns: only what was heard). */
export type Turn = { role: 'callee'; text: string } | { role: 'agent'; text: string };

export type AgentAction =
  /**
   * Speak. A string is one utterance; an AsyncIterable is the model's text as it streams: the engine cuts
   * it into clauses and the first clause is spoken while the brain is still writing the rest. The result
   * comes back as soon as the speech is queued (the brain may go on producing); a non-speech action that
   * follows waits until the speech was heard.
   */
  | { type: 'say'; text: string | AsyncIterable<string> }
  | { type: 'press'; digits: string }
  /** Type a persona field on the keypad; Switchboard supplies the digits. */
  | { type: 'press_field'; field: KeypadField }
  | { type: 'wait' }
  | { type: 'end'; goalCompleted: boolean; reason: string }
  | { type: 'transfer'; to: string; warm: boolean }
  /** Ask the human operator (the client) a question; the answer arrives later as an `operator_answer` input. */
  | { type: 'ask_operator'; question: string }
  /** A person (not a menu, a recording or hold music) is now on the line. */
  | { type: 'human_answered' }
  /** From now on the call's speech (the agent's voice, what it hears) is in `language` (a 2-letter code). */
  | { type: 'switch_language'; language: string }
  /** Ask the client's calendar (free times) or change it (book, move, cancel); the answer is the result's `data`. */
  | { type: 'calendar'; request: CalendarRequest };

export type BrainInput =
  /** The call was answered: open the conversation. */
  | { type: 'answered'; answeredBy: 'human' | 'machine' | 'unknown' }
  | { type: 'speech'; text: string }
  | { type: 'dtmf'; digits: string }
  /** The operator's answer to an `ask_operator` question (or null when none came in time). */
  | { type: 'operator_answer'; question: string; answer: string | null }
  /** Something the engine noticed (a timer, a change of task). Action outcomes are results, not notices. */
  | { type: 'notice'; text: string };

/** Why an action was not carried out: a code to branch on, and a message to show a model. */
export type ActionError =
  /** The call does not allow it (a keypad field the share policy forbids, a transfer destination not allowed). */
  | 'not_allowed'
  /** This call or carrier cannot do it (no transfer on this carrier, nothing to switch). */
  | 'unavailable'
  /** It was tried and failed (the carrier refused the transfer or the language switch). */
  | 'failed'
  /** The turn was interrupted (barge-in, the call ended) before it was carried out. */
  | 'interrupted';

/** How a piece of speech fared: what the callee heard of it, and whether it was cut off. */
export interface SpeechOutcome {
  heard: string;
  interrupted: boolean;
}

/**
 * What came of an action. `ask_operator` answers `{ ok: true, pending: true }`: the answer arrives later
 * as an `operator_answer` input. A `say` result means queued, not heard: its `playout` settles once the
 * speech was heard or cut (a brain that wants the conversation up to date before it thinks again awaits it).
 */
export type ActionResult =
  | { ok: true; pending?: boolean; playout?: Promise<SpeechOutcome>; /** What the action found (calendar requests). */ data?: Record<string, unknown> }
  | { ok: false; error: ActionError; message: string };

export const OK: ActionResult = { ok: true };

export interface BrainContext {
  /** The brief as it is now (a live PATCH may have changed the task since the call began). */
  brief: AgentBrief;
  /** The conversation so far, oldest first (agent turns hold only what was actually heard). */
  history: readonly Turn[];
  /** Aborted when the callee barges in or the call ends: stop producing actions. */
  signal: AbortSignal;
}

/**
 * One turn of the brain: yields actions; each `yield` evaluates to the action's result (`undefined` only
 * from a driver that does not report results, such as a plain `for await`).
 */
export type BrainTurn = AsyncGenerator<AgentAction, void, ActionResult | undefined>;

/** One call's agent. It may keep state between turns (the rules brain remembers what it was asked). */
export interface BrainSession {
  /** Decides the next actions after `input`. Actions are carried out in order as they are yielded. */
  next(input: BrainInput, ctx: BrainContext): BrainTurn;
}

/** What a brain is given for one call besides its brief. */
export interface BrainCallOptions {
  /** Where the call's model usage (tokens) is reported, for billing. */
  usage?: UsageReporter;
}

export interface Brain {
  /** Shown at start-up and stored on each call (`rules`, `openai:gpt-4o-mini`, …). */
  readonly name: string;
  startCall(brief: AgentBrief, opts?: BrainCallOptions): BrainSession;
}
