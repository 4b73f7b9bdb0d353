/**
 * The voice capacity bench's speech providers, on their real wires (protocols.md §8, §9) and at real time:
 *
 * - Deepgram live (`GET /v1/listen` upgraded): speech is any 20 ms of the μ-law received with a sample away
 *   from zero amplitude (the driver's silence is exactly zero), an utterance ends after the `endpointing` ms
 *   of silence the server asked for, so a final comes after the callee's silence as the audio arrives, plus
 *   `latency.sttMs`. Interim `Results` every 300 ms of speech and `SpeechStarted` when asked for. It reads
 *   the call's tag (./tag.ts) to tell the driver when it sent each call's end of turn. Not
 *   test/fakes/deepgram: that one keeps every message it sends (for assertions), decodes every window to
 *   measure its energy (a thousand calls of that would load the driver's core more than the server's), and
 *   cannot say which call a connection carries.
 * - ElevenLabs streaming (`POST /v1/text-to-speech/{voice}/stream?output_format=ulaw_8000`): after
 *   `latency.ttsFirstMs`, 60 ms of μ-law a character of text, in 100 ms chunks written `latency.ttsSpeed`
 *   times faster than real time (ElevenLabs flash streams faster than it plays).
 *
 * The latencies are read on every request, so the bench can switch them to 0 between windows.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { startWsFake, type WsFake } from '../../../test/fakes/stt-fake-common.js';
import { unawaited } from '../../../test/helpers/unawaited.js';
import { findTag } from './tag.js';

export interface Latency {
  /** Deepgram: after endpointing, before each message. */
  sttMs: number;
  /** The chat model: before the first token, and between 4-character pieces. */
  llmFirstMs: number;
  llmPieceMs: number;
  /** ElevenLabs: before the first audio byte; how many times faster than real time the rest streams. */
  ttsFirstMs: number;
  ttsSpeed: number;
}

export const API_KEYS = { deepgram: 'bench-deepgram-key', elevenlabs: 'bench-elevenlabs-key' };

const sleep = (ms: number) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** μ-law codes 0x70–0x7F and 0xF0–0xFF are within ±31 of zero: below any speech. */
function sounds(audio: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if ((audio[i] & 0x7f) < 0x70) return true;
  return false;
}

/** Where speech starts and ends in a stream of μ-law, 20 ms at a time, ending an utterance after `endpointingMs` of silence. */
class Endpointer {
  audioMs = 0;
  private startMs = -1;
  private lastSoundMs = 0;
  private nextPartialMs = 0;
  constructor(private readonly endpointingMs: number) {}

  /** What this much audio did: started speech, a partial moment, or an utterance's end (with its span). */
  push(audio: Buffer, on: (e: 'started' | 'partial' | 'ended', startMs: number, endMs: number) => void): void {
    for (let i = 0; i + 160 <= audio.length; i += 160) {
      this.audioMs += 20;
      if (sounds(audio, i, i + 160)) {
        if (this.startMs < 0) {
          this.startMs = this.audioMs - 20;
          this.nextPartialMs = this.startMs + 300;
          on('started', this.startMs, this.audioMs);
        }
        this.lastSoundMs = this.audioMs;
        if (this.audioMs >= this.nextPartialMs) {
          this.nextPartialMs += 300;
          on('partial', this.startMs, this.audioMs);
        }
      } else if (this.startMs >= 0 && this.audioMs - this.lastSoundMs >= this.endpointingMs) {
        on('ended', this.startMs, this.lastSoundMs);
        this.startMs = -1;
      }
    }
  }
}

export async function startDeepgram(latency: Latency, phrase: { text: string; audioMs: number }, onFinal: (idx: number, at: number) => void): Promise<WsFake> {
  const words = phrase.text.split(' ');
  /** The phrase's words heard by `ms` into it (in proportion). */
  const heard = (ms: number) => words.slice(0, Math.max(1, Math.ceil((words.length * ms) / phrase.audioMs))).join(' ');
  return startWsFake(
    (req, url) => {
      if (url.pathname !== '/v1/listen') return { status: 404, body: '{"err_code":"NOT_FOUND"}' };
      if (req.headers.authorization !== `Token ${API_KEYS.deepgram}`) return { status: 401, body: '{"err_code":"INVALID_AUTH"}' };
      return undefined;
    },
    (ws, _req, url) => {
      const q = url.searchParams;
      const rec = new Endpointer(Number(q.get('endpointing') ?? 10));
      const requestId = randomUUID();
      let idx: number | undefined;
      const send = (m: object, then?: () => void) =>
        unawaited(
          sleep(latency.sttMs).then(() => {
            if (ws.readyState !== ws.OPEN) return;
            ws.send(JSON.stringify(m));
            then?.();
          }),
        );
      const results = (text: string, startMs: number, endMs: number, isFinal: boolean, speechFinal: boolean, then?: () => void) =>
        send(
          {
            type: 'Results',
            channel_index: [0, 1],
            duration: (endMs - startMs) / 1000,
            start: startMs / 1000,
            is_final: isFinal,
            speech_final: speechFinal,
            from_finalize: false,
            channel: { alternatives: [{ transcript: text, confidence: 0.98, words: [] }] },
            metadata: { request_id: requestId, model_info: { name: 'general-nova-3', version: 'bench', arch: 'nova-3' }, model_uuid: 'bench' },
          },
          then,
        );
      ws.on('message', (data, isBinary) => {
        const buf = data as Buffer;
        if (!isBinary) {
          const text = buf.toString();
          if (text.includes('CloseStream')) ws.close(1000);
          else if (text.includes('Finalize')) results('', rec.audioMs, rec.audioMs, true, false);
          return;
        }
        idx ??= findTag(buf);
        rec.push(buf, (e, startMs, endMs) => {
          if (e === 'started') {
            if (q.get('vad_events') === 'true') send({ type: 'SpeechStarted', channel: [0], timestamp: startMs / 1000 });
          } else if (e === 'partial') {
            if (q.get('interim_results') === 'true') results(heard(endMs - startMs), startMs, endMs, false, false);
          } else {
            const call = idx;
            results(phrase.text, startMs, endMs, true, true, () => call !== undefined && onFinal(call, performance.now()));
          }
        });
      });
    },
  );
}

export interface ElevenLabsFake {
  url: string;
  requests: number;
  close(): Promise<void>;
}

export async function startElevenLabs(latency: Latency, voiceAudio: Buffer): Promise<ElevenLabsFake> {
  const fake: ElevenLabsFake = { url: '', requests: 0, close: async () => undefined };
  const server = http.createServer((req, res) => unawaited(speak(req, res)));
  const speak = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (!/^\/v1\/text-to-speech\/[^/]+\/stream\?output_format=ulaw_8000$/.test(req.url ?? '') || req.method !== 'POST') {
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":{"status":"not_found"}}');
    }
    if (req.headers['xi-api-key'] !== API_KEYS.elevenlabs) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"detail":{"status":"invalid_api_key"}}');
    fake.requests++;
    const text = String((JSON.parse(Buffer.concat(chunks).toString()) as { text?: unknown }).text ?? '');
    const bytes = text.length * 60 * 8;
    let aborted = false;
    res.on('close', () => (aborted = true));
    await sleep(latency.ttsFirstMs);
    res.writeHead(200, { 'content-type': 'audio/basic', 'request-id': randomUUID() });
    for (let sent = 0; sent < bytes && !aborted; sent += 800) {
      if (sent > 0 && latency.ttsFirstMs > 0) await sleep(100 / latency.ttsSpeed);
      const n = Math.min(800, bytes - sent);
      const at = sent % voiceAudio.length;
      res.write(at + n <= voiceAudio.length ? voiceAudio.subarray(at, at + n) : Buffer.alloc(n, 0x55));
    }
    res.end();
  };
  server.keepAliveTimeout = 120_000; // as a provider keeps idle connections (Node's default: 5 s)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return fake;
}
