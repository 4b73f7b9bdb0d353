/**
 * What the model may do besides talk: the tool definitions offered to it, and their mapping to the brain's
 * actions. The inline `[[command:param]]` protocol maps through the same checks, so both modes refuse the
 * same things. A bad call (invalid JSON, wrong types, a destination not allowed) becomes an error message
 * for the model, never an exception.
 */
import type { AgentAction, AgentBrief } from '../../engine/brain.js';
import type { ToolCall, ToolSpec } from '../llm/llm.js';
import type { InlineCommand } from './inline-commands.js';
import { keypadFieldName } from './prompt.js';
import { normalizeLanguage } from '../../core/calls/language.js';
import type { CalendarRequest } from '../../core/calendar/agent-requests.js';

export const TOOL_NAMES = [
  'press_keys',
  'enter_on_keypad',
  'transfer_call',
  'end_call',
  'ask_operator',
  'wait',
  'mark_human_answered',
  'switch_language',
  'find_free_slots',
  'book_appointment',
  'move_appointment',
  'cancel_appointment',
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** A tool call or command turned into an action, or refused with a reason the model can act on. */
export type CommandOutcome = { ok: true; action: AgentAction } | { ok: false; error: string };

export const DIGITS_PATTERN = /^[0-9*#wW]{1,32}$/;

type KeypadField = AgentBrief['keypadFields'][number];

/** The tools for this brief: keypad fields and transfer only when the brief allows them. */
export function toolSpecs(brief: AgentBrief): ToolSpec[] {
  const tools: ToolSpec[] = [
    {
      name: 'press_keys',
      description: 'Press keys on the phone keypad (DTMF), e.g. to choose an option in a phone menu. Say nothing about it.',
      parameters: {
        type: 'object',
        properties: { digits: { type: 'string', description: 'Digits 0-9, * and #; w is a half-second pause.', pattern: DIGITS_PATTERN.source } },
        required: ['digits'],
        additionalProperties: false,
      },
    },
  ];
  if (brief.keypadFields.length) {
    tools.push({
      name: 'enter_on_keypad',
      description: `Type one of the caller's details on the keypad without saying it: ${brief.keypadFields
        .map((f) => `${f} (${keypadFieldName(f)})`)
        .join(', ')}. You do not know the digits; Switchboard enters them.`,
      parameters: {
        type: 'object',
        properties: { field: { type: 'string', enum: [...brief.keypadFields] } },
        required: ['field'],
        additionalProperties: false,
      },
    });
  }
  if (brief.transferNumber) {
    tools.push({
      name: 'transfer_call',
      description: `Transfer the call to ${brief.transferNumber}. Tell the callee first.`,
      parameters: {
        type: 'object',
        properties: {
          to: { type: 'string', description: `The number to transfer to; default ${brief.transferNumber}.` },
          warm: { type: 'boolean', description: 'Introduce the call before connecting (default false).' },
        },
        additionalProperties: false,
      },
    });
  }
  if (brief.calendar) tools.push(...calendarTools(brief.calendar));
  tools.push(
    {
      name: 'end_call',
      description: 'Hang up. Say goodbye first, in the same reply.',
      parameters: {
        type: 'object',
        properties: {
          goal_completed: { type: 'boolean', description: 'Whether the task was achieved.' },
          reason: { type: 'string', description: 'A short snake_case code: task_completed, answer_received, task_refused, callee_ended, wrong_number, not_understood, other.' },
        },
        required: ['goal_completed', 'reason'],
        additionalProperties: false,
      },
    },
    {
      name: 'ask_operator',
      description: 'Ask your client a question you cannot answer yourself. The answer arrives later; keep the callee informed meanwhile.',
      parameters: { type: 'object', properties: { question: { type: 'string' } }, required: ['question'], additionalProperties: false },
    },
    {
      name: 'wait',
      description: 'Stay silent and wait: hold music, recordings, announcements, or the callee is busy checking something.',
      parameters: { type: 'object', properties: {}, additionalProperties: false },
    },
    {
      name: 'mark_human_answered',
      description: 'A real person (not a menu, recording or hold music) is now on the line.',
      parameters: { type: 'object', properties: {}, additionalProperties: false },
    },
    {
      name: 'switch_language',
      description:
        'Only when the callee clearly cannot understand the language of the call: switch the call (your voice and what you hear) to one they do. Call it on its own, before saying anything in the new language; then speak only that language.',
      parameters: {
        type: 'object',
        properties: { language: { type: 'string', description: 'The language, as a code such as es, de or sv.' } },
        required: ['language'],
        additionalProperties: false,
      },
    },
  );
  return tools;
}

const LOCAL_TIME = 'A local time in the call\'s time zone, e.g. 2026-01-07T14:00.';

/** Your client's calendar: free times always (with read), booking changes only with `write`. */
function calendarTools(c: NonNullable<AgentBrief['calendar']>): ToolSpec[] {
  const tools: ToolSpec[] = [];
  if (c.read) {
    tools.push({
      name: 'find_free_slots',
      description: `Find times when your client is free, in ${c.timeZone} time. Check before you accept or propose a time.`,
      parameters: {
        type: 'object',
        properties: {
          from: { type: 'string', description: `Start of the window. ${LOCAL_TIME}` },
          to: { type: 'string', description: `End of the window. ${LOCAL_TIME}` },
          duration_minutes: { type: 'integer', minimum: 5, maximum: 480 },
        },
        required: ['from', 'to', 'duration_minutes'],
        additionalProperties: false,
      },
    });
  }
  if (c.write) {
    tools.push(
      {
        name: 'book_appointment',
        description: `Put an appointment the callee has agreed in your client's calendar (${c.timeZone} time). Book only a time you checked is free.`,
        parameters: {
          type: 'object',
          properties: {
            start: { type: 'string', description: LOCAL_TIME },
            duration_minutes: { type: 'integer', minimum: 5, maximum: 480 },
            title: { type: 'string', description: 'What and with whom, e.g. "Dental check-up at Smile Dental".' },
            notes: { type: 'string' },
          },
          required: ['start', 'duration_minutes', 'title'],
          additionalProperties: false,
        },
      },
      {
        name: 'move_appointment',
        description: 'Move an appointment you booked on this call to another time.',
        parameters: {
          type: 'object',
          properties: {
            event_id: { type: 'string' },
            start: { type: 'string', description: LOCAL_TIME },
            duration_minutes: { type: 'integer', minimum: 5, maximum: 480 },
          },
          required: ['event_id', 'start'],
          additionalProperties: false,
        },
      },
      {
        name: 'cancel_appointment',
        description: 'Cancel an appointment you booked on this call.',
        parameters: { type: 'object', properties: { event_id: { type: 'string' } }, required: ['event_id'], additionalProperties: false },
      },
    );
  }
  return tools;
}

/** A calendar tool call as a request; the times are checked where the call's time zone is known. */
function calendarRequest(name: ToolName, args: Record<string, unknown>, brief: AgentBrief): CommandOutcome {
  if (!brief.calendar) return fail('there is no calendar on this call');
  const text = (k: string) => (typeof args[k] === 'string' && (args[k] as string).trim() ? (args[k] as string).trim() : undefined);
  const minutes = args.duration_minutes;
  if (minutes !== undefined && (typeof minutes !== 'number' || !Number.isInteger(minutes))) return fail('duration_minutes must be a whole number');
  const request = (r: CalendarRequest): CommandOutcome => ok({ type: 'calendar', request: r });
  switch (name) {
    case 'find_free_slots':
      if (!text('from') || !text('to') || minutes === undefined) return fail('from, to and duration_minutes are required');
      return request({ op: 'find_free_slots', from: text('from')!, to: text('to')!, durationMinutes: minutes as number });
    case 'book_appointment':
      if (!text('start') || minutes === undefined || !text('title')) return fail('start, duration_minutes and title are required');
      return request({ op: 'book', start: text('start')!, durationMinutes: minutes as number, title: text('title')!, ...(text('notes') ? { notes: text('notes') } : {}) });
    case 'move_appointment':
      if (!text('event_id') || !text('start')) return fail('event_id and start are required');
      return request({ op: 'move', eventId: text('event_id')!, start: text('start')!, ...(minutes !== undefined ? { durationMinutes: minutes as number } : {}) });
    default:
      if (!text('event_id')) return fail('event_id is required');
      return request({ op: 'cancel', eventId: text('event_id')! });
  }
}

const fail = (error: string): CommandOutcome => ({ ok: false, error });
const ok = (action: AgentAction): CommandOutcome => ({ ok: true, action });

function pressKeys(digits: unknown): CommandOutcome {
  if (typeof digits !== 'string' || !DIGITS_PATTERN.test(digits.trim())) {
    return fail('digits must be 1 to 32 of 0-9, *, # and w');
  }
  return ok({ type: 'press', digits: digits.trim() });
}

function keypad(field: unknown, brief: AgentBrief): CommandOutcome {
  if (typeof field !== 'string' || !brief.keypadFields.includes(field as KeypadField)) {
    return fail(
      brief.keypadFields.length ? `field must be one of: ${brief.keypadFields.join(', ')}` : 'no details may be entered on the keypad on this call',
    );
  }
  return ok({ type: 'press_field', field: field as KeypadField });
}

const dialable = (n: string) => n.replace(/[^\d+]/g, '');

function transfer(to: unknown, warm: unknown, brief: AgentBrief): CommandOutcome {
  if (!brief.transferNumber) return fail('transfers are not allowed on this call');
  if (to !== undefined && to !== null && typeof to !== 'string') return fail('to must be a phone number');
  if (warm !== undefined && warm !== null && typeof warm !== 'boolean') return fail('warm must be true or false');
  const dest = typeof to === 'string' && to.trim() ? to.trim() : brief.transferNumber;
  if (dialable(dest) !== dialable(brief.transferNumber)) return fail(`the only allowed transfer destination is ${brief.transferNumber}`);
  return ok({ type: 'transfer', to: brief.transferNumber, warm: warm === true });
}

/** Folds a model's free-text reason into a short code for the call record ("Task done!" → `task_done`). */
export function reasonCode(reason: string, fallback: string): string {
  const code = reason
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 48)
    .replace(/_+$/, '');
  return code || fallback;
}

function parseArgs(raw: string): Record<string, unknown> | string {
  if (!raw.trim()) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return 'the arguments are not valid JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'the arguments must be a JSON object';
  return v as Record<string, unknown>;
}

/** Maps one tool call from the model to an action (or a refusal to send back as the tool result). */
export function toolCallToAction(call: Pick<ToolCall, 'name' | 'arguments'>, brief: AgentBrief): CommandOutcome {
  const args = parseArgs(call.arguments);
  if (typeof args === 'string') return fail(args);
  switch (call.name as ToolName) {
    case 'press_keys':
      return pressKeys(args.digits);
    case 'enter_on_keypad':
      return keypad(args.field, brief);
    case 'transfer_call':
      return transfer(args.to, args.warm, brief);
    case 'end_call': {
      if (typeof args.goal_completed !== 'boolean') return fail('goal_completed must be true or false');
      if (args.reason !== undefined && typeof args.reason !== 'string') return fail('reason must be a string');
      const goalCompleted = args.goal_completed;
      return ok({ type: 'end', goalCompleted, reason: reasonCode((args.reason as string | undefined) ?? '', goalCompleted ? 'task_completed' : 'agent_ended') });
    }
    case 'ask_operator':
      if (typeof args.question !== 'string' || !args.question.trim()) return fail('question must be a non-empty string');
      return ok({ type: 'ask_operator', question: args.question.trim() });
    case 'wait':
      return ok({ type: 'wait' });
    case 'mark_human_answered':
      return ok({ type: 'human_answered' });
    case 'switch_language': {
      const language = typeof args.language === 'string' ? normalizeLanguage(args.language) : null;
      if (!language) return fail('language must be a language code such as es, de or sv');
      return ok({ type: 'switch_language', language });
    }
    case 'find_free_slots':
    case 'book_appointment':
    case 'move_appointment':
    case 'cancel_appointment':
      return calendarRequest(call.name as ToolName, args, brief);
    default:
      return fail(`unknown tool ${call.name}`);
  }
}

/** Maps one inline command (`[[press:1]]`) to an action, with the same checks as the tools. */
export function inlineCommandToAction(cmd: InlineCommand, brief: AgentBrief): CommandOutcome {
  const param = cmd.param?.trim() ?? '';
  switch (cmd.name) {
    case 'press':
      return pressKeys(param.replace(/[\s,-]/g, ''));
    case 'keypad':
      return keypad(param, brief);
    case 'transfer':
      return transfer(param || undefined, undefined, brief);
    case 'end_call': {
      const p = param.toLowerCase();
      const goalCompleted = /^(completed|done|success|yes|true|goal_completed)$/.test(p);
      return ok({ type: 'end', goalCompleted, reason: goalCompleted ? 'task_completed' : p && p !== 'not_completed' ? reasonCode(p, 'agent_ended') : 'agent_ended' });
    }
    case 'request_user':
      if (!param) return fail('request_user needs a question');
      return ok({ type: 'ask_operator', question: param });
    case 'wait':
      return ok({ type: 'wait' });
    case 'human':
      return ok({ type: 'human_answered' });
  }
}
