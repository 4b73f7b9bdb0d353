/**
 * 002: "some management endpoints require session authentication: API Keys management (GET, POST, DELETE,
 * regenerate), Organizations management (GET, PATCH, create), Users management (GET, invite). These
 * endpoints use session cookies instead of API keys." Called with an API key they answer 403, as 002's
 * "Forbidden (insufficient permissions)". Switchboard manages keys and organisations with its CLI
 * (`switchboard keys …`); the dashboard's sign-in is not a session for this face.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SwitchboardError } from '../../../core/errors.js';
import type { FaceOptions } from '../../shared/options.js';
import { ErrorEnvelope } from '../schemas.js';

const SESSION_ONLY: Array<{ methods: Array<'GET' | 'POST' | 'PATCH' | 'DELETE'>; urls: string[] }> = [
  { methods: ['GET', 'POST'], urls: ['/api-keys'] },
  { methods: ['DELETE'], urls: ['/api-keys/:id'] },
  { methods: ['POST'], urls: ['/api-keys/:id/regenerate'] },
  { methods: ['GET', 'POST'], urls: ['/organizations'] },
  { methods: ['GET', 'PATCH'], urls: ['/organizations/:id'] },
  { methods: ['GET'], urls: ['/users'] },
  { methods: ['POST'], urls: ['/users/invite'] },
];

export const sessionOnlyRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app) => {
  for (const { methods, urls } of SESSION_ONLY) {
    for (const url of urls) {
      app.route({
        method: methods,
        url,
        schema: {
          summary: 'Account management: needs a session, refused with an API key (403)',
          tags: ['Agents/tasks: account'],
          response: { 401: ErrorEnvelope, 403: ErrorEnvelope },
        },
        handler: async () => {
          throw new SwitchboardError('SB_ERR_SESSION_REQUIRED', 'This endpoint requires session authentication, not an API key', {});
        },
      });
    }
  }
};
