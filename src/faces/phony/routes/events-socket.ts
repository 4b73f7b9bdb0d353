/**
 * `WS /events/ws` (004): the live events of one call for a dashboard. The call is named by `?callSid=` or by
 * the first message (`{"callSid": "…"}`). The stored events so far come first, then live ones from any node
 * (`core.calls.follow`), in 004's words (../map.ts); the socket closes (1000) once the call has ended.
 *
 * Heartbeat (004): `{"type":"ping"}` every 30 s (PHONY_WS_PING_MS); a client that sends nothing — not even
 * `{"type":"pong"}` — for 60 s (PHONY_WS_TIMEOUT_MS) is closed with 4408, then dropped if it does not answer
 * the close either. A client sending more than PHONY_WS_MESSAGES_PER_MINUTE messages is closed with 1008.
 * A client that stops reading falls behind the call and is closed with 1013 (see core/calls/follow.ts).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { FollowerTooSlowError } from '../../../core/calls/follow.js';
import { isTerminal } from '../../../core/calls/states.js';
import { SwitchboardError } from '../../../core/errors.js';
import type { CallRow } from '../../../store/index.js';
import { callOf } from '../auth.js';
import type { PhonyOptions } from '../options.js';
import { phonyError } from '../errors.js';
import { phonyEvents } from '../map.js';

/** Close codes: the heartbeat ran out (an application code, like HTTP 408), and too many messages. */
export const CLOSE_HEARTBEAT_TIMEOUT = 4408;
export const CLOSE_TOO_MANY_MESSAGES = 1008;
/** How long a closed-for-silence client has to answer the close before it is dropped. */
const CLOSE_GRACE_MS = 2000;

interface Named {
  phonyCall?: CallRow;
}

function sendNow(socket: WebSocket, m: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(m));
}

/** Sends and waits until it left, so the follower reads no faster than the client takes (see follow.ts). */
function send(socket: WebSocket, m: unknown): Promise<void> {
  if (socket.readyState !== socket.OPEN) return Promise.resolve();
  return new Promise((resolve) => socket.send(JSON.stringify(m), () => resolve()));
}

export const eventsSocket: FastifyPluginAsync<PhonyOptions> = async (app, { core, socket: settings }) => {
  app.get<{ Querystring: { callSid?: string; api_key?: string } }>(
    '/events/ws',
    {
      websocket: true,
      schema: { summary: 'Live events of a call (WebSocket; ?callSid= or a first {"callSid"} message)', tags: ['Phony'] },
      // A call named in the query is looked up before the upgrade: an unknown one is a plain 404.
      preValidation: async (req: FastifyRequest<{ Querystring: { callSid?: string } }>) => {
        const sid = req.query?.callSid;
        if (typeof sid === 'string' && sid) (req as FastifyRequest & Named).phonyCall = await callOf(core, req, sid);
        else if (sid !== undefined && typeof sid !== 'string') throw new SwitchboardError('SB_ERR_VALIDATION', 'Invalid callSid', { field: 'callSid' });
      },
    },
    async (socket: WebSocket, req: FastifyRequest) => {
      const gone = new AbortController();
      let named: ((call: CallRow) => void) | undefined;
      const callNamed = new Promise<CallRow | undefined>((resolve) => {
        named = resolve;
        gone.signal.addEventListener('abort', () => resolve(undefined), { once: true });
      });
      const preset = (req as FastifyRequest & Named).phonyCall;
      if (preset) named!(preset);

      // Heartbeat: a ping every pingMs; silence for timeoutMs closes the socket.
      let silence: NodeJS.Timeout | undefined;
      const heard = () => {
        clearTimeout(silence);
        silence = setTimeout(() => {
          req.log.info('events socket closed: no answer to pings');
          socket.close(CLOSE_HEARTBEAT_TIMEOUT, 'heartbeat timeout');
          setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
        }, settings.timeoutMs);
      };
      heard();
      const pinger = setInterval(() => sendNow(socket, { type: 'ping' }), settings.pingMs);
      socket.on('close', () => {
        clearInterval(pinger);
        clearTimeout(silence);
        gone.abort();
      });

      let windowStart = Date.now();
      let inWindow = 0;
      socket.on('message', (raw) => {
        heard();
        if (Date.now() - windowStart >= 60_000) {
          windowStart = Date.now();
          inWindow = 0;
        }
        if (++inWindow > settings.messagesPerMinute) return socket.close(CLOSE_TOO_MANY_MESSAGES, 'too many messages');
        let m: { type?: unknown; callSid?: unknown } | undefined;
        try {
          m = JSON.parse(raw.toString()) as typeof m;
        } catch {
          return sendNow(socket, { type: 'error', ...phonyError('INVALID_REQUEST', 'Messages must be JSON') });
        }
        if (m?.type === 'pong') return;
        if (m?.type === 'ping') return sendNow(socket, { type: 'pong' });
        if (typeof m?.callSid === 'string' && named) {
          const take = named;
          named = undefined; // the first call named is the one followed
          callOf(core, req, m.callSid).then(take, () => {
            sendNow(socket, { type: 'error', ...phonyError('CALL_NOT_FOUND', 'Call session not found', { callSid: m.callSid }) });
            socket.close(1008, 'call not found');
          });
          return;
        }
        sendNow(socket, { type: 'error', ...phonyError('INVALID_REQUEST', 'Unknown message: send {"type":"pong"} or {"callSid": "…"}') });
      });

      const call = await callNamed;
      if (!call) return;
      const onTooSlow = (err: FollowerTooSlowError) => {
        req.log.warn({ callId: call.id, limit: err.limit }, 'slow events client dropped');
        socket.close(1013, err.reason);
      };
      try {
        for await (const e of core.calls.follow(call.org_id, call.id, { signal: gone.signal, onTooSlow })) {
          for (const out of phonyEvents(call.sid, e)) await send(socket, out);
          if (e.type === 'status' && isTerminal(e.status)) socket.close(1000, 'call ended');
        }
      } catch (err) {
        if (!(err instanceof FollowerTooSlowError)) {
          req.log.error({ err, callId: call.id }, 'events socket failed');
          sendNow(socket, { type: 'error', ...phonyError('WEBSOCKET_ERROR', 'Internal error') });
          socket.close(1011, 'internal error');
        }
      }
    },
  );
};
