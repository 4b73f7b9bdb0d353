/**
 * The part every WebSocket speech-to-text adapter shares (Deepgram live, OpenAI transcription): connect with
 * headers, hold the callee's audio while the socket opens, send it in chunks of `chunkMs` (one message per
 * 20 ms frame was the largest per-call cost of a node: docs/performance.md §8 "Per-call CPU, second round"),
 * stop sending the callee's long silences (the silence gate, below), count the audio sent (billing), keep events until
 * the listener is attached, turn a refused handshake or a dropped socket into one classified `error` event,
 * and close within a bounded wait. An adapter says only what its wire differs in: how a frame is encoded,
 * what it sends on open, on flush and on close, and how it reads the provider's messages.
 *
 * Own code over `ws` rather than the providers' SDKs: see docs/voice.md "Speech-to-text providers".
 */
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { classifyClose, classifyHandshake, classifyNetwork, type SttError } from './errors.js';
import type { SttEvent, SttStream } from './stt.js';

/** G.711 μ-law at 8 kHz: one byte a sample. */
export const MULAW_BYTES_PER_SECOND = 8000;

/** Audio held while the socket connects, at most 10 s: older audio is dropped (a late transcript of it is no use). */
const MAX_PENDING_BYTES = 10 * MULAW_BYTES_PER_SECOND;
/** Events held until the listener is attached; the oldest is dropped beyond this (a listener that never comes). */
const MAX_BUFFERED_EVENTS = 1000;
/** Characters of a refused handshake's body kept as the error's cause. */
const MAX_ERROR_BODY = 2000;

export interface SocketConnection {
  url: string;
  headers: Record<string, string>;
  /** Response header carrying the provider's request id (`dg-request-id`, `x-request-id`). */
  requestIdHeader: string;
  /** Header that explains a refused handshake, when the provider sends one (Deepgram's `dg-error`). */
  errorHeader?: string;
  /** Longest wait for the handshake. */
  connectTimeoutMs: number;
  /** Longest wait for the last transcript once `close()` is called. */
  closeTimeoutMs: number;
  /**
   * Audio per message (ms): frames are held until this much has come, then sent as one message. A frame at
   * least this long goes as it is. 20 (or less) sends every Twilio frame on its own.
   */
  chunkMs: number;
  /**
   * After `speechPaused()`, at most this much audio (ms) goes frame by frame, unchunked: the provider's
   * endpointing counts the silence after speech, and must not wait for a chunk to fill. The endpointing: the
   * pause is heard by our VAD some time after the last sound, which is the margin. It ends sooner when the
   * callee speaks again (`speechResumed()`) or the provider ends the turn.
   */
  promptMs: number;
  /**
   * The silence gate (docs/voice.md "Speech-to-text chunking"): after `speechPaused()`, this much more audio
   * (ms) is sent, then none until `speechResumed()`; a stream also starts gated (nothing said yet). Raised to
   * at least `promptMs + SILENCE_MARGIN_MS`, so the provider's endpointing always hears the silence that ends
   * the turn. Undefined: every frame is sent (a caller with no voice activity detector, or `STT_SILENCE_MS=all`).
   */
  holdMs?: number;
  /** While gated, the last this much audio (ms) is kept and sent at once on `speechResumed()` (default 400). */
  prerollMs?: number;
}

/** Deepgram recommends 20–250 ms of audio a message; 100 ms is a fifth of the messages of 20 ms frames (docs/voice.md). */
export const DEFAULT_STT_CHUNK_MS = 100;
/**
 * STT_SILENCE_MS's default: silence after the callee's speech still streamed (on top of the detector's 200 ms).
 * Over the default endpointing (500 ms) and Deepgram's `utterance_end_ms` (1000) with room to spare.
 */
export const DEFAULT_STT_SILENCE_MS = 1500;
/** The least silence streamed past a provider's endpointing window before the gate closes (its margin). */
export const SILENCE_MARGIN_MS = 500;
/**
 * Audio kept while gated and sent at once when speech starts. Our detector calls speech started only after
 * 60 ms of sound, and the soft start of a word ("h" of "hello") is quieter than that: 400 ms covers both, and
 * the 300 ms of leading audio OpenAI's server VAD keeps before speech (`prefix_padding_ms`).
 */
export const DEFAULT_STT_PREROLL_MS = 400;

export abstract class SocketSttStream implements SttStream {
  private readonly socket: WebSocket;
  private listener: ((event: SttEvent) => void) | undefined;
  private buffered: SttEvent[] = [];
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Audio held for the next message (at most `chunkBytes`), `held` bytes of it filled. */
  private chunk: Buffer | undefined;
  private held = 0;
  private readonly chunkBytes: number;
  /** Bytes still to be sent frame by frame after `speechPaused()`. */
  private promptBytes = 0;
  private flushOnOpen = false;
  private sentBytes = 0;
  /** The silence gate (undefined: off): quiet audio still sent after `speechPaused()`, in bytes. */
  private readonly holdBytes: number | undefined;
  /** Bytes of quiet pushed since `speechPaused()`, while `counting`. */
  private quietBytes = 0;
  private counting = false;
  /** The gate closed after speech before the socket opened: `onOpen` does what the closing would have. */
  private gateClosedUnopened = false;
  /** Audio is not sent: the callee has been quiet for `holdBytes` (or has not spoken yet). */
  private gated: boolean;
  /** While gated, the last `preroll.length` bytes pushed: a ring written at `ringAt`, `ringFilled` bytes of it valid. */
  private preroll: Buffer | undefined;
  private ringAt = 0;
  private ringFilled = 0;
  private failed = false;
  private closeRequested = false;
  private closing: Promise<void> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly ended: Promise<void>;
  /** When audio or a message was last sent (Deepgram's keep-alive sends only when nothing else was). */
  protected lastSentAt = Date.now();

  constructor(private readonly connection: SocketConnection) {
    let markEnded!: () => void;
    this.ended = new Promise((resolve) => (markEnded = resolve));
    this.chunkBytes = Math.max(1, Math.round(connection.chunkMs * (MULAW_BYTES_PER_SECOND / 1000)));
    const hold = connection.holdMs;
    this.holdBytes = hold === undefined ? undefined : bytesOf(Math.max(hold, connection.promptMs + SILENCE_MARGIN_MS));
    this.gated = this.holdBytes !== undefined;
    // No permessage-deflate (ws offers it by default): a provider that accepts it costs every call ≈ 260 KB of
    // zlib state for 160-byte audio frames that do not compress (docs/performance.md §8, "Memory per call").
    this.socket = new WebSocket(connection.url, { headers: connection.headers, handshakeTimeout: connection.connectTimeoutMs, perMessageDeflate: false });
    this.socket.on('open', () => this.onOpen());
    this.socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.socket.on('unexpected-response', (_req, res) => this.onRefused(res));
    this.socket.on('error', (err) => this.fail(classifyNetwork(err)));
    this.socket.on('close', (code, reason) => {
      for (const t of this.timers) clearInterval(t);
      if (this.closeRequested) this.closedByRequest();
      else this.fail(classifyClose(code, reason.toString()));
      markEnded();
    });
  }

  /** Encodes one μ-law frame for the wire (binary as is, or base64 inside JSON). */
  protected abstract encode(frame: Uint8Array): string | Uint8Array;
  /** The socket is open: send the session's settings, start timers. Audio held so far is sent right after. */
  protected abstract opened(): void;
  /** One message from the provider (text frames as a string). */
  protected abstract receive(message: string | Buffer): void;
  /** Ask the provider for the final transcript of the audio so far. */
  protected abstract requestFlush(): void;
  /** Start closing: flush and, when the provider has answered, `hangUp()` (or let the provider close). */
  protected abstract requestClose(): void;
  /** The socket closed after `close()`: emit what the provider left unfinished. */
  protected closedByRequest(): void {}
  /**
   * The silence gate closed after speech (the socket is open): a provider that still hears a turn going on
   * (speech in what our detector calls quiet) would never end it without more audio, so the adapter asks it to
   * end it now.
   */
  protected silenceGated(): void {}

  get audioSeconds(): number {
    return this.sentBytes / MULAW_BYTES_PER_SECOND;
  }

  push(frame: Uint8Array): void {
    if (this.failed || this.closeRequested || frame.length === 0) return;
    if (this.gated) return this.keep(frame);
    // The frame that closes the gate still goes, with what is held for a chunk: the provider has all the silence up to it.
    const last = this.counting && this.quietEnough(frame.length);
    if (this.socket.readyState === WebSocket.OPEN) {
      this.enqueue(frame);
      if (last) {
        this.sendHeld();
        this.silenceGated();
      }
      return;
    }
    if (last) this.gateClosedUnopened = true;
    if (this.socket.readyState !== WebSocket.CONNECTING) return;
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    while (this.pendingBytes > MAX_PENDING_BYTES) this.pendingBytes -= this.pending.shift()!.length;
  }

  /** Our VAD heard the speaker stop: the held audio goes now, and the next `promptMs` of audio frame by frame. */
  speechPaused(): void {
    if (this.failed || this.closeRequested || this.gated) return;
    this.promptBytes = bytesOf(this.connection.promptMs);
    this.counting = this.holdBytes !== undefined;
    this.quietBytes = 0;
    if (this.socket.readyState === WebSocket.OPEN) this.sendHeld();
  }

  /** Speech again: a pause inside the utterance ends, or the gate opens with the pre-roll sent at once. */
  speechResumed(): void {
    this.promptBytes = 0;
    this.counting = false;
    if (!this.gated) return;
    this.gated = false;
    if (this.failed || this.closeRequested || this.ringFilled === 0) return;
    const audio = this.takePreroll();
    if (this.socket.readyState === WebSocket.OPEN) {
      // Chunk-sized pieces: one message per chunk, as any audio; a last partial piece waits in the chunk for the speech after it.
      for (let at = 0; at < audio.length; at += this.chunkBytes) this.enqueue(audio.subarray(at, at + this.chunkBytes));
    } else if (this.socket.readyState === WebSocket.CONNECTING) {
      this.pending.push(audio);
      this.pendingBytes += audio.length;
      while (this.pendingBytes > MAX_PENDING_BYTES) this.pendingBytes -= this.pending.shift()!.length;
    }
  }

  flush(): void {
    if (this.failed || this.closeRequested) return;
    if (this.socket.readyState === WebSocket.OPEN) {
      this.sendHeld();
      this.requestFlush();
    } else this.flushOnOpen = true;
  }

  onEvent(listener: (event: SttEvent) => void): void {
    this.listener = listener;
    const held = this.buffered;
    this.buffered = [];
    for (const event of held) this.deliver(event);
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closeRequested = true;
    // Still connecting: `onOpen` sends the held audio, then asks to close.
    if (this.socket.readyState === WebSocket.OPEN) {
      this.sendHeld();
      this.requestClose();
    }
    const bound = this.connection.closeTimeoutMs + (this.socket.readyState === WebSocket.CONNECTING ? this.connection.connectTimeoutMs : 0);
    const timer = setTimeout(() => this.socket.terminate(), bound);
    await this.ended;
    clearTimeout(timer);
  }

  /** Sends a control or settings message (dropped when the socket is not open: nothing would read it). */
  protected send(message: string | Uint8Array): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.lastSentAt = Date.now();
    this.socket.send(message);
  }

  /** Closes the socket normally (the adapter has every transcript it waited for). */
  protected hangUp(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(1000);
  }

  /** Runs `fn` every `ms` while the socket lives. */
  protected every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Hands an event to the listener, or holds it until one is attached. Nothing follows an error. */
  protected emit(event: SttEvent): void {
    if (this.failed) return;
    // The provider ended the turn: the silence that follows may wait for a chunk again.
    if (event.type === 'transcript' && event.endOfTurn) this.promptBytes = 0;
    if (event.type === 'error') this.failed = true;
    if (this.listener) this.deliver(event);
    else {
      this.buffered.push(event);
      if (this.buffered.length > MAX_BUFFERED_EVENTS) this.buffered.shift();
    }
  }

  /** The stream failed: one `error` event, then the socket is dropped. */
  protected fail(error: SttError | Error): void {
    if (this.failed || this.closeRequested) {
      // After close() a dropped socket is how the stream ends anyway; the caller is no longer listening for faults.
      if (this.socket.readyState !== WebSocket.CLOSED) this.socket.terminate();
      return;
    }
    this.emit({ type: 'error', error });
    this.socket.terminate();
  }

  private deliver(event: SttEvent): void {
    try {
      this.listener!(event);
    } catch {
      // The listener must not throw (stt.ts); if it does, a socket handler is no place to crash the process from.
    }
  }

  /** Counts quiet audio after `speechPaused()`; once `holdBytes` of it came, the gate closes (true: after this frame). */
  private quietEnough(bytes: number): boolean {
    this.quietBytes += bytes;
    if (this.quietBytes < this.holdBytes!) return false;
    this.counting = false;
    this.gated = true;
    this.ringAt = 0;
    this.ringFilled = 0;
    return true;
  }

  /** Gated: the frame goes into the pre-roll ring (a copy into one buffer per stream; nothing allocated per frame). */
  private keep(frame: Uint8Array): void {
    const ring = (this.preroll ??= Buffer.alloc(Math.max(1, bytesOf(this.connection.prerollMs ?? DEFAULT_STT_PREROLL_MS))));
    const size = ring.length;
    if (frame.length >= size) {
      ring.set(frame.subarray(frame.length - size));
      this.ringAt = 0;
      this.ringFilled = size;
      return;
    }
    const first = size - this.ringAt;
    // 20 ms frames fill the 400 ms ring exactly: they never wrap, and need no view of their own.
    if (frame.length <= first) ring.set(frame, this.ringAt);
    else {
      ring.set(frame.subarray(0, first), this.ringAt);
      ring.set(frame.subarray(first), 0);
    }
    this.ringAt = (this.ringAt + frame.length) % size;
    this.ringFilled = Math.min(size, this.ringFilled + frame.length);
  }

  /** The ring's audio, oldest first, in a fresh buffer (`ws` may hold it while the socket drains); the ring is emptied. */
  private takePreroll(): Buffer {
    const ring = this.preroll!;
    const size = ring.length;
    const audio = Buffer.allocUnsafe(this.ringFilled);
    const start = (this.ringAt - this.ringFilled + size) % size;
    const first = Math.min(this.ringFilled, size - start);
    ring.copy(audio, 0, start, start + first);
    if (first < this.ringFilled) ring.copy(audio, first, 0, this.ringFilled - first);
    this.ringAt = 0;
    this.ringFilled = 0;
    return audio;
  }

  private sendAudio(frame: Uint8Array): void {
    this.send(this.encode(frame));
    this.sentBytes += frame.length;
  }

  /**
   * Adds a frame to the chunk being filled, sending it once full; a frame goes on its own when it is a chunk
   * already, or while `speechPaused()` asks for promptness (then whatever was held goes with it).
   */
  private enqueue(frame: Uint8Array): void {
    if (this.promptBytes > 0) {
      this.promptBytes -= frame.length;
      this.sendHeld();
      return this.sendAudio(frame);
    }
    if (this.held === 0 && frame.length >= this.chunkBytes) return this.sendAudio(frame);
    let at = 0;
    while (at < frame.length) {
      // A fresh buffer per message: `ws` may still hold the last one while the socket drains.
      this.chunk ??= Buffer.allocUnsafe(this.chunkBytes);
      const n = Math.min(frame.length - at, this.chunkBytes - this.held);
      this.chunk.set(frame.subarray(at, at + n), this.held);
      this.held += n;
      at += n;
      if (this.held === this.chunkBytes) this.sendHeld();
    }
  }

  /** Sends the audio held for the next chunk, if any. */
  private sendHeld(): void {
    if (this.held === 0 || !this.chunk) return;
    const audio = this.held === this.chunkBytes ? this.chunk : this.chunk.subarray(0, this.held);
    this.chunk = undefined;
    this.held = 0;
    this.sendAudio(audio);
  }

  private onOpen(): void {
    this.opened();
    const held = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const frame of held) this.enqueue(frame);
    // The gate closed after speech while connecting: the silence up to it goes now, not with the next speech.
    if (this.gateClosedUnopened && this.gated) {
      this.sendHeld();
      this.silenceGated();
    }
    this.gateClosedUnopened = false;
    if (this.flushOnOpen && !this.closeRequested) {
      this.sendHeld();
      this.requestFlush();
    }
    if (this.closeRequested) {
      this.sendHeld();
      this.requestClose();
    }
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    try {
      this.receive(isBinary ? buf : buf.toString('utf8'));
    } catch (err) {
      // A message we cannot read (not JSON, an unexpected shape) means we no longer know what was said.
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** The provider answered the upgrade with an HTTP status (bad key, bad parameter, quota…). */
  private onRefused(res: IncomingMessage): void {
    const status = res.statusCode ?? 0;
    const header = (name: string | undefined) => {
      const v = name ? res.headers[name.toLowerCase()] : undefined;
      return Array.isArray(v) ? v[0] : v;
    };
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < MAX_ERROR_BODY) body += chunk;
    });
    // fail() terminates the socket, which aborts the refused request.
    const refuse = () => this.fail(classifyHandshake(status, header(this.connection.errorHeader) ?? body, header(this.connection.requestIdHeader)));
    res.on('end', refuse);
    res.on('error', refuse);
  }
}

/** μ-law bytes of `ms` of audio. */
function bytesOf(ms: number): number {
  return Math.round(ms * (MULAW_BYTES_PER_SECOND / 1000));
}

/**
 * The WebSocket URL of `path` under a provider's base URL: `http(s)` becomes `ws(s)` (configuration may give
 * either), the base's own path is kept (`https://api.openai.com/v1` + `/realtime`).
 */
export function socketUrl(baseUrl: string, path: string, query: Record<string, string>): string {
  const url = new URL(baseUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return url.toString();
}
