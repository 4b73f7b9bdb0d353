/**
 * The CallMyCall face (`/v1`): the native API, documents 000 and 001, decisions in FACES.md.
 * An encapsulated plugin: its auth, rate limit and error bodies do not leak into other faces.
 */
import type { FastifyPluginAsync } from 'fastify';
import { keyRateLimit } from '../shared/plumbing.js';
import type { Org } from '../../core/index.js';
import { SwitchboardError } from '../../core/errors.js';
import { requestKey } from '../shared/auth.js';
import { callMyCallErrorHandler } from './errors.js';
import { callRoutes } from './routes/calls.js';
import { webhookRoutes } from './routes/webhooks.js';
import { liveRoutes } from './routes/live.js';
import { callerIdRoutes } from './routes/caller-ids.js';
import { callMyCallWebhook } from './webhooks.js';
import type { FaceOptions } from '../shared/options.js';

declare module 'fastify' {
  interface FastifyRequest {
    org: Org;
  }
  interface FastifyContextConfig {
    /** Streaming routes also accept `?api_key=` (EventSource and WebSocket cannot set headers). */
    streaming?: boolean;
  }
}

export type { FaceOptions };

export const callMyCallFace: FastifyPluginAsync<FaceOptions> = async (app, opts) => {
  const { core } = opts;
  core.payloads.register('callmycall', callMyCallWebhook);
  app.setErrorHandler(callMyCallErrorHandler);
  app.setNotFoundHandler((_req, reply) => void reply.status(404).send({ error: 'Not found' }));

  await keyRateLimit(app, opts, 'v1', (req) => requestKey(req, true));

  app.addHook('onRequest', async (req) => {
    const key = requestKey(req, req.routeOptions.config?.streaming === true);
    if (!key) throw new SwitchboardError('SB_ERR_UNAUTHENTICATED', 'Authorization header with API key is required');
    const org = await core.orgs.authenticate(key);
    if (!org) throw new SwitchboardError('SB_ERR_UNAUTHENTICATED', 'Invalid API key');
    req.org = org;
  });

  // Pass only our own options on: Fastify's (the prefix) must not apply twice.
  const own: FaceOptions = { core: opts.core, bus: opts.bus, rateLimitRedis: opts.rateLimitRedis };
  await app.register(callRoutes, own);
  await app.register(webhookRoutes, own);
  await app.register(liveRoutes, own);
  await app.register(callerIdRoutes, own);
};
