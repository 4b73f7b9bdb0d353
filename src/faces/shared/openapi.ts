/**
 * The statuses each operation of `/openapi.json` declares besides its success: the ones every route of a
 * face can answer (bad input, no key, over the limit, unknown resource, body too large or of the wrong type)
 * plus those a route adds (402 out of credits, 409, 502, 503), each with its face's own error body. Applied
 * to the document only (swagger's `transform`), so the error bodies are never run through a response
 * serializer that could drop their fields. The fuzz test (test/faces/fuzz.openapi.test.ts) checks that every
 * status a route answers is declared here.
 */
import type { TSchema } from '@sinclair/typebox';

export interface FaceErrorDoc {
  /** The face's path prefix, e.g. `/api/public/v1`. */
  prefix: string;
  /** The face's error body. */
  body: TSchema;
  /** The status of a validation failure on this face (FACES.md: 422 on Truedy, 400 elsewhere). */
  validation: number;
  /** Extra statuses by `METHOD /path` (the route's own spelling, with `:params`). */
  routes?: Record<string, number[]>;
}

const REASONS: Record<number, string> = {
  400: 'Invalid input; the body names the field',
  401: 'No API key, or an unknown or revoked one',
  402: 'Not enough credits',
  403: 'Not allowed: a dashboard session is needed (or a role that may), or the CSRF token is missing',
  404: 'Not found',
  409: 'Conflict with the resource state',
  410: 'Expired',
  413: 'Body too large',
  415: 'Body is not JSON',
  422: 'Invalid input; the body names the field',
  429: 'Too many requests (Retry-After)',
  502: 'A carrier or AI provider failed',
  503: 'The server is stopping',
};

/** The error statuses one route answers. */
export function errorStatuses(face: FaceErrorDoc, method: string, url: string, schema: Record<string, unknown>): number[] {
  const open = Array.isArray(schema.security) && schema.security.length === 0;
  const out = new Set<number>([face.validation, 404, 429]);
  if (!open) out.add(401);
  if (schema.body) {
    out.add(413);
    // Truedy answers every content-type problem as a validation error (422).
    out.add(face.validation === 422 ? 422 : 415);
  }
  for (const s of face.routes?.[`${method} ${url.slice(face.prefix.length)}`] ?? []) out.add(s);
  return [...out].sort();
}

/** swagger's `transform`: adds the face's error responses to each of its routes (the route keeps its own). */
export function declareErrorResponses(faces: FaceErrorDoc[]) {
  return ({ schema, url, route }: { schema: unknown; url: string; route: { method: string | string[] } }) => {
    const s = (schema ?? {}) as Record<string, unknown>;
    const face = faces.find((f) => url === f.prefix || url.startsWith(f.prefix + '/'));
    if (!face || s.hide) return { schema: s, url };
    const method = Array.isArray(route.method) ? route.method[0] : route.method;
    const response: Record<string, unknown> = { ...((s.response as Record<string, unknown>) ?? {}) };
    // A route without a success schema still succeeds (swagger drops its default once errors are declared).
    if (!Object.keys(response).some((k) => k.startsWith('2'))) response['2xx'] = { description: 'Success' };
    for (const status of errorStatuses(face, method, url, s)) {
      response[status] ??= { ...face.body, description: REASONS[status] ?? 'Error' };
    }
    return { schema: { ...s, response }, url };
  };
}
