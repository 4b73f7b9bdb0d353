/**
 * `POST /v1/calls/:callSid/scenario` (a Switchboard extension, issue 12 §6): a finished call becomes a
 * scenario test. The file (core/calls/replay.ts) is written under the scenarios folder, in
 * `tests/recorded/`, and returned; `npx switchboard scenarios test <path>` runs it.
 */
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FaceOptions } from '../../shared/options.js';
import { CallSidParams, ErrorBody } from '../schemas.js';

/** Where recorded scenario tests go, inside the scenarios folder (not run by `scenarios test scenarios/tests`). */
export const RECORDED_DIR = path.join('tests', 'recorded');

export const scenarioRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.post(
    '/calls/:callSid/scenario',
    {
      schema: {
        summary: 'Make a finished call into a scenario test that replays the callee (Switchboard extension)',
        tags: ['CallMyCall'],
        params: CallSidParams,
        response: {
          200: Type.Object({
            success: Type.Boolean(),
            scenario: Type.Object({ name: Type.String(), path: Type.String(), yaml: Type.String() }),
          }),
          400: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (req) => {
      const recorded = await core.replays.record(req.org.id, req.params.callSid);
      const file = await core.replays.save(path.join(core.config.scenariosDir, RECORDED_DIR), recorded);
      return { success: true, scenario: { name: recorded.name, path: file, yaml: recorded.yaml } };
    },
  );
};
