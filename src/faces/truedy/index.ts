/**
 * The Truedy face (`/api/public/v1`, document 003, decisions in FACES.md and docs/faces/truedy.md):
 * outbound calls made by agents, `{data, meta}` envelope, `{error: {code, message, details}, meta}` errors
 * (422 for every validation failure), `Authorization: Bearer KEY`, a per-key rate limit. An encapsulated plugin.
 */
import type { FastifyPluginAsync } from 'fastify';
import { keyAuth } from '../shared/plumbing.js';
import { bearerKey } from '../shared/auth.js';
import type { FaceOptions } from '../shared/options.js';
import { truedyError, truedyErrorHandler } from './errors.js';
import { callRoutes } from './routes/calls.js';

export const truedyFace: FastifyPluginAsync<FaceOptions> = async (app, opts) => {
  const { core } = opts;
  app.setErrorHandler(truedyErrorHandler);
  app.setNotFoundHandler((req, reply) => {
    const r = truedyError(req, 404, 'not_found', 'Route not found', { method: req.method });
    void reply.status(r.status).send(r.body);
  });

  keyAuth(app, core, bearerKey, { missing: 'Authorization: Bearer API key is required', invalid: 'Invalid API key' });

  await app.register(callRoutes, { core: opts.core, bus: opts.bus });
};
