/**
 * Builds the HTTP application from its pieces (no listening here: tests use `inject()`, the CLI listens).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { randomUUID } from 'node:crypto';
import type { Bus } from './bus/bus.js';
import type { Core } from './core/index.js';
import type { Logger } from './lib/logger.js';
import { callMyCallFace } from './faces/callmycall/index.js';
import { agentsApiFace, agentsLiveSocket } from './faces/agents-api/index.js';
import { truedyFace } from './faces/truedy/index.js';
import type { Metrics } from './metrics/index.js';

export interface ServerDeps {
  core: Core;
  bus: Bus;
  log: Logger;
  /** Live calls on this node, for /healthz. */
  activeCalls: () => number;
  rateLimitRedis?: unknown;
  metrics?: Metrics;
}

function ajv(coerce: boolean) {
  const a = new Ajv({
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false,
  });
  addFormats.default(a);
  return a;
}

export async function buildServer(d: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: d.log as any,
    bodyLimit: d.core.config.bodyLimit,
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && /^[\w-]{1,64}$/.test(h) ? h : randomUUID();
    },
    requestIdHeader: false,
    trustProxy: d.core.config.nodeEnv === 'production',
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Bodies are checked strictly (a string is not a number); query strings and paths are text and are coerced.
  const strict = ajv(false);
  const lenient = ajv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : lenient).compile(schema));
  app.addHook('onSend', async (req, reply) => {
    reply.header('X-Request-Id', req.id);
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Switchboard',
        version: '0.1.0',
        description: 'AI phone calls. One core, four API faces: CallMyCall (/v1), agents/tasks (/api/v1), Truedy (/api/public/v1), Phony.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // A socket error (a client gone mid-frame, a too-large message) closes that socket, with a static line.
  await app.register(websocket, {
    errorHandler: (err, socket, req) => {
      req.log.warn({ err }, 'websocket failed');
      socket.terminate();
    },
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get(
    '/healthz',
    { schema: { summary: 'Health (open)', tags: ['Operations'], security: [] } },
    async () => ({ status: 'ok', uptime: Math.round(process.uptime()), activeCalls: d.activeCalls() }),
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics (open; keep it on an internal network)', tags: ['Operations'], security: [] } }, async (_req, reply) => {
    reply.header('Content-Type', d.metrics?.registry.contentType ?? 'text/plain');
    return d.metrics ? d.metrics.text() : '';
  });

  await app.register(callMyCallFace, { prefix: '/v1', core: d.core, bus: d.bus, rateLimitRedis: d.rateLimitRedis });
  await app.register(agentsApiFace, { prefix: '/api/v1', core: d.core, bus: d.bus, rateLimitRedis: d.rateLimitRedis });
  await app.register(agentsLiveSocket, { core: d.core, bus: d.bus });
  await app.register(truedyFace, { prefix: '/api/public/v1', core: d.core, bus: d.bus, rateLimitRedis: d.rateLimitRedis });
  return app as unknown as FastifyInstance;
}
