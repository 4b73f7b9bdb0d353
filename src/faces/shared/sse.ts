/**
 * Server-Sent Events over a raw Node response. A few lines of our own: the format is tiny and we need
 * exact control of `id:`, `event:` and when the stream closes, which the plugins wrap away.
 *
 * Backpressure: `send` resolves once the response will take more (after `drain` when its buffer is full),
 * so a follower never reads events faster than its client takes them; a client that stops reading makes
 * its follower fall behind, and it is then dropped (`drop`) rather than buffered without bound.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/** How long a dropped client has to take its last words before its socket is destroyed. */
const DROP_GRACE_MS = 5000;

export class SseStream {
  private readonly gone = new AbortController();
  constructor(private readonly res: ServerResponse) {
    res.on('close', () => this.gone.abort());
    // A write to a connection that broke meanwhile emits 'error', which would end the process unheard;
    // the stream is simply over (its 'close' follows).
    res.on('error', () => this.gone.abort());
  }

  open(headers: Record<string, string> = {}): void {
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      ...headers,
    });
    this.res.flushHeaders?.();
  }

  /** Aborted when the client goes away or the stream is closed: hand it to whatever feeds the stream. */
  get signal(): AbortSignal {
    return this.gone.signal;
  }

  get isClosed(): boolean {
    return this.gone.signal.aborted || this.res.destroyed || this.res.writableEnded;
  }

  /** Writes one event; resolves when the client may be sent more (or is gone). */
  async send(event: string, data: unknown, id?: number | string): Promise<void> {
    if (this.isClosed) return;
    if (this.res.write(format(event, data, id))) return;
    // A closed stream aborts the wait; that is not an error for the writer.
    await once(this.res, 'drain', { signal: this.gone.signal }).catch(() => undefined);
  }

  /** Writes an event only if the client is keeping up (keep-alive pings must not pile up for a stuck one). */
  trySend(event: string, data: unknown): void {
    if (!this.isClosed && !this.res.writableNeedDrain) this.res.write(format(event, data));
  }

  close(): void {
    if (this.isClosed) return;
    this.gone.abort();
    this.res.end();
  }

  /**
   * Drops the client: an `error` event with the reason, then the end. A client that does not take even that
   * has its socket destroyed after a short grace, so nothing stays buffered for it.
   */
  drop(reason: string): void {
    if (this.isClosed) return;
    this.res.write(format('error', { error: reason }));
    this.close();
    const socket = this.res.socket;
    if (socket && !socket.destroyed) setTimeout(() => socket.destroy(), DROP_GRACE_MS).unref();
  }
}

function format(event: string, data: unknown, id?: number | string): string {
  let out = '';
  if (id !== undefined) out += `id: ${id}\n`;
  out += `event: ${event}\n`;
  out += `data: ${JSON.stringify(data)}\n\n`;
  return out;
}
