/** TypeBox schemas of the Phony face (004): inputs validated, outputs serialised from these. */
import { Type, type Static } from '@sinclair/typebox';
import { E164_PATTERN } from '../../lib/phone.js';

/** 004's call identifier: Switchboard's own `CA…` sid (or the carrier's Call SID, or the call's UUID). */
const CallSid = Type.String({ minLength: 1, maxLength: 64, description: 'Call identifier (the call’s sid)' });

/** 004's error body, word for word: `{error: {code, message, details}}`. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'CALL_NOT_FOUND, INVALID_REQUEST, UNAUTHORIZED, RATE_LIMITED, TWILIO_ERROR, INTERNAL_ERROR, …' }),
    message: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown()),
  }),
});

/** 004's answer to every supervisor command. */
export const SuccessBody = Type.Object({ status: Type.Literal('success'), message: Type.String() });

export const TextBody = Type.Object(
  {
    callSid: CallSid,
    text: Type.String({ minLength: 1, maxLength: 2000 }),
    /** Switchboard extension: `false` waits for the end of the sentence the agent is saying (default: cut in). */
    interrupt: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const DtmfBody = Type.Object(
  {
    callSid: CallSid,
    // 004: "must be 0-9, *, or #" — one key.
    digit: Type.String({ pattern: '^[0-9*#]$', description: 'One key: 0-9, * or #' }),
  },
  { additionalProperties: false },
);

export const EndBody = Type.Object({ callSid: CallSid }, { additionalProperties: false });

export const TransferBody = Type.Object(
  {
    callSid: CallSid,
    target: Type.String({ pattern: E164_PATTERN, description: 'E.164 phone number, e.g. +15559999999' }),
    /** Switchboard extension: a warm transfer briefs the destination first (default: cold, as 004's agent does). */
    warm: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const ClarificationBody = Type.Object(
  {
    callSid: CallSid,
    response: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false },
);

/** The simulated scenarios `/test/simulate_call` knows by 004-style name. */
export const SIMULATED_SCENARIOS = {
  customer_service: '+15550100',
  person: '+15550100',
  phone_menu: '+15550101',
  ivr: '+15550101',
  keypad_entry: '+15550105',
  voicemail: '+15550104',
  busy: '+15550102',
  no_answer: '+15550103',
  invalid_number: '+15550199',
} as const;

export const SimulateCallBody = Type.Object(
  {
    from: Type.Optional(Type.String({ pattern: E164_PATTERN, description: 'Caller ID shown to the callee (a verified or own number)' })),
    to: Type.Optional(Type.String({ pattern: E164_PATTERN, description: 'A number on the simulated network (instead of `scenario`)' })),
    scenario: Type.Optional(Type.Union(Object.keys(SIMULATED_SCENARIOS).map((k) => Type.Literal(k)))),
    task: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
    language: Type.Optional(Type.String({ minLength: 2, maxLength: 35 })),
  },
  { additionalProperties: false },
);

export const SimulateCallResponse = Type.Object({
  status: Type.Literal('success'),
  message: Type.String(),
  callSid: Type.String(),
  scenario: Type.String(),
  to: Type.String(),
});

export type TextBody = Static<typeof TextBody>;
