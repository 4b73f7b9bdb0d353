/** Start, end, read and follow calls: POST /v1/start-call, POST /v1/end-call, GET /v1/calls/:callId(/transcripts/stream). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { canonicalStartCall } from '../../../core/calls/request.js';
import { FollowerTooSlowError } from '../../../core/calls/follow.js';
import { isTerminal } from '../../../core/calls/states.js';
import { SwitchboardError } from '../../../core/errors.js';
import { SseStream } from '../../shared/sse.js';
import { actorOf } from '../../shared/auth.js';
import type { FaceOptions } from '../../shared/options.js';
import { callView, keysItem, latencyView, statusWord, transcriptItem } from '../map.js';
import { CallIdParams, EndCallBody, EndCallResponse, ErrorBody, StartCallBody, StartCallResponse } from '../schemas.js';

const PING_MS = 15_000;

export const callRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.post(
    '/start-call',
    {
      schema: {
        summary: 'Start an outbound AI call',
        tags: ['CallMyCall'],
        body: StartCallBody,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }),
        response: { 200: StartCallResponse, 400: ErrorBody, 401: ErrorBody, 402: ErrorBody, 429: ErrorBody },
      },
    },
    async (req) => {
      const request = canonicalStartCall(req.body);
      await core.calendar.prepareCall(request, req.org.keyId);
      if (request.webhook) {
        const reason = checkTarget(request.webhook.url);
        if (reason) throw new SwitchboardError('SB_ERR_VALIDATION', `Invalid webhook: ${reason}`, { field: 'webhook' });
      }
      const { call } = await core.calls.start(req.org.id, request, {
        idempotencyKey: req.headers['idempotency-key'],
        rawBody: req.body,
      });
      const user = call.request.userOnCall;
      return { success: true, sid: call.sid, id: call.id, ...(user ? { userOnCall: true, sessionId: user.sessionId, userCallSid: user.userCallSid } : {}) };
    },
  );

  app.post(
    '/end-call',
    {
      schema: {
        summary: 'End a call',
        tags: ['CallMyCall'],
        body: EndCallBody,
        response: { 200: EndCallResponse, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      // A person at the dashboard ending a call is a supervisor's override; a program ending its own call is not.
      const actor = actorOf(req);
      const { alreadyClosed, call } = await core.calls.end(req.org.id, req.body.callSid, actor.startsWith('user:') ? actor : undefined);
      const transcript = (await core.calls.transcript(call.id)).map(transcriptItem);
      return { success: true, ok: true, alreadyClosed, transcript };
    },
  );

  app.get(
    '/calls/:callId',
    {
      schema: {
        summary: 'Call status, metadata and transcript (UUID or sid)',
        tags: ['CallMyCall'],
        params: CallIdParams,
        response: { 200: Type.Unknown(), 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      // The call's details in one statement (the store's cost is per statement).
      const { call, transcript, question, keys, recording, turns } = await core.calls.details(req.org.id, req.params.callId);
      const recordingUrl = recording ? core.recordings.signedUrl(recording, 'mp3', req.org.keyId).url : undefined;
      return { ...callView(call, transcript, recordingUrl, keys.map(keysItem)), operator_question: question, latency: latencyView(turns) };
    },
  );

  app.get(
    '/calls/:callId/transcripts/stream',
    {
      config: { streaming: true },
      schema: {
        summary: 'Live transcript (Server-Sent Events: added, keys, ping, ended)',
        tags: ['CallMyCall'],
        params: CallIdParams,
        querystring: Type.Object({
          api_key: Type.Optional(Type.String()),
          last_event_id: Type.Optional(Type.String({ pattern: '^\\d{1,9}$' })),
        }),
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^\\d{1,9}$' })) }),
        response: { 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const call = await core.calls.find(req.org.id, req.params.callId);
      const afterSeq = Number(req.headers['last-event-id'] ?? req.query.last_event_id ?? 0);
      const sse = new SseStream(reply.raw);
      reply.hijack();
      sse.open();
      const ping = setInterval(() => sse.trySend('ping', { ts: Math.floor(Date.now() / 1000) }), PING_MS);
      // A client that stops reading falls behind the call: it is dropped at once, never buffered for.
      const onTooSlow = (err: FollowerTooSlowError) => {
        req.log.warn({ callId: call.id, limit: err.limit }, 'slow transcript stream client dropped');
        sse.drop(err.reason);
      };
      try {
        for await (const e of core.calls.follow(req.org.id, call.id, { afterSeq, signal: sse.signal, onTooSlow })) {
          if (e.type === 'transcript') await sse.send('added', transcriptItem(e), e.seq);
          else if (e.type === 'command' && e.keys) await sse.send('keys', keysItem(e), e.seq);
          else if (e.type === 'status' && isTerminal(e.status)) await sse.send('ended', { status: statusWord(e.status) });
        }
        sse.close();
      } catch (err) {
        // A slow client was already dropped (onTooSlow).
        if (!(err instanceof FollowerTooSlowError)) {
          req.log.error({ err, callId: call.id }, 'transcript stream failed');
          sse.drop('internal_error');
        }
      } finally {
        clearInterval(ping);
      }
    },
  );

  function checkTarget(url: string): string | null {
    return core.checkWebhookUrl(url);
  }
};
