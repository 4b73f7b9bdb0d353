/**
 * The server side of one Twilio Media Streams WebSocket (protocols.md §4), for a bidirectional
 * `<Connect><Stream>`. Twilio is the client and sends `connected`, `start`, `media`, `dtmf`, `mark`, `stop`
 * (JSON text frames); this side sends `media`, `mark`, `clear`, each with the `streamSid`.
 *
 * The stream is tied to its call by a signed token passed as a `<Parameter>` (Twilio strips query strings
 * from stream URLs, so it arrives in `start.customParameters`): `callId` and `token` =
 * base64url(HMAC-SHA256(secret, "twilio-media-stream:" + callId)). Nothing is accepted before a `start`
 * with a valid token; a stream whose token is missing or wrong, or that sends audio first, is closed
 * (1008). The X-Twilio-Signature of the WebSocket handshake is checked by the route, before this class.
 *
 * Audio in: μ-law 8 kHz frames as an AsyncIterable (`frames()`), in `chunk` order (a repeated or older
 * chunk is dropped). Out: `send()` splits audio into 160-byte (20 ms) `media` messages; `mark()` resolves
 * when Twilio echoes it (all audio queued before it has played); `clear()` drops the unplayed audio and
 * resolves the pending marks as not played. `sentBytes − playedBytes` is what was sent but not yet heard.
 *
 * A unidirectional fork (`<Start><Stream>` or the Streams REST resource, `both_tracks`) carries `media`
 * on two tracks: `inbound` (the leg's own party) and `outbound` (what that party hears). `tap()` takes
 * every frame with its track instead of `frames()` (which only ever carries `inbound`); nothing may be
 * sent on such a stream, and its owner sends nothing.
 */
import { EventEmitter } from 'node:events';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Logger } from '../../lib/logger.js';
import { AsyncQueue } from '../../lib/async-queue.js';
import { directFrameWriter, readTextFramesDirectly, type DirectFrameWriter } from '../../lib/ws-direct-text.js';
import { MediaMessages, hasStreamSid, newMediaFields, readMediaMessage } from './media-message.js';

/** μ-law bytes in 20 ms at 8 kHz. */
export const FRAME_BYTES = 160;
/**
 * μ-law bytes in one outbound `media` message at most: 80 ms (Twilio plays a payload of any length; one
 * message of 80 ms is one socket write where 20 ms frames were four).
 */
export const OUTBOUND_MESSAGE_BYTES = 4 * FRAME_BYTES;
/** μ-law bytes per millisecond (8 kHz, one byte a sample). */
export const BYTES_PER_MS = 8;
/** Inbound frames kept for a reader that is behind: a minute of audio (20 ms frames); older ones are dropped. */
export const INBOX_FRAMES = 50 * 60;

const TOKEN_CONTEXT = 'twilio-media-stream:';

const noop = () => undefined;

/**
 * The TCP socket under a `ws` WebSocket. `ws` keeps it as `_socket` and has no public way to send two messages
 * in one write; corking it around two `send` calls does that (ws corks it itself around a frame's header and
 * payload, and nested corks hold until the outermost uncork). Undefined if a `ws` version stops keeping it
 * there: the messages then go in two writes, as before.
 */
function rawSocket(socket: WebSocket): { cork(): void; uncork(): void } | undefined {
  const raw = (socket as unknown as { _socket?: { cork?: unknown; uncork?: unknown } })._socket;
  return raw && typeof raw.cork === 'function' && typeof raw.uncork === 'function' ? (raw as { cork(): void; uncork(): void }) : undefined;
}

/** The token that ties a media stream to the call `callId` (sent as `<Parameter name="token">`). */
export function mediaStreamToken(secret: string, callId: string): string {
  return createHmac('sha256', secret).update(TOKEN_CONTEXT + callId, 'utf8').digest('base64url');
}

/** Whether `token` is right for `callId`; compared in constant time. */
export function isValidMediaStreamToken(secret: string, callId: string | undefined, token: string | undefined): boolean {
  if (!callId || !token) return false;
  const expected = Buffer.from(mediaStreamToken(secret, callId));
  const got = Buffer.from(token);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

export interface MediaStreamStart {
  /** Switchboard's call id, from the verified custom parameters. */
  callId: string;
  streamSid: string;
  callSid: string;
  accountSid: string;
  tracks: string[];
  customParameters: Record<string, string>;
  mediaFormat: { encoding: string; sampleRate: number; channels: number };
}

export interface MarkResult {
  name: string;
  /** True when Twilio echoed it after playing the audio before it; false when cleared or the stream ended. */
  played: boolean;
}

export interface TwilioMediaStreamOptions {
  socket: WebSocket;
  /** Secret the stream tokens are signed with. */
  secret: string;
  /** Names of the custom parameters carrying the call id and the token (default `callId`, `token`). */
  callIdParameter?: string;
  tokenParameter?: string;
  /** A stream that has not sent a valid `start` by then is closed (default 10 s). */
  startTimeoutMs?: number;
  log?: Logger;
}

/** One frame of a tapped stream, with the track it came on. */
export interface TrackFrame {
  track: 'inbound' | 'outbound';
  frame: Buffer;
}

interface PendingMark {
  name: string;
  /** sentBytes when the mark was sent: what has been played once Twilio echoes it. */
  at: number;
  resolve: (r: MarkResult) => void;
}

export interface TwilioMediaStreamEvents {
  start: [MediaStreamStart];
  dtmf: [string];
  stop: [];
  close: [];
  /** The stream was refused (bad or missing token, wrong format, audio before start). */
  rejected: [string];
}

/** One Twilio Media Streams socket. Events: `start`, `dtmf` (one digit), `stop`, `close`, `rejected`. */
export class TwilioMediaStream extends EventEmitter<TwilioMediaStreamEvents> {
  private info: MediaStreamStart | undefined;
  private closed = false;
  /** The last `chunk` seen on each track (Twilio counts each track on its own). */
  private lastChunk: Record<TrackFrame['track'], number> = { inbound: 0, outbound: 0 };
  private tapped: ((f: TrackFrame) => void) | undefined;
  /** Where inbound frames go instead of `frames()`, once `pipe` was called. */
  private sink: ((frame: Buffer) => void) | undefined;
  /** Inbound frames nobody has read yet: live audio, so a reader that falls behind loses the oldest. */
  private readonly inbox = new AsyncQueue<Buffer>({ limit: INBOX_FRAMES, overflow: 'drop_oldest' });
  private marks: PendingMark[] = [];
  private sent = 0;
  private played = 0;
  private startTimer: NodeJS.Timeout | undefined;
  /** Outbound message templates, once the stream's sid is known. */
  private out: MediaMessages | undefined;
  /** The fields of the inbound `media` message being read (one object for the stream's life). */
  private readonly mediaFields = newMediaFields();
  /** The started stream's sid as UTF-8 bytes: what each `media` message's is compared with, in place. */
  private sidBytes: Buffer | undefined;
  /** Resolves with the verified start; rejects when the stream is refused or ends before it. */
  readonly ready: Promise<MediaStreamStart>;
  private settleReady!: { resolve: (s: MediaStreamStart) => void; reject: (e: Error) => void };

  constructor(private readonly o: TwilioMediaStreamOptions) {
    super();
    this.ready = new Promise<MediaStreamStart>((resolve, reject) => (this.settleReady = { resolve, reject }));
    this.ready.catch(() => undefined); // observed by whoever awaits it
    o.socket.on('message', this.onSocketMessage);
    o.socket.on('close', this.onSocketClose);
    o.socket.on('error', this.onSocketError);
    this.startTimer = setTimeout(() => this.reject('no start'), o.startTimeoutMs ?? 10_000);
    this.startTimer.unref?.();
  }

  private readonly onSocketMessage = (data: unknown, isBinary: boolean) => {
    if (isBinary) return this.reject('binary frame');
    // ws passes a text message's bytes; a bridged socket (cluster.ts) passes text.
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(String(data));
    this.onText(bytes, 0, bytes.length);
  };

  /**
   * A text message, `chunk[start, end)`: from ws, or read off the socket before ws once the stream has started
   * (`onStart`). Most are `media`, in Twilio's flat shape: read where they lie, never decoded to text nor
   * parsed (./media-message.ts).
   */
  private readonly onText = (chunk: Buffer, start: number, end: number) => {
    if (this.closed) return;
    const f = this.mediaFields;
    const sid = this.sidBytes;
    if (sid && readMediaMessage(chunk, f, start, end)) {
      if (f.streamSidStart < 0 || hasStreamSid(chunk, f, sid)) this.onMedia(f.track ?? 'inbound', f.chunk, f.payload);
      return;
    }
    const raw = chunk.toString('utf8', start, end);
    if (!this.info) this.early.push(raw);
    this.onMessage(raw);
  };
  /** Gives the socket's frames back to ws (see `onStart`). */
  private readsDirectly: (() => void) | undefined;
  /** Writes outbound `media` frames to the socket, bypassing ws's sender (see `onStart`). */
  private writesDirectly: DirectFrameWriter | undefined;
  private readonly onSocketClose = () => this.onClose();
  private readonly onSocketError = (err: Error) => this.o.log?.warn({ err }, 'media stream socket error');

  /** The messages read up to and including `start` (`connected`, `start`), for `release`. */
  private early: string[] = [];

  /**
   * Lets go of the socket, open, right after a verified `start` (from a `start` listener): this object
   * stops listening and does nothing more. Returns the messages it had read, so that whoever takes the
   * socket over (cluster.ts, bridging it to the node that carries the call) can replay them.
   */
  release(): string[] {
    this.readsDirectly?.();
    this.readsDirectly = undefined;
    this.writesDirectly = undefined;
    this.o.socket.off('message', this.onSocketMessage);
    this.o.socket.off('close', this.onSocketClose);
    this.o.socket.off('error', this.onSocketError);
    clearTimeout(this.startTimer);
    this.closed = true;
    return this.early.splice(0);
  }

  /** The verified start, once received. */
  get started(): MediaStreamStart | undefined {
    return this.info;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** μ-law bytes sent to Twilio (cleared audio excepted). */
  get sentBytes(): number {
    return this.sent;
  }

  /** μ-law bytes Twilio has confirmed played (up to the last echoed mark). */
  get playedBytes(): number {
    return this.played;
  }

  /** Sent but not confirmed heard, in ms. */
  get unplayedMs(): number {
    return (this.sent - this.played) / BYTES_PER_MS;
  }

  /** Inbound μ-law frames (one per `media` message), ending when the stream stops or closes. */
  frames(): AsyncIterable<Buffer> {
    return this.inbox;
  }

  /**
   * From now on, inbound frames go to `sink` as they arrive instead of to `frames()`: no promise and no queue
   * per frame (the channel that outlives the stream keeps the one queue its reader needs). Frames already
   * queued go to it first.
   */
  pipe(sink: (frame: Buffer) => void): void {
    this.sink = sink;
    for (const frame of this.inbox.drain()) sink(frame);
  }

  /**
   * Unidirectional forks: every media frame from now on, of both tracks and in `chunk` order per track,
   * goes to `listener` (not to `frames()`). Set it on `start`, before any media arrives.
   */
  tap(listener: (f: TrackFrame) => void): void {
    this.tapped = listener;
  }

  /** Queue μ-law audio for playback, as media messages of at most OUTBOUND_MESSAGE_BYTES (80 ms). */
  send(mulaw: Buffer): void {
    const sid = this.sendableSid();
    if (!sid) return;
    const out = this.out!;
    const direct = this.writesDirectly;
    for (let i = 0; i < mulaw.length; i += OUTBOUND_MESSAGE_BYTES) {
      const end = Math.min(i + OUTBOUND_MESSAGE_BYTES, mulaw.length);
      const payload = mulaw.toString('base64', i, end);
      if (!direct?.(out.mediaFrame(payload))) this.writeRaw(out.media(payload));
      this.sent += end - i;
    }
  }

  /** Mark the current end of the queued audio; resolves when Twilio echoes it (played) or it is cleared. */
  mark(name: string): Promise<MarkResult> {
    if (!this.sendableSid()) return Promise.resolve({ name, played: false });
    return new Promise<MarkResult>((resolve) => this.pushMark(name, resolve));
  }

  /**
   * A mark nobody waits for: its echo only moves `playedBytes` on (what `clear()` counts as heard). Cheaper
   * than `mark` (no promise) for marks sent every so often under a stream of audio.
   */
  progressMark(name: string): void {
    if (this.sendableSid()) this.pushMark(name, noop);
  }

  /**
   * `send(mulaw)` then `progressMark(name)`, the messages leaving in one socket write: a write is a system call,
   * the largest part of what a message costs the node (docs/performance.md §17).
   */
  sendMarked(mulaw: Buffer, name: string): void {
    const raw = rawSocket(this.o.socket);
    raw?.cork();
    try {
      this.send(mulaw);
      this.progressMark(name);
    } finally {
      raw?.uncork();
    }
  }

  private pushMark(name: string, resolve: (r: MarkResult) => void): void {
    this.marks.push({ name, at: this.sent, resolve });
    const out = this.out!;
    if (!this.writesDirectly?.(out.markFrame(name))) this.writeRaw(out.mark(name));
  }

  /** Barge-in: Twilio drops the unplayed audio; pending marks resolve as not played. Returns the ms dropped (at most). */
  clear(): number {
    const sid = this.sendableSid();
    if (!sid) return 0;
    this.write({ event: 'clear', streamSid: sid });
    const dropped = this.unplayedMs;
    this.sent = this.played;
    this.flushMarks();
    return dropped;
  }

  /** Close the socket (ends `<Connect>`; Twilio continues with the next TwiML). */
  close(code = 1000, reason?: string): void {
    if (this.o.socket.readyState === this.o.socket.OPEN || this.o.socket.readyState === this.o.socket.CONNECTING) {
      this.o.socket.close(code, reason);
    }
    this.onClose();
  }

  private sendableSid(): string | undefined {
    if (this.closed || !this.info) return undefined;
    return this.info.streamSid;
  }

  private write(msg: Record<string, unknown>): void {
    this.writeRaw(JSON.stringify(msg));
  }

  private writeRaw(text: string): void {
    if (this.o.socket.readyState !== this.o.socket.OPEN) return;
    this.o.socket.send(text);
  }

  private flushMarks(): void {
    const pending = this.marks;
    this.marks = [];
    for (const m of pending) m.resolve({ name: m.name, played: false });
  }

  private reject(why: string): void {
    if (this.closed) return;
    this.o.log?.warn({ why }, 'media stream refused');
    this.emit('rejected', why);
    this.settleReady.reject(new Error(`media stream refused: ${why}`));
    this.close(1008, why);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.startTimer);
    if (!this.info) this.settleReady.reject(new Error('media stream closed before start'));
    this.flushMarks();
    this.inbox.close();
    this.emit('close');
  }

  private onMessage(raw: string): void {
    if (this.closed) return;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return;
    }
    // Not a message (JSON null, a number, an array): read no field of it.
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return;
    if (m.event === 'connected') return;
    if (m.event === 'start') return this.onStart(m);
    if (!this.info) return this.reject(`${String(m.event)} before start`);
    if (typeof m.streamSid === 'string' && m.streamSid !== this.info.streamSid) return;
    switch (m.event) {
      case 'media': {
        const media = m.media as Record<string, unknown> | undefined;
        if (!media || typeof media.payload !== 'string') break;
        this.onMedia(media.track === undefined ? 'inbound' : media.track, Number(media.chunk), media.payload);
        break;
      }
      case 'dtmf': {
        const digit = (m.dtmf as Record<string, unknown> | undefined)?.digit;
        if (typeof digit === 'string' && digit) this.emit('dtmf', digit);
        break;
      }
      case 'mark': {
        const name = (m.mark as Record<string, unknown> | undefined)?.name;
        const i = this.marks.findIndex((p) => p.name === name);
        if (i < 0) break; // cleared already, or not ours
        // Twilio plays in order: marks before this one have played too.
        const done = this.marks.splice(0, i + 1);
        for (const p of done) {
          this.played = Math.max(this.played, p.at);
          p.resolve({ name: p.name, played: true });
        }
        break;
      }
      case 'stop':
        this.emit('stop');
        this.close(1000);
        break;
      default:
        break;
    }
  }

  private onStart(m: Record<string, unknown>): void {
    if (this.info) return;
    const s = (m.start ?? {}) as Record<string, unknown>;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries((s.customParameters ?? {}) as Record<string, unknown>)) if (typeof v === 'string') params[k] = v;
    const callId = params[this.o.callIdParameter ?? 'callId'];
    const token = params[this.o.tokenParameter ?? 'token'];
    if (!isValidMediaStreamToken(this.o.secret, callId, token)) return this.reject(token ? 'bad token' : 'missing token');
    const fmt = (s.mediaFormat ?? {}) as Record<string, unknown>;
    const mediaFormat = {
      encoding: typeof fmt.encoding === 'string' ? fmt.encoding : 'audio/x-mulaw',
      sampleRate: Number(fmt.sampleRate ?? 8000),
      channels: Number(fmt.channels ?? 1),
    };
    if (mediaFormat.encoding !== 'audio/x-mulaw' || mediaFormat.sampleRate !== 8000 || mediaFormat.channels !== 1) {
      return this.reject(`unsupported media format ${mediaFormat.encoding}/${mediaFormat.sampleRate}/${mediaFormat.channels}`);
    }
    const streamSid = typeof s.streamSid === 'string' ? s.streamSid : typeof m.streamSid === 'string' ? m.streamSid : '';
    if (!streamSid) return this.reject('no streamSid');
    clearTimeout(this.startTimer);
    this.info = {
      callId: callId as string,
      streamSid,
      callSid: typeof s.callSid === 'string' ? s.callSid : '',
      accountSid: typeof s.accountSid === 'string' ? s.accountSid : '',
      tracks: Array.isArray(s.tracks) ? s.tracks.filter((t): t is string => typeof t === 'string') : [],
      customParameters: params,
      mediaFormat,
    };
    this.out = new MediaMessages(streamSid);
    this.sidBytes = Buffer.from(streamSid);
    this.settleReady.resolve(this.info);
    this.emit('start', this.info);
    if (this.closed) return; // released to another owner (cluster.ts), or refused
    this.early = [];
    // From here on the frames are media, 50 a second each way: read off the socket before ws, and the outbound
    // media written to it whole (../../lib/ws-direct-text.ts).
    this.readsDirectly = readTextFramesDirectly(this.o.socket, this.onText);
    this.writesDirectly = directFrameWriter(this.o.socket);
  }

  private onMedia(track: unknown, chunk: number, payload: string): void {
    if (track !== 'inbound' && track !== 'outbound') return;
    if (Number.isFinite(chunk)) {
      if (chunk <= this.lastChunk[track]) return; // repeated or late
      this.lastChunk[track] = chunk;
    }
    const frame = Buffer.from(payload, 'base64');
    if (this.tapped) return this.tapped({ track, frame });
    if (track !== 'inbound') return;
    if (this.sink) return this.sink(frame);
    this.inbox.push(frame);
  }
}
