/**
 * The core's call events in 004's words (`WS /events/ws`): one table, here. 004 has four event types:
 * `transcript` (`speaker` `caller` | `assistant` | `supervisor`), `assistant_reply`, `command_executed` and
 * `supervisor_override`. The agent's lines are both a `transcript` (so a client showing the conversation
 * from `transcript` alone sees all of it) and an `assistant_reply`.
 */
import type { CallEvent, Speaker } from '../../core/calls/events.js';

export type PhonyEvent =
  | { type: 'transcript'; callSid: string; speaker: 'caller' | 'assistant' | 'supervisor'; text: string; timestamp: string }
  | { type: 'assistant_reply'; callSid: string; text: string; timestamp: string }
  | { type: 'command_executed'; callSid: string; command: string; value?: string; timestamp: string }
  | { type: 'supervisor_override'; callSid: string; action: string; value?: string; by: string; timestamp: string };

const SPEAKERS: Partial<Record<Speaker, 'caller' | 'assistant' | 'supervisor'>> = { callee: 'caller', agent: 'assistant', supervisor: 'supervisor' };

/** The agent's own commands in 004's LLM command words (`[[press:…]]`, `[[request_user:…]]`, …). */
const COMMANDS: Record<string, string> = { ask_operator: 'request_user' };

/** Supervisor overrides by 004's route names (`/override/text` is `text`, …). */
const ACTIONS: Record<string, string> = { say: 'text', say_after_sentence: 'text', press: 'dtmf', operator_answer: 'clarification' };

/** 004's events for one core event (none for status changes: the socket closes when the call ends). */
export function phonyEvents(callSid: string, e: CallEvent): PhonyEvent[] {
  const timestamp = e.at;
  if (e.type === 'transcript') {
    const speaker = SPEAKERS[e.role];
    if (!speaker) return [];
    const line: PhonyEvent = { type: 'transcript', callSid, speaker, text: e.text, timestamp };
    return speaker === 'assistant' ? [line, { type: 'assistant_reply', callSid, text: e.text, timestamp }] : [line];
  }
  if (e.type === 'command' && e.by) {
    return [{ type: 'supervisor_override', callSid, action: ACTIONS[e.command] ?? e.command, ...(e.value !== undefined ? { value: e.value } : {}), by: e.by, timestamp }];
  }
  if (e.type === 'command') {
    return [{ type: 'command_executed', callSid, command: COMMANDS[e.command] ?? e.command, ...(e.value !== undefined ? { value: e.value } : {}), timestamp }];
  }
  return [];
}
