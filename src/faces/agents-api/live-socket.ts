/**
 * The live transcript WebSocket of 002: `/ws/calls/:id?api_key=…` or `?session_token=…` (the 5-minute token
 * from GET /api/v1/calls/:id/live, HMAC-signed so any node verifies it). Sends `connected`, then the
 * transcript so far and every new segment as `transcript_update` (`data.transcript`), status changes as
 * `call_status_update` (`data.status`, 002's words), `error` (`error`); answers `{type:"ping"}` with
 * `{type:"pong"}`; closes after the call ends. Fed by `core.calls.follow` (the stored backlog, then live events
 * from any node); a client that stops reading is closed with 1013 `slow_consumer`.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { FollowerTooSlowError } from '../../core/calls/follow.js';
import { canMove, isTerminal, type CallState } from '../../core/calls/states.js';
import type { CallRow } from '../../store/index.js';
import { sessionOf } from '../shared/auth.js';
import type { FaceOptions } from '../shared/options.js';
import { statusWord, transcriptItem } from './map.js';

interface Authed {
  liveCall?: CallRow;
}

function reject(reply: FastifyReply, status: number, error: string) {
  return reply.status(status).send({ success: false, error, details: {}, meta: { timestamp: new Date().toISOString(), request_id: reply.request.id } });
}

/** A reply to the client (pong, error): small, sent at once whatever the backlog. */
function sendNow(socket: WebSocket, m: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
}

/**
 * Sends and waits until the message has left for the client, so the follower reads no faster than the
 * client takes: one that stops reading falls behind the call and is dropped (see core/calls/follow.ts).
 */
function send(socket: WebSocket, m: unknown): Promise<void> {
  if (socket.readyState !== socket.OPEN) return Promise.resolve();
  // An error here means the socket is closing; its 'close' ends the follow.
  return new Promise((resolve) => socket.send(JSON.stringify(m), () => resolve()));
}

export const agentsLiveSocket: FastifyPluginAsync<FaceOptions> = async (app, { core }) => {
  app.get<{ Params: { id: string }; Querystring: { api_key?: string; session_token?: string } }>(
    '/ws/calls/:id',
    {
      websocket: true,
      schema: { summary: 'Live transcript (WebSocket; ?api_key= or ?session_token=)', tags: ['Agents/tasks: calls'], hide: false },
      preValidation: async (req: FastifyRequest<{ Params: { id: string }; Querystring: { api_key?: string; session_token?: string } }>, reply) => {
        const { api_key: key, session_token: token } = req.query ?? {};
        let orgId: string | undefined;
        if (typeof token === 'string' && token) {
          const claims = core.secrets.verifyToken(token);
          const keyLive = claims?.k === undefined || (await core.orgs.keyLive(String(claims.o), String(claims.k)));
          if (claims && claims.p === 'live' && claims.c === req.params.id && keyLive) orgId = String(claims.o);
        } else if (typeof key === 'string' && key) {
          orgId = (await core.orgs.authenticate(key))?.id;
        } else {
          // The dashboard's session cookie (SameSite=Strict: a cross-site page's socket does not carry it).
          orgId = (await sessionOf(core, req))?.org.id;
        }
        if (!orgId) return reject(reply, 401, 'Invalid or missing api_key or session_token');
        const call = await core.calls.find(orgId, req.params.id).catch(() => undefined);
        if (!call) return reject(reply, 404, 'Call not found');
        (req as FastifyRequest & Authed).liveCall = call;
      },
    },
    async (socket: WebSocket, req: FastifyRequest) => {
      const call = (req as FastifyRequest & Authed).liveCall!;
      const gone = new AbortController();
      socket.on('close', () => gone.abort());
      socket.on('message', (raw) => {
        let m: { type?: unknown } | undefined;
        try {
          m = JSON.parse(raw.toString()) as { type?: unknown };
        } catch {
          return sendNow(socket, { type: 'error', error: 'Messages must be JSON' });
        }
        if (m?.type === 'ping') sendNow(socket, { type: 'pong', timestamp: new Date().toISOString() });
        else sendNow(socket, { type: 'error', error: 'Unknown message type' });
      });
      // The status `connected` reports; older status events of the backlog are not news.
      let status = call.status as CallState;
      // A client that stops reading falls behind the call: it is dropped at once, never buffered for.
      // 1013 "try again later": it may reconnect and read the transcript so far.
      const onTooSlow = (err: FollowerTooSlowError) => {
        req.log.warn({ callId: call.id, limit: err.limit }, 'slow live transcript client dropped');
        socket.close(1013, err.reason);
      };
      try {
        await send(socket, { type: 'connected', call_id: call.id, data: { call_id: call.id, status: statusWord(status) } });
        for await (const e of core.calls.follow(call.org_id, call.id, { signal: gone.signal, onTooSlow })) {
          if (e.type === 'transcript') {
            const item = transcriptItem({ ...e, created_at: e.at });
            await send(socket, { type: 'transcript_update', call_id: call.id, data: { transcript: [item], ...item } });
          } else if (e.type === 'status' && isTerminal(e.status)) {
            await send(socket, { type: 'call_status_update', call_id: call.id, data: { status: statusWord(e.status), ended: true } });
            socket.close(1000, 'call ended');
          } else if (e.type === 'status' && canMove(status, e.status)) {
            status = e.status;
            await send(socket, { type: 'call_status_update', call_id: call.id, data: { status: statusWord(e.status) } });
          }
        }
      } catch (err) {
        if (!(err instanceof FollowerTooSlowError)) {
          req.log.error({ err, callId: call.id }, 'live transcript socket failed');
          sendNow(socket, { type: 'error', error: 'Internal error' });
          socket.close(1011, 'internal error');
        }
      }
    },
  );
};
