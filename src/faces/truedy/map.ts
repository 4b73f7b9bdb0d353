/**
 * Truedy's words (003) for the core's states and objects — the one table of this face.
 * 003's statuses are the core's own words, except that 003 has no `canceled`: a canceled call is `failed`
 * with `context.last_error: "canceled"` (FACES.md).
 */
import type { CallState } from '../../core/calls/states.js';
import type { Speaker } from '../../core/calls/events.js';
import type { CallRequest } from '../../core/calls/request.js';
import type { CallEventRow, CallRow } from '../../store/index.js';

export const TRUEDY_STATUSES = ['queued', 'ringing', 'in_progress', 'completed', 'failed', 'no_answer', 'busy', 'voicemail'] as const;
export type TruedyStatus = (typeof TRUEDY_STATUSES)[number];

export const STATUS_WORDS: Record<CallState, TruedyStatus> = {
  queued: 'queued',
  ringing: 'ringing',
  in_progress: 'in_progress',
  completed: 'completed',
  busy: 'busy',
  no_answer: 'no_answer',
  voicemail: 'voicemail',
  failed: 'failed',
  canceled: 'failed',
};

/** The core states a Truedy status stands for (the `status` filter of GET /calls). */
export function coreStates(word: string): CallState[] {
  return (Object.keys(STATUS_WORDS) as CallState[]).filter((s) => STATUS_WORDS[s] === word);
}

export function statusWord(s: string): TruedyStatus {
  return STATUS_WORDS[s as CallState] ?? 'failed';
}

export const ROLE_WORDS: Record<Speaker, string> = { agent: 'agent', callee: 'user', supervisor: 'supervisor', operator: 'operator', system: 'system' };

/** Truedy's per-call settings, as kept on the call's request (`metadata.call_settings`). */
export interface CallSettings {
  recording_enabled: boolean;
  transcription_enabled: boolean;
}

function iso(d: Date | string | null | undefined): string | null {
  return d ? new Date(d).toISOString() : null;
}

export function requestOf(c: CallRow): CallRequest {
  return c.request;
}

export function callSettings(req: CallRequest): CallSettings {
  const s = (req.metadata?.call_settings ?? {}) as Partial<CallSettings>;
  return {
    recording_enabled: s.recording_enabled ?? req.record ?? true,
    transcription_enabled: s.transcription_enabled ?? true,
  };
}

/** Why a call failed, as 003's `context.last_error` says it. */
export function lastError(c: CallRow): string | undefined {
  if (c.status === 'canceled') return 'canceled';
  if (c.status === 'failed') return c.last_error ?? c.end_reason ?? 'failed';
  return undefined;
}

/** The call's `context`: what the client stored, plus `missing_variables` and `last_error` (computed). */
export function callContext(c: CallRow, req: CallRequest): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(req.context ?? {}) };
  if (req.missingVariables) out.missing_variables = req.missingVariables;
  const err = lastError(c);
  if (err !== undefined) out.last_error = err;
  return out;
}

/** 003's call object; `recordingUrl`: the signed URL of its recording, when it has one. */
export function callView(c: CallRow, recordingUrl?: string) {
  const req = requestOf(c);
  return {
    id: c.id,
    agent_id: c.agent_id,
    // 003: `phone_number` is the number that was called, `from_number` the caller ID (either direction).
    phone_number: c.to_number,
    from_number: c.from_number,
    direction: c.direction === 'inbound' ? ('inbound' as const) : ('outbound' as const),
    status: statusWord(c.status),
    started_at: iso(c.answered_at),
    ended_at: iso(c.ended_at),
    duration_seconds: c.duration_seconds,
    // The billed cost, fixed when the call ended (core/credits: credits at the credit's price of that day).
    cost_usd: c.cost_usd,
    summary: c.summary,
    recording_url: recordingUrl ?? null,
    context: callContext(c, req),
    call_settings: callSettings(req),
    created_at: iso(c.created_at),
    updated_at: iso(c.updated_at),
  };
}

export function transcriptItem(e: CallEventRow) {
  return { role: ROLE_WORDS[e.role ?? 'system'], text: e.text ?? '', timestamp: iso(e.created_at) };
}
