/**
 * What the call controller (./call-session.ts) needs from whoever holds the conversation. The agent
 * activity (./agent-activity.ts: a brain over an `AgentIO`, for text carriers and the cascaded audio
 * pipeline) is one kind; a speech-to-speech model, which hears, thinks and speaks in one and does its own
 * turn-taking, will be another behind the same interface.
 */
import type { ActionResult, AgentBrief, BrainInput, Turn } from './brain.js';
import type { AgentState, ReportedAction, SpeechSource, UserState } from './events.js';
import type { SpeechHandle } from './speech-handle.js';

/** The controller's side: carries out what the agent decides (besides speaking) and says when it is over. */
export interface ActionHost {
  /** Carries out one action and says how it went (refused, unavailable, failed) as a value. */
  act(action: ReportedAction, signal: AbortSignal): Promise<ActionResult>;
  /** The agent's part of the call is over (ended, handed over, hanging up): no turn goes on. */
  readonly closing: boolean;
  /** The brief as it is now (a PATCH or a language switch may have changed it). */
  brief(): AgentBrief;
}

export interface Activity {
  readonly agentState: AgentState;
  readonly userState: UserState;
  /** The conversation so far (agent lines: only what was heard). */
  readonly history: readonly Turn[];
  /** The call was answered: start listening and open the conversation. */
  start(answeredBy: 'human' | 'machine' | 'unknown'): void;
  /** An input from outside the line (an operator's answer, a notice) for the agent's next turn. */
  push(input: BrainInput): void;
  /**
   * Queues speech (after what is already queued) and returns its handle at once. Text may stream: it is
   * spoken clause by clause as it arrives.
   */
  speak(text: string | AsyncIterable<string>, source: SpeechSource): SpeechHandle;
  /**
   * Makes way for someone else's line (a supervisor's): the turn under way and its speech are dropped, at
   * once or once the clause being said ends. Inputs still queued are kept. Resolves when nothing is said.
   */
  giveWay(when: 'now' | 'after_clause'): Promise<void>;
  /** Stops the turn under way, drops queued inputs and cuts the speech (a timer, a hang-up). */
  interrupt(): void;
  /** Resolves once no turn is running and nothing is being said. */
  settle(): Promise<void>;
  /** The line is gone (the far end hung up): only a verdict (`end`) of the turn under way still counts. */
  lineGone(): void;
  /** The call is over: nothing more is heard or said. */
  close(): void;
}
