/**
 * The plumbing every face needs the same way: a per-key rate limit and a JSON parser that treats an empty
 * body as no body. Each face still decides its own error bodies (its errors.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { SwitchboardError } from '../../core/errors.js';
import { hashKey } from '../../core/orgs.js';
import type { FaceOptions } from './options.js';

/**
 * `RATE_LIMIT_PER_MINUTE` per API key (per address without one), counted in Redis when the deployment has
 * it so that every node shares the count. Past it, a SB_ERR_RATE_LIMITED error for the face to render.
 */
export async function keyRateLimit(
  app: FastifyInstance,
  opts: FaceOptions,
  face: string,
  keyOf: (req: FastifyRequest) => string | undefined,
): Promise<void> {
  const { config } = opts.core;
  await app.register(rateLimit, {
    max: config.rateLimitPerMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    keyGenerator: (req) => {
      const key = keyOf(req);
      return key ? 'k:' + hashKey(key) : 'ip:' + req.ip;
    },
    ...(opts.rateLimitRedis ? { redis: opts.rateLimitRedis as any, nameSpace: `${config.redisPrefix}rl:${face}:` } : {}),
    // While Redis is away requests are served unlimited rather than refused (docs/operations.md).
    skipOnError: true,
    errorResponseBuilder: () => new SwitchboardError('SB_ERR_RATE_LIMITED', 'Too Many Requests', {}, true),
  });
}

/**
 * Clients often send `Content-Type: application/json` with no body (DELETE, POST /execute): that is no body,
 * not bad JSON. Malformed JSON is a validation error naming the body.
 */
export function lenientJson(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (!text.trim()) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new SwitchboardError('SB_ERR_VALIDATION', 'Malformed JSON body', { field: 'body' }), undefined);
    }
  });
}
