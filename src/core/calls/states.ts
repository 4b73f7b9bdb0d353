/**
 * The one state machine of a call. Faces translate these words into their documents' words (each face's
 * map.ts); nothing else in the core knows those words.
 *
 *   queued → ringing → in_progress → completed
 *      ↘        ↘           ↘ (machine) voicemail
 *       busy | no_answer | voicemail | failed | canceled
 */
export const CALL_STATES = [
  'queued',
  'ringing',
  'in_progress',
  'completed',
  'busy',
  'no_answer',
  'voicemail',
  'failed',
  'canceled',
] as const;
export type CallState = (typeof CALL_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<CallState> = new Set(['completed', 'busy', 'no_answer', 'voicemail', 'failed', 'canceled']);
export const LIVE_STATES: ReadonlySet<CallState> = new Set(['queued', 'ringing', 'in_progress']);

const RANK: Record<CallState, number> = {
  queued: 0,
  ringing: 1,
  in_progress: 2,
  completed: 3,
  busy: 3,
  no_answer: 3,
  voicemail: 3,
  failed: 3,
  canceled: 3,
};

export function isTerminal(s: string): boolean {
  return TERMINAL_STATES.has(s as CallState);
}

/**
 * Whether a call may move from `from` to `to`. Calls only move forward: a duplicate or late event
 * (a carrier callback replayed, or arriving out of order) never moves a call backwards or out of an end state.
 */
export function canMove(from: CallState, to: CallState): boolean {
  if (isTerminal(from)) return false;
  return RANK[to] > RANK[from];
}

/** The states a call may move to `to` from (canMove's rule as a list: a statement's `where status in (…)`). */
export function statesBefore(to: CallState): CallState[] {
  return CALL_STATES.filter((from) => canMove(from, to));
}
