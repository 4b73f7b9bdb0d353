/**
 * GET /v1/credits (a Switchboard extension; 001 describes billing but no route for it): whether billing is
 * on, the organisation's balance and its ledger, newest first (docs/billing.md). With billing off the
 * balance is null and the list empty: billing is invisible then.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { MAX_ENTRIES } from '../../../core/index.js';
import type { FaceOptions } from '../../shared/options.js';
import { ErrorBody } from '../schemas.js';

const CreditEntry = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('grant'), Type.Literal('charge'), Type.Literal('refund')]),
  /** Signed: grants and refunds add, charges take away. */
  amount: Type.Integer(),
  call_sid: Type.Union([Type.String(), Type.Null()]),
  note: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

const CreditsResponse = Type.Object({
  success: Type.Literal(true),
  billing_enabled: Type.Boolean(),
  credits_balance: Type.Union([Type.Integer(), Type.Null()]),
  /** Billing on only: the smallest balance that may start a call, and whether the subscription is active. */
  minimum_required: Type.Optional(Type.Integer()),
  subscription_active: Type.Optional(Type.Boolean()),
  entries: Type.Array(CreditEntry),
});

const CreditsQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ENTRIES, default: 50 })) });

export const creditRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.get(
    '/credits',
    {
      schema: {
        summary: 'Credit balance and ledger (Switchboard extension)',
        description:
          'The balance is the sum of the ledger: grants and refunds add, each ended call is charged once. With billing off (`BILLING_ENABLED` unset) `billing_enabled` is false, `credits_balance` null and `entries` empty.',
        tags: ['CallMyCall'],
        querystring: CreditsQuery,
        response: { 200: CreditsResponse, 401: ErrorBody },
      },
    },
    async (req) => {
      if (!core.credits.enabled) return { success: true as const, billing_enabled: false, credits_balance: null, entries: [] };
      const [balance, rows, org] = await Promise.all([
        core.credits.balance(req.org.id),
        core.credits.entries(req.org.id, req.query.limit),
        core.orgs.get(req.org.id),
      ]);
      return {
        success: true as const,
        billing_enabled: true,
        credits_balance: balance,
        minimum_required: core.config.minCallCredits,
        subscription_active: org?.subscription_active ?? true,
        entries: rows.map((e) => ({ id: e.id, kind: e.kind, amount: e.amount, call_sid: e.call_sid, note: e.note, created_at: new Date(e.created_at).toISOString() })),
      };
    },
  );
};
