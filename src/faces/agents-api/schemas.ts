/** TypeBox schemas of 002's requests (bodies strictly typed; query strings coerced). */
import { Type } from '@sinclair/typebox';
import { E164_PATTERN } from '../../lib/phone.js';

const Obj = Type.Record(Type.String(), Type.Unknown());
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
};

export const AgentsQuery = Type.Object({ enabled: Type.Optional(Type.Boolean()), ...Paging });

const agentFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  system_prompt: Type.String({ minLength: 1, maxLength: 50_000 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  starting_message: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  language: Type.Optional(Type.String({ minLength: 2, maxLength: 40 })),
  enabled: Type.Optional(Type.Boolean()),
  voice_settings: Type.Optional(Obj),
  dtmf_rules: Type.Optional(Obj),
};

export const CreateAgentBody = Type.Object(agentFields);
export const UpdateAgentBody = Type.Partial(Type.Object(agentFields), { minProperties: 0 });

export const TasksQuery = Type.Object({
  agent_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  status: Type.Optional(Type.Union(['pending', 'in_progress', 'completed', 'failed'].map((s) => Type.Literal(s)))),
  ...Paging,
});

const WebhookEvents = Type.Array(Type.Union(['call_started', 'call_completed', 'call_failed'].map((s) => Type.Literal(s))), { maxItems: 3 });

const taskFields = {
  agent_id: Type.String({ minLength: 1, maxLength: 100 }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  to_number: Type.String({ pattern: E164_PATTERN }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
  starting_message: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  context_data: Type.Optional(Obj),
  priority: Type.Optional(Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 })),
  scheduled_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  webhook_url: Type.Optional(Type.Union([Type.String({ format: 'uri', maxLength: 2000 }), Type.Null()])),
  webhook_events: Type.Optional(WebhookEvents),
};

export const CreateTaskBody = Type.Object(taskFields);
const { agent_id: _agentId, ...updatable } = taskFields;
export const UpdateTaskBody = Type.Partial(Type.Object(updatable));

export const CallsQuery = Type.Object({
  task_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  agent_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  status: Type.Optional(Type.Union(['initiated', 'in_progress', 'completed', 'failed'].map((s) => Type.Literal(s)))),
  ...Paging,
});

/** 002's error envelope, for the OpenAPI document. */
export const ErrorEnvelope = Type.Object({
  success: Type.Literal(false),
  error: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  meta: Type.Object({ timestamp: Type.String(), request_id: Type.String() }),
});
