/**
 * Caller-ID verification (001): POST /v1/verify-caller-id, GET /v1/verification-status/:id,
 * GET /v1/verified-caller-ids, DELETE /v1/verified-caller-ids/:phone_number.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FaceOptions } from '../../shared/options.js';
import {
  CallerIdParams,
  CallerIdsResponse,
  ErrorBody,
  VerificationIdParams,
  VerificationStatusResponse,
  VerifyCallerIdBody,
  VerifyCallerIdResponse,
} from '../schemas.js';

const iso = (d: Date | string) => new Date(d).toISOString();

export const callerIdRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.post(
    '/verify-caller-id',
    {
      schema: {
        summary: 'Start caller-ID verification: the number is called and its owner types the validation code',
        tags: ['CallMyCall'],
        body: VerifyCallerIdBody,
        response: { 200: VerifyCallerIdResponse, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 502: ErrorBody },
      },
    },
    async (req) => {
      const v = await core.callerIds.start(req.org.id, req.body.phone_number);
      return { success: true, verification_id: v.id, phone_number: v.phone_number, status: 'pending' as const, validation_code: v.validation_code };
    },
  );

  app.get(
    '/verification-status/:id',
    {
      schema: {
        summary: 'State of a caller-ID verification: pending, verified or failed',
        tags: ['CallMyCall'],
        params: VerificationIdParams,
        response: { 200: VerificationStatusResponse, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const v = await core.callerIds.status(req.org.id, req.params.id);
      return {
        verification_id: v.id,
        phone_number: v.phone_number,
        status: v.status as 'pending' | 'verified' | 'failed',
        created_at: iso(v.created_at),
        finished_at: v.finished_at ? iso(v.finished_at) : null,
      };
    },
  );

  app.get(
    '/verified-caller-ids',
    {
      schema: {
        summary: "The organisation's verified caller IDs",
        tags: ['CallMyCall'],
        response: { 200: CallerIdsResponse, 401: ErrorBody },
      },
    },
    async (req) => {
      const rows = await core.callerIds.list(req.org.id);
      return { caller_ids: rows.map((r) => ({ phone_number: r.phone_number, verified_at: iso(r.verified_at) })) };
    },
  );

  app.delete(
    '/verified-caller-ids/:phone_number',
    {
      schema: {
        summary: 'Remove a verified caller ID (a literal + in the path, or %2B)',
        tags: ['CallMyCall'],
        params: CallerIdParams,
        response: { 200: Type.Object({ success: Type.Boolean() }), 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      await core.callerIds.remove(req.org.id, req.params.phone_number);
      return { success: true };
    },
  );
};
