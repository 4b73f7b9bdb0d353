/**
 * The voice capacity bench's Twilio (protocols.md §1–§4), made to carry a thousand calls from one process:
 * the Calls REST resource (create → the signed `Url` request → `<Connect><Stream>`; update `Status=completed`
 * ends the call), and each call's Media Streams socket played by ONE timer for all calls.
 *
 * Why not test/fakes/twilio: its stream client keeps every message and concatenates every frame it plays
 * (right for assertions, quadratic at 50 frames a second for minutes), and plays a phrase in one burst. Here
 * the callee speaks at real time: pre-encoded `media` messages (the payloads base64'd once), a frame per call
 * every 20 ms, silence between phrases, as Twilio sends. Outbound media is counted, not parsed: only its
 * arrival time matters.
 *
 * A call's turn: the callee says its phrase; the agent's first outbound frame after the phrase's last
 * sounding frame ends the turn (turn latency); the agent's reply is its frames until it has been quiet for
 * `quietMs`; then the callee speaks again.
 *
 * Lateness is what the callee would hear as a gap: Twilio plays the audio it receives in order from a
 * buffer, so each reply is played from a cursor — its first frame starts playing on arrival, every later
 * frame right after the one before. A frame that arrives after the cursor has run dry is late by that much
 * (an underrun); one that arrives early waits in the buffer (the pacer's lead, a timer catching up) and is
 * heard on time. A `clear` empties the buffer. The gaps between arrivals are reported too (jitter), but
 * they are not what the callee hears.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { twilioSignature } from '../../../src/carriers/twilio/twilio-signature.js';
import { unawaited } from '../../../test/helpers/unawaited.js';
import { callTag } from './tag.js';

const FRAME = 160;
const FRAME_MS = 20;
/** A late timer catches up at most this many frames (as Twilio would, the rest is lost). */
const MAX_CATCH_UP = 10;
/** Staggered: the timer's period (ms) and the phases a call may have within a frame (call i takes phase i % PHASES). */
const PHASE_MS = 4;
const PHASES = FRAME_MS / PHASE_MS;
/** This process's timer overdue by more than this (ms) when a late frame is read: the driver stalled too. */
const OWN_STALL_MS = 10;

export interface DriverOptions {
  accountSid: string;
  authToken: string;
  /** The callee's phrase, μ-law 8 kHz. */
  phrase: Buffer;
  /** The agent quiet this long ends its reply; the callee then speaks. */
  quietMs: number;
  /** No reply this long after the phrase: the turn is missed and the callee speaks again. */
  replyTimeoutMs: number;
  /**
   * Each call's frames at a phase of its own within the 20 ms (true), as independent streams arrive from
   * Twilio, or every call's frame in one burst each 20 ms (false, the worst case: a node never sees all its
   * streams in step unless they started together).
   */
  staggered: boolean;
  /** How long the phone rings before the callee answers. */
  ringMs: number;
  /** A call's first phrase starts up to this long after its stream (random), so calls do not speak in step. */
  spreadMs: number;
}

/** What one measuring window saw. */
export interface Window {
  /** Callee end of speech → the agent's first frame (ms), per turn. */
  turnMs: number[];
  /** Final transcript sent by the speech-to-text fake → the agent's first frame (ms), per turn. */
  addedMs: number[];
  /** The same turns with their call and times (ms since the epoch): to set beside the server's turn timelines (BENCH_TRACE). */
  addedTurns: Array<{ callId: string; finalAt: number; frameAt: number }>;
  /** Largest underrun within a reply: how long the callee's playout had nothing to play (ms). */
  maxLateMs: number;
  /** Frames of replies that arrived after the playout had run dry, counted. */
  lateFrames: number;
  /**
   * Of those, the ones read when this process's own timer was overdue by more than OWN_STALL_MS: its event loop
   * had been busy (or descheduled) while they waited, so some of their lateness may be the driver's, not the server's.
   */
  lateAfterOwnStall: number;
  /** The largest lateness among the late frames read with this process's loop on time (the server's alone). */
  maxLateOwnClearMs: number;
  /** Largest gap between two arrivals of one reply beyond the audio of the message before (jitter; not heard when buffered). */
  maxGapMs: number;
  framesOut: number;
  missed: number;
}

type State = 'speaking' | 'awaiting' | 'hearing' | 'quiet';

interface Call {
  idx: number;
  sid: string;
  /** Switchboard's id of the call (the stream's `callId` parameter). */
  callId?: string;
  streamSid: string;
  ws?: WebSocket;
  seq: number;
  chunk: number;
  state: State;
  /** Next frame of the phrase. */
  pos: number;
  /** When the phrase's last sounding frame was sent. */
  spokeAt: number;
  /** When the speech-to-text fake sent this call's end of turn (0: not since the last reply). */
  finalAt: number;
  lastOutAt: number;
  /** Audio in the last message received (ms): the next is due that much after it (20 or 40 ms messages). */
  lastOutMs: number;
  /** When the callee's playout of what has arrived so far ends (Twilio's buffer runs dry). */
  playEnd: number;
  silenceMsg: (seq: number, chunk: number) => string;
  over: boolean;
}

export class TwilioDriver {
  url = '';
  readonly calls = new Map<string, Call>();
  private byIdx: Call[] = [];
  private server = http.createServer((req, res) => unawaited(this.handle(req, res)));
  private payloads: string[];
  /** The index of the phrase's last frame with sound. */
  private lastSounding: number;
  private timer: NodeJS.Timeout | undefined;
  private t0 = 0;
  private ticks = 0;
  /** When the timer last ran (performance.now()). */
  private lastTickAt = 0;
  private w: Window = emptyWindow();
  /** Calls whose socket closed without the driver ending them, or that never got one: why, counted. */
  readonly lostWhy = new Map<string, number>();
  private nextIdx = 0;

  constructor(private readonly o: DriverOptions) {
    this.payloads = [];
    for (let i = 0; i < o.phrase.length; i += FRAME) {
      const f = Buffer.alloc(FRAME, 0xff);
      o.phrase.copy(f, 0, i, Math.min(i + FRAME, o.phrase.length));
      this.payloads.push(f.toString('base64'));
    }
    this.lastSounding = lastSoundingFrame(o.phrase);
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.t0 = performance.now();
    this.timer = setInterval(() => this.tick(), this.o.staggered ? PHASE_MS : FRAME_MS);
  }

  /** Calls with a started stream. */
  get live(): number {
    let n = 0;
    for (const c of this.byIdx) if (c.ws && !c.over) n++;
    return n;
  }

  /** Starts a new measuring window and returns the one that ended. */
  takeWindow(): Window {
    const w = this.w;
    this.w = emptyWindow();
    return w;
  }

  /** The speech-to-text fake sent call `idx` its end of turn. */
  finalSent(idx: number, at: number): void {
    const c = this.byIdx[idx];
    if (c && c.state === 'awaiting') c.finalAt = at;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const c of this.byIdx) {
      c.over = true;
      c.ws?.terminate();
    }
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /**
   * One timer for every call: each gets the frames due since the last tick. Staggered, a tick is a phase
   * (4 ms): the calls of that phase get their frame, so a fifth of the calls send at a time.
   */
  private tick(): void {
    const now = performance.now();
    this.lastTickAt = now;
    if (!this.o.staggered) {
      const due = Math.floor((now - this.t0) / FRAME_MS);
      const owed = Math.min(due - this.ticks, MAX_CATCH_UP);
      this.ticks = due;
      for (let k = 0; k < owed; k++) for (const c of this.byIdx) if (c.ws && !c.over) this.frame(c, now);
      return;
    }
    const due = Math.floor((now - this.t0) / PHASE_MS);
    const from = Math.max(this.ticks + 1, due - MAX_CATCH_UP * PHASES + 1);
    this.ticks = due;
    for (let t = from; t <= due; t++) {
      for (let i = t % PHASES; i < this.byIdx.length; i += PHASES) {
        const c = this.byIdx[i];
        if (c?.ws && !c.over) this.frame(c, now);
      }
    }
  }

  private frame(c: Call, now: number): void {
    if (c.state === 'awaiting' && now - c.spokeAt > this.o.replyTimeoutMs) {
      this.w.missed++;
      this.speak(c);
    } else if ((c.state === 'hearing' || c.state === 'quiet') && now - Math.max(c.lastOutAt, c.playEnd) >= this.o.quietMs) {
      this.speak(c);
    }
    const seq = ++c.seq;
    const chunk = ++c.chunk;
    if (c.state !== 'speaking') return c.ws!.send(c.silenceMsg(seq, chunk));
    const i = c.pos++;
    c.ws!.send(mediaMessage(c.streamSid, seq, chunk, this.payloads[i]));
    if (i === this.lastSounding) c.spokeAt = now;
    if (c.pos === this.payloads.length) c.state = 'awaiting';
  }

  private speak(c: Call): void {
    c.state = 'speaking';
    c.pos = 0;
    c.finalAt = 0;
  }

  /** Switchboard's messages on a stream: media frames are timed, marks echoed (the audio before them has arrived at real time). */
  private onMessage(c: Call, data: Buffer): void {
    if (data.includes('"event":"media"')) return this.outbound(c, data);
    if (data.includes('"event":"clear"')) {
      c.playEnd = Math.min(c.playEnd, performance.now());
      return;
    }
    if (!data.includes('"event":"mark"')) return;
    const m = JSON.parse(data.toString()) as { mark?: { name?: string } };
    c.ws!.send(JSON.stringify({ event: 'mark', sequenceNumber: String(++c.seq), streamSid: c.streamSid, mark: { name: String(m.mark?.name) } }));
  }

  private outbound(c: Call, data: Buffer): void {
    const now = performance.now();
    const ms = payloadMs(data);
    this.w.framesOut++;
    if (c.state === 'awaiting') {
      this.w.turnMs.push(now - c.spokeAt);
      if (c.finalAt) {
        this.w.addedMs.push(now - c.finalAt);
        this.w.addedTurns.push({ callId: c.callId ?? '', finalAt: performance.timeOrigin + c.finalAt, frameAt: performance.timeOrigin + now });
      }
      c.state = 'hearing';
      c.playEnd = now;
    } else if (c.state === 'hearing') {
      const gap = now - c.lastOutAt - c.lastOutMs;
      if (gap > this.w.maxGapMs) this.w.maxGapMs = gap;
      const late = now - c.playEnd;
      // Under a millisecond is the timers' resolution, not a gap anyone hears.
      if (late >= 1) {
        this.w.lateFrames++;
        if (late > this.w.maxLateMs) this.w.maxLateMs = late;
        const period = this.o.staggered ? PHASE_MS : FRAME_MS;
        if (now - this.lastTickAt > period + OWN_STALL_MS) this.w.lateAfterOwnStall++;
        else if (late > this.w.maxLateOwnClearMs) this.w.maxLateOwnClearMs = late;
      }
    } else if (c.state === 'speaking') {
      // The agent talks over the callee (it started before the phrase was over): not a turn of this bench.
      c.state = 'quiet';
    }
    c.playEnd = Math.max(c.playEnd, now) + ms;
    c.lastOutAt = now;
    c.lastOutMs = ms;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const ch of req) chunks.push(ch as Buffer);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
    const json = (code: number, body: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const base = `/2010-04-01/Accounts/${this.o.accountSid}`;
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'POST' && path === `${base}/Calls.json`) {
      const c = this.newCall();
      json(201, this.resource(c, form, 'queued'));
      // The phone rings a while first (the server learns the call's sid from this answer meanwhile).
      setTimeout(() => unawaited(this.answer(c, form).catch((err: Error) => this.lose(c, `answer failed: ${err.message.slice(0, 120)}`))), this.o.ringMs);
      return;
    }
    const m = new RegExp(`^${base}/Calls/(CA[0-9a-f]{32})\\.json$`).exec(path);
    const c = m ? this.calls.get(m[1]) : undefined;
    if (req.method === 'POST' && c) {
      json(200, this.resource(c, form, form.Status === 'completed' ? 'completed' : 'in-progress'));
      if (form.Status === 'completed' || form.Status === 'canceled') this.hangUp(c);
      return;
    }
    json(404, { code: 20404, message: 'not found', status: 404 });
  }

  private newCall(): Call {
    const idx = this.nextIdx++;
    const streamSid = 'MZ' + randomBytes(16).toString('hex');
    const silence = Buffer.alloc(FRAME, 0xff);
    callTag(idx).copy(silence);
    const payload = silence.toString('base64');
    const c: Call = {
      idx,
      sid: 'CA' + randomBytes(16).toString('hex'),
      streamSid,
      seq: 0,
      chunk: 0,
      state: 'speaking',
      pos: 0,
      spokeAt: 0,
      finalAt: 0,
      lastOutAt: 0,
      lastOutMs: FRAME_MS,
      playEnd: 0,
      silenceMsg: (seq, chunk) => mediaMessage(streamSid, seq, chunk, payload),
      over: false,
    };
    this.calls.set(c.sid, c);
    this.byIdx[idx] = c;
    return c;
  }

  /** Twilio answering: the signed `Url` request, then the `<Connect><Stream>` it returns. */
  private async answer(c: Call, create: Record<string, string>): Promise<void> {
    const params = { AccountSid: this.o.accountSid, CallSid: c.sid, From: create.From, To: create.To, Caller: create.From, Called: create.To, Direction: 'outbound-api', ApiVersion: '2010-04-01', CallStatus: 'in-progress', AnsweredBy: 'human' };
    const r = await fetch(create.Url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(this.o.authToken, create.Url, params) },
      body: new URLSearchParams(params).toString(),
    });
    const twiml = await r.text();
    const s = /<Stream\s([^>]*?)\/?>([\s\S]*?)(<\/Stream>|$)/.exec(twiml);
    if (!s && twiml.includes('<ConversationRelay')) throw new Error('the call is in text mode (ConversationRelay): the server has no text-to-speech for the call\'s voice (ElevenLabs adapter and voice rules)');
    if (!s) throw new Error(`no <Stream> in the call's TwiML: ${twiml.slice(0, 200)}`);
    const url = unxml(/url="([^"]*)"/.exec(s[1])?.[1] ?? '');
    const customParameters = Object.fromEntries([...s[2].matchAll(/<Parameter\s+name="([^"]*)"\s+value="([^"]*)"\s*\/>/g)].map((p) => [unxml(p[1]), unxml(p[2])]));
    // A zero masking key: ws then skips masking (the load's own CPU is what the bench must keep small; the
    // server unmasks either way). Masking guards browsers' proxies, and this client is no browser.
    const ws = new WebSocket(url, { headers: { 'x-twilio-signature': twilioSignature(this.o.authToken, url) }, perMessageDeflate: false, generateMask: (mask) => void mask.fill(0) });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => undefined);
    ws.on('message', (data) => this.onMessage(c, data as Buffer));
    ws.on('close', (code, reason) => this.lose(c, `stream closed ${code} ${String(reason)}`));
    ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    ws.send(JSON.stringify({
      event: 'start',
      sequenceNumber: String(++c.seq),
      streamSid: c.streamSid,
      start: { accountSid: this.o.accountSid, streamSid: c.streamSid, callSid: c.sid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters },
    }));
    // Quiet until a random moment: the calls' turns spread over time, as a node's real calls would.
    c.state = 'quiet';
    c.lastOutAt = performance.now() - this.o.quietMs + Math.random() * this.o.spreadMs;
    c.ws = ws;
    c.callId = customParameters.callId;
  }

  private hangUp(c: Call): void {
    if (c.over) return;
    this.lose(c, 'the server hung up');
    if (c.ws?.readyState === WebSocket.OPEN) {
      c.ws.send(JSON.stringify({ event: 'stop', sequenceNumber: String(++c.seq), streamSid: c.streamSid, stop: { accountSid: this.o.accountSid, callSid: c.sid } }));
      c.ws.close(1000);
    }
  }

  get lost(): number {
    let n = 0;
    for (const v of this.lostWhy.values()) n += v;
    return n;
  }

  private lose(c: Call, why: string): void {
    if (c.over) return;
    c.over = true;
    this.lostWhy.set(why, (this.lostWhy.get(why) ?? 0) + 1);
  }

  private resource(c: Call, form: Record<string, string>, status: string) {
    return { sid: c.sid, account_sid: this.o.accountSid, to: form.To ?? null, from: form.From ?? null, status, direction: 'outbound-api', uri: `/2010-04-01/Accounts/${this.o.accountSid}/Calls/${c.sid}.json` };
  }
}

function emptyWindow(): Window {
  return { turnMs: [], addedMs: [], addedTurns: [], maxLateMs: 0, lateFrames: 0, lateAfterOwnStall: 0, maxLateOwnClearMs: 0, maxGapMs: 0, framesOut: 0, missed: 0 };
}

function mediaMessage(streamSid: string, seq: number, chunk: number, payload: string): string {
  return `{"event":"media","sequenceNumber":"${seq}","streamSid":"${streamSid}","media":{"track":"inbound","chunk":"${chunk}","timestamp":"${(chunk - 1) * FRAME_MS}","payload":"${payload}"}}`;
}

const PAYLOAD = Buffer.from('"payload":"');

/** Milliseconds of μ-law in an outbound `media` message, from its base64 payload's length (no parsing). */
function payloadMs(msg: Buffer): number {
  const from = msg.indexOf(PAYLOAD);
  if (from < 0) return FRAME_MS;
  const start = from + PAYLOAD.length;
  const end = msg.indexOf(0x22, start);
  let chars = end - start;
  while (chars > 0 && msg[start + chars - 1] === 0x3d) chars--; // '=' padding
  return Math.floor((chars * 3) / 4) / 8;
}

/** μ-law bytes far from zero amplitude (0xFF/0x7F) are sound: the last 20 ms frame that has any. */
function lastSoundingFrame(mulaw: Buffer): number {
  let last = 0;
  for (let i = 0; i < mulaw.length; i++) if ((mulaw[i] & 0x7f) < 0x70) last = Math.floor(i / FRAME);
  return last;
}

function unxml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
