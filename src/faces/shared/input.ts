/**
 * Input no face may store, refused the same way on every face before its own validation runs: text
 * PostgreSQL cannot hold (NUL, lone UTF-16 surrogates), keys that reach an object's prototype, whole numbers
 * past the columns that store them, and dates the database cannot represent. Each is a validation error
 * naming the field, rendered by the face's own error handler.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { SwitchboardError } from '../../core/errors.js';

/** A UTF-16 surrogate that is not half of a pair: JSON allows it (`"\ud800"`), UTF-8 cannot encode it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function badString(s: string): string | null {
  if (s.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(s)) return 'must not contain lone surrogates (invalid Unicode)';
  return null;
}

/** Depth past which a body is refused rather than walked (no route nests anywhere near it). */
const MAX_DEPTH = 32;

/** The first unacceptable value in `value` (a parsed body, query or params), with its dotted path. */
export function findBadInput(value: unknown, path: string, depth = 0): { field: string; problem: string } | null {
  if (typeof value === 'string') {
    const problem = badString(value);
    return problem ? { field: path, problem } : null;
  }
  if (typeof value !== 'object' || value === null) return null;
  if (depth > MAX_DEPTH) return { field: path, problem: 'is nested too deeply' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findBadInput(value[i], `${path}.${i}`, depth + 1);
      if (bad) return bad;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const field = path ? `${path}.${k}` : k;
    const keyProblem = k === '__proto__' ? 'is not an allowed name' : badString(k);
    if (keyProblem) return { field, problem: keyProblem };
    const bad = findBadInput(v, field, depth + 1);
    if (bad) return bad;
  }
  return null;
}

function refuseBadInput(req: FastifyRequest): void {
  // Fields are named as the client wrote them: body fields bare, query and path parameters too. A query a
  // route does not declare is never read, so it is not judged either.
  const query = req.routeOptions.schema?.querystring ? req.query : undefined;
  for (const part of [req.body, query, req.params]) {
    const bad = findBadInput(part, '');
    if (bad) {
      const field = bad.field || 'body';
      throw new SwitchboardError('SB_ERR_VALIDATION', `Invalid ${field}: ${bad.problem}`, { field });
    }
  }
}

/** The largest whole number any column takes without an explicit `maximum` (PostgreSQL `integer`). */
export const MAX_INT = 2_147_483_647;

/**
 * Gives every integer in a route's input schema a `maximum` (int4) and a `minimum` (-int4) unless it has
 * one, so `offset=99999999999999999999` is a 400 naming `offset`, not a database error. Changes the schema
 * objects in place (the OpenAPI document then shows the bounds too).
 */
function boundIntegers(schema: unknown, seen = new Set<unknown>()): void {
  if (typeof schema !== 'object' || schema === null || seen.has(schema)) return;
  seen.add(schema);
  const s = schema as Record<string, unknown>;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('integer')) {
    if (s.maximum === undefined && s.exclusiveMaximum === undefined) s.maximum = MAX_INT;
    if (s.minimum === undefined && s.exclusiveMinimum === undefined) s.minimum = -MAX_INT;
  }
  for (const v of Object.values(s)) {
    if (Array.isArray(v)) v.forEach((x) => boundIntegers(x, seen));
    else boundIntegers(v, seen);
  }
}

/**
 * RFC 3339 date-times PostgreSQL can store: ajv-formats' check (which already refuses February 30th) plus
 * years 1 to 9999 (`0000-01-01` is valid ISO 8601 but no `timestamptz`).
 */
export function isStorableDateTime(s: string): boolean {
  if (!(fullFormats['date-time'] as { validate: (s: string) => boolean }).validate(s)) return false;
  const year = Number(s.slice(0, 4));
  return year >= 1 && year <= 9999;
}

/** Installs the input rules on the root app, before the faces are registered. */
export function guardInput(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = route.schema as Record<string, unknown> | undefined;
    if (schema) for (const part of ['body', 'querystring', 'params']) boundIntegers(schema[part]);
  });
  app.addHook('preValidation', async (req) => refuseBadInput(req));
}
