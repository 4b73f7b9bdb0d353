/** Call events as rows of `call_events` and back: the one place that knows how an event is stored. */
import type { CallEventRow } from '../../store/index.js';
import type { CallEvent, CallEventData, NewCallEvent, Speaker } from './events.js';

/** The stored columns of a new event (one place for the shape of `call_events.data`). */
export function eventValues(e: NewCallEvent): { kind: string; role: Speaker | null; text: string | null; data: string | null } {
  if (e.type === 'transcript') return { kind: e.type, role: e.role, text: e.text, data: null };
  const data: CallEventData =
    e.type === 'status'
      ? { status: e.status, reason: e.reason ?? null }
      : { command: e.command, value: e.value ?? null, ...(e.type === 'override' ? { by: e.by } : {}), ...(e.keys ? { keys: e.keys } : {}) };
  return { kind: e.type, role: null, text: null, data: JSON.stringify(data) };
}

/** A stored event as the rest of Switchboard sees it (and the bus carries it). */
export function toCallEvent(row: CallEventRow): CallEvent {
  const at = new Date(row.created_at).toISOString();
  const base = { callId: row.call_id, seq: row.seq, at };
  const data = row.data;
  if (row.kind === 'transcript') return { type: 'transcript', ...base, role: row.role ?? 'system', text: row.text ?? '' };
  if (data && 'status' in data) return { type: 'status', ...base, status: data.status, reason: data.reason ?? undefined };
  // A supervisor's override reads as a command that says who gave it.
  const by = data && 'command' in data ? data.by : undefined;
  const keys = data && 'command' in data ? data.keys : undefined;
  return {
    type: 'command',
    ...base,
    command: data && 'command' in data ? data.command : row.kind,
    value: (data && 'command' in data ? data.value : null) ?? undefined,
    ...(by ? { by } : {}),
    ...(keys ? { keys } : {}),
  };
}
