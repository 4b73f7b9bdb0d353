/**
 * The agent's mind: what to say and do next. The rules brain (offline) and the LLM brains implement it;
 * the call session (how: media, turns, timers, commands) drives it. A brain never sees the carrier.
 */

import type { Persona, SharePolicy } from '../core/calls/persona.js';

export type { Persona, SharePolicy };

/** What the agent knows about its call. Personal fields the share policy forbids are already left out. */
export interface AgentBrief {
  task: string;
  additionalPrompt: string;
  /** Normalised language code (`en`, `sv`, …). */
  language: string;
  /** Persona fields the agent may say aloud (never a field whose `*_voice` flag is false). */
  persona: Persona;
  /** Persona fields the agent may type on the keypad without seeing them. */
  keypadFields: Array<'phone' | 'personal_security_number'>;
  transferNumber?: string;
  /** The agent's own system prompt (an agents/tasks or Truedy agent), variables already rendered. */
  agentPrompt?: string;
  /** The agent's opening line (its starting message), variables already rendered. */
  greeting?: string;
  /** Someone called us (`from`, when known): the agent answers, speaks first, and helps the caller. */
  inbound?: { from?: string };
}

/** One thing that happened in the conversation, as the brain is told it. */
export type Turn =
  | { role: 'callee'; text: string }
  | { role: 'agent'; text: string }
  | { role: 'system'; text: string };

export type AgentAction =
  | { type: 'say'; text: string }
  | { type: 'press'; digits: string }
  /** Type a persona field on the keypad; Switchboard supplies the digits. */
  | { type: 'press_field'; field: 'phone' | 'personal_security_number' }
  | { type: 'wait' }
  | { type: 'end'; goalCompleted: boolean; reason: string }
  | { type: 'transfer'; to: string; warm: boolean }
  /** Ask the human operator (the client) a question; the answer arrives later as an `operator_answer` input. */
  | { type: 'ask_operator'; question: string }
  /** A person (not a menu, a recording or hold music) is now on the line. */
  | { type: 'human_answered' }
  /** From now on the call's speech (the agent's voice, what it hears) is in `language` (a 2-letter code). */
  | { type: 'switch_language'; language: string };

export type BrainInput =
  /** The call was answered: open the conversation. */
  | { type: 'answered'; answeredBy: 'human' | 'machine' | 'unknown' }
  | { type: 'speech'; text: string }
  | { type: 'dtmf'; digits: string }
  /** The operator's answer to an `ask_operator` question (or null when none came in time). */
  | { type: 'operator_answer'; question: string; answer: string | null }
  /** Something the engine noticed (a timer, a change of task, a failed action). */
  | { type: 'notice'; text: string };

export interface BrainContext {
  /** The brief as it is now (a live PATCH may have changed the task since the call began). */
  brief: AgentBrief;
  /** The conversation so far, oldest first (agent turns hold only what was actually heard). */
  history: readonly Turn[];
  /** Aborted when the callee barges in or the call ends: stop producing actions. */
  signal: AbortSignal;
}

/** One call's agent. It may keep state between turns (the rules brain remembers what it was asked). */
export interface BrainSession {
  /** Decides the next actions after `input`. Actions are carried out in order as they are yielded. */
  next(input: BrainInput, ctx: BrainContext): AsyncIterable<AgentAction>;
}

export interface Brain {
  /** Shown at start-up and stored on each call (`rules`, `openai:gpt-4o-mini`, …). */
  readonly name: string;
  startCall(brief: AgentBrief): BrainSession;
}
