/**
 * Everything a call's GET shows — the call, its transcript, the agent's pending question to the operator, the
 * keys pressed, its recording and the per-turn latency figures — read in one statement. It was six: on the
 * embedded store every statement takes a turn of PGlite's one connection (on its own thread since 2026-12-02,
 * on the server's before), and reading a call is the API's most frequent request, so a node carrying
 * hundreds of calls answered reads far more slowly.
 */
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { CallEventRow, CallRow, Db, RecordingRow } from '../../store/index.js';
import type { CallEvent, CallEventData } from './events.js';
import { toCallEvent } from './event-rows.js';
import { namedCall } from './naming.js';

/** The agent's unanswered question to the operator. */
export interface PendingQuestion {
  question: string;
  asked_at: string;
}

/** One turn's latency figures (004's names). */
export interface TurnFigures {
  turn: number;
  transcript_to_gpt_ms: number | null;
  gpt_first_token_ms: number | null;
  first_audio_playback_ms: number | null;
}

export interface CallDetails {
  call: CallRow;
  /** Transcript events, in order. */
  transcript: CallEventRow[];
  question: PendingQuestion | null;
  /** Keys pressed (by the agent or a supervisor), in order, as they may be shown (protected digits masked). */
  keys: KeyPress[];
  /** The call's recording when it is ready (its URL is signed by the recordings service). */
  recording: Pick<RecordingRow, 'sid'> | undefined;
  turns: TurnFigures[];
}

export type KeyPress = Extract<CallEvent, { type: 'command' }>;

/** How far back the pending question is looked for (commands and overrides, newest first). */
const QUESTION_LOOKBACK = 50;

/**
 * The last `ask_operator` not yet answered (nor timed out), from a call's commands and overrides, newest
 * first; null when there is none.
 */
export function pendingQuestionIn(rows: Array<{ data: CallEventData | null; created_at: Date | string }>): PendingQuestion | null {
  for (const r of rows) {
    const command = r.data && 'command' in r.data ? r.data : undefined;
    if (command?.command === 'operator_answer' || command?.command === 'operator_timeout') return null;
    if (command?.command === 'ask_operator') return { question: command.value ?? '', asked_at: new Date(r.created_at).toISOString() };
  }
  return null;
}

/** A call (by UUID, sid or carrier sid: naming.ts) with its details, or undefined when there is no such call. */
export async function readCallDetails(db: Db, idOrSid: string): Promise<CallDetails | undefined> {
  const named = namedCall(idOrSid);
  if (!named) return undefined;
  const row = await db
    .selectFrom('calls')
    .selectAll('calls')
    .select((eb) => [
      jsonArrayFrom(
        eb.selectFrom('call_events as e').selectAll('e').whereRef('e.call_id', '=', 'calls.id').where('e.kind', '=', 'transcript').orderBy('e.seq'),
      ).as('transcript_rows'),
      // Commands and overrides, oldest first: the keys pressed, and (the newest) the pending question.
      jsonArrayFrom(
        eb.selectFrom('call_events as c').selectAll('c').whereRef('c.call_id', '=', 'calls.id').where('c.kind', 'in', ['command', 'override']).orderBy('c.seq'),
      ).as('command_rows'),
      // As RecordingService.urlsFor: only a ready recording is shown.
      jsonArrayFrom(eb.selectFrom('recordings as r').select('r.sid').whereRef('r.call_id', '=', 'calls.id').where('r.status', '=', 'ready')).as(
        'recording_rows',
      ),
      jsonArrayFrom(
        eb
          .selectFrom('call_turns as t')
          .select(['t.turn', 't.transcript_to_gpt_ms', 't.gpt_first_token_ms', 't.first_audio_playback_ms'])
          .whereRef('t.call_id', '=', 'calls.id')
          .orderBy('t.turn'),
      ).as('turn_rows'),
    ])
    .where(named)
    .executeTakeFirst();
  if (!row) return undefined;
  const { transcript_rows, command_rows, recording_rows, turn_rows, ...call } = row;
  // Rows inside JSON come back with their timestamps as text: made Dates again, as any other row's.
  const commands = command_rows.map((e) => ({ ...e, created_at: new Date(e.created_at) }) as CallEventRow);
  return {
    call,
    transcript: transcript_rows.map((e) => ({ ...e, created_at: new Date(e.created_at) }) as CallEventRow),
    question: pendingQuestionIn(commands.slice(-QUESTION_LOOKBACK).reverse()),
    keys: commands.map(toCallEvent).filter((e): e is KeyPress => e.type === 'command' && !!e.keys),
    recording: recording_rows[0],
    turns: turn_rows,
  };
}
