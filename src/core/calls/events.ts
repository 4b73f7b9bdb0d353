/**
 * What happens on a call, as stored (`call_events`, one sequence number per call) and published on the
 * bus. SSE, WebSockets, the dashboard and webhooks are all built from these.
 */
import type { CallState } from './states.js';

/** Who spoke: the AI agent, the called party, a human supervisor, or Switchboard itself. */
export type Speaker = 'agent' | 'callee' | 'supervisor' | 'system';

export type CallEvent =
  | { type: 'transcript'; callId: string; seq: number; at: string; role: Speaker; text: string }
  | { type: 'status'; callId: string; seq: number; at: string; status: CallState; reason?: string }
  | { type: 'command'; callId: string; seq: number; at: string; command: string; value?: string };

export type NewCallEvent =
  | { type: 'transcript'; role: Speaker; text: string }
  | { type: 'status'; status: CallState; reason?: string }
  | { type: 'command'; command: string; value?: string };

/** `call_events.data` as stored: a status change's state and reason, or a command and its value. */
export type CallEventData = { status: CallState; reason: string | null } | { command: string; value: string | null };

/** Changes to a live call (PATCH); they apply at the agent's next turn. */
export interface LiveChanges {
  task?: string;
  transferNumber?: string;
  additionalPrompt?: string;
  maxDurationSeconds?: number;
}

/** Commands sent over the bus to the session that owns a live call. */
export type CallCommand =
  | { type: 'end'; reason?: string }
  | { type: 'update'; changes: LiveChanges }
  | { type: 'operator_answer'; answer: string }
  | { type: 'transfer'; to: string; warm: boolean; reason?: string };

export interface CommandEnvelope {
  command: CallCommand;
  /** Channel suffix on which the owner acknowledges. */
  replyTo: string;
}

export interface CommandReply {
  ok: boolean;
  error?: string;
}

