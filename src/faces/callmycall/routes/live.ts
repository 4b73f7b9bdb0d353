/**
 * Changing a live call: PATCH /v1/calls/:callSid (001), POST /v1/calls/:callSid/transfer (001), and the
 * extensions POST /v1/calls/:callSid/operator-answer (the answer to the agent's question to the operator),
 * /say and /press (a supervisor's line and key presses). Each goes through the core and over the bus to the
 * session that owns the call. Supervisor commands (transfer, operator answer, say, press) carry who gave
 * them — the API key by its fingerprint, or the dashboard user (`actorOf`) — and count as overrides.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FaceOptions } from '../../shared/options.js';
import { CallSidParams, ErrorBody, OperatorAnswerBody, PatchCallBody, PressBody, SayBody, TransferBody } from '../schemas.js';
import { actorOf as by } from '../../shared/auth.js';
import { statusWord } from '../map.js';

export const liveRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.patch(
    '/calls/:callSid',
    {
      schema: {
        summary: 'Update a live call (applies at the agent’s next turn)',
        tags: ['CallMyCall'],
        params: CallSidParams,
        body: PatchCallBody,
        response: { 200: Type.Object({ success: Type.Boolean(), callSid: Type.String(), status: Type.String() }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const b = req.body;
      const call = await core.calls.update(req.org.id, req.params.callSid, {
        task: b.task,
        transferNumber: b.transfer_number,
        additionalPrompt: b.additional_prompt,
        maxDurationSeconds: b.max_duration,
      });
      return { success: true, callSid: call.sid, status: statusWord(call.status) };
    },
  );

  app.post(
    '/calls/:callSid/transfer',
    {
      schema: {
        summary: 'Transfer a live call (warm by default)',
        tags: ['CallMyCall'],
        params: CallSidParams,
        body: TransferBody,
        response: { 200: Type.Object({ success: Type.Boolean(), transferType: Type.String(), callSid: Type.String() }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const warm = req.body.warm ?? true;
      const call = await core.calls.transfer(req.org.id, req.params.callSid, req.body.destination, warm, req.body.reason, by(req));
      return { success: true, transferType: warm ? 'warm' : 'cold', callSid: call.sid };
    },
  );

  app.post(
    '/calls/:callSid/operator-answer',
    {
      schema: {
        summary: 'Answer the agent’s question to the operator (Switchboard extension)',
        tags: ['CallMyCall'],
        params: CallSidParams,
        body: OperatorAnswerBody,
        response: { 200: Type.Object({ success: Type.Boolean() }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      await core.calls.answerOperator(req.org.id, req.params.callSid, req.body.answer, by(req));
      return { success: true };
    },
  );

  app.post(
    '/calls/:callSid/say',
    {
      schema: {
        summary: 'Say a line on a live call as its supervisor (Switchboard extension)',
        tags: ['CallMyCall'],
        params: CallSidParams,
        body: SayBody,
        response: { 200: Type.Object({ success: Type.Boolean(), callSid: Type.String() }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const when = req.body.interrupt === false ? 'after_sentence' : 'interrupt';
      const call = await core.calls.supervise(req.org.id, req.params.callSid, { type: 'say', text: req.body.text, when, by: by(req) });
      return { success: true, callSid: call.sid };
    },
  );

  app.post(
    '/calls/:callSid/press',
    {
      schema: {
        summary: 'Press keys on a live call as its supervisor (Switchboard extension)',
        tags: ['CallMyCall'],
        params: CallSidParams,
        body: PressBody,
        response: { 200: Type.Object({ success: Type.Boolean(), callSid: Type.String() }), 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req) => {
      const call = await core.calls.supervise(req.org.id, req.params.callSid, { type: 'press', digits: req.body.digits, by: by(req) });
      return { success: true, callSid: call.sid };
    },
  );
};
