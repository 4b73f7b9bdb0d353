/**
 * The live transcript WebSocket of 002: `/ws/calls/:id?api_key=…` or `?session_token=…` (the 5-minute token
 * from GET /api/v1/calls/:id/live, HMAC-signed so any node verifies it). Sends `connected`, then the
 * transcript so far and every new segment as `transcript_update` (`data.transcript`), status changes as
 * `call_status_update` (`data.status`, 002's words), `error` (`error`); answers `{type:"ping"}` with
 * `{type:"pong"}`; closes after the call ends. Built from the call's bus events (any node's sessions).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { channels } from '../../bus/bus.js';
import { background } from '../../lib/background.js';
import type { CallEvent } from '../../core/calls/events.js';
import { isTerminal } from '../../core/calls/states.js';
import type { CallEventRow, CallRow } from '../../store/index.js';
import type { FaceOptions } from '../shared/options.js';
import { statusWord, transcriptItem } from './map.js';

interface Authed {
  liveCall?: CallRow;
}

function reject(reply: FastifyReply, status: number, error: string) {
  return reply.status(status).send({ success: false, error, details: {}, meta: { timestamp: new Date().toISOString(), request_id: reply.request.id } });
}

export const agentsLiveSocket: FastifyPluginAsync<FaceOptions> = async (app, { core, bus }) => {
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
          if (claims && claims.p === 'live' && claims.c === req.params.id) orgId = String(claims.o);
        } else if (typeof key === 'string' && key) {
          orgId = (await core.orgs.authenticate(key))?.id;
        }
        if (!orgId) return reject(reply, 401, 'Invalid or missing api_key or session_token');
        const call = await core.calls.find(orgId, req.params.id).catch(() => undefined);
        if (!call) return reject(reply, 404, 'Call not found');
        (req as FastifyRequest & Authed).liveCall = call;
      },
    },
    async (socket: WebSocket, req: FastifyRequest) => {
      const call = (req as FastifyRequest & Authed).liveCall!;
      const send = (m: unknown) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
      };
      let last = 0;
      let live = false;
      let closed = false;
      const buffered: CallEvent[] = [];
      const segment = (row: Pick<CallEventRow, 'role' | 'text' | 'seq' | 'created_at'>) => {
        const item = transcriptItem(row as CallEventRow);
        send({ type: 'transcript_update', call_id: call.id, data: { transcript: [item], ...item } });
      };
      const finish = (status: string) => {
        if (closed) return;
        closed = true;
        send({ type: 'call_status_update', call_id: call.id, data: { status: statusWord(status), ended: true } });
        socket.close(1000, 'call ended');
      };
      const onEvent = (e: CallEvent) => {
        if (!live) return void buffered.push(e);
        if (e.seq <= last) return;
        last = e.seq;
        if (e.type === 'transcript') {
          segment({ role: e.role, text: e.text, seq: e.seq, created_at: new Date(e.at) });
        } else if (e.type === 'status') {
          if (isTerminal(e.status)) finish(e.status);
          else send({ type: 'call_status_update', call_id: call.id, data: { status: statusWord(e.status) } });
        }
      };
      socket.on('message', (raw) => {
        let m: { type?: unknown } | undefined;
        try {
          m = JSON.parse(raw.toString()) as { type?: unknown };
        } catch {
          return send({ type: 'error', error: 'Messages must be JSON' });
        }
        if (m?.type === 'ping') send({ type: 'pong', timestamp: new Date().toISOString() });
        else send({ type: 'error', error: 'Unknown message type' });
      });
      // Subscribe before reading the backlog, so nothing said in between is lost; seq removes duplicates.
      const unsubscribe = await bus.subscribe(channels.callEvents(call.id), (m) => onEvent(m as CallEvent));
      socket.on('close', () => {
        closed = true;
        background(req.log, 'live socket unsubscribe failed', unsubscribe(), { callId: call.id });
      });
      try {
        send({ type: 'connected', call_id: call.id, data: { call_id: call.id, status: statusWord(call.status) } });
        for (const row of await core.calls.transcript(call.id)) {
          last = Math.max(last, row.seq);
          segment(row);
        }
        live = true;
        for (const e of buffered.splice(0)) onEvent(e);
        const now = await core.calls.findAny(call.id);
        if (now && isTerminal(now.status)) {
          for (const row of await core.calls.transcript(call.id, last)) {
            last = row.seq;
            segment(row);
          }
          finish(now.status);
        }
      } catch (err) {
        req.log.error({ err }, 'live transcript socket failed');
        send({ type: 'error', error: 'Internal error' });
        socket.close(1011, 'internal error');
      }
    },
  );
};
