/**
 * A fake OpenAI Realtime transcription server (protocols.md §6, `?intent=transcription`, GA shapes) on port 0:
 * `GET /v1/realtime` upgraded when `Authorization: Bearer <key>` matches (else HTTP 401 with OpenAI's error
 * JSON). Sends `session.created`, answers `session.update` (type `transcription`) with `session.updated`, reads
 * base64 audio from `input_audio_buffer.append`, and with server VAD (`silence_duration_ms` from the session)
 * sends `input_audio_buffer.speech_started`, then after the silence `speech_stopped`, `committed`, the
 * transcript as `conversation.item.input_audio_transcription.delta` pieces and one `.completed` with duration
 * usage. `input_audio_buffer.commit` commits the audio now (an `error` with `input_audio_buffer_commit_empty`
 * when under 100 ms arrived since the last commit). What it hears is scripted (see ../stt-fake-common.ts).
 */
import { FakeRecognizer, Outbox, startWsFake, type FakePhrase, type Heard } from '../stt-fake-common.js';

export interface FakeOpenAiTranscriptionOptions {
  apiKey?: string;
  phrases?: FakePhrase[];
  /** Delay before each message the fake sends (ms). */
  latencyMs?: number;
  /** Answer `session.update` with this `error` event (e.g. an unsupported language or model). */
  sessionError?: { code: string; message: string; param: string };
}

export interface TranscriptionConnection {
  query: URLSearchParams;
  authorization: string | undefined;
  /** Whether the client sent the beta header (a GA client does not). */
  betaHeader: string | undefined;
  /** The `Sec-WebSocket-Extensions` the client offered (permessage-deflate, when it asks for compression). */
  extensions: string | undefined;
  /** Every `session.update`'s `session`, in order. */
  sessions: Record<string, any>[];
  audioBytes: number;
  commits: number;
  /** Every message sent, in order. */
  sent: Record<string, any>[];
  closed: boolean;
}

export interface FakeOpenAiTranscription {
  /** Base URL for the adapter, with the version segment (`http://127.0.0.1:<port>/v1`). */
  url: string;
  connections: TranscriptionConnection[];
  refused: number;
  close(): Promise<void>;
}

/** Server VAD's default silence, until a session.update says otherwise. */
const DEFAULT_SILENCE_MS = 500;
const MIN_COMMIT_BYTES = 800; // 100 ms of μ-law

export async function startFakeOpenAiTranscription(options: FakeOpenAiTranscriptionOptions = {}): Promise<FakeOpenAiTranscription> {
  const apiKey = options.apiKey ?? 'sk-test-key';
  const fake: FakeOpenAiTranscription = { url: '', connections: [], refused: 0, close: async () => undefined };
  let events = 0;
  let items = 0;
  const server = await startWsFake(
    (req, url) => {
      if (url.pathname !== '/v1/realtime') return { status: 404, body: JSON.stringify({ error: { type: 'invalid_request_error', code: 'not_found', message: 'Not found' } }) };
      if (req.headers.authorization !== `Bearer ${apiKey}`) {
        fake.refused++;
        return {
          status: 401,
          headers: { 'x-request-id': 'req_fake_refused' },
          body: JSON.stringify({ error: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.', param: null } }),
        };
      }
      return undefined;
    },
    (ws, req, url) => {
      const conn: TranscriptionConnection = {
        query: url.searchParams,
        authorization: req.headers.authorization,
        betaHeader: req.headers['openai-beta'] as string | undefined,
        extensions: req.headers['sec-websocket-extensions'],
        sessions: [],
        audioBytes: 0,
        commits: 0,
        sent: [],
        closed: false,
      };
      fake.connections.push(conn);
      const out = new Outbox(ws, options.latencyMs ?? 0);
      const send = (message: Record<string, unknown>) => {
        const full = { ...message, event_id: `event_fake${++events}` };
        conn.sent.push(full);
        out.send(full);
      };
      const rec = new FakeRecognizer(options.phrases ?? [], DEFAULT_SILENCE_MS);
      let session: Record<string, any> = {
        type: 'transcription',
        id: `sess_fake${fake.connections.length}`,
        object: 'realtime.transcription_session',
        audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, transcription: null, turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: DEFAULT_SILENCE_MS } } },
      };
      let itemId: string | undefined;
      let previousItemId: string | null = null;
      let sinceCommit = 0;
      send({ type: 'session.created', session });

      const transcribe = (id: string, text: string, seconds: number) => {
        for (const [i, word] of text.split(/\s+/).filter(Boolean).entries()) {
          send({ type: 'conversation.item.input_audio_transcription.delta', item_id: id, content_index: 0, delta: i === 0 ? word : ` ${word}` });
        }
        send({ type: 'conversation.item.input_audio_transcription.completed', item_id: id, content_index: 0, transcript: text, usage: { type: 'duration', seconds } });
      };
      const commit = (text: string, startMs: number, endMs: number) => {
        const id = itemId ?? `item_fake${++items}`;
        itemId = undefined;
        send({ type: 'input_audio_buffer.committed', previous_item_id: previousItemId, item_id: id });
        previousItemId = id;
        sinceCommit = 0;
        transcribe(id, text, Math.max(0, endMs - startMs) / 1000);
      };
      const handle = (heard: Heard) => {
        if (heard.type === 'speech_started') {
          itemId = `item_fake${++items}`;
          send({ type: 'input_audio_buffer.speech_started', audio_start_ms: heard.atMs, item_id: itemId });
        } else if (heard.type === 'utterance') {
          send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: heard.endMs, item_id: itemId });
          commit(heard.text, heard.startMs, heard.endMs);
        }
        // OpenAI transcribes an item once committed: nothing streams while the speaker talks.
      };
      const error = (code: string, message: string, param: string | null = null) =>
        send({ type: 'error', error: { type: 'invalid_request_error', code, message, param, event_id: null } });

      ws.on('message', (data, isBinary) => {
        let event: Record<string, any>;
        try {
          if (isBinary) throw new Error('binary');
          event = JSON.parse(String(data)) as Record<string, any>;
        } catch {
          return error('invalid_json', 'The server could not parse the event.');
        }
        switch (event.type) {
          case 'session.update': {
            const s = event.session as Record<string, any> | undefined;
            if (s?.type !== 'transcription') return error('invalid_value', "session.type must be 'transcription' for a transcription session.", 'session.type');
            conn.sessions.push(s);
            if (options.sessionError) return error(options.sessionError.code, options.sessionError.message, options.sessionError.param);
            session = { ...session, ...s, audio: { input: { ...session.audio.input, ...s.audio?.input } } };
            const silenceMs = session.audio.input.turn_detection?.silence_duration_ms;
            rec.endpointingMs = session.audio.input.turn_detection === null ? undefined : Number(silenceMs ?? DEFAULT_SILENCE_MS);
            return send({ type: 'session.updated', session });
          }
          case 'input_audio_buffer.append': {
            if (typeof event.audio !== 'string') return error('missing_required_parameter', 'Missing required parameter: audio.', 'audio');
            const audio = Buffer.from(event.audio, 'base64');
            conn.audioBytes += audio.length;
            sinceCommit += audio.length;
            for (const heard of rec.push(audio)) handle(heard);
            return;
          }
          case 'input_audio_buffer.commit': {
            conn.commits++;
            if (sinceCommit < MIN_COMMIT_BYTES) return error('input_audio_buffer_commit_empty', 'buffer too small: expected at least 100ms of audio.');
            const heard = rec.finalize();
            if (heard?.type === 'utterance') commit(heard.text, heard.startMs, heard.endMs);
            else commit('', rec.audioMs, rec.audioMs);
            return;
          }
          default:
            return error('invalid_value', `Unknown event type ${String(event.type)}.`, 'type');
        }
      });
      ws.on('close', () => (conn.closed = true));
    },
  );
  fake.url = `${server.url}/v1`;
  fake.close = server.close;
  return fake;
}
