/**
 * What the text-to-speech fakes share: a real HTTP server on 127.0.0.1:0 that captures every request, answers
 * errors as JSON, and streams audio back in chunks, after a configurable latency to the first byte. With
 * `hold`, it sends the first chunk and then waits for `release()` (or for the client to go away), so a
 * test can see audio arrive before the whole without timing anything.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import alawmulaw from 'alawmulaw';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The raw body. */
  body: Buffer;
  /** The body as JSON, when it parsed. */
  json?: any;
  /** The client closed the connection before the whole answer was sent (an abort). */
  closedEarly: boolean;
  /** Audio bytes written before the end or the close. */
  bytesSent: number;
}

export type FakeReply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { audio: Uint8Array; contentType: string; headers?: Record<string, string> };

export interface AudioFake {
  /** The server's base URL, `http://127.0.0.1:<port>`. */
  url: string;
  received: RecordedRequest[];
  /** Milliseconds before the first byte of audio (default 0). */
  latencyMs: number;
  /** Bytes per streamed chunk (default 800). */
  chunkBytes: number;
  /** After the first chunk, wait for `release()` before the rest. */
  hold: boolean;
  release(): void;
  /** The next request is answered with this instead (once). */
  failNext(status: number, json: unknown): void;
  /** TCP connections the clients opened so far (a kept connection serves many requests). */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * As the providers answer (behind their CDNs): the connection kept, no `Keep-Alive: timeout` announced — a header
 * of our own here stops Node's server adding one, so a client falls back on its own idle timeout, as it would
 * with the real service.
 */
const KEEP_ALIVE = { connection: 'keep-alive' };

/** Starts a fake that answers each request with `route`'s reply. */
export async function startAudioFake(route: (req: RecordedRequest) => FakeReply | Promise<FakeReply>): Promise<AudioFake> {
  let releaseHold: () => void = () => undefined;
  let held = new Promise<void>((r) => (releaseHold = r));
  let nextFailure: { status: number; json: unknown } | undefined;

  const fake: AudioFake = {
    url: '',
    received: [],
    latencyMs: 0,
    chunkBytes: 800,
    hold: false,
    release() {
      releaseHold();
      held = new Promise<void>((r) => (releaseHold = r));
    },
    failNext(status, json) {
      nextFailure = { status, json };
    },
    get connections() {
      return connections;
    },
    close: async () => undefined,
  };
  let connections = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const u = new URL(req.url ?? '/', 'http://fake');
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      json = undefined;
    }
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, body, json, closedEarly: false, bytesSent: 0 };
    fake.received.push(rec);
    let finished = false;
    res.on('close', () => {
      if (!finished) rec.closedEarly = true;
    });

    const failure = nextFailure;
    nextFailure = undefined;
    const reply: FakeReply = failure ?? (await route(rec));
    if ('json' in reply) {
      finished = true;
      res.writeHead(reply.status, { 'content-type': 'application/json', ...KEEP_ALIVE, ...reply.headers });
      res.end(JSON.stringify(reply.json));
      return;
    }
    if (fake.latencyMs > 0) await sleep(fake.latencyMs);
    res.writeHead(200, { 'content-type': reply.contentType, 'transfer-encoding': 'chunked', ...KEEP_ALIVE, ...reply.headers });
    for (let at = 0; at < reply.audio.length; at += fake.chunkBytes) {
      if (rec.closedEarly) return;
      const piece = reply.audio.subarray(at, at + fake.chunkBytes);
      await new Promise<void>((r) => res.write(piece, () => r()));
      rec.bytesSent += piece.length;
      if (at === 0 && fake.hold) await Promise.race([held, new Promise<void>((r) => res.once('close', () => r()))]);
    }
    finished = true;
    res.end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: String(err) }));
    });
  });
  // Providers keep an idle connection for minutes (Node's default: 5 s).
  server.keepAliveTimeout = 120_000;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((r) => {
      releaseHold();
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}

/** A 440 Hz tone as 16-bit samples, 60 ms per character of `text` (at least 200 ms): audio whose length follows the text. */
export function toneFor(text: string, sampleRate: number): Int16Array {
  const ms = Math.max(200, text.length * 60);
  const n = Math.round((sampleRate * ms) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
  return out;
}

/** The tone as headerless μ-law 8 kHz (ElevenLabs' `ulaw_8000`, Azure's `raw-8khz-8bit-mono-mulaw`). */
export function mulawToneFor(text: string): Uint8Array {
  return alawmulaw.mulaw.encode(toneFor(text, 8000));
}

/** The tone as 16-bit little-endian PCM at `sampleRate` (OpenAI's `pcm` is 24 kHz). */
export function pcmToneFor(text: string, sampleRate: number): Uint8Array {
  const s = toneFor(text, sampleRate);
  return new Uint8Array(s.buffer, s.byteOffset, s.byteLength);
}
