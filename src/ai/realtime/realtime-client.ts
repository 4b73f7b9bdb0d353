/**
 * One OpenAI Realtime connection over WebSocket (protocols.md §6, GA protocol: no `OpenAI-Beta` header).
 *
 * Written on `ws` rather than the `openai` package's `OpenAIRealtimeWS`: that client always rewrites the
 * URL's scheme to `wss:` (`buildRealtimeURL` in `src/realtime/internal-base.ts`), so it cannot reach a
 * plain-`ws:` local fake or proxy, and its current major needs Node 22 while Switchboard runs on Node 20.
 * The protocol is one JSON object per text frame both ways, so the client is small (docs/voice.md).
 *
 * @example
 *   const rt = RealtimeConnection.open({ apiKey, baseUrl: 'https://api.openai.com/v1', model: 'gpt-realtime' });
 *   rt.onEvent((e) => …);
 *   await rt.ready;
 *   rt.send({ type: 'session.update', session: { type: 'realtime', … } });
 */
import { WebSocket } from 'ws';
import { classifyHttpFailure, classifyNetworkError, classifyStreamError, llmError } from '../llm/classify.js';
import type { RealtimeClientEvent, RealtimeModel, RealtimeServerEvent } from './protocol.js';

export interface RealtimeOptions {
  apiKey: string;
  /** The API's base URL (`https://api.openai.com/v1`); `http(s)` becomes `ws(s)` and `/realtime` is added. */
  baseUrl: string;
  /** Default `gpt-realtime`. */
  model?: RealtimeModel;
  /** How long the handshake may take before the connection counts as failed (default 10 s). */
  connectTimeoutMs?: number;
}

/**
 * Outbound bytes a connection may hold unsent before audio is dropped: ~30 s of μ-law as base64 JSON. Live
 * audio that old is worthless, and a stalled socket must not grow the process's memory without bound.
 */
const MAX_BUFFERED_BYTES = 512 * 1024;

/** `input_audio_buffer.append` around its base64 audio (see `appendAudio`). */
const APPEND_HEAD = '{"type":"input_audio_buffer.append","audio":"';
const APPEND_TAIL = '"}';

/** The connection's end: `error` when it failed (classified: auth, rate_limit, connectivity, server…). */
export type RealtimeClosed = { error?: Error };

/** The URL of a Realtime socket for `model` under `baseUrl`. */
export function realtimeUrl(baseUrl: string, model: RealtimeModel): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + '/realtime');
  url.protocol = url.protocol === 'http:' ? 'ws:' : url.protocol === 'https:' ? 'wss:' : url.protocol;
  url.searchParams.set('model', model);
  return url.toString();
}

export class RealtimeConnection {
  /** Resolves once the socket is open; rejects (classified) when it could not be opened. */
  readonly ready: Promise<void>;
  private listener: ((e: RealtimeServerEvent) => void) | undefined;
  private closeListener: ((c: RealtimeClosed) => void) | undefined;
  private closed = false;
  /** Audio appends dropped because the socket was not keeping up. */
  dropped = 0;

  private constructor(private readonly ws: WebSocket, timeoutMs: number) {
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(classifyNetworkError(new Error('realtime handshake timed out')));
        ws.terminate();
      }, timeoutMs);
      timer.unref?.();
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('unexpected-response', (req, res) => {
        clearTimeout(timer);
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString('utf8')));
        res.on('end', () => {
          const err = classifyHttpFailure(res.statusCode ?? 0, new Headers(), body);
          reject(err);
          this.end(err);
          req.destroy();
        });
        res.on('error', () => undefined);
      });
      ws.on('error', (err) => {
        clearTimeout(timer);
        const e = classifyNetworkError(err);
        reject(e);
        this.end(e);
      });
    });
    this.ready.catch(() => undefined); // observed by whoever awaits it; the close listener hears it too
    ws.on('message', (data, isBinary) => {
      if (isBinary) return; // the protocol is JSON text frames only
      let event: RealtimeServerEvent;
      try {
        event = JSON.parse(String(data)) as RealtimeServerEvent;
      } catch {
        return; // an unreadable frame is skipped, not fatal
      }
      if (typeof event?.type !== 'string') return;
      try {
        this.listener?.(event);
      } catch (err) {
        // An event of a shape the listener could not read (a field missing, or of another type): what the model
        // is doing is no longer known, so the connection fails, as a dropped one does; the error must not
        // escape the socket's listener, where it would end the process.
        ws.terminate();
        this.end(llmError('bad_response', { cause: err }));
      }
    });
    ws.on('close', (code) => this.end(code === 1000 || code === 1005 ? undefined : classifyStreamError({ error: { message: `closed with code ${code}` } })));
  }

  /** Opens a connection (the handshake runs in the background: await `ready`). */
  static open(o: RealtimeOptions): RealtimeConnection {
    // GA protocol: only the bearer key; a beta header would switch the server to the old event names.
    // No permessage-deflate: its zlib state (≈ 260 KB a socket) buys nothing on base64 audio (docs/performance.md §8).
    const ws = new WebSocket(realtimeUrl(o.baseUrl, o.model ?? 'gpt-realtime'), { headers: { Authorization: `Bearer ${o.apiKey}` }, perMessageDeflate: false });
    return new RealtimeConnection(ws, o.connectTimeoutMs ?? 10_000);
  }

  /** Receives every server event, in order (one listener). If it throws (an event it could not read), the connection fails (`bad_response`). */
  onEvent(listener: (e: RealtimeServerEvent) => void): void {
    this.listener = listener;
  }

  /** Hears the connection's end once (closed by us, by the server, or failed). Must not throw. */
  onClose(listener: (c: RealtimeClosed) => void): void {
    this.closeListener = listener;
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one event; a no-op once closed. Audio is dropped while the socket is backed up (see MAX_BUFFERED_BYTES). */
  send(event: RealtimeClientEvent): void {
    if (!this.isOpen) return;
    if (event.type === 'input_audio_buffer.append' && this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.dropped++;
      return;
    }
    this.ws.send(JSON.stringify(event));
  }

  /**
   * The callee's audio, one μ-law frame (`input_audio_buffer.append`): 50 a second a call, so the message is
   * built from its fixed text around the base64 (nothing in base64 needs escaping) rather than by
   * `JSON.stringify` of a fresh object. Dropped like any append while the socket is backed up.
   */
  appendAudio(frame: Uint8Array): void {
    if (!this.isOpen) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.dropped++;
      return;
    }
    this.ws.send(APPEND_HEAD + Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('base64') + APPEND_TAIL);
  }

  close(): void {
    if (this.closed) return;
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close(1000);
    this.end();
  }

  private end(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeListener?.({ error });
  }
}
