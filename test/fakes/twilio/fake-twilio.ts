/**
 * A fake Twilio Programmable Voice, written from ../shared/protocols.md §1, §2, §3 and §5 (not from the
 * adapter): the Calls REST resource, and for each created call a scripted callee that plays the call the
 * way Twilio does — signed status callbacks (only the events asked for, `completed` always), the signed
 * TwiML request to `Url`, and for `<Connect><ConversationRelay>` a signed WebSocket client that sends
 * `setup` and then `prompt`s reacting to the agent's text turns. Outcomes are scripted per `To` number.
 *
 * Transfers and conferences (§1 Update call / Conferences, §3 `<Dial>`): a call can be created with `Twiml`
 * instead of `Url`; an update with `Url` or `Twiml` replaces the running TwiML (a live relay socket is
 * closed, the call goes on with the new document). `<Dial>` with a number or `<Number>` places a child leg
 * (`outbound-dial`, `parent_call_sid`) scripted like any callee and bridges it; `<Dial><Conference>` puts
 * the call into a room. The Participants resource dials legs straight into a room (create, update, kick).
 * Rooms keep their members and their join/leave order. Every request the fake receives is in `requests`.
 * For `<Connect><Stream>` (§3, §4) it opens a signed Media Streams client that plays the callee's μ-law
 * audio, and handles `<Play digits>` + a new `<Connect><Stream>` sent as a call update (§1 Sending DTMF (b));
 * an update with other TwiML (a transfer's `<Dial>`) stops the stream (`stop`, then the socket closes) and
 * the call runs the new document.
 * The Streams subresource of a call (`POST /Calls/{CallSid}/Streams.json`, the REST form of `<Start><Stream>`,
 * §3) starts a unidirectional fork: a signed Media Streams client to `Url` with the `ParameterN.Name/Value`
 * pairs as customParameters and the asked tracks, playing the call's own party on `inbound` and what that
 * party hears on `outbound` (the other members of its room); `POST …/Streams/{sid or Name}.json
 * Status=stopped` sends `stop` and closes it, as does the end of the call. A redirect does not stop a fork.
 * A call created with `Record=true` has a recording when it ends (§1 "Recordings"): the signed
 * `RecordingStatusCallback` and its media at `GET /Recordings/{RE…}.wav` (Basic auth, like every request).
 * A call created to one of the account's own `numbers` rings that number's Voice URL as an inbound call
 * (`Direction=inbound`, the caller's `From`) and is answered when that end is; the two ends are one call
 * path: what the inbound end hears (e.g. a room it joined) is the outbound end's callee, and either end
 * hanging up ends the other.
 * Several accounts (`addAccount`): each has its own auth token and its own resources under
 * `/2010-04-01/Accounts/{AccountSid}/…` (Basic auth with that SID and token; another account's call is 404),
 * and every callback of a call is signed with the token of the account it was created on.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { FakeMediaStreamClient } from './media-stream-client.js';
import { unawaited } from '../../helpers/unawaited.js';

export type FakeOutcome = 'answer' | 'busy' | 'no-answer' | 'failed';

/** The callee: its outcome and, when answered, how it talks (a function of the agent's turns). */
export interface FakeCallee {
  outcome: FakeOutcome;
  /** Said when the relay is set up (the one who answers speaks first). */
  greeting?: string;
  /** The callee's reply to the agent's n-th finished turn (0-based); null: the callee hangs up. */
  reply?: (turn: string, n: number) => string | null;
  /** What the callee (a phone menu) says when keypad digits arrive; null: nothing. */
  onDigits?: (digits: string) => string | null;
  /** How many steps the phone rings (default 2). */
  ringSteps?: number;
  /** Rings on (after `ringSteps`) until this holds: e.g. until another party is in the room it joins. */
  answerWhen?: () => boolean;
  /**
   * What Twilio's answering-machine detection decides when the call asks for it (`MachineDetection`):
   * `human` (default), `machine_start`, `machine_end_beep`, `fax`, `unknown` … (protocols.md §1, AMD).
   * Sync AMD: sent as `AnsweredBy` on the `Url` TwiML request and on the `completed` status callback.
   */
  answeredBy?: string;
  /**
   * Whether the fake opens the relay socket itself (default true). False: the TwiML is fetched and the call
   * stays up, for a test client of its own to connect (e.g. one speaking 004's dialect).
   */
  opensRelay?: boolean;
  /** Media Streams: the callee's μ-law 8 kHz audio, spoken when the first stream starts and after digits. */
  audio?: { greeting?: Buffer; onDigits?: (digits: string) => Buffer | null };
  /** Media Streams: outbound audio waits for `playOut()` on the stream client (so `clear` has something to drop). */
  holdMarks?: boolean;
}

export interface FakeCall {
  sid: string;
  /** The account the call was created on (its callbacks are signed with that account's token). */
  accountSid: string;
  to: string;
  from: string;
  /** The create request's form, as received. */
  request: Record<string, string | string[]>;
  /** CallStatus values POSTed to StatusCallback, in order, with the HTTP status Switchboard answered. */
  callbacks: Array<{ status: string; code: number }>;
  twiml?: string;
  /** Relay messages the agent sent. */
  relayIn: Array<Record<string, unknown>>;
  /** The agent's finished turns (tokens joined up to `last: true`). */
  agentTurns: string[];
  /** Prompts the callee said. */
  calleeSaid: string[];
  digits: string[];
  /** `<Connect action>` requests made when the relay session ended: the form sent and the TwiML answered. */
  actions: Array<{ params: Record<string, string>; code: number; twiml: string }>;
  /** Update requests (`POST /Calls/{sid}.json`) received, as forms. */
  updates: Array<Record<string, string | string[]>>;
  status: string;
  /** `outbound-api` (created over REST), `inbound` (placed with `placeInbound`) or `outbound-dial` (a `<Dial>` child leg). */
  direction: 'outbound-api' | 'inbound' | 'outbound-dial';
  /** The call whose `<Dial>` placed this leg. */
  parentCallSid?: string;
  /** The participant label, for a leg placed through the Participants resource. */
  label?: string;
  /** Every TwiML document the call ran, in order (the `Url` response, `Twiml` on create or update). */
  twimls: string[];
  /** A call to one of the account's own numbers: the other end of the path (outbound ↔ inbound). */
  loopPeer?: string;
  /** The leg this call is bridged with by a `<Dial>` (parent ↔ child). */
  bridgedWith?: string;
  /** Media Streams opened for this call, in order (one per `<Connect><Stream>` run). */
  streams?: FakeMediaStreamClient[];
  /** Unidirectional forks created with the Streams subresource, in order. */
  forks?: FakeFork[];
  /** A call created with `Record=true`: its recording, once the call has ended (§1 "Recordings"). */
  recording?: FakeRecording;
  done: Promise<void>;
}

/** A call's recording: its media (a WAV of `duration` seconds) and the recording status callback sent. */
export interface FakeRecording {
  sid: string;
  callSid: string;
  /** Whole seconds, as `RecordingDuration`. */
  duration: number;
  /** The media as served (`.wav` / no extension). */
  wav: Buffer;
  /** The `completed` recording status callback, with the HTTP status Switchboard answered. */
  callback?: { params: Record<string, string>; code: number };
  /** Media requests received. */
  fetches: number;
}

/** One stream created with `POST /Calls/{CallSid}/Streams.json`. */
export interface FakeFork {
  sid: string;
  name?: string;
  /** `inbound_track`, `outbound_track` or `both_tracks` (default `inbound_track`). */
  track: string;
  url: string;
  /** The `ParameterN.Name`/`ParameterN.Value` pairs, as customParameters. */
  parameters: Record<string, string>;
  /** The create request's form, as received. */
  request: Record<string, string | string[]>;
  /** Update requests (`POST …/Streams/{sid or Name}.json`) received, as forms. */
  updates: Array<Record<string, string | string[]>>;
  status: 'in-progress' | 'stopped';
  /** How it stopped: `Status=stopped` over REST, the call ended, the server closed the socket or refused the handshake. */
  stoppedBy?: 'api' | 'call-ended' | 'closed' | 'refused';
  /** The Media Streams client, once connected. */
  client?: FakeMediaStreamClient;
  /** Resolves once the client has connected (or the handshake was refused). */
  opened: Promise<void>;
}

/** A conference room, by friendly name (`<Dial><Conference>` or the Participants resource). */
export interface FakeRoom {
  sid: string;
  name: string;
  /** Conference status: `init` until a member who starts it joins, `completed` once it ended. */
  status: 'init' | 'in-progress' | 'completed';
  /** Members now in the room, by CallSid. */
  members: Map<string, { label?: string; startConferenceOnEnter: boolean; endConferenceOnExit: boolean; muted: boolean }>;
  /** Joins and leaves, in order. */
  log: Array<{ event: 'join' | 'leave'; callSid: string }>;
}

/** How a leg that runs no TwiML of its own behaves once answered (a `<Dial>` child, a conference participant). */
interface LegOptions {
  direction: FakeCall['direction'];
  parentCallSid?: string;
  label?: string;
  onAnswer(call: FakeCall): void;
}

const SID_HEX = () => randomBytes(16).toString('hex');

/** The receptionist of a restaurant: greets, asks the name, confirms the booking, says goodbye. */
export const RECEPTIONIST: FakeCallee = {
  outcome: 'answer',
  greeting: 'Good evening, Bella Cucina, Anna speaking. How can I help you?',
  reply: (_turn, n) =>
    [
      'Of course. What name is the booking under?',
      "Thank you. Let me see... yes, I have it here, a table for two on Tuesday at 7 pm. That's all confirmed. Anything else I can help with?",
      'Thank you for calling Bella Cucina. Goodbye!',
    ][n] ?? null,
};

export function sign(authToken: string, url: string, params: Record<string, string> = {}): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** One `POST /OutgoingCallerIds.json` (caller-ID validation request) and what came of it. */
export interface FakeValidation {
  request: Record<string, string | string[]>;
  validationCode: string;
  callSid: string;
  /** The verification status posted to `StatusCallback`, with the HTTP status Switchboard answered. */
  callback?: { status: 'success' | 'failed'; code: number };
  done: Promise<void>;
}

export class FakeTwilio {
  readonly calls = new Map<string, FakeCall>();
  /** The account's own numbers and their Voice URL (e.g. `…/receive_call`): a call created to one rings it. */
  readonly numbers = new Map<string, string>();
  /** Conference rooms, by friendly name. */
  readonly rooms = new Map<string, FakeRoom>();
  /** Every REST request received, in order (method, path, form). */
  readonly requests: Array<{ method: string; path: string; form: Record<string, string | string[]> }> = [];
  /** Caller-ID validation requests received, in order. */
  readonly validations: FakeValidation[] = [];
  /** API keys (SK… → secret) accepted besides the account's own credentials. */
  readonly apiKeys = new Map<string, string>();
  /** The Basic-auth user of every authenticated REST request, in order. */
  readonly authUsers: string[] = [];
  /** Numbers whose owner keys in the validation code; every other number's verification fails. */
  readonly typesCode = new Set<string>();
  /** Numbers whose calls cannot be redirected (`Url` updates answer 500, as when Twilio has an outage). */
  readonly refuseRedirectsTo = new Set<string>();
  private server = http.createServer((req, res) => unawaited(this.handle(req, res)));
  private sockets = new Set<WebSocket>();
  url = '';
  /** Milliseconds between the steps of a call (ringing, answer, replies). */
  stepMs = 20;
  /**
   * Line silence (μ-law 0xFF) a fork streams on each track after what was said, as a live leg goes on
   * sending frames (speech-to-text endpointing needs it); 0 ends the audio with the speech.
   */
  forkSilenceMs = 0;
  /** Recordings by RecordingSid. */
  readonly recordings = new Map<string, FakeRecording>();
  /** How many media requests are answered 404 (still processing) before the media is served. */
  recordingMediaNotReady = 0;

  /** Auth tokens by Account SID: the main account's, and those added with `addAccount`. */
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
    readonly callees: Record<string, FakeCallee>,
  ) {
    this.tokens.set(accountSid, authToken);
  }

  /** Another account on this fake Twilio (e.g. a customer's own), with its own auth token. */
  addAccount(accountSid: string, authToken: string): void {
    this.tokens.set(accountSid, authToken);
  }

  /** The auth token of an account (the one its callbacks are signed with). */
  tokenOf(accountSid: string): string {
    return this.tokens.get(accountSid)!;
  }

  /** POSTs a callback of `call`, signed as Twilio does: with the token of the call's account. */
  private postFor(call: FakeCall, url: string, params: Record<string, string>): Promise<{ code: number; body: string }> {
    return this.post(url, params, sign(this.tokenOf(call.accountSid), url, params));
  }

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /** POSTs a form to `url`, signed with `token` (or a given signature, or none). */
  async post(url: string, params: Record<string, string>, signature: string | null = sign(this.authToken, url, params)): Promise<{ code: number; body: string }> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'TwilioProxy/1.1' };
    if (signature !== null) headers['x-twilio-signature'] = signature;
    const r = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
    return { code: r.status, body: await r.text() };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString())) {
      const p = form[k];
      form[k] = p === undefined ? v : Array.isArray(p) ? [...p, v] : [p, v];
    }
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    // HTTP Basic with the Account SID and auth token of the account in the path, or with an API key (SK…, the
    // main account's) and its secret (protocols.md §1).
    const path = (req.url ?? '').split('?')[0];
    const account = /^\/2010-04-01\/Accounts\/([^/]+)\//.exec(path)?.[1] ?? this.accountSid;
    const [user, secret] = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
    const known = user === account ? this.tokens.has(account) && secret === this.tokens.get(account) : account === this.accountSid && this.apiKeys.get(user) === secret;
    if (!user || !known) return json(401, { code: 20003, message: 'Authenticate', status: 401 });
    this.authUsers.push(user);
    const base = `/2010-04-01/Accounts/${account}`;
    this.requests.push({ method: req.method ?? '', path, form });
    if (path.startsWith(`${base}/Conferences/`)) return this.conferences(req.method ?? '', path.slice(base.length), form, json, account);
    const sm = new RegExp(`^${base}/Calls/(CA[0-9a-f]{32})/Streams(?:/([^/]+))?\\.json$`).exec(path);
    // Another account's call is not found under this one.
    const ofAccount = (callSid: string) => this.calls.get(callSid)?.accountSid === account;
    if (sm && req.method === 'POST' && ofAccount(sm[1])) return this.streamsResource(sm[1], sm[2] === undefined ? undefined : decodeURIComponent(sm[2]), form, json);
    if (req.method === 'POST' && path === `${base}/Calls.json`) {
      const to = str(form.To);
      const from = str(form.From);
      if (!to || !from || !(str(form.Url) || str(form.Twiml))) return json(400, { code: 21205, message: 'To, From and Url or Twiml are required', status: 400 });
      const call = this.create(form, to, from, undefined, undefined, account);
      return json(201, this.resource(call));
    }
    if (req.method === 'POST' && path === `${base}/OutgoingCallerIds.json`) {
      const phone = str(form.PhoneNumber);
      if (!phone || !/^\+[1-9]\d{1,14}$/.test(phone)) return json(400, { code: 21450, message: 'Phone number is invalid', status: 400 });
      return json(201, this.validate(form, phone));
    }
    // Recording media (§1 "Recordings"): `.wav` (or no extension) is WAV, `.mp3` is MP3; auth as for any request.
    const rm = new RegExp(`^${base}/Recordings/(RE[0-9a-f]{32})(\\.wav|\\.mp3)?$`).exec(path);
    if (rm && req.method === 'GET') {
      const found = this.recordings.get(rm[1]);
      const rec = found && ofAccount(found.callSid) ? found : undefined;
      if (rec) rec.fetches++;
      if (!rec || this.recordingMediaNotReady-- > 0) return json(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
      if (rm[2] === '.mp3') return json(415, { code: 0, message: 'the fake serves WAV only', status: 415 });
      res.writeHead(200, { 'content-type': 'audio/x-wav', 'content-length': String(rec.wav.length) });
      res.end(rec.wav);
      return;
    }
    const m = new RegExp(`^${base}/Calls/(CA[0-9a-f]{32})\\.json$`).exec(path);
    if (req.method === 'POST' && m) {
      const call = ofAccount(m[1]) ? this.calls.get(m[1]) : undefined;
      if (!call) return json(404, { code: 20404, message: 'not found', status: 404 });
      call.updates.push(form);
      const status = str(form.Status);
      if (status === 'completed' || status === 'canceled') {
        if (status === 'canceled' && !['queued', 'ringing'].includes(call.status)) {
          return json(400, { code: 21220, message: 'Call is not in a cancelable state', status: 400 });
        }
        this.finishers.get(call.sid)?.(status === 'canceled' ? 'canceled' : 'completed');
      } else if (str(form.Url) || str(form.Twiml)) {
        if (this.refuseRedirectsTo.has(call.to)) return json(500, { code: 20500, message: 'Internal Server Error', status: 500 });
        if (call.status !== 'in-progress') return json(400, { code: 21220, message: 'Call is not in-progress. Cannot redirect.', status: 400 });
        // A call on a media stream restarts its stream (`<Play digits>` + `<Connect><Stream>`); any other call
        // leaves what it was in. Twilio answers first, then replaces the running TwiML.
        const streamUpdate = str(form.Twiml) ? this.twimlUpdates.get(call.sid) : undefined;
        const redirect = this.redirectors.get(call.sid);
        setTimeout(() => unawaited(streamUpdate ? streamUpdate(str(form.Twiml)!) : redirect?.(form)), 0);
      }
      return json(200, this.resource(call));
    }
    json(404, { code: 20404, message: 'not found', status: 404 });
  }

  /** Twilio calls the number, says the code is needed; after a moment the callback says whether it was typed. */
  private validate(form: Record<string, string | string[]>, phone: string) {
    let resolveDone!: () => void;
    const v: FakeValidation = {
      request: form,
      validationCode: String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0'),
      callSid: 'CA' + SID_HEX(),
      done: new Promise<void>((r) => (resolveDone = r)),
    };
    this.validations.push(v);
    const url = str(form.StatusCallback);
    const status = this.typesCode.has(phone) ? 'success' : 'failed';
    const callBack = async () => {
      if (url) {
        const params = { AccountSid: this.accountSid, CallSid: v.callSid, OutgoingCallerIdSid: 'PN' + SID_HEX(), PhoneNumber: phone, VerificationStatus: status };
        const r = await this.post(url, params).catch(() => ({ code: 0 }));
        v.callback = { status, code: r.code };
      }
      resolveDone();
    };
    setTimeout(() => unawaited(callBack()), this.stepMs * 3);
    return { account_sid: this.accountSid, call_sid: v.callSid, friendly_name: str(form.FriendlyName) ?? phone, phone_number: phone, validation_code: v.validationCode };
  }

  private finishers = new Map<string, (status: string) => void>();
  private redirectors = new Map<string, (form: Record<string, string | string[]>) => Promise<void>>();
  /** What each call does when it leaves its room or bridge (by redirect or hang-up). */
  private detachers = new Map<string, () => void>();

  /** The person on this leg hangs up (a test acting as the callee, the destination or the user). */
  hangup(callSid: string): void {
    this.finishers.get(callSid)?.('completed');
  }

  /** The person on this leg says `text` unprompted, over its live relay socket (false: no relay). */
  say(callSid: string, text: string): boolean {
    const speak = this.speakers.get(callSid);
    if (!speak) return false;
    unawaited(speak(text));
    return true;
  }

  private speakers = new Map<string, (text: string) => Promise<void>>();

  /** The members of the room `name`, in join order (CallSids). */
  roomMembers(name: string): string[] {
    return [...(this.rooms.get(name)?.members.keys() ?? [])];
  }

  /**
   * `/Conferences/{sid or FriendlyName}/Participants.json` (create) and `/Participants/{CallSid}.json`
   * (update, DELETE = kick), as protocols.md §1 describes them.
   */
  private conferences(method: string, path: string, form: Record<string, string | string[]>, json: (code: number, body: unknown) => void, account: string): void {
    const m = /^\/Conferences\/([^/]+)\/Participants(?:\/(CA[0-9a-f]{32}))?\.json$/.exec(path);
    if (!m) return json(404, { code: 20404, message: 'not found', status: 404 });
    const key = decodeURIComponent(m[1]);
    const callSid = m[2];
    if (!callSid && method === 'POST') {
      const to = str(form.To);
      const from = str(form.From);
      if (!to || !from) return json(400, { code: 21205, message: 'To and From are required', status: 400 });
      const room = this.room(key);
      const member = {
        label: str(form.Label),
        startConferenceOnEnter: str(form.StartConferenceOnEnter) !== 'false',
        endConferenceOnExit: str(form.EndConferenceOnExit) === 'true',
        muted: str(form.Muted) === 'true',
      };
      const call = this.create(form, to, from, undefined, { direction: 'outbound-api', label: member.label, onAnswer: (c) => this.join(room, c, member) }, account);
      return json(201, this.participant(room, call.sid, member, 'queued'));
    }
    const room = [...this.rooms.values()].find((r) => r.name === key || r.sid === key);
    const member = callSid ? room?.members.get(callSid) : undefined;
    if (!room || !callSid || !member) return json(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    if (method === 'DELETE') {
      this.hangup(callSid);
      json(204, undefined);
      return;
    }
    if (method !== 'POST') return json(405, { code: 20004, message: 'Method not allowed', status: 405 });
    if (str(form.EndConferenceOnExit)) member.endConferenceOnExit = str(form.EndConferenceOnExit) === 'true';
    if (str(form.Muted)) member.muted = str(form.Muted) === 'true';
    json(200, this.participant(room, callSid, member, 'connected'));
  }

  private participant(room: FakeRoom, callSid: string, m: { label?: string; startConferenceOnEnter: boolean; endConferenceOnExit: boolean; muted: boolean }, status: string) {
    return {
      account_sid: this.accountSid,
      call_sid: callSid,
      conference_sid: room.sid,
      label: m.label ?? null,
      status,
      muted: m.muted,
      hold: false,
      coaching: false,
      start_conference_on_enter: m.startConferenceOnEnter,
      end_conference_on_exit: m.endConferenceOnExit,
      uri: `/2010-04-01/Accounts/${this.accountSid}/Conferences/${room.sid}/Participants/${callSid}.json`,
    };
  }

  private room(name: string): FakeRoom {
    let room = this.rooms.get(name);
    // A room that ended is gone: the same name makes a new conference.
    if (!room || room.status === 'completed') {
      room = { sid: 'CF' + SID_HEX(), name, status: 'init', members: new Map(), log: [] };
      this.rooms.set(name, room);
    }
    return room;
  }

  /** `call` enters `room`; when it leaves (redirect, hang-up, kick), a member who ends the conference ends it for all. */
  private join(room: FakeRoom, call: FakeCall, member: { label?: string; startConferenceOnEnter: boolean; endConferenceOnExit: boolean; muted: boolean }): void {
    room.members.set(call.sid, member);
    room.log.push({ event: 'join', callSid: call.sid });
    if (member.startConferenceOnEnter && room.status === 'init') room.status = 'in-progress';
    this.detachers.set(call.sid, () => {
      if (!room.members.delete(call.sid)) return;
      room.log.push({ event: 'leave', callSid: call.sid });
      if (room.status === 'completed') return;
      if (member.endConferenceOnExit || room.members.size === 0) {
        room.status = 'completed';
        // The others' `<Dial>` is over; nothing follows it, so their calls end.
        for (const other of [...room.members.keys()]) this.hangup(other);
      }
    });
  }

  /**
   * The Streams subresource of a call: create (`Url`, `Name`, `Track`, `ParameterN.Name`/`.Value`) on a call
   * in progress, answered 201 with the resource, then a fork connects; update `Status=stopped` by sid or
   * Name. 404 for an unknown call or stream.
   */
  private streamsResource(callSid: string, key: string | undefined, form: Record<string, string | string[]>, json: (code: number, body: unknown) => void): void {
    const call = this.calls.get(callSid);
    if (!call) return json(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    const resource = (f: FakeFork) => ({
      sid: f.sid,
      account_sid: call.accountSid,
      call_sid: call.sid,
      name: f.name ?? null,
      status: f.status,
      date_updated: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}/Streams/${f.sid}.json`,
    });
    if (key !== undefined) {
      const fork = (call.forks ?? []).find((f) => f.sid === key || (f.name !== undefined && f.name === key));
      if (!fork) return json(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
      fork.updates.push(form);
      if (str(form.Status) !== 'stopped') return json(400, { code: 21218, message: 'Status must be stopped', status: 400 });
      this.stopFork(fork, 'api');
      return json(200, resource(fork));
    }
    const url = str(form.Url);
    const track = str(form.Track) ?? 'inbound_track';
    if (!url || !/^wss?:\/\//.test(url)) return json(400, { code: 21205, message: 'Url must be a WebSocket URL', status: 400 });
    if (!['inbound_track', 'outbound_track', 'both_tracks'].includes(track)) return json(400, { code: 21218, message: 'Invalid Track', status: 400 });
    if (call.status !== 'in-progress') return json(400, { code: 21220, message: 'Call is not in-progress', status: 400 });
    const parameters: Record<string, string> = {};
    for (const k of Object.keys(form)) {
      const n = /^Parameter(\d+)\.Name$/.exec(k)?.[1];
      const name = str(form[k]);
      if (n && name) parameters[name] = str(form[`Parameter${n}.Value`]) ?? '';
    }
    let opened!: () => void;
    const fork: FakeFork = {
      sid: 'MZ' + SID_HEX(),
      ...(str(form.Name) ? { name: str(form.Name) } : {}),
      track,
      url,
      parameters,
      request: form,
      updates: [],
      status: 'in-progress',
      opened: new Promise<void>((r) => (opened = r)),
    };
    (call.forks ??= []).push(fork);
    json(201, resource(fork));
    unawaited(this.openFork(call, fork).finally(opened));
  }

  /** A fork connects like Twilio's client does, then plays the leg's party (`inbound`) and its room (`outbound`). */
  private async openFork(call: FakeCall, fork: FakeFork): Promise<void> {
    const tracks: Array<'inbound' | 'outbound'> = fork.track === 'both_tracks' ? ['inbound', 'outbound'] : fork.track === 'outbound_track' ? ['outbound'] : ['inbound'];
    const client = await FakeMediaStreamClient.connect({
      url: fork.url,
      customParameters: fork.parameters,
      callSid: call.sid,
      accountSid: call.accountSid,
      signature: sign(this.tokenOf(call.accountSid), fork.url),
      tracks,
      streamSid: fork.sid,
    }).catch(() => null);
    if (!client) {
      fork.status = 'stopped';
      fork.stoppedBy = 'refused';
      return;
    }
    this.sockets.add(client.socket);
    fork.client = client;
    if (fork.status !== 'in-progress') return client.close();
    unawaited(client.closed.then(() => {
      if (fork.status === 'in-progress') {
        fork.status = 'stopped';
        fork.stoppedBy = 'closed';
      }
    }));
    client.start();
    await new Promise((r) => setTimeout(r, this.stepMs));
    if (!client.isOpen || fork.status !== 'in-progress') return;
    // The leg's own party on `inbound`; on `outbound`, what it hears: the others in its room, one after another.
    const room = [...this.rooms.values()].find((r) => r.status !== 'completed' && r.members.has(call.sid));
    const others = room ? [...room.members.keys()].filter((sid) => sid !== call.sid) : call.bridgedWith ? [call.bridgedWith] : [];
    const audio = {
      inbound: this.callees[call.to]?.audio?.greeting ?? Buffer.alloc(0),
      outbound: Buffer.concat(others.map((sid) => this.callees[this.calls.get(sid)?.to ?? '']?.audio?.greeting ?? Buffer.alloc(0))),
    };
    const silence = Buffer.alloc(this.forkSilenceMs * 8, 0xff);
    for (const t of tracks) if (audio[t].length) audio[t] = Buffer.concat([audio[t], silence]);
    // Both tracks flow at once: their 20 ms frames interleave.
    const frames = Math.max(...tracks.map((t) => Math.ceil(audio[t].length / 160)));
    for (let i = 0; i < frames; i++) {
      for (const t of tracks) {
        const payload = audio[t].subarray(i * 160, (i + 1) * 160);
        if (payload.length) client.frame(payload, t);
      }
    }
  }

  /** The fork ends: `stop`, then Twilio closes the socket. */
  private stopFork(fork: FakeFork, by: NonNullable<FakeFork['stoppedBy']>): void {
    if (fork.status !== 'in-progress') return;
    fork.status = 'stopped';
    fork.stoppedBy = by;
    const c = fork.client;
    if (c?.isOpen) {
      c.stop();
      c.close();
    }
  }

  /** `<Dial>` to a number: a child leg rings `to`; answered, the two are bridged until either hangs up. */
  private dialChild(parent: FakeCall, to: string, callerId: string | undefined, onOver: () => void): void {
    const child = this.create(
      { To: to, From: callerId ?? parent.from },
      to,
      callerId ?? parent.from,
      undefined,
      {
        direction: 'outbound-dial',
        parentCallSid: parent.sid,
        onAnswer: (c) => {
          parent.bridgedWith = c.sid;
          c.bridgedWith = parent.sid;
          this.detachers.set(c.sid, () => this.hangup(parent.sid));
        },
      },
      parent.accountSid,
    );
    // The parent leaving the bridge (redirect, hang-up) hangs the child up; a child that never answered ends the `<Dial>`.
    this.detachers.set(parent.sid, () => this.hangup(child.sid));
    unawaited(child.done.then(() => {
      if (!child.bridgedWith) onOver();
    }));
  }
  /** Calls running `<Connect><Stream>`: what a TwiML update (`Twiml=`) does to them. */
  private twimlUpdates = new Map<string, (twiml: string) => void>();
  private streamDrops = new Map<string, () => void>();

  private resource(c: FakeCall) {
    return {
      sid: c.sid,
      account_sid: c.accountSid,
      parent_call_sid: c.parentCallSid ?? null,
      to: c.to,
      from: c.from,
      status: c.status,
      direction: c.direction,
      start_time: null,
      end_time: null,
      duration: null,
      answered_by: null,
      uri: `/2010-04-01/Accounts/${c.accountSid}/Calls/${c.sid}.json`,
    };
  }

  /**
   * The callee of a call to one of our own numbers, as its relay client plays it: what the inbound end hears.
   * In a room, that is the other members: the first whose callee has a reply to the agent's turn says it.
   */
  private loopCallee(far: () => FakeCall | undefined): FakeCallee {
    return {
      outcome: 'answer',
      ringSteps: 1,
      reply: (turn, n) => {
        const end = far();
        const room = end && [...this.rooms.values()].find((r) => r.members.has(end.sid));
        for (const sid of room ? room.members.keys() : []) {
          const member = sid === end!.sid ? undefined : this.calls.get(sid);
          const said = member ? (this.callees[member.to]?.reply?.(turn, n) ?? null) : null;
          if (said !== null) return said;
        }
        return null;
      },
    };
  }

  /**
   * Someone calls one of the account's numbers: Twilio requests the number's Voice URL (`voiceUrl`, e.g.
   * `/receive_call`) with `Direction=inbound` and runs the TwiML it gets, like an answered outbound call
   * (`<Connect><ConversationRelay>` → the relay socket, where `caller` talks). No status callbacks (none
   * configured on the number).
   */
  placeInbound(voiceUrl: string, from: string, to: string, caller: FakeCallee, accountSid = this.accountSid): FakeCall {
    return this.create({ To: to, From: from, Url: voiceUrl }, to, from, caller, undefined, accountSid);
  }

  private create(form: Record<string, string | string[]>, to: string, from: string, inboundCaller?: FakeCallee, leg?: LegOptions, accountSid = this.accountSid): FakeCall {
    let resolveDone!: () => void;
    const call: FakeCall = {
      sid: 'CA' + SID_HEX(),
      accountSid,
      to,
      from,
      request: form,
      callbacks: [],
      relayIn: [],
      agentTurns: [],
      calleeSaid: [],
      digits: [],
      actions: [],
      updates: [],
      status: inboundCaller ? 'ringing' : 'queued',
      direction: inboundCaller ? 'inbound' : (leg?.direction ?? 'outbound-api'),
      ...(leg?.parentCallSid ? { parentCallSid: leg.parentCallSid } : {}),
      ...(leg?.label ? { label: leg.label } : {}),
      twimls: [],
      done: new Promise<void>((r) => (resolveDone = r)),
    };
    this.calls.set(call.sid, call);
    const events = new Set([form.StatusCallbackEvent ?? []].flat());
    const statusUrl = str(form.StatusCallback);
    let seq = 0;
    const callback = async (status: string, extra: Record<string, string> = {}) => {
      call.status = status === 'initiated' ? 'queued' : status;
      if (!statusUrl) return;
      const event = status === 'initiated' ? 'initiated' : status === 'ringing' ? 'ringing' : status === 'in-progress' ? 'answered' : 'completed';
      if (event !== 'completed' && !events.has(event)) return;
      const r = await this.postFor(call, statusUrl, { ...this.common(call), CallStatus: status, CallbackSource: 'call-progress-events', SequenceNumber: String(seq++), Timestamp: new Date().toUTCString(), ...extra }).catch(() => ({ code: 0 }));
      call.callbacks.push({ status, code: r.code });
    };
    let ended = false;
    let answeredAt = 0;
    let amdResult: Record<string, string> = {};
    let socket: WebSocket | undefined;
    const finish = (status: string) => {
      if (ended) return;
      ended = true;
      if (socket && socket.readyState === socket.OPEN) socket.close(1000);
      this.detach(call.sid);
      if (call.loopPeer) this.finishers.get(call.loopPeer)?.('completed');
      for (const f of call.forks ?? []) this.stopFork(f, 'call-ended');
      unawaited(callback(status, { CallDuration: '7', ...amdResult }).then(() => this.recorded(call, answeredAt)).then(resolveDone));
    };
    this.finishers.set(call.sid, finish);
    // A call to one of our own numbers: its callee is whatever its inbound end hears (see loopCallee).
    const loop = !inboundCaller && !leg && this.numbers.has(to) ? { voiceUrl: this.numbers.get(to)!, far: undefined as FakeCall | undefined } : undefined;
    const callee = inboundCaller ?? (loop ? this.loopCallee(() => loop.far) : this.callees[to]) ?? { outcome: 'failed' };
    const wait = (n = 1) => new Promise((r) => setTimeout(r, this.stepMs * n));

    const play = async () => {
      if (inboundCaller) return connect();
      await wait();
      await callback('initiated');
      if (ended) return;
      if (callee.outcome === 'failed') return finish('failed');
      await wait();
      await callback('ringing');
      await wait(callee.ringSteps ?? 2);
      while (!ended && callee.answerWhen && !callee.answerWhen()) await wait();
      if (ended) return;
      if (loop) {
        // The number rings its Voice URL; this end is answered once that end is.
        const far = (loop.far = this.placeInbound(loop.voiceUrl, from, to, { outcome: 'answer', opensRelay: false }, accountSid));
        call.loopPeer = far.sid;
        far.loopPeer = call.sid;
        while (!ended && far.status === 'ringing') await wait();
        if (ended) return;
        if (far.status !== 'in-progress') return finish('no-answer');
      }
      if (callee.outcome === 'busy' || callee.outcome === 'no-answer') return finish(callee.outcome);
      answeredAt = Date.now();
      await callback('in-progress');
      if (leg) return leg.onAnswer(call);
      await connect(str(form.Url) ? undefined : str(form.Twiml));
    };
    // Update with `Url`/`Twiml`: the call leaves whatever it was in (relay socket, room, bridge) and runs the new TwiML.
    this.redirectors.set(call.sid, async (update) => {
      if (ended) return;
      const old = socket;
      socket = undefined;
      if (old && old.readyState === old.OPEN) old.close(1000);
      this.detach(call.sid);
      const url = str(update.Url);
      const twiml = url ? (await this.postFor(call, url, { ...this.common(call), CallStatus: 'in-progress' })).body : str(update.Twiml)!;
      if (!ended) await connect(twiml);
    });
    const connect = async (given?: string) => {
      const url = str(form.Url)!;
      const amd: Record<string, string> = str(form.MachineDetection) && str(form.AsyncAmd) !== 'true' ? { AnsweredBy: callee.answeredBy ?? 'human' } : {};
      if (amd.AnsweredBy) amdResult = amd;
      const r = given !== undefined ? { code: 200, body: given } : await this.postFor(call, url, { ...this.common(call), CallStatus: inboundCaller ? 'ringing' : 'in-progress', ...amd });
      if (inboundCaller) call.status = 'in-progress';
      call.twiml = r.body;
      call.twimls.push(r.body);
      if (r.code === 200 && this.dial(call, r.body, () => finish('completed'))) return;
      if (r.code === 200 && /<Connect[^>]*>\s*<Stream\s/.test(r.body)) return this.streamCall(call, callee, r.body);
      const relay = /<Connect[^>]*>\s*<ConversationRelay\s([^>]*?)\/?>([\s\S]*?)(<\/ConversationRelay>|$)/.exec(r.body);
      if (r.code !== 200 || !relay) return finish('completed');
      if (callee.opensRelay === false) return;
      const attrs = Object.fromEntries([...relay[1].matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], unxml(a[2])]));
      // Twilio takes only its providers, spelled exactly so (protocols.md §5); another fails the call.
      if (attrs.ttsProvider !== undefined && !['ElevenLabs', 'Google', 'Amazon'].includes(attrs.ttsProvider)) return finish('failed');
      const customParameters = Object.fromEntries([...relay[2].matchAll(/<Parameter\s+name="([^"]*)"\s+value="([^"]*)"\s*\/>/g)].map((p) => [unxml(p[1]), unxml(p[2])]));
      socket = new WebSocket(attrs.url, { headers: { 'x-twilio-signature': sign(this.tokenOf(call.accountSid), attrs.url) } });
      this.sockets.add(socket);
      const ws = socket;
      const sessionId = 'VX' + SID_HEX();
      let handoffData: string | undefined;
      ws.on('unexpected-response', () => socket === ws && finish('completed'));
      ws.on('error', () => socket === ws && finish('completed'));
      // The session is over: Twilio requests the `<Connect action>` URL (protocols.md §5), runs the TwiML it
      // gets (only `<Hangup/>` or nothing matters here), and the call completes.
      const action = /<Connect\s[^>]*action="([^"]*)"/.exec(r.body)?.[1];
      ws.on('close', () => {
        // A socket closed by a redirect is not the end of the call (nor of the session: no action request).
        if (socket !== ws) return;
        if (!action || ended) return finish('completed');
        const params = { ...this.common(call), CallStatus: 'in-progress', SessionId: sessionId, SessionStatus: 'completed', SessionDuration: '7', ...(handoffData ? { HandoffData: handoffData } : {}) };
        unawaited(this.postFor(call, unxml(action), params)
          .then((a) => call.actions.push({ params, code: a.code, twiml: a.body }))
          .catch(() => undefined)
          .then(() => finish('completed')));
      });
      const say = async (text: string) => {
        await wait();
        if (ws.readyState !== ws.OPEN) return;
        call.calleeSaid.push(text);
        ws.send(JSON.stringify({ type: 'prompt', voicePrompt: text, lang: attrs.language ?? 'en-US', last: true }));
      };
      this.speakers.set(call.sid, say);
      let tokens = '';
      ws.on('message', (data) => {
        const parsed = JSON.parse(String(data)) as Record<string, unknown>;
        if (parsed.type === 'end' && typeof parsed.handoffData === 'string') handoffData = parsed.handoffData;
      });
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as Record<string, unknown>;
        call.relayIn.push(msg);
        if (msg.type === 'sendDigits') {
          call.digits.push(String(msg.digits));
          const said = callee.onDigits?.(String(msg.digits)) ?? null;
          if (said !== null) unawaited(say(said));
        }
        // After `end` Twilio closes the socket (then requests the `<Connect action>`, if any).
        if (msg.type === 'end') return ws.close(1000);
        if (msg.type !== 'text') return;
        tokens += String(msg.token ?? '');
        if (msg.last !== true) return;
        const turn = tokens.trim();
        tokens = '';
        const n = call.agentTurns.push(turn) - 1;
        const reply = callee.reply?.(turn, n) ?? null;
        if (reply === null) {
          unawaited(wait(5).then(() => finish('completed')));
          return;
        }
        unawaited(say(reply));
      });
      ws.on('open', () => {
        ws.send(
          JSON.stringify({
            type: 'setup',
            sessionId,
            accountSid: call.accountSid,
            parentCallSid: '',
            callSid: call.sid,
            from: call.from,
            to: call.to,
            forwardedFrom: '',
            callType: 'PSTN',
            callerName: '',
            direction: call.direction,
            callStatus: 'IN-PROGRESS',
            customParameters,
          }),
        );
        if (callee.greeting) unawaited(say(callee.greeting));
      });
    };
    setTimeout(() => unawaited(play()), 0);
    return call;
  }

  /**
   * A call created with `Record=true` that was answered has a recording once it ends: its media (a 440 Hz
   * tone as long as the call was up, whole seconds, at least one) and, when asked for, the signed recording
   * status callback with `RecordingStatus=completed` (§1 "Recordings").
   */
  private async recorded(call: FakeCall, answeredAt: number): Promise<void> {
    if (str(call.request.Record) !== 'true' || !answeredAt) return;
    const duration = Math.max(1, Math.round((Date.now() - answeredAt) / 1000));
    const rec: FakeRecording = { sid: 'RE' + SID_HEX(), callSid: call.sid, duration, wav: toneWav(duration), fetches: 0 };
    this.recordings.set(rec.sid, rec);
    call.recording = rec;
    const url = str(call.request.RecordingStatusCallback);
    const events = [call.request.RecordingStatusCallbackEvent ?? 'completed'].flat();
    if (!url || !events.includes('completed')) return;
    const params = {
      AccountSid: call.accountSid,
      CallSid: call.sid,
      RecordingSid: rec.sid,
      RecordingUrl: `${this.url}/2010-04-01/Accounts/${call.accountSid}/Recordings/${rec.sid}`,
      RecordingStatus: 'completed',
      RecordingDuration: String(duration),
      RecordingChannels: '1',
      RecordingStartTime: new Date(answeredAt).toUTCString(),
      RecordingSource: 'OutboundAPI',
      RecordingTrack: 'both',
      ErrorCode: '0',
    };
    const r = await this.postFor(call, url, params).catch(() => ({ code: 0 }));
    rec.callback = { params, code: r.code };
  }

  private detach(callSid: string): void {
    const d = this.detachers.get(callSid);
    this.detachers.delete(callSid);
    d?.();
  }

  /**
   * Runs a `<Dial>` in `twiml`, if there is one: a `<Conference>` room or a number (bare or `<Number>`).
   * `over` is called when the `<Dial>` ends without the call being redirected (nothing follows it).
   */
  private dial(call: FakeCall, twiml: string, over: () => void): boolean {
    const d = /<Dial(\s[^>]*)?>([\s\S]*?)<\/Dial>/.exec(twiml);
    if (!d) return false;
    const attrs = attrsOf(d[1] ?? '');
    const conf = /<Conference(\s[^>]*)?>([^<]*)<\/Conference>/.exec(d[2]);
    if (conf) {
      const a = attrsOf(conf[1] ?? '');
      this.join(this.room(unxml(conf[2]).trim()), call, {
        label: a.participantLabel,
        startConferenceOnEnter: a.startConferenceOnEnter !== 'false',
        endConferenceOnExit: a.endConferenceOnExit === 'true',
        muted: a.muted === 'true',
      });
      return true;
    }
    const number = unxml(/<Number[^>]*>([^<]*)<\/Number>/.exec(d[2])?.[1] ?? d[2]).trim();
    this.dialChild(call, number, attrs.callerId, over);
    return true;
  }

  /**
   * Twilio running `<Connect><Stream>` (protocols.md §3, §4): a Media Streams client connects to the `url`
   * with X-Twilio-Signature over it, sends `connected` and `start` (the `<Parameter>`s as customParameters)
   * and the callee's audio. A TwiML update replaces it (§1): the stream gets `stop`, `<Play digits>` is
   * recorded as the digits the callee heard, and a new `<Connect><Stream>` starts a new stream (new
   * streamSid) where the callee answers the digits. The call ends with the stream when Switchboard closes
   * it, or when the call is hung up (the stream gets `stop` first).
   */
  private streamCall(call: FakeCall, callee: FakeCallee, twiml: string): void {
    const streams: FakeMediaStreamClient[] = (call.streams = []);
    const finishCall = this.finishers.get(call.sid)!;
    let current: FakeMediaStreamClient | undefined;
    let over = false;
    const stopCurrent = () => {
      const c = current;
      current = undefined;
      if (c?.isOpen) {
        c.stop();
        c.close();
      }
    };
    const finish = (status: string) => {
      over = true;
      this.twimlUpdates.delete(call.sid);
      stopCurrent();
      finishCall(status);
    };
    this.finishers.set(call.sid, finish);
    this.streamDrops.set(call.sid, () => {
      over = true;
      this.twimlUpdates.delete(call.sid);
      this.finishers.set(call.sid, () => undefined);
      current?.socket.terminate();
    });
    const open = async (body: string, speech: Buffer | null | undefined) => {
      const m = /<Connect[^>]*>\s*<Stream\s([^>]*?)\/?>([\s\S]*?)(<\/Stream>|$)/.exec(body);
      if (!m) return finish('completed'); // nothing left to run: the call ends
      const url = unxml(/url="([^"]*)"/.exec(m[1])?.[1] ?? '');
      const customParameters = Object.fromEntries([...m[2].matchAll(/<Parameter\s+name="([^"]*)"\s+value="([^"]*)"\s*\/>/g)].map((p) => [unxml(p[1]), unxml(p[2])]));
      const client = await FakeMediaStreamClient.connect({ url, customParameters, callSid: call.sid, accountSid: call.accountSid, signature: sign(this.tokenOf(call.accountSid), url), holdMarks: callee.holdMarks }).catch(() => null);
      // A refused handshake ends `<Connect>`; with no TwiML after it the call is over.
      if (!client) return finish('completed');
      if (over) return client.close();
      this.sockets.add(client.socket);
      streams.push(client);
      current = client;
      // Switchboard closing the stream ends `<Connect>`, and so the call (nothing follows it).
      unawaited(client.closed.then(() => {
        if (current === client && !over) finish('completed');
      }));
      client.start();
      if (speech) {
        await new Promise((r) => setTimeout(r, this.stepMs));
        if (client.isOpen) client.speak(speech);
      }
    };
    this.twimlUpdates.set(call.sid, (body) => {
      stopCurrent();
      const digits = /<Play\s+digits="([^"]*)"\s*\/?>/.exec(body)?.[1];
      if (digits !== undefined) call.digits.push(unxml(digits));
      if (/<Hangup\s*\/>/.test(body)) return finish('completed');
      // Anything but a new stream (a transfer's `<Dial>`, a room): the call leaves `<Connect><Stream>` for good
      // and runs the new TwiML like any redirected call.
      if (digits === undefined && !/<Connect[^>]*>\s*<Stream\s/.test(body)) {
        over = true;
        this.twimlUpdates.delete(call.sid);
        this.streamDrops.delete(call.sid);
        this.finishers.set(call.sid, finishCall);
        return unawaited(this.redirectors.get(call.sid)?.({ Twiml: body }) ?? Promise.resolve());
      }
      // The digits play first (the time they take, shortened), then the next verb runs.
      setTimeout(() => unawaited(open(body, digits ? callee.audio?.onDigits?.(unxml(digits)) : null)), this.stepMs);
    });
    unawaited(open(twiml, callee.audio?.greeting));
  }

  /** The network drops the call's media stream: the socket closes without `stop`, and no status callback follows. */
  dropStream(callSid: string): void {
    this.streamDrops.get(callSid)?.();
  }

  private common(c: FakeCall): Record<string, string> {
    return {
      AccountSid: c.accountSid,
      CallSid: c.sid,
      From: c.from,
      To: c.to,
      Caller: c.from,
      Called: c.to,
      Direction: c.direction,
      ApiVersion: '2010-04-01',
      ...(c.parentCallSid ? { ParentCallSid: c.parentCallSid } : {}),
    };
  }
}

/** A 16-bit 8 kHz mono PCM WAV of a 440 Hz tone, `seconds` long (what the fake's recordings hold). */
function toneWav(seconds: number): Buffer {
  const n = seconds * 8000;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

function str(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function attrsOf(s: string): Record<string, string> {
  return Object.fromEntries([...s.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], unxml(a[2])]));
}

function unxml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
