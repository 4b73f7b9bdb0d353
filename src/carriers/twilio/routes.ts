/**
 * The Twilio carrier's own HTTP surface (a Fastify plugin, registered only when CARRIER=twilio):
 * `POST /start_call` (TwiML for a call we placed), `POST /twilio/status` (status callbacks) and the
 * ConversationRelay socket `/relay/ws`, and the Media Streams socket `/media/ws` (calls in audio mode).
 * Every request is verified with X-Twilio-Signature against the public URL (PUBLIC_URL + path; `wss://`
 * for the sockets): unsigned or wrongly signed → 403, nothing changes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TwilioCarrier } from './twilio-carrier.js';
import { isValidTwilioSignature, parseForm } from './twilio-signature.js';

type Form = Record<string, string | string[]>;

const UNKNOWN_CALL_TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, this call could not be connected. Goodbye.</Say><Hangup/></Response>';

export function twilioRoutes(carrier: TwilioCarrier) {
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
      reply.type('text/xml');
      return carrier.twimlFor(callSid, typeof form.AnsweredBy === 'string' ? form.AnsweredBy : undefined) ?? UNKNOWN_CALL_TWIML;
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
      if (typeof id === 'string') carrier.verificationStatus(id, typeof status === 'string' ? status : undefined);
      return reply.code(204).send();
    });

    app.post('/twilio/status', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      if (!verified(req, carrier.publicUrl, form)) return refuse(reply);
      carrier.onStatus(form);
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
      (socket) => carrier.attachRelay(socket),
    );

    // Media Streams (`<Connect><Stream>`, calls in audio mode): signed handshake here, the stream's token on `start`.
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
