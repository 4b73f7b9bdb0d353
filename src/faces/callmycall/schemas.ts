/** TypeBox schemas of the CallMyCall face (000 + 001): inputs validated, outputs serialised from these. */
import { Type, type Static } from '@sinclair/typebox';
import { E164_PATTERN } from '../../lib/phone.js';
import { TTS_PROVIDERS, VOICE_GENDERS, WEBHOOK_EVENT_NAMES } from '../../core/calls/request.js';

const E164 = Type.String({ pattern: E164_PATTERN, description: 'E.164 phone number, e.g. +46700000000' });
const Bool = Type.Boolean();

export const Persona = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    phone: Type.Optional(Type.String({ maxLength: 32 })),
    personal_security_number: Type.Optional(Type.String({ maxLength: 32 })),
    address: Type.Optional(Type.String({ maxLength: 500 })),
    role: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const SharePolicy = Type.Object(
  {
    name_voice: Type.Optional(Bool),
    phone_voice: Type.Optional(Bool),
    phone_dtmf: Type.Optional(Bool),
    pnr_voice: Type.Optional(Bool),
    pnr_dtmf: Type.Optional(Bool),
  },
  { additionalProperties: false },
);

export const StartCallBody = Type.Object(
  {
    phone_number: E164,
    task: Type.String({ minLength: 1, maxLength: 10_000 }),
    language: Type.Optional(Type.String({ minLength: 2, maxLength: 35 })),
    tts_provider: Type.Optional(Type.Union(TTS_PROVIDERS.map((p) => Type.Literal(p)))),
    voice_gender: Type.Optional(Type.Union(VOICE_GENDERS.map((p) => Type.Literal(p)))),
    voiceGender: Type.Optional(Type.Union(VOICE_GENDERS.map((p) => Type.Literal(p)))),
    openaiVoice: Type.Optional(Type.String({ maxLength: 100 })),
    '11labsVoice': Type.Optional(Type.String({ maxLength: 100 })),
    elevenLabsVoice: Type.Optional(Type.String({ maxLength: 100 })),
    elevenLabsModel: Type.Optional(Type.String({ maxLength: 100 })),
    azureVoice: Type.Optional(Type.String({ maxLength: 100 })),
    style: Type.Optional(Type.String({ maxLength: 100 })),
    role: Type.Optional(Type.String({ maxLength: 100 })),
    azureBackgroundAudio: Type.Optional(
      Type.Object(
        {
          src: Type.String({ format: 'uri', maxLength: 2000 }),
          volume: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          fadeInMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
          fadeOutMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    additionalPrompt: Type.Optional(Type.String({ maxLength: 10_000 })),
    additional_prompt: Type.Optional(Type.String({ maxLength: 10_000 })),
    record: Type.Optional(Bool),
    max_duration: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 4 * 3600 })),
    max_queue_time: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 4 * 3600 })),
    /** An extension: silence (ms) that ends the callee's turn on an audio call (docs/voice.md). */
    endpointing_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 5000 })),
    persona: Type.Optional(Persona),
    transfer_number: Type.Optional(E164),
    from_number: Type.Optional(E164),
    share_policy: Type.Optional(SharePolicy),
    webhook: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
    webhook_events: Type.Optional(Type.Array(Type.Union(WEBHOOK_EVENT_NAMES.map((e) => Type.Literal(e))), { maxItems: 10 })),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    enable_calendar: Type.Optional(Bool),
    calendar_permissions: Type.Optional(
      Type.Object({ read: Type.Optional(Bool), write: Type.Optional(Bool) }, { additionalProperties: false }),
    ),
    userOnCall: Type.Optional(Bool),
    monitored: Type.Optional(Bool),
    monitor: Type.Optional(Bool),
    userPhone: Type.Optional(E164),
    user_phone: Type.Optional(E164),
  },
  { additionalProperties: true },
);
export type StartCallBody = Static<typeof StartCallBody>;

export const StartCallResponse = Type.Object({
  success: Type.Boolean(),
  sid: Type.String(),
  id: Type.Optional(Type.String({ description: 'The call UUID (extension)' })),
  userOnCall: Type.Optional(Type.Boolean()),
  sessionId: Type.Optional(Type.String()),
  userCallSid: Type.Optional(Type.String()),
});

export const EndCallBody = Type.Object({ callSid: Type.String({ minLength: 1, maxLength: 100 }) });

export const TranscriptItem = Type.Object({ role: Type.String(), text: Type.String(), seq: Type.Integer() });

export const EndCallResponse = Type.Object({
  success: Type.Boolean(),
  ok: Type.Boolean(),
  alreadyClosed: Type.Boolean(),
  transcript: Type.Array(TranscriptItem),
});

export const CallIdParams = Type.Object({ callId: Type.String({ minLength: 1, maxLength: 100 }) });

export const ErrorBody = Type.Object({ error: Type.String() }, { additionalProperties: true });

export const WebhookTestBody = Type.Object({
  webhook_url: Type.String({ format: 'uri', maxLength: 2000 }),
  event: Type.Optional(Type.Union(WEBHOOK_EVENT_NAMES.map((e) => Type.Literal(e)))),
});

export const DeliveriesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  call_id: Type.Optional(Type.String({ maxLength: 100 })),
});

/** A row of the delivery log (a bigint id). */
export const DeliveryParams = Type.Object({ id: Type.String({ pattern: '^[0-9]{1,18}$' }) });

export const CallSidParams = Type.Object({ callSid: Type.String({ minLength: 1, maxLength: 100 }) });

export const PatchCallBody = Type.Object(
  {
    task: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000 })),
    transfer_number: Type.Optional(E164),
    additional_prompt: Type.Optional(Type.String({ maxLength: 10_000 })),
    max_duration: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 4 * 3600 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const TransferBody = Type.Object({
  destination: E164,
  warm: Type.Optional(Type.Boolean()),
  reason: Type.Optional(Type.String({ maxLength: 500 })),
});

export const OperatorAnswerBody = Type.Object({ answer: Type.String({ minLength: 1, maxLength: 2000 }) });

/** A supervisor's line (extension): said at once, cutting the agent off, unless `interrupt` is false (then after the agent's sentence). */
export const SayBody = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 2000, description: 'The line to say on the call, in the agent’s voice.' }),
  interrupt: Type.Optional(Type.Boolean({ default: true, description: 'Cut the agent off (true) or wait until its sentence ends (false).' })),
});

/** A line said as the user of a user-on-call session, by a person at the dashboard (extension; simulated network). */
export const UserSayBody = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 2000, description: 'What the user says to the target in the room.' }),
});

/** A supervisor's key presses (extension). */
export const PressBody = Type.Object({
  digits: Type.String({ pattern: '^[0-9*#wW]{1,32}$', description: 'Digits 0-9, * and #; w is a half-second pause.' }),
});

export const VerifyCallerIdBody = Type.Object({ phone_number: E164 });

export const VerifyCallerIdResponse = Type.Object({
  success: Type.Boolean(),
  verification_id: Type.String(),
  phone_number: Type.String(),
  status: Type.Literal('pending'),
  validation_code: Type.String({ description: 'The code the owner of the number is asked to type during the verification call' }),
});

export const VerificationIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const VerificationStatusResponse = Type.Object({
  verification_id: Type.String(),
  phone_number: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('verified'), Type.Literal('failed')]),
  created_at: Type.Optional(Type.String()),
  finished_at: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

export const CallerIdsResponse = Type.Object({
  caller_ids: Type.Array(Type.Object({ phone_number: Type.String(), verified_at: Type.String() })),
});

/** A literal `+` in the path (001's example) or `%2B`; both arrive decoded as `+`. */
export const CallerIdParams = Type.Object({ phone_number: E164 });

/** `POST /v1/calls/:callSid/activate` (001): the agent takes over a user-on-call session. */
export const ActivateBody = Type.Object({
  task: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000, description: 'New instruction for the agent at takeover; the call’s task when omitted.' })),
  drop_user: Type.Optional(Type.Boolean({ default: true, description: 'Disconnect the user when the agent takes over (false: all three stay, where the carrier supports it).' })),
  additional_prompt: Type.Optional(Type.String({ maxLength: 10_000 })),
  transfer_number: Type.Optional(E164),
});

export const ActivateResponse = Type.Object({
  success: Type.Boolean(),
  ai_activated: Type.Boolean(),
  user_dropped: Type.Boolean(),
  message: Type.String(),
});

/** `GET /v1/calls/:callSid/conference-status` (001). */
export const ConferenceStatusResponse = Type.Object({
  callSid: Type.String(),
  sessionId: Type.Optional(Type.String()),
  state: Type.String({ description: 'initiated | connected | ai_takeover | active | transferred | completed | failed' }),
  participants: Type.Array(
    Type.Object({
      role: Type.String({ description: 'user | target' }),
      callSid: Type.String(),
      carrier_call_sid: Type.Optional(Type.String()),
      status: Type.String({ description: 'queued | ringing | connected | completed | busy | no-answer | failed | canceled' }),
      muted: Type.Boolean(),
    }),
  ),
  ai_active: Type.Boolean(),
});

export const DropUserResponse = Type.Object({ success: Type.Boolean(), user_dropped: Type.Boolean(), callSid: Type.String() });
