/** POST /v1/webhook/test (001) and GET /v1/webhook/deliveries (an extension: every delivery attempt). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { SwitchboardError } from '../../../core/errors.js';
import type { FaceOptions } from '../../shared/options.js';
import { DeliveriesQuery, ErrorBody, WebhookTestBody } from '../schemas.js';

export const webhookRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.post(
    '/webhook/test',
    {
      schema: {
        summary: 'Send a signed sample webhook to a URL',
        tags: ['CallMyCall'],
        body: WebhookTestBody,
        response: {
          200: Type.Object({
            success: Type.Boolean(),
            status_code: Type.Union([Type.Integer(), Type.Null()]),
            duration_ms: Type.Integer(),
            error: Type.Optional(Type.String()),
          }),
          400: ErrorBody,
          401: ErrorBody,
        },
      },
    },
    async (req) => {
      const reason = core.checkWebhookUrl(req.body.webhook_url);
      if (reason) throw new SwitchboardError('SB_ERR_VALIDATION', `Invalid webhook_url: ${reason}`, { field: 'webhook_url' });
      const org = (await core.orgs.get(req.org.id))!;
      const r = await core.webhooks.test(org, {
        url: req.body.webhook_url,
        event: req.body.event ?? 'call_completed',
      });
      const ok = r.status_code !== null && r.status_code >= 200 && r.status_code < 300;
      return { success: ok, status_code: r.status_code, duration_ms: Math.round(r.duration_ms), ...(r.error ? { error: r.error } : {}) };
    },
  );

  app.get(
    '/webhook/deliveries',
    {
      schema: {
        summary: 'Webhook delivery attempts, newest first (Switchboard extension)',
        tags: ['CallMyCall'],
        querystring: DeliveriesQuery,
        response: { 200: Type.Unknown(), 401: ErrorBody },
      },
    },
    async (req) => {
      let callId = req.query.call_id;
      if (callId) callId = (await core.calls.find(req.org.id, callId)).id;
      const rows = await core.webhooks.deliveries(req.org.id, { limit: req.query.limit, callId });
      return { deliveries: rows };
    },
  );
};
