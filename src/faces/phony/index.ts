/**
 * The Phony face (document 004, decisions in FACES.md and docs/faces/phony.md): supervisor controls
 * (`/override/*`), the live events socket (`/events/ws`) and `/test/simulate_call` (development only). They
 * need no Twilio, so they work on every carrier, the simulated network included. `/healthz` is served by the
 * server itself (open); the Twilio-facing routes (`/start_call`, `/receive_call`, `/relay/ws`) live with the
 * Twilio carrier; `/dashboard` is the dashboard's. Errors are 004's `{error: {code, message, details}}`.
 * An encapsulated plugin at the root (004 has no prefix): its hooks and error body stay on its routes.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { PhonyConfig } from '../../config/index.js';
import type { FaceOptions } from '../shared/options.js';
import { phonyAuth } from './auth.js';
import type { PhonyOptions } from './options.js';
import { phonyErrorHandler } from './errors.js';
import { eventsSocket } from './routes/events-socket.js';
import { overrideRoutes } from './routes/overrides.js';
import { simulateRoutes } from './routes/simulate.js';

export type { PhonyOptions };

/** The path prefixes of Phony's own routes (for the OpenAPI error bodies and framework errors). */
export const PHONY_PREFIXES = ['/override', '/events', '/test'];

export const phonyFace: FastifyPluginAsync<FaceOptions & { phony: PhonyConfig }> = async (app, opts) => {
  const { core, bus, phony } = opts;
  app.setErrorHandler(phonyErrorHandler);
  phonyAuth(app, core, phony.allowAnonymous);
  const own: PhonyOptions = {
    core,
    bus,
    overridesPerMinute: phony.overridesPerMinute,
    socket: { pingMs: phony.pingMs, timeoutMs: phony.timeoutMs, messagesPerMinute: phony.socketMessagesPerMinute },
  };
  await app.register(overrideRoutes, own);
  await app.register(eventsSocket, own);
  if (core.config.nodeEnv !== 'production') await app.register(simulateRoutes, own);
};
