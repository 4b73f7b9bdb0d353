/**
 * POST /v1/webhook/test (001); extensions: GET /v1/webhook/deliveries (every delivery attempt, and the dead
 * letter of each delivery that gave up), POST /v1/webhook/deliveries/:id/redeliver, and the organisation's
 * signing secret: GET /v1/webhook/secret and POST /v1/webhook/secret/rotate (also `switchboard keys webhook-secret`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { SwitchboardError } from '../../../core/errors.js';
import type { FaceOptions } from '../../shared/options.js';
import { DeliveriesQuery, DeliveryParams, ErrorBody, WebhookTestBody } from '../schemas.js';

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

  const SecretResponse = Type.Object({
    webhook_secret: Type.Union([Type.String(), Type.Null()]),
    source: Type.Union([Type.Literal('organisation'), Type.Literal('server_default'), Type.Null()]),
  });

  app.get(
    '/webhook/secret',
    {
      schema: {
        summary: 'The secret webhooks are signed with (Switchboard extension)',
        description:
          "The organisation's own secret; without one, deliveries are signed with the server's WEBHOOK_SIGNING_SECRET, which is not shown (`source: \"server_default\"`, `webhook_secret: null`). `source: null`: deliveries go out unsigned.",
        tags: ['CallMyCall'],
        response: { 200: SecretResponse, 401: ErrorBody },
      },
    },
    async (req) => {
      const org = (await core.orgs.get(req.org.id))!;
      if (org.webhook_secret) return { webhook_secret: org.webhook_secret, source: 'organisation' as const };
      return { webhook_secret: null, source: core.config.webhookSigningSecret ? ('server_default' as const) : null };
    },
  );

  app.post(
    '/webhook/secret/rotate',
    {
      schema: {
        summary: 'Give the organisation a new webhook signing secret (Switchboard extension)',
        description: 'Deliveries sent from now on, retries of earlier events included, are signed with the new secret.',
        tags: ['CallMyCall'],
        response: { 200: Type.Object({ webhook_secret: Type.String(), source: Type.Literal('organisation') }), 401: ErrorBody },
      },
    },
    async (req) => ({ webhook_secret: await core.orgs.rotateWebhookSecret(req.org.id), source: 'organisation' as const }),
  );

  app.get(
    '/webhook/deliveries',
    {
      schema: {
        summary: 'Webhook delivery attempts and dead letters, newest first (Switchboard extension)',
        description:
          'One row per attempt; a delivery that gave up adds a row with `dead_letter: true`, `attempt` the attempts made and `error` the last error.',
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

  app.post(
    '/webhook/deliveries/:id/redeliver',
    {
      schema: {
        summary: 'Redeliver a webhook that gave up (Switchboard extension)',
        description:
          'Queues a fresh delivery (up to three attempts) of the event held by the dead letter of this delivery, with the same body and the same `Webhook-Id`. `id` is any row of that delivery in `GET /v1/webhook/deliveries`.',
        tags: ['CallMyCall'],
        params: DeliveryParams,
        response: {
          202: Type.Object({ webhook_id: Type.String(), event: Type.String(), url: Type.String(), status: Type.Literal('queued') }),
          400: ErrorBody,
          401: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const r = await core.webhooks.redeliver(req.org.id, req.params.id);
      return reply.status(202).send({ ...r, status: 'queued' as const });
    },
  );
};
