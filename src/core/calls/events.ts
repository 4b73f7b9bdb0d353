/**
 * What happens on a call, as stored (`call_events`, one sequence number per call) and published on the
 * bus. SSE, WebSockets, the dashboard and webhooks are all built from these.
 */
import type { CallState } from './states.js';

/** Who spoke: the AI agent, the called party, a human supervisor, or Switchboard itself. */
/** `operator`: the user of a user-on-call session (001's "user"), speaking in the room with the target. */
export type Speaker = 'agent' | 'callee' | 'supervisor' | 'operator' | 'system';

export type CallEvent =
  | { type: 'transcript'; callId: string; seq: number; at: string; role: Speaker; text: string }
  | { type: 'status'; callId: string; seq: number; at: string; status: CallState; reason?: string }
  /**
   * An action on the call; `by` names who gave it when a person did (a supervisor override). `keys`: the keys
   * pressed, as they may be shown (digits the share policy protects are `•`).
   */
  | { type: 'command'; callId: string; seq: number; at: string; command: string; value?: string; by?: string; keys?: string };

export type NewCallEvent =
  | { type: 'transcript'; role: Speaker; text: string }
  | { type: 'status'; status: CallState; reason?: string }
  | { type: 'command'; command: string; value?: string; keys?: string }
  /** A supervisor's command (counted in `override_count`): `by` is `key:<fingerprint>` or `user:<id>`. */
  | { type: 'override'; command: string; value?: string; by: string; keys?: string };

/** `call_events.data` as stored: a status change's state and reason, or a command and its value (and who gave it, for an override). */
export type CallEventData = { status: CallState; reason: string | null } | { command: string; value: string | null; by?: string; keys?: string };

/** Changes to a live call (PATCH); they apply at the agent's next turn. */
export interface LiveChanges {
  task?: string;
  transferNumber?: string;
  additionalPrompt?: string;
  maxDurationSeconds?: number;
}

/**
 * Commands sent over the bus to the session that owns a live call. `by` names the person who gave one
 * (a supervisor: `key:<fingerprint>` or `user:<id>`); such a command is stored as an override.
 */
export type CallCommand =
  | { type: 'end'; reason?: string; by?: string }
  | { type: 'update'; changes: LiveChanges }
  | { type: 'operator_answer'; answer: string; by?: string }
  | { type: 'transfer'; to: string; warm: boolean; reason?: string; by?: string }
  /** Say a line on the call: at once (`interrupt`, the agent is cut off) or once the sentence being said ends. */
  | { type: 'say'; text: string; when: 'interrupt' | 'after_sentence'; by: string }
  /** Press keys on the call (digits `0-9 * #`, `w` a half-second pause). */
  | { type: 'press'; digits: string; by: string }
  /** User-on-call: the agent takes over (the changes apply to its brief); `dropUser` ends the user's leg. */
  | { type: 'activate'; dropUser: boolean; changes: LiveChanges; by?: string }
  /** User-on-call: end the user's leg; the call goes on. */
  | { type: 'drop_user'; by?: string }
  /** User-on-call: a person at the dashboard speaks as the user in the room (carriers with `userOnCallSpeech`). */
  | { type: 'user_say'; text: string; by?: string };

export interface CommandEnvelope {
  command: CallCommand;
  /** Channel suffix on which the owner acknowledges. */
  replyTo: string;
}

export interface CommandReply {
  ok: boolean;
  error?: string;
}

