/** TypeBox schemas of 003's requests (bodies strictly typed; query strings coerced). Failures are 422. */
import { Type } from '@sinclair/typebox';
import { E164_PATTERN } from '../../lib/phone.js';
import { TRUEDY_STATUSES } from './map.js';

const Obj = Type.Record(Type.String(), Type.Unknown());
/** 003's duration strings: seconds with an `s`, e.g. `"600s"` (protobuf Duration's JSON form). */
export const DURATION_PATTERN = '^\\d{1,7}(\\.\\d{1,9})?s$';

export const CallIdParams = Type.Object({ call_id: Type.String({ minLength: 1, maxLength: 100 }) });

export const CallsQuery = Type.Object({
  status: Type.Optional(Type.Union(TRUEDY_STATUSES.map((s) => Type.Literal(s)))),
  direction: Type.Optional(Type.Union([Type.Literal('inbound'), Type.Literal('outbound')])),
  agent_id: Type.Optional(Type.String({ format: 'uuid' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
});

export const CreateCallBody = Type.Object({
  agent_id: Type.String({ format: 'uuid' }),
  phone_number: Type.String({ pattern: E164_PATTERN }),
  from_number: Type.Optional(Type.String({ pattern: E164_PATTERN })),
  variables: Type.Optional(Obj),
  call_settings: Type.Optional(
    Type.Object({
      recording_enabled: Type.Optional(Type.Boolean()),
      transcription_enabled: Type.Optional(Type.Boolean()),
      greeting: Type.Optional(Type.String({ maxLength: 2000 })),
      max_duration: Type.Optional(Type.String({ pattern: DURATION_PATTERN })),
      join_timeout: Type.Optional(Type.String({ pattern: DURATION_PATTERN })),
    }),
  ),
  /** An extension: context to store on the call from the start (003 sets it with PATCH). */
  context: Type.Optional(Obj),
});

export const UpdateCallBody = Type.Object({
  context: Type.Optional(Obj),
  call_settings: Type.Optional(
    Type.Object({
      recording_enabled: Type.Optional(Type.Boolean()),
      transcription_enabled: Type.Optional(Type.Boolean()),
    }),
  ),
});

export const BulkDeleteBody = Type.Object({
  ids: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 1000 }),
});

/** 003's error envelope, for the OpenAPI document. */
export const ErrorEnvelope = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Record(Type.String(), Type.Unknown()) }),
  meta: Type.Object({ request_id: Type.String() }),
});
