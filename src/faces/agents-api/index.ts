/**
 * The agents/tasks platform face (`/api/v1`, document 002, decisions in FACES.md and
 * docs/faces/agents-api.md): `{success, data, meta}` envelope, `X-RateLimit-*` on every response, its own
 * errors. An encapsulated plugin; the live transcript WebSocket (`/ws/calls/:id`) is `agentsLiveSocket`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { keyAuth } from '../shared/plumbing.js';
import { bearerKey } from '../shared/auth.js';
import type { FaceOptions } from '../shared/options.js';
import { agentsApiErrorHandler, meta } from './errors.js';
import { agentRoutes } from './routes/agents.js';
import { taskRoutes } from './routes/tasks.js';
import { callRoutes } from './routes/calls.js';
import { sessionOnlyRoutes } from './routes/session-only.js';
import { agentsApiWebhook } from './webhooks.js';

export { agentsLiveSocket } from './live-socket.js';

export const agentsApiFace: FastifyPluginAsync<FaceOptions> = async (app, opts) => {
  const { core } = opts;
  core.payloads.register('agents-api', agentsApiWebhook);
  app.setErrorHandler(agentsApiErrorHandler);
  app.setNotFoundHandler((req, reply) => void reply.status(404).send({ success: false, error: 'Not found', details: {}, meta: meta(req) }));

  keyAuth(app, core, bearerKey, { missing: 'Authorization header with API key is required', invalid: 'Invalid API key' });
  // 002: X-RateLimit-Reset is the Unix time (seconds) when the window resets, not seconds from now.
  app.addHook('onSend', async (_req, reply) => {
    const left = Number(reply.getHeader('x-ratelimit-reset'));
    if (Number.isFinite(left) && left < 1_000_000_000) reply.header('x-ratelimit-reset', Math.ceil(Date.now() / 1000) + left);
  });

  const own: FaceOptions = { core: opts.core, bus: opts.bus };
  await app.register(agentRoutes, own);
  await app.register(taskRoutes, own);
  await app.register(callRoutes, own);
  await app.register(sessionOnlyRoutes, own);
};
