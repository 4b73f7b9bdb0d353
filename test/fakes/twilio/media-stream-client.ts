/**
 * A fake Twilio Media Streams client, written from ../shared/protocols.md §4: it connects to a stream URL
 * the way Twilio does for `<Connect><Stream>` (optionally with an X-Twilio-Signature over the wss URL),
 * sends `connected` and `start` (with `<Parameter>`s as customParameters), then plays the callee's μ-law
 * audio as 20 ms `media` messages (chunk from 1, timestamp in ms), `dtmf`, and `stop`. It records what
 * Switchboard sends; outbound audio "plays" instantly, so a mark is echoed as soon as it arrives, unless
 * `holdMarks` is set (then marks wait for `playOut()`, and a `clear` returns them at once, unplayed audio dropped).
 * For a unidirectional fork (`<Start><Stream>`, the Streams resource) `tracks` lists what was asked for
 * (`['inbound','outbound']` for `both_tracks`) and `speak` plays on either track, each counting its own chunks.
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';

export interface FakeMediaStreamOptions {
  url: string;
  customParameters: Record<string, string>;
  callSid?: string;
  accountSid?: string;
  /** X-Twilio-Signature for the handshake, when the server checks it. */
  signature?: string;
  holdMarks?: boolean;
  /** `start.tracks` (default `['inbound']`, a bidirectional stream). */
  tracks?: Array<'inbound' | 'outbound'>;
  /** The stream's sid (default a new MZ…): a stream created over REST has the resource's sid. */
  streamSid?: string;
}

const sid = (prefix: string) => prefix + randomBytes(16).toString('hex');

export class FakeMediaStreamClient {
  readonly streamSid: string;
  readonly callSid: string;
  readonly accountSid: string;
  /** Every message Switchboard sent, parsed. */
  readonly received: Array<Record<string, any>> = [];
  /** Outbound audio played (or queued, with holdMarks), concatenated. */
  played = Buffer.alloc(0);
  closed: Promise<{ code: number; reason: string }>;
  private ws: WebSocket;
  private seq = 0;
  private chunks = { inbound: 0, outbound: 0 };
  private queue: Array<{ audio?: Buffer; mark?: string }> = [];

  private constructor(private readonly o: FakeMediaStreamOptions, ws: WebSocket) {
    this.ws = ws;
    this.streamSid = o.streamSid ?? sid('MZ');
    this.callSid = o.callSid ?? sid('CA');
    this.accountSid = o.accountSid ?? sid('AC');
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    ws.on('message', (data) => this.onMessage(JSON.parse(String(data)) as Record<string, any>));
  }

  static async connect(o: FakeMediaStreamOptions): Promise<FakeMediaStreamClient> {
    const ws = new WebSocket(o.url, { headers: o.signature ? { 'X-Twilio-Signature': o.signature } : {} });
    const client = new FakeMediaStreamClient(o, ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The client socket (for the fake Twilio to terminate on shutdown). */
  get socket(): WebSocket {
    return this.ws;
  }

  /** Outbound audio Switchboard sent on this stream, in order, whether played yet or not. */
  get mediaIn(): Buffer {
    return Buffer.concat(this.received.filter((m) => m.event === 'media' && m.streamSid === this.streamSid).map((m) => Buffer.from(String(m.media?.payload ?? ''), 'base64')));
  }

  /** `connected` then `start`. */
  start(mediaFormat: Record<string, unknown> = { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }): void {
    this.send({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.send({
      event: 'start',
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      start: {
        accountSid: this.accountSid,
        streamSid: this.streamSid,
        callSid: this.callSid,
        tracks: this.o.tracks ?? ['inbound'],
        mediaFormat,
        customParameters: this.o.customParameters,
      },
    });
  }

  /** The callee's audio (or, on a fork, either track's) as 20 ms media messages. */
  speak(mulaw: Buffer, track: 'inbound' | 'outbound' = 'inbound'): void {
    for (let i = 0; i < mulaw.length; i += 160) this.frame(mulaw.subarray(i, i + 160), track);
  }

  /** One media message on `track` (chunk and timestamp counted per track). */
  frame(payload: Buffer, track: 'inbound' | 'outbound' = 'inbound'): void {
    const c = ++this.chunks[track];
    this.send({
      event: 'media',
      sequenceNumber: String(++this.seq),
      streamSid: this.streamSid,
      media: { track, chunk: String(c), timestamp: String((c - 1) * 20), payload: payload.toString('base64') },
    });
  }

  dtmf(digit: string): void {
    this.send({ event: 'dtmf', sequenceNumber: String(++this.seq), streamSid: this.streamSid, dtmf: { track: 'inbound_track', digit } });
  }

  stop(): void {
    this.send({ event: 'stop', sequenceNumber: String(++this.seq), streamSid: this.streamSid, stop: { accountSid: this.accountSid, callSid: this.callSid } });
  }

  /** Raw message (for protocol-violation tests). */
  send(msg: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** With holdMarks: play everything queued, echoing marks in order. */
  playOut(): void {
    for (const item of this.queue.splice(0)) {
      if (item.audio) this.played = Buffer.concat([this.played, item.audio]);
      if (item.mark) this.echoMark(item.mark);
    }
  }

  close(): void {
    this.ws.close(1000);
  }

  /** Resolves once a message matching `pred` has been received. */
  async waitFor(pred: (m: Record<string, any>) => boolean, timeoutMs = 2000): Promise<Record<string, any>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      if (Date.now() > until) throw new Error('fake media stream: timed out waiting for a message');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private echoMark(name: string): void {
    this.send({ event: 'mark', sequenceNumber: String(++this.seq), streamSid: this.streamSid, mark: { name } });
  }

  private onMessage(m: Record<string, any>): void {
    this.received.push(m);
    if (m.streamSid !== this.streamSid) return; // Twilio ignores messages without the right streamSid
    if (m.event === 'media') {
      const audio = Buffer.from(String(m.media?.payload ?? ''), 'base64');
      if (this.o.holdMarks) this.queue.push({ audio });
      else this.played = Buffer.concat([this.played, audio]);
    } else if (m.event === 'mark') {
      if (this.o.holdMarks) this.queue.push({ mark: String(m.mark?.name) });
      else this.echoMark(String(m.mark?.name));
    } else if (m.event === 'clear') {
      // unplayed audio dropped; pending marks returned at once
      for (const item of this.queue.splice(0)) if (item.mark) this.echoMark(item.mark);
    }
  }
}
