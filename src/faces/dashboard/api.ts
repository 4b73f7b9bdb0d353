/**
 * Read routes the dashboard needs that no face has: the simulated numbers (for the start-a-call form), a
 * call's per-turn latency and counts, and one event stream with everything that happens on a call
 * (transcript, status, keys, transfers, supervisor commands) — CallMyCall's SSE carries only the transcript.
 * Commands go through the faces' own routes (say, press, transfer, end...), so they are checked in one place.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { FollowerTooSlowError } from '../../core/index.js';
import { isTerminal } from '../../core/calls/states.js';
import { SseStream } from '../shared/sse.js';
import type { FaceOptions } from '../shared/options.js';

/** A number on the simulated phone network and who answers it (a scenario file). */
export interface SimulatedNumber {
  number: string;
  name: string;
  kind: string;
  language?: string;
  description?: string;
}

/** Keep-alive comment interval, so proxies do not close a quiet stream. */
const PING_MS = 15_000;

const CallSidParams = Type.Object({ callSid: Type.String({ minLength: 1, maxLength: 100 }) });

export const dashboardApi: FastifyPluginAsyncTypebox<FaceOptions & { simulatedNumbers: () => SimulatedNumber[] }> = async (app, opts) => {
  const { core } = opts;

  app.get('/simulated-numbers', { schema: { hide: true } }, async () => ({ numbers: opts.simulatedNumbers() }));

  app.get('/calls/:callSid/turns', { schema: { hide: true, params: CallSidParams } }, async (req) => {
    const call = await core.calls.find(req.org.id, req.params.callSid);
    const [turns, counts, question] = await Promise.all([core.calls.turns(call.id), core.calls.eventCounts(call.id), core.calls.pendingQuestion(call.id)]);
    return {
      turns: turns.map((t) => ({
        turn: t.turn,
        transcript_to_gpt_ms: t.transcript_to_gpt_ms,
        gpt_first_token_ms: t.gpt_first_token_ms,
        first_audio_playback_ms: t.first_audio_playback_ms,
        stt_final_ms: t.stt_final_ms,
        tts_first_byte_ms: t.tts_first_byte_ms,
      })),
      transcript_count: counts.transcript,
      command_count: counts.command,
      override_count: counts.override,
      operator_question: question,
    };
  });

  app.get(
    '/calls/:callSid/events',
    {
      config: { streaming: true },
      schema: {
        hide: true,
        params: CallSidParams,
        querystring: Type.Object({ api_key: Type.Optional(Type.String()) }),
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^\\d{1,9}$' })) }),
      },
    },
    async (req, reply) => {
      const call = await core.calls.find(req.org.id, req.params.callSid);
      const afterSeq = Number(req.headers['last-event-id'] ?? 0);
      const sse = new SseStream(reply.raw);
      reply.hijack();
      sse.open();
      const ping = setInterval(() => sse.trySend('ping', { ts: Math.floor(Date.now() / 1000) }), PING_MS);
      const onTooSlow = (err: FollowerTooSlowError) => sse.drop(err.reason);
      try {
        for await (const e of core.calls.follow(req.org.id, call.id, { afterSeq, signal: sse.signal, onTooSlow })) {
          await sse.send(e.type, e, e.seq);
          if (e.type === 'status' && isTerminal(e.status)) break;
        }
        // The browser's EventSource reconnects after a close; `ended` tells the page not to.
        await sse.send('ended', {});
        sse.close();
      } catch (err) {
        if (!(err instanceof FollowerTooSlowError)) {
          req.log.error({ err, callId: call.id }, 'dashboard event stream failed');
          sse.drop('internal_error');
        }
      } finally {
        clearInterval(ping);
      }
    },
  );
};
