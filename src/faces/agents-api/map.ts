/**
 * The agents/tasks platform's words (002) for the core's states and objects — the one table of this face.
 * 002 has four call words. Decisions (docs/faces/agents-api.md):
 *  - queued and ringing are `initiated` (not yet connected);
 *  - voicemail is `failed`: 002's `completed` is "completed successfully", and a machine is not the person
 *    the task was for (the task fails too, so it can be reset and tried again);
 *  - busy, no_answer, failed and canceled are `failed` (002: "failed or was cancelled").
 */
import type { CallState } from '../../core/calls/states.js';
import type { Speaker } from '../../core/calls/events.js';
import type { CallRequest } from '../../core/calls/request.js';
import type { AgentRow, CallEventRow, CallRow, TaskRow } from '../../store/index.js';

export const STATUS_WORDS: Record<CallState, 'initiated' | 'in_progress' | 'completed' | 'failed'> = {
  queued: 'initiated',
  ringing: 'initiated',
  in_progress: 'in_progress',
  completed: 'completed',
  busy: 'failed',
  no_answer: 'failed',
  voicemail: 'failed',
  failed: 'failed',
  canceled: 'failed',
};

export const CALL_STATUS_WORDS = ['initiated', 'in_progress', 'completed', 'failed'] as const;

/** The core states a face word stands for (the `status` filter of GET /calls). */
export function coreStates(word: string): CallState[] {
  return (Object.keys(STATUS_WORDS) as CallState[]).filter((s) => STATUS_WORDS[s] === word);
}

export function statusWord(s: string): string {
  return STATUS_WORDS[s as CallState] ?? s;
}

export const ROLE_WORDS: Record<Speaker, string> = { agent: 'agent', callee: 'user', supervisor: 'supervisor', operator: 'operator', system: 'system' };

function iso(d: Date | string | null | undefined): string | null {
  return d ? new Date(d).toISOString() : null;
}

export function agentView(a: AgentRow) {
  return {
    id: a.id,
    name: a.name,
    description: a.description,
    system_prompt: a.system_prompt,
    starting_message: a.starting_message,
    language: a.language,
    voice_settings: a.voice_settings ?? {},
    dtmf_rules: a.dtmf_rules ?? {},
    enabled: a.enabled,
    created_at: iso(a.created_at),
    updated_at: iso(a.updated_at),
  };
}

export function taskView(t: TaskRow, agent?: AgentRow) {
  return {
    id: t.id,
    agent_id: t.agent_id,
    name: t.name,
    to_number: t.to_number,
    description: t.description,
    starting_message: t.starting_message,
    context_data: t.context_data ?? {},
    priority: t.priority,
    scheduled_at: iso(t.scheduled_at),
    webhook_url: t.webhook_url,
    webhook_events: t.webhook_events ?? [],
    status: t.status,
    call_id: t.call_id,
    last_error: t.last_error,
    started_at: iso(t.started_at),
    completed_at: iso(t.completed_at),
    created_at: iso(t.created_at),
    updated_at: iso(t.updated_at),
    ...(agent ? { agent: agentView(agent) } : {}),
  };
}

export function transcriptItem(e: Pick<CallEventRow, 'role' | 'text' | 'seq'> & { created_at: Date | string }) {
  return { role: ROLE_WORDS[e.role ?? 'system'], text: e.text ?? '', seq: e.seq, timestamp: iso(e.created_at) };
}

/** The transcript as one text, `role: text` per line (for excerpts and clients that want a string). */
export function transcriptText(rows: CallEventRow[]): string {
  return rows.map((r) => `${ROLE_WORDS[r.role ?? 'system']}: ${r.text ?? ''}`).join('\n');
}

export function callView(c: CallRow) {
  const req = c.request;
  return {
    id: c.id,
    task_id: c.task_id,
    ...(c.carrier_call_sid ? { carrier_call_sid: c.carrier_call_sid } : {}),
    agent_id: c.agent_id,
    to_number: c.to_number,
    from_number: c.from_number,
    direction: c.direction,
    status: statusWord(c.status),
    duration_seconds: c.duration_seconds,
    answered_by: c.answered_by,
    end_reason: c.end_reason,
    last_error: c.last_error,
    missing_variables: req?.missingVariables ?? [],
    started_at: iso(c.answered_at),
    ended_at: iso(c.ended_at),
    created_at: iso(c.created_at),
    updated_at: iso(c.updated_at),
  };
}
