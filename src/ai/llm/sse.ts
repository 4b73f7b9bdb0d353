/**
 * A small Server-Sent Events reader over `node:http(s)` (src/lib/http-post.ts says why not `fetch`), shared by
 * the LLM adapters. Both OpenAI-compatible servers and Anthropic stream `text/event-stream`; the adapters differ
 * only in what the `data` means.
 *
 * We use plain HTTP rather than the official SDKs (`openai`, `@anthropic-ai/sdk`) because the SDKs bring
 * their own retries, timeouts and error classes; here one function classifies failures, one wrapper retries
 * (`retry.ts`), and the timeout is an idle timer that also catches a stream that stops sending.
 */
import type http from 'node:http';
import { headerOf, headersOf, post, textOf } from '../../lib/http-post.js';
import { LlmError } from './llm.js';
import { classifyHttpFailure, classifyNetworkError, llmError } from './classify.js';

/** One dispatched SSE event. `event` is absent for the default (`message`) type. */
export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * Incremental SSE parser (WHATWG rules: `\r\n`, `\n` or `\r` end lines; `:` starts a comment; a blank line
 * dispatches; `data` lines join with `\n`; unknown fields are ignored).
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event: string | undefined;

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone `\r` at the end may be the first half of `\r\n`: wait for more.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  /** The stream ended: be lenient and dispatch a last event that lacked its blank line. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buffer) {
      const ev = this.line(this.buffer.replace(/\r$/, ''));
      this.buffer = '';
      if (ev) out.push(ev);
    }
    const last = this.line('');
    if (last) out.push(last);
    return out;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = undefined;
        return undefined;
      }
      const ev: SseEvent = { data: this.data.join('\n') };
      if (this.event) ev.event = this.event;
      this.data = [];
      this.event = undefined;
      return ev;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    return undefined;
  }
}

export interface PostSseOptions {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /** Longest wait for the response headers and then between two reads of the body. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Header that carries the provider's request id (`x-request-id`, `request-id`). */
  requestIdHeader: string;
}

/** Filled in once the response headers arrive, so protocol errors can carry the request id. */
export interface SseContext {
  requestId?: string;
}

/**
 * POSTs JSON and yields the SSE events of the response. Throws `LlmError` for HTTP failures (classified),
 * network failures and an idle timeout; throws the signal's reason when `signal` aborts. Leaving the loop early
 * (break, return, throw) lets the rest of the body arrive for up to SSE_DRAIN_MS (the stream's last event
 * comes just before the body's end: the connection is then kept) and aborts the HTTP request after that; an
 * abort through `signal` aborts it at once.
 */
export async function* postSse(opts: PostSseOptions, ctx: SseContext = {}): AsyncGenerator<SseEvent> {
  const { signal } = opts;
  if (signal?.aborted) throw signal.reason;
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, opts.timeoutMs);
  };
  const disarm = () => clearTimeout(timer);
  const failure = (err: unknown): unknown => {
    if (signal?.aborted) return signal.reason;
    if (timedOut) return llmError('timeout', { requestId: ctx.requestId, cause: err });
    if (err instanceof LlmError) return err;
    return classifyNetworkError(err, ctx.requestId);
  };

  let res: http.IncomingMessage | undefined;
  let body: AsyncIterator<string> | undefined;
  /** The body was read to its end (or failed): nothing is left to drain. */
  let finished = false;
  try {
    arm();
    try {
      const headers = { 'content-type': 'application/json', accept: 'text/event-stream', ...opts.headers };
      res = await post(opts.url, headers, JSON.stringify(opts.body), ctl.signal);
    } catch (err) {
      throw failure(err);
    }
    ctx.requestId = headerOf(res, opts.requestIdHeader);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      let text = '';
      try {
        text = await textOf(res);
      } catch (err) {
        if (signal?.aborted || timedOut) throw failure(err);
      }
      finished = true;
      throw classifyHttpFailure(status, headersOf(res), text, ctx.requestId);
    }
    // Text, with characters split across reads joined; leaving the loop early keeps the body (drained below).
    res.setEncoding('utf8');
    body = res.iterator({ destroyOnReturn: false }) as AsyncIterator<string>;
    const parser = new SseParser();
    for (;;) {
      arm();
      let r: IteratorResult<string>;
      try {
        r = await body.next();
      } catch (err) {
        finished = true;
        throw failure(err);
      }
      // The consumer may hold a chunk for long (speech is slow): only time the network, not the consumer.
      disarm();
      if (r.done) break;
      for (const ev of parser.push(r.value)) yield ev;
    }
    finished = true;
    for (const ev of parser.end()) yield ev;
  } finally {
    disarm();
    signal?.removeEventListener('abort', onAbort);
    if (res && !finished && !signal?.aborted) {
      // The consumer stopped early, most often at the stream's own last event (`[DONE]`, `message_stop`)
      // with the body's end still on its way: read that end, so that the connection goes back to the pool
      // instead of being cut — a new connection (a TLS handshake) for every turn otherwise.
      await body?.return?.();
      drainThenRelease(res);
    } else if (res && !res.complete) {
      // Ends the HTTP request if we stop before the server does (abort, error).
      res.destroy();
    }
  }
}

/** How long the end of a body the consumer left is waited for before the request is cut. */
export const SSE_DRAIN_MS = 500;

/** Reads what is left of a body, for at most SSE_DRAIN_MS; cuts the request if it has not ended by then. */
function drainThenRelease(res: http.IncomingMessage): void {
  const timer = setTimeout(() => res.destroy(), SSE_DRAIN_MS);
  const done = () => clearTimeout(timer);
  res.once('end', done);
  res.once('close', done);
  // Cut (the timer) or failed: either way the request is over.
  res.on('error', () => undefined);
  res.resume();
}
