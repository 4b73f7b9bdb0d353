/**
 * Server-Sent Events over a raw Node response. A few lines of our own: the format is tiny and we need
 * exact control of `id:`, `event:` and when the stream closes, which the plugins wrap away.
 */
import type { ServerResponse } from 'node:http';

export class SseStream {
  private closed = false;
  constructor(private readonly res: ServerResponse) {}

  open(headers: Record<string, string> = {}): void {
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      ...headers,
    });
    this.res.flushHeaders?.();
    this.res.on('close', () => (this.closed = true));
    // A write to a connection that broke meanwhile emits 'error', which would end the process unheard;
    // the stream is simply over (its 'close' follows and the route cleans up there).
    this.res.on('error', () => (this.closed = true));
  }

  get isClosed(): boolean {
    return this.closed || this.res.destroyed;
  }

  send(event: string, data: unknown, id?: number | string): void {
    if (this.isClosed) return;
    let out = '';
    if (id !== undefined) out += `id: ${id}\n`;
    out += `event: ${event}\n`;
    out += `data: ${JSON.stringify(data)}\n\n`;
    this.res.write(out);
  }

  close(): void {
    if (this.isClosed) return;
    this.closed = true;
    this.res.end();
  }

  onClose(fn: () => void): void {
    this.res.on('close', fn);
  }
}
