/**
 * The organisation's phone numbers while the server runs (a Switchboard extension on `/api/v1`, key or
 * dashboard session): list, add, and assign to an agent. `agent_id` is the agent that answers calls to the
 * number and calls out from it (both directions); `inbound_agent_id` / `outbound_agent_id` set one each.
 * `credentials` are the number's own carrier account (Twilio: `{account_sid, auth_token}`): calls from the
 * number are placed on that account. They are stored sealed and never returned (`has_credentials` only).
 * The CLI (`switchboard numbers`) does the same through the same core service.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FaceOptions } from '../../shared/options.js';
import { ok } from '../envelope.js';
import { IdParams } from '../schemas.js';
import { NUMBER_CARRIERS, numberView, validationError } from '../../../core/index.js';
import type { PhoneNumberRow } from '../../../store/index.js';

const AgentRef = Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]);
const Carrier = Type.Union(NUMBER_CARRIERS.map((c) => Type.Literal(c)));
/** A number's own carrier account; the core checks what a carrier needs (core/numbers.ts). null removes them. */
const Credentials = Type.Union([
  Type.Object({ account_sid: Type.String({ minLength: 1, maxLength: 64 }), auth_token: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false }),
  Type.Null(),
]);

function view(r: PhoneNumberRow) {
  const v = numberView(r);
  return {
    ...v,
    phone_number: v.number,
    // One agent on both directions reads as "the" agent; otherwise the inbound one (who answers).
    agent_id: v.inbound_agent_id ?? v.outbound_agent_id,
    created_at: new Date(v.created_at).toISOString(),
    updated_at: new Date(v.updated_at).toISOString(),
  };
}

const tags = ['Agents/tasks: phone numbers (extension)'];

export const phoneNumberRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.get('/phone-numbers', { schema: { summary: 'List the organization’s phone numbers', tags } }, async (req) =>
    ok(req, (await core.numbers.list(req.org.id)).map(view)),
  );

  app.post(
    '/phone-numbers',
    {
      schema: {
        summary: 'Add a phone number (optionally assigned to an agent)',
        tags,
        body: Type.Object({
          phone_number: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
          number: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
          carrier: Type.Optional(Carrier),
          credentials: Type.Optional(Credentials),
          agent_id: Type.Optional(AgentRef),
          inbound_agent_id: Type.Optional(AgentRef),
          outbound_agent_id: Type.Optional(AgentRef),
        }),
      },
    },
    async (req, reply) => {
      const b = req.body;
      const number = b.phone_number ?? b.number;
      if (!number) throw validationError('phone_number', 'Missing phone_number');
      const row = await core.numbers.add(req.org.id, {
        number,
        carrier: b.carrier,
        credentials: b.credentials,
        inbound_agent_id: b.inbound_agent_id !== undefined ? b.inbound_agent_id : b.agent_id,
        outbound_agent_id: b.outbound_agent_id !== undefined ? b.outbound_agent_id : b.agent_id,
      });
      void reply.status(201);
      return ok(req, view(row));
    },
  );

  app.get('/phone-numbers/:id', { schema: { summary: 'Get a phone number', tags, params: IdParams } }, async (req) =>
    ok(req, view(await core.numbers.get(req.org.id, req.params.id))),
  );

  app.patch(
    '/phone-numbers/:id',
    {
      schema: {
        summary: 'Assign a number to an agent, or unassign it (agent_id: null); replace or remove its credentials',
        tags,
        params: IdParams,
        body: Type.Object({
          agent_id: Type.Optional(AgentRef),
          inbound_agent_id: Type.Optional(AgentRef),
          outbound_agent_id: Type.Optional(AgentRef),
          credentials: Type.Optional(Credentials),
        }),
      },
    },
    async (req) => {
      const b = req.body;
      const row = await core.numbers.update(req.org.id, req.params.id, {
        ...(b.credentials !== undefined ? { credentials: b.credentials } : {}),
        inbound_agent_id: b.inbound_agent_id !== undefined ? b.inbound_agent_id : b.agent_id,
        outbound_agent_id: b.outbound_agent_id !== undefined ? b.outbound_agent_id : b.agent_id,
      });
      return ok(req, view(row));
    },
  );
};
