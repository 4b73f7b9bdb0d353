/**
 * What the two LLM fakes share: an HTTP server on port 0 that records each request and answers from a script,
 * with the failure modes (status, garbage, hang, drop, delay) done the same way. The wire bodies are each fake's.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { unawaited } from '../helpers/unawaited.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body. */
  body: any;
  /** The client closed the connection before the reply was complete (abort, timeout). */
  disconnected: boolean;
  /** The whole reply was handed to the socket. */
  finished: boolean;
}

/** Failure modes common to both fakes. */
export interface FailureReply {
  /** An HTTP error status; the body is the provider's error JSON. */
  status?: number;
  /** `Retry-After` header value: seconds, or an HTTP date string. */
  retryAfter?: number | string;
  /** Error type/code in the error body (e.g. `insufficient_quota`). */
  errorType?: string;
  /** 200 with an event stream that is not the protocol's JSON. */
  garbage?: boolean;
  /** Send this many SSE events, then stop sending and keep the connection open. */
  hangAfterChunks?: number;
  /** Send this many SSE events, then cut the connection. */
  dropAfterChunks?: number;
  /** Wait before answering (ms), and this long between events when `chunkDelayMs` is unset. */
  delayMs?: number;
  /** Wait between events (ms). */
  chunkDelayMs?: number;
}

export type Script<R> = R[] | ((body: any, index: number) => R);

export interface LlmFake<R> {
  /** Base URL to give the adapter. */
  url: string;
  requests: RecordedRequest[];
  /** TCP connections clients have opened so far (a kept-alive one carries many requests). */
  readonly connections: number;
  /** Replies for the next requests, in order (a default reply once they run out), or a function of the body. */
  script(replies: Script<R>): void;
  close(): Promise<void>;
}

export interface Wire<R> {
  /** Path the fake serves (`/v1/chat/completions`, `/v1/messages`). */
  path: string;
  defaultReply: R;
  /** JSON error body for a status. */
  errorBody(status: number, reply: R): unknown;
  /** SSE frames (each ends with a blank line) for a successful reply. */
  frames(reply: R, body: any): string[];
  /** Extra response headers (request id). */
  headers: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Splits text into small pieces, mid-word, the way models stream. */
export function pieces(text: string, size = 4): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

export async function startLlmFake<R extends FailureReply>(wire: Wire<R>, urlSuffix: string): Promise<LlmFake<R>> {
  const requests: RecordedRequest[] = [];
  let script: Script<R> = [];
  let served = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => unawaited(answer(req, res, Buffer.concat(chunks).toString('utf8'))));
  });

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const rec: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, disconnected: false, finished: false };
    requests.push(rec);
    res.on('close', () => {
      if (!res.writableFinished) rec.disconnected = true;
    });
    res.on('finish', () => (rec.finished = true));
    const index = served++;
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== wire.path) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify(wire.errorBody(404, wire.defaultReply)));
      return;
    }
    const reply = typeof script === 'function' ? script(body, index) : (script.shift() ?? wire.defaultReply);
    if (reply.delayMs) await sleep(reply.delayMs);
    if (res.destroyed) return;
    if (reply.status && reply.status !== 200) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...wire.headers };
      if (reply.retryAfter !== undefined) headers['retry-after'] = String(reply.retryAfter);
      res.writeHead(reply.status, headers).end(JSON.stringify(wire.errorBody(reply.status, reply)));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...wire.headers });
    res.flushHeaders();
    if (reply.garbage) {
      res.end(': keep-alive\n\ndata: <html><body>502 Bad Gateway</body></html>\n\n');
      return;
    }
    const frames = wire.frames(reply, body);
    const gap = reply.chunkDelayMs ?? 0;
    for (let i = 0; i < frames.length; i++) {
      if (reply.hangAfterChunks !== undefined && i >= reply.hangAfterChunks) return; // keep the socket open, silent
      if (reply.dropAfterChunks !== undefined && i >= reply.dropAfterChunks) return void res.socket?.destroy();
      if (res.destroyed) return;
      // Wait until the frame is handed to the socket, so a later hang or drop happens after the client got it.
      await new Promise<void>((r) => res.write(frames[i], () => r()));
      if (gap) await sleep(gap);
    }
    res.end();
  }

  // A provider keeps an idle connection for minutes; Node's default (5 s, announced in `Keep-Alive`) would have
  // the client open a new one for each turn that follows a callee's longer pause.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let connections = 0;
  server.on('connection', () => connections++);
  return {
    url: `http://127.0.0.1:${port}${urlSuffix}`,
    requests,
    get connections() {
      return connections;
    },
    script: (s) => void (script = Array.isArray(s) ? [...s] : s),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
