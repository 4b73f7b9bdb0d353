/**
 * `POST /test/simulate_call` (004, development only): places a call on the simulated phone network, its
 * scenario named in 004's style (`customer_service`, `phone_menu`, `voicemail`, …: SIMULATED_SCENARIOS) or
 * by the number of any scenario (`to`). The call is a normal outbound call of the key's organisation, with a
 * default task the scenario suits, followed like any other (`/events/ws?callSid=`). Not registered when
 * NODE_ENV=production; refused (400) when the server's carrier is not the simulated network.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { canonicalStartCall } from '../../../core/calls/request.js';
import { SwitchboardError } from '../../../core/errors.js';
import type { PhonyOptions } from '../options.js';
import { ErrorBody, SIMULATED_SCENARIOS, SimulateCallBody, SimulateCallResponse } from '../schemas.js';

const DEFAULT_TASK = 'This is a test call. Ask whether they have a table for two tonight at seven, and thank them.';

export const simulateRoutes: FastifyPluginAsyncTypebox<PhonyOptions> = async (app, { core }) => {
  app.post(
    '/test/simulate_call',
    {
      schema: {
        summary: 'Simulate a call on the simulated network (development only)',
        tags: ['Phony'],
        body: SimulateCallBody,
        response: { 200: SimulateCallResponse, 400: ErrorBody, 402: ErrorBody },
      },
    },
    async (req) => {
      const org = req.org as typeof req.org | undefined;
      if (!org) throw new SwitchboardError('SB_ERR_UNAUTHENTICATED', 'An API key is required to place a call');
      if (core.config.carrier !== 'sim') {
        throw new SwitchboardError('SB_ERR_VALIDATION', 'Simulated calls need CARRIER=sim (this server dials real numbers)', { field: 'scenario' });
      }
      const { scenario = 'customer_service', to: given, from, task, language } = req.body;
      const to = given ?? SIMULATED_SCENARIOS[scenario];
      const request = canonicalStartCall({ phone_number: to, task: task ?? DEFAULT_TASK, language: language ?? 'en', ...(from ? { from_number: from } : {}) }, 'phony');
      const { call } = await core.calls.start(org.id, request);
      return { status: 'success' as const, message: 'Simulated call started', callSid: call.sid, scenario: given ? 'number' : scenario, to };
    },
  );
};
