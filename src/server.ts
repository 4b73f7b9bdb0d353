/**
 * Builds the HTTP application from its pieces (no listening here: tests use `inject()`, the CLI listens).
 */
import fastJson from 'fast-json-stringify';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { randomUUID } from 'node:crypto';
import type { Bus } from './bus/bus.js';
import { servedFacesLine } from './faces/served.js';
import type { Core } from './core/index.js';
import type { Logger } from './lib/logger.js';
import { callMyCallFace } from './faces/callmycall/index.js';
import { callMyCallCalendar } from './faces/callmycall/calendar/index.js';
import { agentsApiFace, agentsLiveSocket } from './faces/agents-api/index.js';
import { truedyFace } from './faces/truedy/index.js';
import { PHONY_PREFIXES, phonyFace } from './faces/phony/index.js';
import { ErrorBody as PhonyError } from './faces/phony/schemas.js';
import { phonyErrorHandler } from './faces/phony/errors.js';
import { dashboardAuth } from './faces/dashboard-auth/index.js';
import { AuthErrorBody as DashboardAuthError, dashboardAuthErrorHandler } from './faces/dashboard-auth/errors.js';
import { dashboardFace } from './faces/dashboard/index.js';
import type { SimulatedNumber } from './faces/dashboard/api.js';
import { guardInput, isStorableDateTime } from './faces/shared/input.js';
import { lenientJson, sharedRateLimit } from './faces/shared/plumbing.js';
import { rootErrorHandler } from './faces/shared/errors.js';
import { declareErrorResponses, type FaceErrorDoc } from './faces/shared/openapi.js';
import { ErrorBody as CallMyCallError } from './faces/callmycall/schemas.js';
import { callMyCallErrorHandler } from './faces/callmycall/errors.js';
import { ErrorEnvelope as AgentsApiError } from './faces/agents-api/schemas.js';
import { agentsApiErrorHandler } from './faces/agents-api/errors.js';
import { MANAGEMENT_ERRORS } from './faces/agents-api/routes/management.js';
import { ErrorEnvelope as TruedyError } from './faces/truedy/schemas.js';
import { truedyErrorHandler } from './faces/truedy/errors.js';
import type { Metrics } from './metrics/index.js';

/** The largest WebSocket message any route accepts (bytes). */
export const WS_MAX_PAYLOAD = 64 * 1024;

/** Each face's error body and the statuses its routes add to the common ones (`/openapi.json`). */
const FACE_ERRORS: Array<FaceErrorDoc & { handler: ErrorHandler }> = [
  {
    prefix: '/v1',
    body: CallMyCallError,
    validation: 400,
    handler: callMyCallErrorHandler,
    // Starting a call: out of credits, the carrier refused, the server is stopping.
    routes: { 'POST /start-call': [402, 502, 503], 'POST /calls/:callSid/activate': [500], 'POST /calls/:callSid/drop-user': [500], 'POST /calls/:callSid/scenario': [409] },
  },
  {
    prefix: '/api/v1',
    body: AgentsApiError,
    validation: 400,
    handler: agentsApiErrorHandler,
    routes: { 'POST /tasks/:id/execute': [402, 502, 503], ...MANAGEMENT_ERRORS },
  },
  {
    prefix: '/auth',
    body: DashboardAuthError,
    validation: 400,
    handler: dashboardAuthErrorHandler,
    routes: { 'DELETE /session': [403], 'POST /invitations/:token/accept': [409, 410] },
  },
  {
    prefix: '/api/public/v1',
    body: TruedyError,
    validation: 422,
    handler: truedyErrorHandler,
    routes: { 'POST /calls': [402, 502, 503], 'DELETE /calls/:call_id': [409] },
  },
  // Phony (004) has no prefix of its own: each of its path prefixes is listed.
  ...PHONY_PREFIXES.map((prefix) => ({
    prefix,
    body: PhonyError,
    validation: 400,
    handler: phonyErrorHandler,
    routes: { 'POST /simulate_call': [402, 503] },
  })),
];

type ErrorHandler = (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void;

/**
 * Errors Fastify raises before a route is known (a path that is not valid percent-encoding) get the body of
 * the face whose prefix the URL has, like every other error there.
 */
const frameworkErrors: ErrorHandler = (err, req, reply) => {
  const path = req.url.split('?')[0];
  const face = FACE_ERRORS.find((f) => path === f.prefix || path.startsWith(f.prefix + '/'));
  (face?.handler ?? rootErrorHandler)(err, req, reply);
};

export interface ServerDeps {
  core: Core;
  bus: Bus;
  log: Logger;
  /** Live calls on this node, for /healthz. */
  activeCalls: () => number;
  /** Whether the store answers (bounded and cached: store/health.ts), for /healthz. */
  storeState: () => Promise<'ok' | 'down'>;
  rateLimitRedis?: unknown;
  metrics?: Metrics;
  /** The simulated network's numbers, offered by the dashboard's start-a-call form (none on a real carrier). */
  simulatedNumbers?: () => SimulatedNumber[];
}

const HealthBody = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  store: Type.Union([Type.Literal('ok'), Type.Literal('down')]),
  uptime: Type.Integer({ description: 'Seconds since the process started' }),
  activeCalls: Type.Integer({ description: 'Live calls on this node' }),
});

function ajv(coerce: boolean) {
  const a = new Ajv({
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false,
  });
  addFormats.default(a);
  a.addFormat('date-time', { type: 'string', validate: isStorableDateTime });
  return a;
}

/**
 * A route's validator, compiled by Ajv when the route first receives a request instead of when the server
 * starts: compiling every schema of every face was about a sixth of a warm start's CPU, for routes most
 * processes never serve (four faces, about a hundred routes). Fastify reads `errors` off the function it was
 * given, so they are copied across.
 */
function compiledOnFirstUse(ajv: () => Ajv, schema: object) {
  let compiled: ValidateFunction | undefined;
  const validate = (data: unknown): boolean => {
    compiled ??= ajv().compile(schema);
    const ok = compiled(data) as boolean;
    validate.errors = compiled.errors;
    return ok;
  };
  validate.errors = null as ValidateFunction['errors'];
  return validate;
}

/**
 * A route's response serialiser, compiled (by fast-json-stringify, as Fastify's own default does, with the
 * same options: no shared schemas here) on the route's first answer instead of at start-up, for the same
 * reason as the validators above: compiling them all was ≈ 7 % of a warm start's main thread.
 */
function serializerOnFirstUse(schema: object): (data: unknown) => string {
  let compiled: ((data: unknown) => string) | undefined;
  return (data) => (compiled ??= fastJson(schema, { schema: {} }) as (data: unknown) => string)(data);
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
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Bodies are checked strictly (a string is not a number); query strings and paths are text and are coerced.
  // The two Ajv instances are made on the first validation too (each compiles its meta-schema and formats:
  // ≈ 2 % of a warm start, before an answer that validates nothing, such as /healthz).
  let strictAjv: Ajv | undefined;
  let lenientAjv: Ajv | undefined;
  const strict = () => (strictAjv ??= ajv(false));
  const lenient = () => (lenientAjv ??= ajv(true));
  app.setValidatorCompiler(({ schema, httpPart }) => compiledOnFirstUse(httpPart === 'body' ? strict : lenient, schema));
  app.setSerializerCompiler(({ schema }) => serializerOnFirstUse(schema));
  app.addHook('onSend', async (req, reply) => {
    reply.header('X-Request-Id', req.id);
  });
  // Rules every face shares, registered before the faces so that each inherits them.
  app.setErrorHandler(rootErrorHandler);
  lenientJson(app as unknown as FastifyInstance);
  guardInput(app as unknown as FastifyInstance);
  await sharedRateLimit(app as unknown as FastifyInstance, d.core.config, d.rateLimitRedis);
  // Cookies are read on every face (the dashboard's session cookie authenticates them all).
  await app.register(cookie);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Switchboard',
        version: '0.1.0',
        description: servedFacesLine(),
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: declareErrorResponses(FACE_ERRORS),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // Every socket (live transcript, carrier media and relay) takes small JSON messages; a bigger one closes the
  // socket with 1009 instead of being buffered (the ws default is 100 MiB). A socket error (a client gone
  // mid-frame) closes that socket, with a static line. permessage-deflate stays off (ws's server default, said
  // here so nobody turns it on): Twilio offers it, and accepting would cost every call ≈ 260 KB of zlib state
  // for audio that does not compress (docs/performance.md §8, "Memory per call").
  await app.register(websocket, {
    options: { maxPayload: WS_MAX_PAYLOAD, perMessageDeflate: false },
    errorHandler: (err, socket, req) => {
      req.log.warn({ err }, 'websocket failed');
      socket.terminate();
    },
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // 503 when the store does not answer within a second, so a load balancer stops sending this node work.
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Health (open): 503 when the store does not answer',
        tags: ['Operations'],
        security: [],
        response: { 200: HealthBody, 503: HealthBody },
      },
      // The first request a starting server gets (process managers, load balancers, `npm run bench:startup`):
      // its four fields are made just below, so JSON.stringify writes them, instead of a serialiser compiled on
      // that first answer (fast-json-stringify builds an Ajv instance for each: ≈ 3 % of a warm start's CPU).
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (_req, reply) => {
      const store = await d.storeState();
      if (store !== 'ok') reply.code(503);
      return { status: store === 'ok' ? ('ok' as const) : ('unavailable' as const), store, uptime: Math.round(process.uptime()), activeCalls: d.activeCalls() };
    },
  );

  app.get('/metrics', { schema: { summary: 'Prometheus metrics (open; keep it on an internal network)', tags: ['Operations'], security: [] } }, async (_req, reply) => {
    reply.header('Content-Type', d.metrics?.registry.contentType ?? 'text/plain');
    return d.metrics ? d.metrics.text() : '';
  });

  await app.register(callMyCallFace, { prefix: '/v1', core: d.core, bus: d.bus });
  // 001's calendar routes live outside /v1 (/auth/google/*, /calendar/*).
  await app.register(callMyCallCalendar, { core: d.core, bus: d.bus });
  await app.register(agentsApiFace, { prefix: '/api/v1', core: d.core, bus: d.bus });
  await app.register(agentsLiveSocket, { core: d.core, bus: d.bus });
  await app.register(truedyFace, { prefix: '/api/public/v1', core: d.core, bus: d.bus });
  await app.register(phonyFace, { core: d.core, bus: d.bus, phony: d.core.config.phony });
  await app.register(dashboardAuth, { prefix: '/auth', core: d.core, bus: d.bus });
  await app.register(dashboardFace, { prefix: '/dashboard', core: d.core, bus: d.bus, simulatedNumbers: d.simulatedNumbers ?? (() => []) });
  return app as unknown as FastifyInstance;
}
