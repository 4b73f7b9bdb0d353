/**
 * Twilio Programmable Voice behind the Carrier interface (first slice): outbound calls whose speech runs
 * over ConversationRelay (text mode). Dialling goes through the official `twilio` package, loaded only
 * when a call is placed; its HTTP client is pointed at `apiBaseUrl` in tests (the fake Twilio). Twilio
 * tells us about the call through signed callbacks served by `twilioRoutes` (routes.ts): the TwiML
 * request (`/start_call`), status callbacks (`/twilio/status`) and the relay socket (`/relay/ws`).
 * Transfers (of text- and audio-mode calls alike) live in transfers.ts, user-on-call (conference rooms) in
 * conference.ts.
 * A call that asks for `voiceMode: 'audio'` is connected to a Media Streams socket (`/media/ws`) instead and
 * answered with an AudioChannel of μ-law frames (media-stream-channel.ts). The same socket receives the
 * listening fork of a user-on-call session (conference.ts).
 */
import { createHmac } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { AnsweredBy, CallerIdVerificationRequest, CallerIdVerificationResult, Carrier, CarrierCallHandle, CarrierCapabilities, CarrierEndStatus, CarrierEvent, CarrierUsage, DialRequest, InboundCall, RecordingReady, TransferOptions, UserOnCallHandle, UserOnCallRequest } from '../carrier.js';
import type { Logger } from '../../lib/logger.js';
import { maskPhone } from '../../lib/phone.js';
import { ConversationRelayChannel, relayDialectOf } from './conversation-relay.js';
import { coldTransfer, warmTransfer, type TransferHost, type TransferLeg } from './transfers.js';
import { UserOnCallSession, type ConferenceHost } from './conference.js';
import { TwilioMediaStream, mediaStreamToken } from './media-stream.js';
import { MediaStreamAudioChannel } from './media-stream-channel.js';
import { RELAY_TEXT_VOICES, relayOffers, relayVoiceAttributes } from './relay-voice.js';
import { digitsThenStreamTwiml, hangupTwiml, joinRoomTwiml, relayTwiml, sayAndHangup, streamTwiml, type StreamTarget } from './twiml.js';
import { own } from '../../lib/own.js';
import { TwilioAccounts, type TwilioAccount } from './accounts.js';

export interface TwilioCarrierOptions {
  accountSid: string;
  /** Verifies every callback (Twilio signs with it); authenticates REST requests unless `apiKey` is given. */
  authToken: string;
  /** An API key pair (SK…) for REST requests, instead of the auth token. */
  apiKey?: { sid: string; secret: string };
  /** Caller ID used when a call names none. */
  fromNumber?: string;
  /**
   * One of the account's numbers whose Voice URL is `/receive_call`. With it, a user-on-call session can keep
   * the user in the room when the agent takes over: the agent's leg calls this number, and the call's other
   * end joins the room (conference.ts, "three-way").
   */
  agentNumber?: string;
  /** Public base URL of this deployment (https in production; callbacks and the relay socket hang off it). */
  publicUrl: string;
  /** Replaces `https://api.twilio.com` (tests only). */
  apiBaseUrl?: string;
  /** Speaking pace used to judge when a said text is over (tests speed it up). */
  wordsPerSecond?: number;
  /** Audio mode: how long a closed media stream waits for its successor before the far end is gone (default 2 s; tests shorten it). */
  streamReattachMs?: number;
  /** Audio mode: how long a call whose far end is gone waits for Twilio's `completed` callback (default 15 s; tests shorten it). */
  streamEndedFallbackMs?: number;
  log: Logger;
}

/** A Twilio recording, as handed over to `onRecording` and given back to `fetchRecording`. */
export interface TwilioRecordingRef {
  kind: 'twilio';
  recordingSid: string;
  /** The account the call was placed on, when not the deployment's (its media is fetched from there). */
  accountSid?: string;
}

/** One call Switchboard placed, known by its Twilio CallSid. */
interface TwilioCall {
  callSid: string;
  req: DialRequest;
  /** The account the call is on: every request about it uses this account, and only its callbacks are heard. */
  account: TwilioAccount;
  emit: (e: CarrierEvent) => void;
  ringing: boolean;
  answered: boolean;
  /** When the agent got the call (relay set up, or first media stream), for the usage reported at the end. */
  answeredAt?: number;
  ended: boolean;
  channel?: ConversationRelayChannel;
  /** Audio mode: the channel over the call's media streams (set when the first stream starts). */
  audio?: MediaStreamAudioChannel;
  fallback?: NodeJS.Timeout;
  /** Twilio's answering-machine verdict (sync AMD, from the `/start_call` request); human until told otherwise. */
  answeredBy: AnsweredBy;
  /** A call that rang one of our numbers (`/receive_call`). */
  inbound?: boolean;
  /** Sees every CallStatus of the call first (user-on-call legs follow `in-progress`, which is no event). */
  onStatus?: (status: string) => void;
  /** A user-on-call target's leg: takes (true) or refuses a verified media stream as its listening fork. */
  onFork?: (stream: TwilioMediaStream) => boolean;
}

/**
 * What a Twilio call used, from when the agent got it: the connected minutes, and either the media stream
 * (audio mode) or ConversationRelay's recognition (all the time) and synthesis (the characters sent).
 */
function twilioUsage(call: TwilioCall): CarrierUsage {
  const seconds = Math.max(0, (Date.now() - call.answeredAt!) / 1000);
  if (call.audio) return { connectedSeconds: seconds, mediaSeconds: seconds };
  return { connectedSeconds: seconds, sttSeconds: seconds, ttsCharacters: call.channel?.synthesisedCharacters ?? 0 };
}

/** Twilio's final CallStatus values → how the call ended. */
const END_STATUS: Record<string, CarrierEndStatus> = {
  completed: 'completed',
  busy: 'busy',
  'no-answer': 'no_answer',
  failed: 'failed',
  canceled: 'canceled',
};

/** How long a call whose relay socket closed waits for Twilio's `completed` callback before ending anyway. */
const ENDED_FALLBACK_MS = 15_000;

/** Inbound calls: how long a closed relay socket waits for a status callback (rarely configured) before the call ends. */
const INBOUND_ENDED_FALLBACK_MS = 500;

/** How long an inbound call waits for the engine to answer or reject it before the caller hears NOT_CONNECTED. */
const INBOUND_DECISION_MS = 10_000;

const NOT_CONNECTED = 'Sorry, this call could not be connected. Goodbye.';

/** How long the agent's loop into a three-way room may take to ring through and join it. */
const LOOP_JOIN_MS = 20_000;

/** How long a caller-ID verification waits for Twilio's status callback before it counts as failed. */
const VERIFICATION_TIMEOUT_MS = 10 * 60_000;

type CallsApi = {
  create(p: Record<string, unknown>): Promise<{ sid: string }>;
  validate(p: Record<string, unknown>): Promise<{ callSid: string; validationCode: string }>;
  update(sid: string, p: Record<string, unknown>): Promise<unknown>;
  /** `POST /Conferences/{room}/Participants.json`. */
  addParticipant(room: string, p: Record<string, unknown>): Promise<{ callSid: string }>;
  /** `DELETE /Conferences/{room}/Participants/{CallSid}.json`. */
  removeParticipant(room: string, callSid: string): Promise<unknown>;
  /** `POST /Calls/{CallSid}/Streams.json` (a unidirectional fork). */
  createStream(callSid: string, p: Record<string, unknown>): Promise<{ sid: string }>;
  /** `POST /Calls/{CallSid}/Streams/{sid or name}.json` (`Status=stopped`). */
  updateStream(callSid: string, sidOrName: string, p: Record<string, unknown>): Promise<unknown>;
};

export class TwilioCarrier implements Carrier {
  readonly name = 'twilio';
  readonly capabilities: CarrierCapabilities = {
    dtmfOut: true,
    textMode: true,
    mediaStream: true,
    knowsDestinations: false,
    transfer: true,
    inbound: true,
    callerIdVerification: true,
    userOnCall: true,
    recording: true,
    textVoices: RELAY_TEXT_VOICES,
  };
  /** The agent's loop into a three-way room being set up: its inbound end is expected at `/receive_call`. */
  private pendingLoop: { number: string; room: string; joined: () => void } | undefined;
  /** Loops are set up one at a time (see `agentLoop`). */
  private loopTurn: Promise<void> = Promise.resolve();
  private recordingHandler: ((r: RecordingReady) => void) | undefined;
  private readonly calls = new Map<string, TwilioCall>();
  /** The deployment's account and the numbers' own, each with its REST client (accounts.ts). */
  readonly accounts: TwilioAccounts<CallsApi>;
  private inboundHandler: ((call: InboundCall) => void) | undefined;
  /** Caller-ID verifications waiting for Twilio's verification status callback, by verification id. */
  private readonly verifications = new Map<string, (result: CallerIdVerificationResult) => void>();

  constructor(readonly opts: TwilioCarrierOptions) {
    this.capabilities.userOnCallThreeWay = !!opts.agentNumber;
    this.accounts = new TwilioAccounts({ accountSid: opts.accountSid, authToken: opts.authToken, apiKey: opts.apiKey }, (a) => this.makeApi(a));
  }

  /**
   * A public callback URL for a call on `account`: `path` with `query`, plus `account=AC…` when the account
   * is not the deployment's, so that the route knows which token to verify it with (accounts.ts).
   */
  private callbackUrl(path: string, account: TwilioAccount, query: Record<string, string> = {}): string {
    const q = new URLSearchParams(query);
    if (!this.accounts.isDeployment(account.accountSid)) q.set('account', account.accountSid);
    const qs = q.toString();
    return `${this.publicUrl}${path}${qs ? '?' + qs : ''}`;
  }

  /** The account that signed a request to `url` (the one it claims with `account`, else the deployment's); null when none did. */
  verifyRequest(signature: string | undefined, url: string, params: Record<string, string | string[]>, claimed: string | undefined): Promise<string | null> {
    return this.accounts.verify(signature, url, params, claimed);
  }

  /** A Media Streams handshake (no query to name its account): the account among those known whose token signed it. */
  verifyAnyAccount(signature: string | undefined, url: string): string | null {
    return this.accounts.verifyAny(signature, url);
  }

  /** Whether a request verified as `accountSid` may concern this call: an unknown call (nothing to protect here), or one of that account. */
  mayConcern(callSid: string, accountSid: string): boolean {
    const call = this.calls.get(callSid);
    return !call || call.account.accountSid === accountSid;
  }

  /** The public base URL without a trailing slash. */
  get publicUrl(): string {
    return this.opts.publicUrl.replace(/\/+$/, '');
  }

  /** The relay socket's public URL (`wss://` behind `https://`). */
  get relayUrl(): string {
    return this.publicUrl.replace(/^http/, 'ws') + '/relay/ws';
  }

  dial(req: DialRequest, onEvent: (e: CarrierEvent) => void): Promise<CarrierCallHandle> {
    // A number stored with its own account's credentials dials on that account; any other on the deployment's.
    return this.place(req, this.accounts.use(req.account), onEvent);
  }

  /** Places a call on `account` (`POST /Accounts/{sid}/Calls.json`) and follows it by its CallSid. */
  private async place(req: DialRequest, account: TwilioAccount, onEvent: (e: CarrierEvent) => void): Promise<CarrierCallHandle & { carrierCallSid: string }> {
    const from = req.from ?? this.opts.fromNumber;
    if (!from) throw new Error('no caller ID: set TWILIO_FROM_NUMBER or give from_number');
    const api = await this.restApi(account);
    const created = await api.create({
      to: req.to,
      from,
      url: this.callbackUrl('/start_call', account),
      method: 'POST',
      statusCallback: this.callbackUrl('/twilio/status', account),
      statusCallbackMethod: 'POST',
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      timeout: Math.min(600, Math.max(1, Math.round(req.ringTimeoutSeconds ?? 60))),
      // Sync answering-machine detection: Twilio's verdict (`AnsweredBy`) comes with the `/start_call` request.
      machineDetection: 'Enable',
      ...(req.record ? this.recordingParams(req.callId, account) : {}),
    });
    const call: TwilioCall = {
      callSid: created.sid,
      req,
      account,
      ringing: false,
      answered: false,
      ended: false,
      answeredBy: 'human',
      emit: (e) => {
        try {
          onEvent(e);
        } catch (err) {
          this.opts.log.error({ err, callId: req.callId }, 'twilio carrier listener failed');
        }
      },
    };
    this.calls.set(created.sid, call);
    this.opts.log.info({ callId: req.callId, callSid: created.sid, dest: maskPhone(req.to), accountSid: account.accountSid }, 'twilio call placed');
    return {
      carrierCallSid: created.sid,
      hangup: async () => {
        if (call.ended) return;
        if (call.channel) return call.channel.hangup();
        if (call.audio) return call.audio.hangup();
        // Not answered yet: cancel (queued/ringing) or, if it got further meanwhile, hang up.
        await api.update(call.callSid, { status: 'canceled' }).catch(() => api.update(call.callSid, { status: 'completed' }));
      },
    };
  }

  /**
   * Caller-ID verification through Twilio: `POST /OutgoingCallerIds.json` (`PhoneNumber`, `StatusCallback`);
   * Twilio calls the number and its owner keys in Twilio's `validation_code`. The result arrives on the
   * verification status callback (`VerificationStatus` success|failed, `/twilio/caller-id-status`); none
   * within VERIFICATION_TIMEOUT_MS counts as failed. A refused request (e.g. already verified, invalid
   * number) rejects, which the core records as failed.
   */
  async verifyCallerId(req: CallerIdVerificationRequest): Promise<CallerIdVerificationResult> {
    const api = await this.restApi(this.accounts.deployment);
    const statusCallback = `${this.publicUrl}/twilio/caller-id-status?verification=${encodeURIComponent(req.verificationId)}`;
    const log = this.opts.log;
    let settle!: (r: CallerIdVerificationResult) => void;
    const result = new Promise<CallerIdVerificationResult>((resolve) => (settle = resolve));
    // Registered before the request: the callback may arrive before the response.
    const timer = setTimeout(() => this.verificationStatus(req.verificationId, 'timeout'), VERIFICATION_TIMEOUT_MS).unref();
    this.verifications.set(req.verificationId, (r) => {
      clearTimeout(timer);
      this.verifications.delete(req.verificationId);
      settle(r);
    });
    try {
      const created = await api.validate({ phoneNumber: req.phoneNumber, statusCallback, statusCallbackMethod: 'POST', friendlyName: `Switchboard ${req.verificationId}` });
      log.info({ verificationId: req.verificationId, dest: maskPhone(req.phoneNumber), callSid: created.callSid }, 'twilio caller-ID verification call');
      // Twilio chooses the code the owner types: that is the code the API shows.
      req.onCode?.(String(created.validationCode));
    } catch (err) {
      clearTimeout(timer);
      this.verifications.delete(req.verificationId);
      throw err;
    }
    return result;
  }

  /** A verification status callback (already verified): `success` → verified, anything else → failed. */
  verificationStatus(verificationId: string, status: string | undefined): void {
    const done = this.verifications.get(verificationId);
    if (!done) return;
    this.opts.log.info({ verificationId, status }, 'twilio caller-ID verification ended');
    done(status === 'success' ? 'verified' : 'failed');
  }

  // ---- recordings ------------------------------------------------------------------------------

  /**
   * What a recorded call adds to its create request (protocols.md §1): `Record`, and the recording status
   * callback, whose URL names our call (the callback comes after the call has ended and been forgotten here;
   * Twilio signs the URL with its query, so the name cannot be forged). On a number's own account the URL
   * also names the account and binds it to the call (`bind`, see recordingBinding).
   */
  private recordingParams(callId: string, account: TwilioAccount): Record<string, unknown> {
    const own = !this.accounts.isDeployment(account.accountSid);
    return {
      record: true,
      recordingStatusCallback: this.callbackUrl('/twilio/recording-status', account, { callId, ...(own ? { bind: this.recordingBinding(callId, account.accountSid) } : {}) }),
      recordingStatusCallbackMethod: 'POST',
      recordingStatusCallbackEvent: ['completed', 'absent'],
    };
  }

  onRecording(handler: (r: RecordingReady) => void): void {
    this.recordingHandler = handler;
  }

  /**
   * Ties a recording callback of a call on a number's own account to that account: a MAC, with a key only
   * this deployment has, over the call and the account. Without it, the holder of another account's token
   * could announce a recording of theirs as one of this call (the callback comes when the call is forgotten
   * here, so there is no call to compare the account with).
   */
  recordingBinding(callId: string, accountSid: string): string {
    return createHmac('sha256', this.streamSecret).update(`recording:${callId}:${accountSid}`).digest('base64url');
  }

  /**
   * A recording status callback (already verified, as `accountSid`): `completed` hands the recording over
   * (`RecordingSid`); `absent` (nothing was recorded) and `failed` are logged. Any node may receive it: the
   * handler stores a durable job, whichever node carried the call.
   */
  recordingStatus(callId: string, params: Record<string, string | string[]>, accountSid: string = this.opts.accountSid): void {
    const status = one(params.RecordingStatus);
    const recordingSid = one(params.RecordingSid) ?? '';
    if (status !== 'completed' || !/^RE[0-9a-f]{32}$/.test(recordingSid)) {
      this.opts.log.warn({ callId, status, errorCode: one(params.ErrorCode) }, 'twilio recording not available');
      return;
    }
    this.opts.log.info({ callId, recordingSid, seconds: one(params.RecordingDuration) }, 'twilio recording ready');
    try {
      const ref: TwilioRecordingRef = { kind: 'twilio', recordingSid, ...(this.accounts.isDeployment(accountSid) ? {} : { accountSid }) };
      this.recordingHandler?.({ callId, ref });
    } catch (err) {
      this.opts.log.error({ err, callId }, 'twilio recording handler failed');
    }
  }

  /**
   * A recording's media as WAV: `GET /2010-04-01/Accounts/{AccountSid}/Recordings/{RE…}.wav` with the REST
   * credentials (protocols.md §1 "Recordings"; media auth may be enforced). The URL is made here from the
   * sid, never taken from the callback. Rejects on any answer but 200 (Twilio may still be processing it).
   */
  async fetchRecording(ref: unknown): Promise<Buffer> {
    const r = ref as Partial<TwilioRecordingRef> | null;
    if (r?.kind !== 'twilio' || typeof r.recordingSid !== 'string' || !/^RE[0-9a-f]{32}$/.test(r.recordingSid)) throw new Error('not a Twilio recording');
    const base = (this.opts.apiBaseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
    const account = r.accountSid === undefined ? this.accounts.deployment : await this.accounts.find(r.accountSid);
    if (!account) throw new Error('the Twilio account of this recording has no stored credentials');
    const { accountSid, authToken, apiKey } = account;
    const user = apiKey ? `${apiKey.sid}:${apiKey.secret}` : `${accountSid}:${authToken}`;
    const res = await fetch(`${base}/2010-04-01/Accounts/${accountSid}/Recordings/${r.recordingSid}.wav`, {
      headers: { authorization: `Basic ${Buffer.from(user).toString('base64')}` },
      signal: AbortSignal.timeout(60_000),
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`twilio recording media answered ${res.status}`);
    }
    return Buffer.from(await res.arrayBuffer());
  }

  private unknownRelay: ((socket: WebSocket, first: string, callSid: string, queryCallSid: string | undefined, accountSid: string) => void) | undefined;

  /** Receives relay sockets whose first message names a call this node does not know (instead of closing them), with the account that signed the handshake. */
  onUnknownRelay(handler: (socket: WebSocket, first: string, callSid: string, queryCallSid: string | undefined, accountSid: string) => void): void {
    this.unknownRelay = handler;
  }

  private unknownMedia: ((socket: WebSocket, early: string[], callSid: string, accountSid: string) => void) | undefined;

  /**
   * Receives media stream sockets whose verified `start` names a call this node does not know, with the
   * messages read so far (`connected`, `start`) and the account that signed the handshake, instead of closing them.
   */
  onUnknownMedia(handler: (socket: WebSocket, early: string[], callSid: string, accountSid: string) => void): void {
    this.unknownMedia = handler;
  }

  /** Whether a caller-ID verification started here is waiting for its result. */
  hasVerification(verificationId: string): boolean {
    return this.verifications.has(verificationId);
  }

  onInbound(handler: (call: InboundCall) => void): void {
    this.inboundHandler = handler;
  }

  /**
   * A call ringing one of our numbers (`POST /receive_call`, already verified as `accountSid`: a number on
   * its own account has `/receive_call?account=AC…` as its Voice URL): the engine answers it (the caller is
   * connected to the relay socket, where the number's agent talks) or rejects it (a short `<Say>` and
   * `<Hangup/>`). Resolves with the TwiML for Twilio; never fails.
   */
  async receiveCall(params: Record<string, string | string[]>, accountSid: string = this.opts.accountSid): Promise<string> {
    const callSid = one(params.CallSid) ?? '';
    const from = one(params.From) ?? one(params.Caller) ?? '';
    const to = one(params.To) ?? one(params.Called) ?? '';
    // The far end of the agent's loop into a three-way room: it joins that room.
    const loop = this.pendingLoop;
    if (loop && from === loop.number && to === loop.number) {
      this.pendingLoop = undefined;
      loop.joined();
      return joinRoomTwiml(loop.room);
    }
    const handler = this.inboundHandler;
    const account = await this.accounts.find(accountSid);
    if (!handler || !callSid || !account) return sayAndHangup(NOT_CONNECTED);
    // Twilio retried the request: the call is already answered.
    const known = this.twimlFor(callSid);
    if (known) return known;
    const log = this.opts.log;
    log.info({ callSid, from: maskPhone(from), to: maskPhone(to) }, 'twilio inbound call');
    return new Promise<string>((resolve) => {
      let settled = false;
      const once = () => {
        if (settled) throw new Error('inbound call already answered or rejected');
        settled = true;
        clearTimeout(timer);
      };
      // The engine decides at once; Twilio gives up on a TwiML request after 15 s.
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        resolve(sayAndHangup(NOT_CONNECTED));
      }, INBOUND_DECISION_MS).unref();
      handler({
        from,
        to,
        answer: async (req, onEvent) => {
          once();
          const call: TwilioCall = {
            callSid,
            req: { callId: req.callId, sid: req.sid, to: from, from: to, language: req.language, record: req.record, voiceMode: req.voiceMode, voice: req.voice },
            account,
            ringing: true,
            answered: false,
            ended: false,
            answeredBy: 'human',
            inbound: true,
            emit: (e) => {
              try {
                onEvent(e);
              } catch (err) {
                log.error({ err, callId: req.callId }, 'twilio carrier listener failed');
              }
            },
          };
          this.calls.set(callSid, call);
          resolve(this.twimlFor(callSid)!);
          return {
            hangup: async () => {
              if (call.ended) return;
              if (call.channel) return call.channel.hangup();
              if (call.audio) return call.audio.hangup();
              const api = await this.restApi(account);
              await api.update(callSid, { status: 'completed' });
            },
          };
        },
        reject: async (message) => {
          once();
          log.info({ callSid, to: maskPhone(to) }, 'twilio inbound call rejected');
          resolve(sayAndHangup(message ?? NOT_CONNECTED));
        },
      });
    });
  }

  /** Whether a call with this CallSid was placed by us and is still going. */
  hasCall(callSid: string): boolean {
    const c = this.calls.get(callSid);
    return !!c && !c.ended;
  }

  /** The TwiML that connects a call we placed to the relay socket (audio mode: a media stream); null for a call we do not know. */
  twimlFor(callSid: string, answeredBy?: string): string | null {
    const call = this.calls.get(callSid);
    if (!call || call.ended) return null;
    if (answeredBy) call.answeredBy = answeredByOf(answeredBy);
    if (call.req.voiceMode === 'audio') return streamTwiml(this.streamTarget(call));
    // On a number's own account, the relay socket's URL names the account too: its handshake is signed with that account's token.
    const own = this.accounts.isDeployment(call.account.accountSid) ? '' : `?account=${call.account.accountSid}`;
    return relayTwiml({
      action: this.callbackUrl('/twilio/relay-ended', call.account),
      url: this.relayUrl + own,
      language: relayLanguage(call.req.language),
      callSid,
      voice: relayVoiceAttributes(call.req.voice),
    });
  }

  /**
   * A status callback (already verified). Each carrier event is emitted at most once and never after
   * `ended`, so duplicates and late arrivals change nothing.
   */
  onStatus(params: Record<string, string | string[]>): void {
    const callSid = one(params.CallSid);
    const status = one(params.CallStatus);
    const call = callSid ? this.calls.get(callSid) : undefined;
    if (!call || call.ended || !status) return;
    call.onStatus?.(status);
    if (status === 'ringing') {
      if (call.ringing || call.answered) return;
      call.ringing = true;
      call.emit({ type: 'ringing' });
      return;
    }
    const end = own(END_STATUS, status);
    // The outcome is the status itself (like the simulated network, no separate reason); Twilio's error code, if any, is kept.
    const code = one(params.ErrorCode) ?? one(params.SipResponseCode);
    if (end) this.end(call, end, undefined, end === 'failed' && code ? `twilio_${code}` : undefined);
    // `queued`, `initiated`, `in-progress`: the call is answered once its relay socket is set up (or its first media stream starts).
  }

  /**
   * Twilio's `<Connect action>` request, made when a relay session is over (already verified): the agent
   * ended it (`end`) or the socket closed. The call is over for us, so the answer hangs up; a session that
   * failed on Twilio's side (`ErrorCode`) is logged with its code.
   */
  relayEnded(params: Record<string, string | string[]>): string {
    const callSid = one(params.CallSid);
    const call = callSid ? this.calls.get(callSid) : undefined;
    const fields = { callId: call?.req.callId, callSid, sessionStatus: one(params.SessionStatus), errorCode: one(params.ErrorCode) };
    if (fields.errorCode) this.opts.log.warn({ ...fields, errorMessage: one(params.ErrorMessage) }, 'conversation relay session failed');
    else this.opts.log.info(fields, 'conversation relay session ended');
    return hangupTwiml();
  }

  /**
   * A verified relay socket: its first message names the call, which is then answered with this channel.
   * ConversationRelay sends `setup` (`callSid`, or our `callSid` parameter); a client speaking 004's dialect
   * sends `{"event":"start","callSid":…}` or gives `callSid` in the URL query (`queryCallSid`). The call must
   * be of the account that signed the handshake (`accountSid`); any other is closed (1008) untouched.
   */
  attachRelay(socket: WebSocket, queryCallSid?: string, accountSid: string = this.opts.accountSid): void {
    const log = this.opts.log;
    let call: TwilioCall | undefined;
    const onSetup = (data: unknown) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        return;
      }
      if (m === null || typeof m !== 'object') return;
      const dialect = relayDialectOf(m);
      if (!(dialect === 'conversation-relay' ? m.type === 'setup' : dialect === 'phony' && m.event === 'start')) return;
      socket.off('message', onSetup);
      const params = (m.customParameters ?? {}) as Record<string, unknown>;
      const named = [m.callSid, params.callSid, queryCallSid].find((v): v is string => typeof v === 'string' && v !== '');
      const callSid = named ?? '';
      call = this.calls.get(callSid);
      // Not ours: in a cluster, another node may carry the call (cluster.ts bridges the socket there).
      if (!call && this.unknownRelay) return this.unknownRelay(socket, String(data), callSid, queryCallSid, accountSid);
      if (!call || call.ended || call.answered || call.account.accountSid !== accountSid) {
        log.warn({ callSid }, 'relay setup for an unknown call');
        socket.close(1008, 'unknown call');
        return;
      }
      const c = call;
      c.answered = true;
      c.answeredAt = Date.now();
      c.channel = new ConversationRelayChannel({
        socket,
        dialect: dialect ?? 'conversation-relay',
        lang: relayLanguage(c.req.language),
        languageTag: relayLanguage,
        wordsPerSecond: this.opts.wordsPerSecond,
        log,
        hangupCall: async () => {
          const api = await this.restApi(c.account);
          await api.update(c.callSid, { status: 'completed' });
        },
        transfer: (to, o) => this.transfer(c, to, o),
      });
      socket.on('close', () => {
        // Twilio's `completed` callback normally follows; if it never comes, the call still ends.
        // Inbound calls get status callbacks only if the number is configured with one: a short wait.
        if (!c.ended) c.fallback = setTimeout(() => this.end(c, 'completed', 'relay_closed'), c.inbound ? INBOUND_ENDED_FALLBACK_MS : ENDED_FALLBACK_MS).unref();
      });
      c.emit({ type: 'answered', answeredBy: c.answeredBy, channel: c.channel });
    };
    socket.on('message', onSetup);
  }

  // ---- transfers and user-on-call ----------------------------------------------------------------

  /**
   * Cold or warm transfer of an answered call, in text mode (its relay) or audio mode (its media streams)
   * alike (transfers.ts); resolves once the agent's part is over.
   */
  private transfer(call: TwilioCall, to: string, opts: TransferOptions): Promise<void> {
    const channel = call.channel ?? call.audio;
    if (!channel) return Promise.reject(new Error('the call is not answered'));
    const leg: TransferLeg = {
      callSid: call.callSid,
      callId: call.req.callId,
      // Our side of the call: the caller ID we dialled with, or our number that an inbound caller rang.
      callerId: call.req.from ?? this.opts.fromNumber ?? '',
      language: call.req.language,
      ...(relayOffers(call.req.voice) ? { voice: call.req.voice } : {}),
      channel,
      ...(opts.quiet ? { quiet: opts.quiet } : {}),
      isEnded: () => call.ended,
    };
    this.opts.log.info({ callId: leg.callId, callSid: leg.callSid, dest: maskPhone(to), warm: opts.warm }, 'twilio transfer');
    const host = this.legHost(call.account);
    return opts.warm ? warmTransfer(host, leg, to, opts.briefing) : coldTransfer(host, leg, to);
  }

  /**
   * User-on-call: the user and the target in one room (conference.ts). The target's leg is the engine's
   * call: `ringing`, `answered` once activated, `ended`.
   */
  async startUserOnCall(req: UserOnCallRequest, onEvent: (e: CarrierEvent) => void): Promise<UserOnCallHandle> {
    const from = req.from ?? this.opts.fromNumber;
    if (!from) throw new Error('no caller ID: set TWILIO_FROM_NUMBER or give from_number');
    // User-on-call rooms are on the deployment's account (a number's own account is for its dialled calls).
    return UserOnCallSession.start(this.legHost(this.accounts.deployment), req, from, onEvent);
  }

  /** The carrier's internals that transfers and user-on-call sessions use, on the account of the call they serve. */
  private legHost(account: TwilioAccount): TransferHost & ConferenceHost {
    const api = () => this.restApi(account);
    return {
      log: this.opts.log,
      publicUrl: this.publicUrl,
      redirect: async (callSid, twiml) => void (await (await api()).update(callSid, { twiml })),
      redirectToUrl: async (callSid, url) => void (await (await api()).update(callSid, { url, method: 'POST' })),
      endLeg: async (callSid) => void (await (await api()).update(callSid, { status: 'completed' })),
      addParticipant: async (room, p) => (await (await api()).addParticipant(room, p)).callSid,
      removeParticipant: async (room, callSid) => void (await (await api()).removeParticipant(room, callSid)),
      handedOver: (callSid) => {
        const call = this.calls.get(callSid);
        if (!call) return;
        call.channel?.handedOver();
        call.audio?.handedOver();
        this.end(call, 'completed', 'transferred');
      },
      dial: async (req, onEvent) => {
        const handle = await this.place(req, account, onEvent);
        return { callSid: handle.carrierCallSid, hangup: () => handle.hangup() };
      },
      track: (callSid, req, onEvent, onStatus, onFork) => this.track(callSid, account, req, onEvent, onStatus, onFork),
      startFork: async (callSid, callId, name) => {
        const created = await (
          await api()
        ).createStream(callSid, {
          url: this.mediaUrl,
          name,
          track: 'both_tracks',
          'parameter1.name': 'callId',
          'parameter1.value': callId,
          'parameter2.name': 'token',
          'parameter2.value': mediaStreamToken(this.streamSecret, callId),
        });
        return created.sid;
      },
      ...(this.opts.agentNumber ? { agentLoop: (room: string, req: DialRequest, onEvent: (e: CarrierEvent) => void) => this.agentLoop(room, req, onEvent) } : {}),
      stopFork: async (callSid, sidOrName) => void (await (await api()).updateStream(callSid, sidOrName, { status: 'stopped' })),
    };
  }

  /**
   * The agent's leg into a three-way room: a call from `agentNumber` to itself (`POST /Calls.json`). Our end
   * runs `/start_call` (the agent, over ConversationRelay, exactly like a dialled call); the far end rings
   * `/receive_call` and is answered with the room (`<Dial><Conference>`), so the agent hears the room and is
   * heard in it (protocols.md §1: the AI joins through an endpoint whose TwiML connects it). Nothing in the
   * far end's request names the room, so loops are set up one at a time: the one expected is the only one.
   * Resolves once the far end joined; rejects (the leg hung up) when it did not within LOOP_JOIN_MS.
   */
  private async agentLoop(room: string, req: DialRequest, onEvent: (e: CarrierEvent) => void): Promise<CarrierCallHandle> {
    const number = this.opts.agentNumber!;
    const before = this.loopTurn;
    let done!: () => void;
    this.loopTurn = new Promise<void>((r) => (done = r));
    await before;
    let timer: NodeJS.Timeout | undefined;
    try {
      const joined = new Promise<void>((resolve, reject) => {
        this.pendingLoop = { number, room, joined: resolve };
        timer = setTimeout(() => reject(new Error('the agent leg did not reach the room')), LOOP_JOIN_MS).unref();
      });
      // Awaited below; a REST call slower than the timeout must not leave the rejection unhandled meanwhile.
      joined.catch(() => {});
      const deployment = this.accounts.deployment;
      const api = await this.restApi(deployment);
      const created = await api.create({
        to: number,
        from: number,
        url: `${this.publicUrl}/start_call`,
        method: 'POST',
        statusCallback: `${this.publicUrl}/twilio/status`,
        statusCallbackMethod: 'POST',
        statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
        timeout: Math.round(LOOP_JOIN_MS / 1000),
      });
      const handle = this.track(created.sid, deployment, req, onEvent, () => {});
      this.opts.log.info({ callId: req.callId, room, callSid: created.sid }, 'twilio agent leg placed');
      await joined.catch(async (err: Error) => {
        await handle.hangup().catch(() => {});
        throw err;
      });
      return handle;
    } finally {
      clearTimeout(timer);
      this.pendingLoop = undefined;
      done();
    }
  }

  /** Follows a leg placed outside `dial` (a conference participant): callbacks and relay as for any of our calls. */
  private track(
    callSid: string,
    account: TwilioAccount,
    req: DialRequest,
    onEvent: (e: CarrierEvent) => void,
    onStatus: (status: string) => void,
    onFork?: (stream: TwilioMediaStream) => boolean,
  ): CarrierCallHandle {
    const call: TwilioCall = {
      callSid,
      req,
      account,
      ringing: false,
      answered: false,
      ended: false,
      answeredBy: 'human',
      onStatus,
      onFork,
      emit: (e) => {
        try {
          onEvent(e);
        } catch (err) {
          this.opts.log.error({ err, callId: req.callId }, 'twilio carrier listener failed');
        }
      },
    };
    this.calls.set(callSid, call);
    return {
      hangup: async () => {
        if (call.ended) return;
        if (call.channel) return call.channel.hangup();
        await (await this.restApi(account)).update(callSid, { status: 'completed' });
      },
    };
  }

  /** The media stream socket's public URL (`wss://` behind `https://`). */
  get mediaUrl(): string {
    return this.publicUrl.replace(/^http/, 'ws') + '/media/ws';
  }

  /**
   * The key media-stream tokens are signed with: derived from the auth token rather than a new setting,
   * since the auth token is already the one secret this deployment shares with nobody but Twilio; derived
   * (HMAC with a fixed label) so that our tokens and Twilio's request signatures never use one key for two
   * purposes. Rotating the auth token invalidates the tokens of streams not yet started, as it should.
   */
  private get streamSecret(): string {
    return createHmac('sha256', this.opts.authToken).update('switchboard:twilio-media-stream-token:v1').digest('base64url');
  }

  /**
   * `<Connect><Stream>` to the media socket for a call in audio mode. The call is named by `<Parameter>`s,
   * as Twilio strips query strings from stream URLs (protocols.md §3): Switchboard's call id and a token
   * signed over it, which the socket checks on `start`.
   */
  private streamTarget(call: TwilioCall): StreamTarget {
    return { url: this.mediaUrl, callId: call.req.callId, token: mediaStreamToken(this.streamSecret, call.req.callId) };
  }

  /**
   * A verified media stream socket (handshake signed). Its `start` must carry a valid token for the call
   * whose CallSid it names. For a call in audio mode, the first such stream answers the call with an audio
   * channel, later ones (after `<Play digits>`) re-attach to that channel. For the target's leg of a
   * user-on-call session, it is the listening fork if the session is listening and takes it (conference.ts).
   * The call must be of the account whose token signed the handshake (`accountSid`). Anything else is
   * closed (1008) and touches no call.
   */
  attachMedia(socket: WebSocket, accountSid: string = this.opts.accountSid): void {
    const log = this.opts.log;
    const stream = new TwilioMediaStream({ socket, secret: this.streamSecret, log });
    stream.on('start', (start) => {
      const call = this.calls.get(start.callSid);
      // Not ours: in a cluster, another node may carry the call (cluster.ts bridges the socket there).
      if (!call && this.unknownMedia) return this.unknownMedia(socket, stream.release(), start.callSid, accountSid);
      const known = !!call && !call.ended && call.req.callId === start.callId && call.account.accountSid === accountSid;
      if (known && call.req.voiceMode !== 'audio' && call.onFork?.(stream)) return;
      if (!known || call.req.voiceMode !== 'audio') {
        log.warn({ callSid: start.callSid }, 'media stream for an unknown call');
        stream.close(1008, 'unknown call');
        return;
      }
      if (call.audio) return call.audio.attach(stream);
      call.answered = true;
      call.answeredAt = Date.now();
      call.audio = this.audioChannel(call);
      call.audio.attach(stream);
      call.emit({ type: 'answered', answeredBy: call.answeredBy, mode: 'audio', audio: call.audio });
    });
  }

  private audioChannel(c: TwilioCall): MediaStreamAudioChannel {
    const update = async (p: Record<string, unknown>) => {
      const api = await this.restApi(c.account);
      await api.update(c.callSid, p);
    };
    return new MediaStreamAudioChannel({
      log: this.opts.log,
      reattachMs: this.opts.streamReattachMs,
      digitsTwiml: (digits) => digitsThenStreamTwiml(digits, this.streamTarget(c)),
      updateTwiml: (twiml) => update({ twiml }),
      hangupCall: () => update({ status: 'completed' }),
      transfer: (to, o) => this.transfer(c, to, o),
      onLost: () => {
        // Twilio's `completed` callback normally follows; if it never comes, the call still ends.
        if (c.ended) return;
        const wait = c.inbound ? INBOUND_ENDED_FALLBACK_MS : (this.opts.streamEndedFallbackMs ?? ENDED_FALLBACK_MS);
        c.fallback = setTimeout(() => this.end(c, 'completed', 'media_closed'), wait).unref();
      },
    });
  }

  private end(call: TwilioCall, status: CarrierEndStatus, reason?: string, error?: string): void {
    if (call.ended) return;
    call.ended = true;
    clearTimeout(call.fallback);
    call.channel?.farEndGone();
    call.audio?.farEndGone();
    this.calls.delete(call.callSid);
    this.opts.log.info({ callId: call.req.callId, callSid: call.callSid, status }, 'twilio call ended');
    call.emit({ type: 'ended', status, ...(reason ? { reason } : {}), ...(error ? { error } : {}), ...(call.answeredAt ? { usage: twilioUsage(call) } : {}) });
  }

  /** The REST client of an account (one per account, made on first use: accounts.ts). */
  private restApi(account: TwilioAccount): Promise<CallsApi> {
    return this.accounts.api(account);
  }

  /**
   * The Calls resource of the official client, for one account. Its RequestClient is subclassed to send
   * requests to `apiBaseUrl` instead of https://api.twilio.com when one is set (the fake in tests).
   */
  private async makeApi(account: TwilioAccount): Promise<CallsApi> {
    const { default: twilio } = await import('twilio');
    const base = this.opts.apiBaseUrl?.replace(/\/+$/, '');
    class RewritingClient extends twilio.RequestClient {
      override request<TData>(o: Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0] & { data?: TData }) {
        return super.request<TData>(base ? { ...o, uri: o.uri.replace(/^https:\/\/api\.twilio\.com/, base) } : o);
      }
    }
    const { accountSid, authToken, apiKey } = account;
    const client = apiKey
      ? twilio(apiKey.sid, apiKey.secret, { accountSid, httpClient: new RewritingClient() })
      : twilio(accountSid, authToken, { httpClient: new RewritingClient() });
    return {
      create: (p) => client.calls.create(p as any),
      update: (sid, p) => client.calls(sid).update(p as any),
      validate: (p) => client.validationRequests.create(p as any),
      addParticipant: (room, p) => client.conferences(room).participants.create(p as any),
      removeParticipant: (room, callSid) => client.conferences(room).participants(callSid).remove(),
      createStream: (callSid, p) => client.calls(callSid).streams.create(p as any),
      updateStream: (callSid, sidOrName, p) => client.calls(callSid).streams(sidOrName).update(p as any),
    };
  }
}

/** ConversationRelay wants a full language tag (`en-US`); ours may be just `en`. */
export function relayLanguage(lang: string): string {
  if (lang.includes('-')) return lang;
  const map: Record<string, string> = { en: 'en-US', sv: 'sv-SE', es: 'es-ES', de: 'de-DE', fr: 'fr-FR', it: 'it-IT', pt: 'pt-BR', nl: 'nl-NL', da: 'da-DK', nb: 'nb-NO', fi: 'fi-FI', ja: 'ja-JP' };
  return own(map, lang) ?? `${lang}-${lang.toUpperCase()}`;
}

/** Twilio's `AnsweredBy` → ours: `machine_*` and `fax` are machines; `unknown` stays unknown; anything else a person. */
export function answeredByOf(v: string): AnsweredBy {
  if (v.startsWith('machine') || v === 'fax') return 'machine';
  return v === 'unknown' ? 'unknown' : 'human';
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

