/**
 * The CallMyCall face (`/v1`): the native API, documents 000 and 001, decisions in FACES.md.
 * An encapsulated plugin: its auth, rate limit and error bodies do not leak into other faces.
 */
import type { FastifyPluginAsync } from 'fastify';
import { keyAuth } from '../shared/plumbing.js';
import { requestKey } from '../shared/auth.js';
import { callMyCallErrorHandler } from './errors.js';
import { callRoutes } from './routes/calls.js';
import { webhookRoutes } from './routes/webhooks.js';
import { liveRoutes } from './routes/live.js';
import { userOnCallRoutes } from './routes/user-on-call.js';
import { callerIdRoutes } from './routes/caller-ids.js';
import { creditRoutes } from './routes/credits.js';
import { recordingMediaRoutes, recordingRoutes } from './routes/recordings.js';
import { scenarioRoutes } from './routes/scenario.js';
import { voiceRoutes } from './routes/voices.js';
import { callMyCallWebhook } from './webhooks.js';
import type { FaceOptions } from '../shared/options.js';

declare module 'fastify' {
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

  keyAuth(app, core, (req) => requestKey(req, req.routeOptions.config?.streaming === true), {
    missing: 'Authorization header with API key is required',
    invalid: 'Invalid API key',
  });

  // Pass only our own options on: Fastify's (the prefix) must not apply twice.
  const own: FaceOptions = { core: opts.core, bus: opts.bus };
  await app.register(callRoutes, own);
  await app.register(webhookRoutes, own);
  await app.register(liveRoutes, own);
  await app.register(userOnCallRoutes, own);
  await app.register(callerIdRoutes, own);
  await app.register(creditRoutes, own);
  await app.register(recordingRoutes, own);
  // Signed recording URLs carry their own token (`config.signedUrl`: the key check lets them through).
  await app.register(recordingMediaRoutes, own);
  await app.register(scenarioRoutes, own);
  await app.register(voiceRoutes, own);
};
