/**
 * 004's supervisor controls: `POST /override/text|dtmf|end|transfer|clarification`. Each is a supervisor
 * command through the core and the bus (like the dashboard's and CallMyCall's), stored as an override with
 * who gave it (`by`, from the request's authentication) and counted in `override_count`. A call with no live
 * session (unknown, ended, not connected yet) is 404 `CALL_NOT_FOUND`; bad input is 400 `INVALID_REQUEST`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SwitchboardError } from '../../../core/errors.js';
import { actorOf } from '../../shared/auth.js';
import { callOf } from '../auth.js';
import type { PhonyOptions } from '../options.js';
import { ClarificationBody, DtmfBody, EndBody, ErrorBody, SuccessBody, TextBody, TransferBody } from '../schemas.js';

const answers = { 200: SuccessBody, 400: ErrorBody, 404: ErrorBody };

export const overrideRoutes: FastifyPluginAsyncTypebox<PhonyOptions> = async (app, { core, overridesPerMinute }) => {
  // 004's suggested limit for supervisor controls, per key (per address without one), on a counter of its
  // own: on top of the shared budget (a request runs one `rateLimit()` hook, so this one is a check).
  const overrides = app.createRateLimit({ max: overridesPerMinute, timeWindow: 60_000, keyGenerator: (req) => `phony:${req.rateKey ?? 'ip:' + req.ip}` });
  app.addHook('onRequest', async (req, reply) => {
    const r = await overrides(req);
    if (r.isAllowed || !r.isExceeded) return;
    void reply.header('retry-after', String(r.ttlInSeconds));
    throw new SwitchboardError('SB_ERR_RATE_LIMITED', 'Too many supervisor commands; retry later', { limit: r.max }, true);
  });

  app.post(
    '/override/text',
    { schema: { summary: 'Say a supervisor’s text to the caller through the AI', tags: ['Phony'], body: TextBody, response: answers } },
    async (req) => {
      const call = await callOf(core, req, req.body.callSid);
      const when = req.body.interrupt === false ? 'after_sentence' : 'interrupt';
      await core.calls.supervise(call.org_id, call.id, { type: 'say', text: req.body.text, when, by: actorOf(req) });
      return { status: 'success' as const, message: 'Text sent to caller' };
    },
  );

  app.post(
    '/override/dtmf',
    { schema: { summary: 'Send a DTMF digit to the call', tags: ['Phony'], body: DtmfBody, response: answers } },
    async (req) => {
      const call = await callOf(core, req, req.body.callSid);
      await core.calls.supervise(call.org_id, call.id, { type: 'press', digits: req.body.digit, by: actorOf(req) });
      return { status: 'success' as const, message: 'DTMF digit sent' };
    },
  );

  app.post(
    '/override/end',
    { schema: { summary: 'Terminate an active call', tags: ['Phony'], body: EndBody, response: { 200: SuccessBody, 404: ErrorBody } } },
    async (req) => {
      const call = await callOf(core, req, req.body.callSid);
      const { alreadyClosed } = await core.calls.end(call.org_id, call.id, actorOf(req));
      // 004: a call with no session (already over) is not found.
      if (alreadyClosed) throw new SwitchboardError('SB_ERR_CALL_NOT_ACTIVE', 'Call has already ended', { status: call.status });
      return { status: 'success' as const, message: 'Call ended' };
    },
  );

  app.post(
    '/override/transfer',
    { schema: { summary: 'Transfer the call to another phone number', tags: ['Phony'], body: TransferBody, response: answers } },
    async (req) => {
      const call = await callOf(core, req, req.body.callSid);
      const { target, warm } = req.body;
      await core.calls.transfer(call.org_id, call.id, target, warm ?? false, 'transferred_by_supervisor', actorOf(req));
      return { status: 'success' as const, message: `Call transferred to ${target}` };
    },
  );

  app.post(
    '/override/clarification',
    { schema: { summary: 'Answer the AI’s question to the supervisor', tags: ['Phony'], body: ClarificationBody, response: answers } },
    async (req) => {
      const call = await callOf(core, req, req.body.callSid);
      try {
        await core.calls.answerOperator(call.org_id, call.id, req.body.response, actorOf(req));
      } catch (err) {
        if (err instanceof SwitchboardError && err.details.reason === 'no_pending_question') {
          throw new SwitchboardError('SB_ERR_VALIDATION', 'No pending query for this call', { field: 'callSid', reason: 'no_pending_question' });
        }
        throw err;
      }
      return { status: 'success' as const, message: 'Clarification sent to AI' };
    },
  );
};
