/**
 * User-on-call (001 "User-on-call endpoints"): `POST /v1/calls/:callSid/activate`, `GET …/conference-status`,
 * `POST …/drop-user`. 404 `Call not found or not a userOnCall session`; 400 once the agent is already active
 * (or before the room is connected); 500 when the carrier failed to move a leg. Activation and dropping the
 * user are supervisor commands: stored as overrides with who gave them. `POST …/user-say` (extension): a person
 * at the dashboard speaks as the user while the user is in the room, where the user's leg is text (the
 * simulated network); the line is the user's in the transcript (`operator`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FaceOptions } from '../../shared/options.js';
import { actorOf } from '../../shared/auth.js';
import { Type } from '@sinclair/typebox';
import { ActivateBody, ActivateResponse, CallSidParams, ConferenceStatusResponse, DropUserResponse, ErrorBody, UserSayBody } from '../schemas.js';
import { roomView } from '../map.js';

export const userOnCallRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.post(
    '/calls/:callSid/activate',
    {
      schema: {
        summary: 'Activate AI takeover for a user-on-call session',
        tags: ['CallMyCall'],
        params: CallSidParams,
        body: ActivateBody,
        response: { 200: ActivateResponse, 400: ErrorBody, 404: ErrorBody, 500: ErrorBody },
      },
    },
    async (req) => {
      const b = req.body;
      const dropUser = b.drop_user ?? true;
      await core.calls.activate(
        req.org.id,
        req.params.callSid,
        { dropUser, changes: { task: b.task, additionalPrompt: b.additional_prompt, transferNumber: b.transfer_number } },
        actorOf(req),
      );
      return { success: true, ai_activated: true, user_dropped: dropUser, message: 'Call redirected to AI bidirectional stream' };
    },
  );

  app.get(
    '/calls/:callSid/conference-status',
    {
      schema: {
        summary: 'User-on-call state and participants',
        tags: ['CallMyCall'],
        params: CallSidParams,
        response: { 200: ConferenceStatusResponse, 404: ErrorBody },
      },
    },
    async (req) => roomView(await core.calls.userOnCallSession(req.org.id, req.params.callSid)),
  );

  app.post(
    '/calls/:callSid/drop-user',
    {
      schema: {
        summary: 'Disconnect the user leg of a user-on-call session',
        tags: ['CallMyCall'],
        params: CallSidParams,
        response: { 200: DropUserResponse, 404: ErrorBody, 500: ErrorBody },
      },
    },
    async (req) => {
      const call = await core.calls.dropUser(req.org.id, req.params.callSid, actorOf(req));
      return { success: true, user_dropped: true, callSid: call.sid };
    },
  );

  app.post(
    '/calls/:callSid/user-say',
    {
      schema: {
        summary: 'Speak as the user of a user-on-call session (Switchboard extension, simulated network)',
        tags: ['CallMyCall'],
        params: CallSidParams,
        body: UserSayBody,
        response: { 200: Type.Object({ success: Type.Boolean(), callSid: Type.String() }), 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const call = await core.calls.userSay(req.org.id, req.params.callSid, req.body.text, actorOf(req));
      return { success: true, callSid: call.sid };
    },
  );
};
