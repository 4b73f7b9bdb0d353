/**
 * The Twilio carrier's own HTTP surface (a Fastify plugin, registered only when CARRIER=twilio):
 * `POST /start_call` (TwiML for a call we placed), `POST /twilio/status` (status callbacks),
 * `POST /twilio/relay-ended` (the `<Connect action>` of a finished relay session), `POST
 * /twilio/recording-status` (a recorded call's recording is ready), the ConversationRelay
 * socket `/relay/ws` and the Media Streams socket `/media/ws` (calls in audio mode, user-on-call listening
 * forks). Every request is verified with X-Twilio-Signature against the public URL (PUBLIC_URL + path;
 * `wss://` for the sockets): unsigned or wrongly signed → 403, nothing changes. The token is that of the
 * account the request claims (`account=AC…` in the URL of calls on a number's own account; none: the
 * deployment's), and a request may only concern calls of the account that signed it (accounts.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TwilioCarrier } from './twilio-carrier.js';
import type { TwilioCluster } from './cluster.js';
import { parseForm } from './twilio-signature.js';
import { sayAndHangup } from './twiml.js';

type Form = Record<string, string | string[]>;

/** Made on first use: building TwiML loads the twilio package's builder, which a start need not pay for. */
let unknownCallTwiml: string | undefined;
const unknownCall = () => (unknownCallTwiml ??= sayAndHangup('Sorry, this call could not be connected. Goodbye.'));

/** `cluster`: with several nodes, what concerns a call this node does not know is passed to its owner. */
export function twilioRoutes(carrier: TwilioCarrier, cluster?: TwilioCluster) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    // Twilio posts forms; the parser lives in this plugin's scope only.
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, parseForm(String(body)));
    });

    /** The account that signed the request (the one its URL claims, else the deployment's); null: refuse it. */
    const verified = (req: FastifyRequest, base: string, params: Form) => carrier.verifyRequest(header(req), base + req.url, params, claimedAccount(req));

    /** As `verified`, for a request about one call (by its CallSid): also null when the call is of another account. */
    const verifiedFor = async (req: FastifyRequest, params: Form, callSid: string) => {
      const account = await verified(req, carrier.publicUrl, params);
      return account && carrier.mayConcern(callSid, account) ? account : null;
    };

    const refuse = (reply: FastifyReply) => reply.code(403).type('text/plain').send('invalid signature');

    app.post('/start_call', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      const callSid = typeof form.CallSid === 'string' ? form.CallSid : '';
      const account = await verifiedFor(req, form, callSid);
      if (!account) return refuse(reply);
      const answeredBy = typeof form.AnsweredBy === 'string' ? form.AnsweredBy : undefined;
      const twiml = carrier.twimlFor(callSid, answeredBy) ?? (callSid && cluster ? await cluster.twiml(callSid, answeredBy, account) : null);
      reply.type('text/xml');
      return twiml ?? unknownCall();
    });

    // A call to one of our numbers (the number's Voice URL): its agent answers, or a short message and hang-up.
    app.post('/receive_call', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      const account = await verified(req, carrier.publicUrl, form);
      if (!account) return refuse(reply);
      const twiml = await carrier.receiveCall(form, account);
      reply.type('text/xml');
      return twiml;
    });

    // Twilio's caller-ID verification result (the StatusCallback of POST /OutgoingCallerIds.json).
    app.post('/twilio/caller-id-status', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      // Verifications are made on the deployment's account only.
      if ((await verified(req, carrier.publicUrl, form)) !== carrier.opts.accountSid) return refuse(reply);
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
      if (!(await verifiedFor(req, form, typeof form.CallSid === 'string' ? form.CallSid : ''))) return refuse(reply);
      reply.type('text/xml');
      return carrier.relayEnded(form);
    });

    // A recording status callback (the RecordingStatusCallback of a recorded call): the recording is fetched.
    app.post('/twilio/recording-status', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      const account = await verified(req, carrier.publicUrl, form);
      if (!account) return refuse(reply);
      const q = (req.query ?? {}) as Record<string, unknown>;
      const callId = typeof q.callId === 'string' ? q.callId : '';
      // A number's own account must be the one this call was placed on (the URL's binding says so).
      if (account !== carrier.opts.accountSid && (typeof q.bind !== 'string' || !safeEqual(q.bind, carrier.recordingBinding(callId, account)))) return refuse(reply);
      if (callId) carrier.recordingStatus(callId, form, account);
      return reply.code(204).send();
    });

    app.post('/twilio/status', { schema: { hide: true } }, async (req, reply) => {
      const form = (req.body ?? {}) as Form;
      const callSid = typeof form.CallSid === 'string' ? form.CallSid : '';
      const account = await verifiedFor(req, form, callSid);
      if (!account) return refuse(reply);
      if (carrier.hasCall(callSid) || !cluster) carrier.onStatus(form);
      else await cluster.forwardStatus(callSid, form, account);
      return reply.code(204).send();
    });

    app.get(
      '/relay/ws',
      {
        websocket: true,
        schema: { hide: true },
        preValidation: async (req, reply) => {
          // The handshake is signed over the wss:// form of the public URL, with no params.
          const account = await verified(req, carrier.publicUrl.replace(/^http/, 'ws'), {});
          if (!account) return refuse(reply);
          socketAccount.set(req, account);
        },
      },
      (socket, req) => {
        const q = (req.query ?? {}) as Record<string, unknown>;
        carrier.attachRelay(socket, typeof q.callSid === 'string' ? q.callSid : undefined, socketAccount.get(req));
      },
    );

    // Media Streams (`<Connect><Stream>` of calls in audio mode, listening forks of user-on-call): signed handshake here, the stream's token on `start`.
    app.get(
      '/media/ws',
      {
        websocket: true,
        schema: { hide: true },
        preValidation: async (req, reply) => {
          // Twilio drops query strings from stream URLs: the account is the known one whose token signed it.
          const account = carrier.verifyAnyAccount(header(req), carrier.publicUrl.replace(/^http/, 'ws') + req.url);
          if (!account) return refuse(reply);
          socketAccount.set(req, account);
        },
      },
      (socket, req) => carrier.attachMedia(socket, socketAccount.get(req)),
    );
  };
}

/** The account a socket's handshake was verified as, from preValidation to the handler. */
const socketAccount = new WeakMap<FastifyRequest, string>();

/** The account a callback's URL claims (`account=AC…`), if any. */
function claimedAccount(req: FastifyRequest): string | undefined {
  const v = (req.query as Record<string, unknown> | undefined)?.account;
  return typeof v === 'string' ? v : undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function header(req: FastifyRequest): string | undefined {
  const h = req.headers['x-twilio-signature'];
  return Array.isArray(h) ? h[0] : h;
}
