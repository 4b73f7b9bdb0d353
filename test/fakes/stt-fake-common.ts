/**
 * What the speech-to-text fakes (deepgram/, openai-transcription/) share: a WebSocket server on 127.0.0.1:0
 * that checks the handshake like the provider (an HTTP status and body instead of the upgrade), an outbox that
 * sends in order after a configurable latency, and a deterministic "recogniser".
 *
 * The recogniser does not understand speech: the test registers the phrases it will send (text, and the
 * fixture's audio so the fake knows how long each phrase lasts), and the n-th utterance heard is the n-th
 * phrase. Speech and silence are told apart by the energy of each 20 ms of μ-law; time is the audio's own
 * (bytes / 8000), as a provider measures it, so results do not depend on how fast a test pushes audio.
 * Interim results reveal the phrase's words in proportion to the speech heard; endpointing fires after
 * `endpointingMs` of silence following speech.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import alawmulaw from 'alawmulaw';
import { WebSocket, WebSocketServer } from 'ws';

const BYTES_PER_MS = 8;
const WINDOW_BYTES = 160; // 20 ms
/** RMS (of 16-bit linear) above which a 20 ms window is speech: espeak-ng speech is far above, line silence far below. */
const SPEECH_RMS = 300;

export interface FakePhrase {
  text: string;
  /** The fixture the test will stream for this phrase; without it a phrase lasts 250 ms a word. */
  audio?: Uint8Array;
}

export type Heard =
  | { type: 'speech_started'; atMs: number }
  /** Words heard so far of the utterance being spoken. */
  | { type: 'partial'; text: string; startMs: number; atMs: number }
  /** The utterance ended: by `endpointingMs` of silence, or forced (finalize/commit/close). */
  | { type: 'utterance'; text: string; startMs: number; endMs: number; forced: boolean };

/** Milliseconds of speech (20 ms windows above the threshold) in μ-law audio. */
export function speechMs(audio: Uint8Array): number {
  let ms = 0;
  for (let i = 0; i + WINDOW_BYTES <= audio.length; i += WINDOW_BYTES) if (isSpeech(audio.subarray(i, i + WINDOW_BYTES))) ms += 20;
  return ms;
}

function isSpeech(window: Uint8Array): boolean {
  const pcm = alawmulaw.mulaw.decode(window);
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return Math.sqrt(sum / pcm.length) > SPEECH_RMS;
}

export class FakeRecognizer {
  private carry = new Uint8Array(0);
  private phraseIndex = 0;
  private inUtterance = false;
  private utteranceStartMs = 0;
  private lastSpeechEndMs = 0;
  private heardSpeechMs = 0;
  private revealed = 0;
  private nextPartialAtMs = 0;
  /** Audio heard so far (ms). */
  audioMs = 0;

  constructor(
    private readonly phrases: FakePhrase[],
    /** Silence that ends an utterance; undefined never ends one by silence. */
    public endpointingMs: number | undefined,
    private readonly partialEveryMs = 300,
  ) {}

  get speaking(): boolean {
    return this.inUtterance;
  }

  push(bytes: Uint8Array): Heard[] {
    const all = new Uint8Array(this.carry.length + bytes.length);
    all.set(this.carry);
    all.set(bytes, this.carry.length);
    const out: Heard[] = [];
    let i = 0;
    for (; i + WINDOW_BYTES <= all.length; i += WINDOW_BYTES) this.window(all.subarray(i, i + WINDOW_BYTES), out);
    this.carry = all.slice(i);
    return out;
  }

  /** Ends the utterance being spoken now, if any. */
  finalize(): Heard | undefined {
    if (!this.inUtterance) return undefined;
    return this.end(true, this.wordsHeard());
  }

  private window(window: Uint8Array, out: Heard[]): void {
    this.audioMs += WINDOW_BYTES / BYTES_PER_MS;
    if (isSpeech(window)) {
      if (!this.inUtterance) {
        this.inUtterance = true;
        this.utteranceStartMs = this.audioMs - 20;
        this.heardSpeechMs = 0;
        this.revealed = 0;
        this.nextPartialAtMs = this.partialEveryMs;
        out.push({ type: 'speech_started', atMs: this.utteranceStartMs });
      }
      this.heardSpeechMs += 20;
      this.lastSpeechEndMs = this.audioMs;
      if (this.heardSpeechMs >= this.nextPartialAtMs) {
        this.nextPartialAtMs += this.partialEveryMs;
        const words = this.wordsHeard();
        if (words > this.revealed) {
          this.revealed = words;
          out.push({ type: 'partial', text: this.words().slice(0, words).join(' '), startMs: this.utteranceStartMs, atMs: this.audioMs });
        }
      }
      return;
    }
    if (this.inUtterance && this.endpointingMs !== undefined && this.audioMs - this.lastSpeechEndMs >= this.endpointingMs) {
      out.push(this.end(false, this.words().length));
    }
  }

  private end(forced: boolean, words: number): Heard {
    const text = this.words().slice(0, words).join(' ');
    const heard: Heard = { type: 'utterance', text, startMs: this.utteranceStartMs, endMs: this.lastSpeechEndMs, forced };
    this.inUtterance = false;
    this.phraseIndex++;
    return heard;
  }

  private words(): string[] {
    return (this.phrases[this.phraseIndex]?.text ?? '').split(/\s+/).filter(Boolean);
  }

  /** Words of the current phrase heard so far, in proportion to its speech. */
  private wordsHeard(): number {
    const phrase = this.phrases[this.phraseIndex];
    const words = this.words().length;
    const expected = phrase?.audio ? speechMs(phrase.audio) : words * 250;
    return Math.min(words, Math.ceil((words * this.heardSpeechMs) / Math.max(1, expected)));
  }
}

/** Sends a connection's messages in order, each after `latencyMs` (the provider's processing time). */
export class Outbox {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly ws: WebSocket,
    private readonly latencyMs: number,
  ) {}

  send(message: object): void {
    this.later(() => this.ws.send(JSON.stringify(message)));
  }

  close(code: number, reason: string): void {
    this.later(() => this.ws.close(code, reason));
  }

  private later(action: () => void): void {
    this.chain = this.chain
      .then(() => (this.latencyMs > 0 ? new Promise<void>((r) => setTimeout(r, this.latencyMs)) : undefined))
      .then(() => {
        if (this.ws.readyState === WebSocket.OPEN) action();
      })
      .catch(() => undefined);
  }
}

/** A refused handshake: the HTTP status, headers and body the provider answers instead of upgrading. */
export interface Refusal {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export interface WsFake {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): Promise<void>;
}

/**
 * A WebSocket server on 127.0.0.1:0. `check` sees each upgrade request first and may refuse or stall it; accepted
 * connections go to `connected` with the request's URL.
 */
export async function startWsFake(
  /** A refusal to send; `'hang'` never answers the upgrade (a provider that accepted TCP and stalled). */
  check: (req: IncomingMessage, url: URL) => Refusal | 'hang' | undefined,
  connected: (ws: WebSocket, req: IncomingMessage, url: URL) => void,
): Promise<WsFake> {
  const server = createServer((_req, res) => res.writeHead(426).end('websocket only'));
  const wss = new WebSocketServer({ noServer: true });
  // Upgrade sockets leave the HTTP server's tracking: the stalled ones are destroyed by close() here.
  const stalled = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const refusal = check(req, url);
    if (refusal === 'hang') {
      stalled.add(socket);
      return;
    }
    if (refusal) return refuse(socket, refusal);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined);
      connected(ws, req, url);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      for (const socket of stalled) socket.destroy();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function refuse(socket: Duplex, refusal: Refusal): void {
  const body = Buffer.from(refusal.body);
  const headers = { 'Content-Type': 'application/json', 'Content-Length': String(body.length), Connection: 'close', ...refusal.headers };
  const head = [`HTTP/1.1 ${refusal.status} Refused`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  socket.end(Buffer.concat([Buffer.from(head), body]));
}

/** `ms` of line silence in μ-law (0xFF is zero amplitude). */
export function silence(ms: number): Uint8Array {
  return new Uint8Array(ms * BYTES_PER_MS).fill(0xff);
}

/** Audio cut into Twilio's 20 ms frames. */
export function frames(audio: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < audio.length; i += WINDOW_BYTES) out.push(audio.subarray(i, i + WINDOW_BYTES));
  return out;
}
