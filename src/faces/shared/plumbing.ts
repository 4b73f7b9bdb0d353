/**
 * The plumbing every face needs the same way: one rate limit for all of them, authentication by key, and a
 * JSON parser that treats an empty body as `{}`. Each face still decides its own error bodies (its errors.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '../../config/index.js';
import type { Core, Org } from '../../core/index.js';
import { SwitchboardError } from '../../core/errors.js';
import { hashKey } from '../../core/orgs.js';
import { hasCsrfToken, isUnsafeMethod, keyFingerprint, sessionOf } from './auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route authenticates by a signed token of its own (a recording URL): no API key is asked for. */
    signedUrl?: boolean;
  }
  interface FastifyRequest {
    /** The authenticated organisation (set by `keyAuth`; every face route after it may rely on it). */
    org: Org;
    /** What the request is counted against: its valid key, or else its address. */
    rateKey?: string;
  }
}

/**
 * Registered once, on the root app, before the faces: one counter store, so a key has one budget of
 * `RATE_LIMIT_PER_MINUTE` across every face (not one per face). With Redis the count is shared by every node
 * (`<REDIS_PREFIX>rl:`).
 */
export async function sharedRateLimit(app: FastifyInstance, config: Config, redis?: unknown): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => req.rateKey ?? 'ip:' + req.ip,
    // While Redis is away requests are served unlimited rather than refused (docs/operations.md).
    skipOnError: true,
    ...(redis ? { redis: redis as any, nameSpace: `${config.redisPrefix}rl:` } : {}),
    errorResponseBuilder: () => new SwitchboardError('SB_ERR_RATE_LIMITED', 'Too Many Requests', {}, true),
  });
}

/** The messages a face answers for a missing and for an unknown key, in its document's words. */
export interface AuthMessages {
  missing: string;
  invalid: string;
}

/**
 * A face's key check and rate limit, in this order: find the key's organisation (or, with no key, the
 * dashboard session of the request's cookie), count the request (against the key when it is valid — a
 * session counts against the key it signed in with — against the client's address when there is no key or
 * a bad one, so guessing keys is limited too), then refuse an unauthenticated request, and a change made
 * under a cookie without the session's CSRF token (a Bearer key needs none: a browser never adds it).
 */
export function keyAuth(
  app: FastifyInstance,
  core: Core,
  keyOf: (req: FastifyRequest) => string | undefined,
  messages: AuthMessages,
): void {
  app.addHook('onRequest', async (req) => {
    // A route that authenticates by its own signed token (`config.signedUrl`) takes no key; it is still
    // rate limited, against the client's address.
    if (req.routeOptions.config?.signedUrl === true) {
      req.rateKey = 'ip:' + req.ip;
      return;
    }
    await identify(core, req, keyOf(req));
  });
  app.addHook('onRequest', app.rateLimit());
  app.addHook('onRequest', async (req) => {
    if (!(req as Partial<FastifyRequest>).org) {
      if (req.routeOptions.config?.signedUrl === true) return;
      throw new SwitchboardError('SB_ERR_UNAUTHENTICATED', keyOf(req) ? messages.invalid : messages.missing);
    }
    requireCsrfUnderCookie(req);
  });
}

/**
 * Who a request is: the organisation of its key, or with no key the dashboard session of its cookie; and what
 * it is counted against (the valid key — a session counts against the key it signed in with — else the
 * client's address). Sets nothing else: refusing is the caller's (each face words it its own way).
 */
export async function identify(core: Core, req: FastifyRequest, key: string | undefined): Promise<void> {
  const org = key ? await core.orgs.authenticate(key) : null;
  if (key && org) {
    req.org = org;
    req.auth = { kind: 'key', fingerprint: keyFingerprint(key) };
    req.rateKey = 'k:' + hashKey(key);
    return;
  }
  const session = key ? null : await sessionOf(core, req);
  if (session) {
    req.org = session.org;
    req.auth = { kind: 'session', session };
    req.rateKey = 'k:' + session.keyHash;
  } else {
    req.rateKey = 'ip:' + req.ip;
  }
}

/** A change made under the session cookie needs the session's CSRF token (a Bearer key needs none). */
export function requireCsrfUnderCookie(req: FastifyRequest): void {
  if (req.auth?.kind === 'session' && isUnsafeMethod(req.method) && !hasCsrfToken(req, req.auth.session)) {
    throw new SwitchboardError('SB_ERR_CSRF', 'Missing or wrong X-CSRF-Token header (required with the session cookie)');
  }
}

/**
 * Clients often send `Content-Type: application/json` with no body (DELETE a caller ID, end-call, POST
 * /execute): that is `{}`, so the route's own validation names the missing field, not "bad JSON". Malformed
 * JSON is a validation error naming the body. Registered once on the root app.
 */
export function lenientJson(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (!text.trim()) return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new SwitchboardError('SB_ERR_VALIDATION', 'Malformed JSON body', { field: 'body' }), undefined);
    }
  });
}
