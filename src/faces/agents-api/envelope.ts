/** 002's success envelope: `{success: true, data, meta: {timestamp, request_id}}`. */
import type { FastifyRequest } from 'fastify';
import { meta } from './errors.js';

export function ok<T>(req: FastifyRequest, data: T, extra: Record<string, unknown> = {}) {
  return { success: true as const, data, meta: { ...meta(req), ...extra } };
}
