/**
 * CallMyCall's words for the core's states, speakers and calls — the one table of this face
 * (FACES.md: Twilio CallStatus words; voicemail is `completed` with `answered_by: "machine"`).
 */
import type { CallState } from '../../core/calls/states.js';
import type { CallEvent, Speaker } from '../../core/calls/events.js';
import type { CallEventRow, CallRow } from '../../store/index.js';
import type { RoomState } from '../../core/calls/user-on-call.js';
import { summarize } from '../../metrics/index.js';

export const STATUS_WORDS: Record<CallState, string> = {
  queued: 'queued',
  ringing: 'ringing',
  in_progress: 'in-progress',
  completed: 'completed',
  busy: 'busy',
  no_answer: 'no-answer',
  voicemail: 'completed',
  failed: 'failed',
  canceled: 'canceled',
};

export const ROLE_WORDS: Record<Speaker, string> = {
  agent: 'assistant',
  callee: 'user',
  supervisor: 'supervisor',
  operator: 'operator',
  system: 'system',
};

export function statusWord(s: string): string {
  return STATUS_WORDS[s as CallState] ?? s;
}

export function transcriptItem(e: Pick<CallEventRow, 'role' | 'text' | 'seq'>): { role: string; text: string; seq: number } {
  return { role: ROLE_WORDS[e.role ?? 'system'], text: e.text ?? '', seq: e.seq };
}

/**
 * A key press as CallMyCall shows it (an extension: SSE `event: keys`, `keys[]` on GET /v1/calls/:id):
 * who pressed, the keys (digits the share policy protects are `•`), and the field typed when one was.
 */
export function keysItem(e: Pick<Extract<CallEvent, { type: 'command' }>, 'command' | 'value' | 'keys' | 'by' | 'seq' | 'at'>) {
  return {
    role: e.by ? 'supervisor' : 'assistant',
    keys: e.keys ?? '',
    ...(e.command === 'press_field' && e.value ? { field: e.value } : {}),
    seq: e.seq,
    at: e.at,
  };
}

function iso(d: Date | string | null): string | null {
  return d ? new Date(d).toISOString() : null;
}

/** GET /v1/calls/:callId: the union of 000's flat fields and 001's `call` + `transcripts`. */
export function callView(call: CallRow, transcripts: CallEventRow[], recordingUrl?: string, keys: ReturnType<typeof keysItem>[] = []) {
  const items = transcripts.map(transcriptItem);
  const status = statusWord(call.status);
  return {
    sid: call.sid,
    id: call.id,
    status,
    ...(call.carrier_call_sid ? { carrier_call_sid: call.carrier_call_sid } : {}),
    direction: call.direction === 'inbound' ? 'inbound' : 'outbound-api',
    from: call.from_number,
    to: call.to_number,
    duration: call.duration_seconds,
    ...(recordingUrl ? { recordingUrl } : {}),
    transcript: items.length ? { segments: items, text: items.map((i) => `${i.role}: ${i.text}`).join('\n') } : null,
    answered_by: call.answered_by,
    outcome: call.outcome,
    end_reason: call.end_reason,
    last_error: call.last_error,
    brain: call.brain,
    summary: call.summary !== null || call.goal_completed !== null ? { goal_completed: call.goal_completed, text: call.summary } : null,
    extracted: call.extracted ?? null,
    credits: call.credits_charged,
    created_at: iso(call.created_at),
    answered_at: iso(call.answered_at),
    ended_at: iso(call.ended_at),
    call: { call_id: call.sid, status, to: call.to_number, created_at: iso(call.created_at) },
    transcripts: items,
    keys,
  };
}

/** 004's latency names, p50 and max over the call's turns (ms). */
export function latencyView(
  turns: Array<{ transcript_to_gpt_ms: number | null; gpt_first_token_ms: number | null; first_audio_playback_ms: number | null }>,
) {
  const pick = (k: 'transcript_to_gpt_ms' | 'gpt_first_token_ms' | 'first_audio_playback_ms') =>
    summarize(turns.map((t) => t[k]).filter((v): v is number => v !== null));
  return {
    turns: turns.length,
    transcript_to_gpt_ms: pick('transcript_to_gpt_ms'),
    gpt_first_token_ms: pick('gpt_first_token_ms'),
    first_audio_playback_ms: pick('first_audio_playback_ms'),
  };
}

/** A leg's status in Twilio's words, like the call's (`no-answer`). */
const LEG_WORDS: Record<string, string> = { no_answer: 'no-answer' };

/** `conference-status` (001) of a user-on-call call. */
export function roomView(call: Pick<CallRow, 'sid' | 'request'> & { conference: RoomState }) {
  const room = call.conference;
  return {
    callSid: call.sid,
    ...(call.request.userOnCall?.sessionId ? { sessionId: call.request.userOnCall.sessionId } : {}),
    state: room.state,
    participants: room.participants.map((p) => ({
      role: p.role,
      callSid: p.callSid,
      ...(p.carrierCallSid ? { carrier_call_sid: p.carrierCallSid } : {}),
      status: LEG_WORDS[p.status] ?? p.status,
      muted: p.muted,
    })),
    ai_active: room.aiActive,
  };
}
