/**
 * A fake Deepgram live streaming server (protocols.md §8) on port 0: `GET /v1/listen` upgraded to a WebSocket
 * when `Authorization: Token <key>` matches (else HTTP 401 with a `dg-error` header and Deepgram's error JSON).
 * Reads binary μ-law audio and the text control messages `KeepAlive`, `Finalize` and `CloseStream`; answers
 * `SpeechStarted` (with `vad_events=true`), interim `Results` (with `interim_results=true`), a final `Results`
 * with `speech_final` after `endpointing` ms of silence, `UtteranceEnd` after `utterance_end_ms` without words,
 * `from_finalize` results on `Finalize`, and on `CloseStream` the last results, `Metadata` and a normal close.
 * What it hears is scripted by phrases (see ../stt-fake-common.ts), in order or (`recogniseByAudio`) by sound.
 */
import { randomUUID } from 'node:crypto';
import { FakeRecognizer, Outbox, startWsFake, type FakePhrase, type Heard } from '../stt-fake-common.js';

export interface FakeDeepgramOptions {
  apiKey?: string;
  /** What the n-th utterance heard says, on every connection. */
  phrases?: FakePhrase[];
  /** Each utterance is the phrase whose `audio` it is (FakeRecognizer's `byAudio`), not the n-th phrase. */
  recogniseByAudio?: boolean;
  /** Delay before each message the fake sends (ms). */
  latencyMs?: number;
  /** Never set `speech_final` (a noisy line where endpointing does not fire): only `UtteranceEnd` ends turns. */
  noSpeechFinal?: boolean;
  /** Fix a span (`is_final` without `speech_final`) every this many words, as Deepgram does in long utterances. */
  spanWords?: number;
  /** Accept the TCP connection but never answer the WebSocket upgrade. */
  stallHandshake?: boolean;
  /** Close the socket like Deepgram's failures do once this much audio (ms) was received. */
  failAfterAudioMs?: { ms: number; code: number; reason: string };
}

/** One client connection, as the fake saw it. */
export interface DeepgramConnection {
  query: URLSearchParams;
  authorization: string | undefined;
  /** The `Sec-WebSocket-Extensions` the client offered (permessage-deflate, when it asks for compression). */
  extensions: string | undefined;
  audioBytes: number;
  /** The length of each binary (audio) message, in order: how the client chunked its audio. */
  audioMessages: number[];
  /** Each binary (audio) message, in order: the bytes the provider heard. */
  audio: Buffer[];
  keepAlives: number;
  finalizes: number;
  closeStreams: number;
  /** Every text message received, in order. */
  controls: string[];
  /** Every message sent, in order. */
  sent: Record<string, unknown>[];
  closed: boolean;
}

export interface FakeDeepgram {
  /** Base URL for the adapter (`http://127.0.0.1:<port>`). */
  url: string;
  connections: DeepgramConnection[];
  /** Handshakes refused (bad key). */
  refused: number;
  close(): Promise<void>;
}

export async function startFakeDeepgram(options: FakeDeepgramOptions = {}): Promise<FakeDeepgram> {
  const apiKey = options.apiKey ?? 'dg-test-key';
  const fake: FakeDeepgram = { url: '', connections: [], refused: 0, close: async () => undefined };
  const server = await startWsFake(
    (req, url) => {
      if (url.pathname !== '/v1/listen') return { status: 404, body: JSON.stringify({ err_code: 'NOT_FOUND', err_msg: 'Not found' }) };
      if (options.stallHandshake) return 'hang';
      if (req.headers.authorization !== `Token ${apiKey}`) {
        fake.refused++;
        return {
          status: 401,
          headers: { 'dg-error': 'Invalid credentials.', 'dg-request-id': randomUUID() },
          body: JSON.stringify({ err_code: 'INVALID_AUTH', err_msg: 'Invalid credentials.', request_id: randomUUID() }),
        };
      }
      return undefined;
    },
    (ws, req, url) => {
      const conn: DeepgramConnection = {
        query: url.searchParams,
        authorization: req.headers.authorization,
        extensions: req.headers['sec-websocket-extensions'],
        audioBytes: 0,
        audioMessages: [],
        audio: [],
        keepAlives: 0,
        finalizes: 0,
        closeStreams: 0,
        controls: [],
        sent: [],
        closed: false,
      };
      fake.connections.push(conn);
      const out = new Outbox(ws, options.latencyMs ?? 0);
      const send = (message: Record<string, unknown>) => {
        conn.sent.push(message);
        out.send(message);
      };
      const q = url.searchParams;
      const endpointing = q.get('endpointing') === 'false' ? undefined : Number(q.get('endpointing') ?? 10);
      const utteranceEndMs = q.has('utterance_end_ms') ? Number(q.get('utterance_end_ms')) : undefined;
      // Without endpointing Deepgram still fixes spans (is_final); the fake fixes them after 300 ms of silence.
      const rec = new FakeRecognizer(options.phrases ?? [], endpointing ?? 300, undefined, options.recogniseByAudio);
      const requestId = randomUUID();
      let lastWordEndMs: number | undefined;
      /** Words of the current utterance already sent in an `is_final` span. */
      let fixedWords = 0;
      const after = (text: string) => text.split(' ').filter(Boolean).slice(fixedWords).join(' ');
      let failed = false;

      const results = (text: string, startMs: number, endMs: number, flags: { is_final: boolean; speech_final: boolean; from_finalize: boolean }) =>
        send({
          type: 'Results',
          channel_index: [0, 1],
          duration: (endMs - startMs) / 1000,
          start: startMs / 1000,
          ...flags,
          channel: { alternatives: [{ transcript: text, confidence: 0.98, words: words(text, startMs, endMs) }] },
          metadata: { request_id: requestId, model_info: { name: `general-${q.get('model') ?? 'nova-3'}`, version: 'fake', arch: q.get('model') ?? 'nova-3' }, model_uuid: 'fake' },
        });

      const handle = (heard: Heard, fromFinalize = false) => {
        if (heard.type === 'speech_started') {
          fixedWords = 0;
          if (q.get('vad_events') === 'true') send({ type: 'SpeechStarted', channel: [0], timestamp: heard.atMs / 1000 });
        } else if (heard.type === 'partial') {
          const words = heard.text.split(' ').length;
          if (options.spanWords && words - fixedWords >= options.spanWords) {
            results(after(heard.text), heard.startMs, heard.atMs, { is_final: true, speech_final: false, from_finalize: false });
            fixedWords = words;
          } else if (q.get('interim_results') === 'true') {
            results(after(heard.text), heard.startMs, heard.atMs, { is_final: false, speech_final: false, from_finalize: false });
          }
        } else {
          const speechFinal = !heard.forced && endpointing !== undefined && !options.noSpeechFinal;
          results(after(heard.text), heard.startMs, heard.endMs, { is_final: true, speech_final: speechFinal, from_finalize: fromFinalize });
          fixedWords = 0;
          lastWordEndMs = heard.endMs;
        }
      };

      ws.on('message', (data, isBinary) => {
        if (failed) return;
        const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
        if (isBinary) {
          conn.audioBytes += buf.length;
          conn.audioMessages.push(buf.length);
          conn.audio.push(buf);
          for (const heard of rec.push(buf)) handle(heard);
          if (utteranceEndMs !== undefined && lastWordEndMs !== undefined && rec.audioMs - lastWordEndMs >= utteranceEndMs && !rec.speaking) {
            send({ type: 'UtteranceEnd', channel: [0, 1], last_word_end: lastWordEndMs / 1000 });
            lastWordEndMs = undefined;
          }
          const f = options.failAfterAudioMs;
          if (f && rec.audioMs >= f.ms) {
            failed = true;
            out.close(f.code, f.reason);
          }
          return;
        }
        const text = buf.toString('utf8');
        conn.controls.push(text);
        let type: unknown;
        try {
          type = (JSON.parse(text) as { type?: unknown }).type;
        } catch {
          type = undefined;
        }
        if (type === 'KeepAlive') conn.keepAlives++;
        else if (type === 'Finalize') {
          conn.finalizes++;
          const heard = rec.finalize();
          if (heard) handle(heard, true);
          else results('', rec.audioMs, rec.audioMs, { is_final: true, speech_final: false, from_finalize: true });
        } else if (type === 'CloseStream') {
          conn.closeStreams++;
          const heard = rec.finalize();
          if (heard) handle(heard);
          send({ type: 'Metadata', transaction_key: 'deprecated', request_id: requestId, sha256: 'fake', created: new Date().toISOString(), duration: rec.audioMs / 1000, channels: 1 });
          out.close(1000, '');
        } else {
          // Deepgram closes on a message it cannot read.
          failed = true;
          out.close(1008, 'DATA-0000');
        }
      });
      ws.on('close', () => (conn.closed = true));
    },
  );
  fake.url = server.url;
  fake.close = server.close;
  return fake;
}

/** Word timings spread evenly over the span (Deepgram sends one entry a word). */
function words(text: string, startMs: number, endMs: number) {
  const list = text.split(/\s+/).filter(Boolean);
  const step = (endMs - startMs) / Math.max(1, list.length);
  return list.map((w, i) => ({
    word: w.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ''),
    start: (startMs + i * step) / 1000,
    end: (startMs + (i + 1) * step) / 1000,
    confidence: 0.98,
    punctuated_word: w,
  }));
}
