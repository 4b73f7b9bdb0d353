/**
 * The Twilio carrier's own HTTP surface (a Fastify plugin, registered only when CARRIER=twilio):
 * `POST /start_call` (TwiML for a call we placed), `POST /twilio/status` (status callbacks),
 * `POST /twilio/relay-ended` (the `<Connect action>` of a finished relay session), `POST
 * /twilio/recording-status` (a recorded call's recording is ready), the ConversationRelay
 * socket `/relay/ws` and the Media Streams socket `/media/ws` (calls in audio mode, user-on-call listening
 * forks). Every request is verified with X-Twilio-Signature against the public URL (PUBLIC_URL + path;
 * `wss://` for the sockets): unsigned or wrongly signed → 403, nothing changes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TwilioCarrier } from './twilio-carrier.js';
import type { TwilioCluster } from './cluster.js';
import { isValidTwilioSignature, parseForm } from './twilio-signature.js';
import { sayAndHangup } from './twiml.js';

type Form = Record<string, string | string[]>;

const UNKNOWN_CALL_TWIML = sayAndHangup('Sorry, this call could not be connected. Goodbye.');

/** `cluster`: with several nodes, what concerns a call this node does not know is passed to its owner. */
export function twilioRoutes(carrier: TwilioCarrier, cluster?: TwilioCluster) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    // Twilio posts forms; the parser lives in this plugin's scope only.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, parseForm(String(body)));
    });

    const verified = (req: FastifyRequest, base: string, params: Form) =>
      isValidTwilioSignature(carrier.authToken, header(req), base + req.url, params);

    const refuse = (reply: FastifyReply) => reply.code(403).type('text/plain').send('invalid signature');

    app.post('/start_call', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      if (!verified(req, carrier.publicUrl, form)) return refuse(reply);
      const callSid = typeof form.CallSid === 'string' ? form.CallSid : '';
      const answeredBy = typeof form.AnsweredBy === 'string' ? form.AnsweredBy : undefined;
      const twiml = carrier.twimlFor(callSid, answeredBy) ?? (callSid && cluster ? await cluster.twiml(callSid, answeredBy) : null);
      reply.type('text/xml');
      return twiml ?? UNKNOWN_CALL_TWIML;
    });

    // A call to one of our numbers (the number's Voice URL): its agent answers, or a short message and hang-up.
    app.post('/receive_call', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      if (!verified(req, carrier.publicUrl, form)) return refuse(reply);
      const twiml = await carrier.receiveCall(form);
      reply.type('text/xml');
      return twiml;
    });

    // Twilio's caller-ID verification result (the StatusCallback of POST /OutgoingCallerIds.json).
    app.post('/twilio/caller-id-status', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      if (!verified(req, carrier.publicUrl, form)) return refuse(reply);
      const id = (req.query as Record<string, unknown> | undefined)?.verification;
      const status = form.VerificationStatus;
      if (typeof id === 'string') {
        const result = typeof status === 'string' ? status : undefined;
        if (carrier.hasVerification(id) || !cluster) carrier.verificationStatus(id, result);
        else await cluster.forwardVerification(id, result);
      }
      return reply.code(204).send();
    });

    // The `<Connect action>` of a ConversationRelay session that ended: the call hangs up.
    app.post('/twilio/relay-ended', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      if (!verified(req, carrier.publicUrl, form)) return refuse(reply);
      reply.type('text/xml');
      return carrier.relayEnded(form);
    });

    // A recording status callback (the RecordingStatusCallback of a recorded call): the recording is fetched.
    app.post('/twilio/recording-status', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      if (!verified(req, carrier.publicUrl, form)) return refuse(reply);
      const callId = (req.query as Record<string, unknown> | undefined)?.callId;
      if (typeof callId === 'string' && callId) carrier.recordingStatus(callId, form);
      return reply.code(204).send();
    });

    app.post('/twilio/status', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      if (!verified(req, carrier.publicUrl, form)) return refuse(reply);
      const callSid = typeof form.CallSid === 'string' ? form.CallSid : '';
      if (carrier.hasCall(callSid) || !cluster) carrier.onStatus(form);
      else await cluster.forwardStatus(callSid, form);
      return reply.code(204).send();
    });

    app.get(
      '/relay/ws',
      {
        websocket: true,
        schema: { hide: true },
        preValidation: async (req, reply) => {
          // The handshake is signed over the wss:// form of the public URL, with no params.
          if (!verified(req, carrier.publicUrl.replace(/^http/, 'ws'), {})) return refuse(reply);
        },
      },
      (socket, req) => {
        const q = (req.query ?? {}) as Record<string, unknown>;
        carrier.attachRelay(socket, typeof q.callSid === 'string' ? q.callSid : undefined);
      },
    );

    // Media Streams (`<Connect><Stream>` of calls in audio mode, listening forks of user-on-call): signed handshake here, the stream's token on `start`.
    app.get(
      '/media/ws',
      {
        websocket: true,
        schema: { hide: true },
        preValidation: async (req, reply) => {
          if (!verified(req, carrier.publicUrl.replace(/^http/, 'ws'), {})) return refuse(reply);
        },
      },
      (socket) => carrier.attachMedia(socket),
    );
  };
}

function header(req: FastifyRequest): string | undefined {
  const h = req.headers['x-twilio-signature'];
  return Array.isArray(h) ? h[0] : h;
}
