/**
 * OpenAI streaming transcription over the Realtime API's transcription intent (protocols.md §6): one WebSocket
 * per call to `/realtime?intent=transcription`, a `session.update` of type `transcription` (μ-law input, the
 * transcription model and language, server VAD whose silence is our endpointing), the callee's frames as
 * base64 in `input_audio_buffer.append` (the callee's long silences are not sent: ../socket-stream.ts, the
 * silence gate; the protocol has no keep-alive message and no idle close for a transcription session, so a
 * silent socket needs nothing).
 *
 * OpenAI's server VAD cuts the audio into items; each item is transcribed once it is committed, streaming
 * `…input_audio_transcription.delta` pieces (interim) and one `.completed` (final: it is the end of a turn,
 * since the VAD committed it after a pause). Completions of different items may arrive out of order, so each
 * item keeps its own text. Flush commits the audio of a turn still being spoken.
 */
import { classifyStreamError } from '../errors.js';
import { DEFAULT_STT_CHUNK_MS, DEFAULT_STT_SILENCE_MS, SocketSttStream, socketUrl, type SocketConnection } from '../socket-stream.js';
import type { SpeechToText, SttOptions, SttStream } from '../stt.js';

/** Transcription models of the Realtime API; any other id is passed through. */
export type OpenAiTranscriptionModel = 'gpt-4o-mini-transcribe' | 'gpt-4o-transcribe' | 'whisper-1' | (string & {});

export interface OpenAiSttOptions {
  apiKey: string;
  /** Up to and including the version segment: `https://api.openai.com/v1` (a local fake in tests). */
  baseUrl?: string;
  model?: OpenAiTranscriptionModel;
  /** Server VAD's activation threshold, 0–1 (higher needs louder speech; noisy lines want more). */
  vadThreshold?: number;
  /** Audio kept from before the VAD heard speech begin (ms). */
  prefixPaddingMs?: number;
  /** Audio per message (ms; default 100): frames are sent in chunks of this much (docs/voice.md "Speech-to-text chunking"). */
  chunkMs?: number;
  /**
   * Silence after the callee's speech still streamed (ms; default 1500) when the caller gates (`gateSilence`);
   * then nothing, until speech starts again (the Realtime API needs no keep-alive message). `'all'`: every
   * frame is sent (docs/voice.md).
   */
  silenceMs?: number | 'all';
  /** Longest wait for the handshake. */
  connectTimeoutMs?: number;
  /** Longest wait, on close, for the transcripts of audio already committed. */
  closeTimeoutMs?: number;
}

export const OPENAI_STT_DEFAULTS = {
  baseUrl: 'https://api.openai.com/v1',
  model: 'gpt-4o-mini-transcribe',
  vadThreshold: 0.5,
  prefixPaddingMs: 300,
  chunkMs: DEFAULT_STT_CHUNK_MS,
  silenceMs: DEFAULT_STT_SILENCE_MS as number | 'all',
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 5000,
} as const;

/** The ISO 639-1 code the transcription models take (`en-US` → `en`, `sv` → `sv`). */
export function openAiLanguage(language: string): string {
  return language.trim().toLowerCase().split(/[-_]/)[0]!;
}

export class OpenAiStt implements SpeechToText {
  readonly provider = 'openai' as const;

  constructor(private readonly options: OpenAiSttOptions) {}

  stream(opts: SttOptions): SttStream {
    const o = { ...OPENAI_STT_DEFAULTS, ...this.options };
    const session = {
      type: 'transcription',
      audio: {
        input: {
          format: { type: 'audio/pcmu' },
          transcription: { model: o.model, language: openAiLanguage(opts.language) },
          turn_detection: {
            type: 'server_vad',
            threshold: o.vadThreshold,
            prefix_padding_ms: o.prefixPaddingMs,
            silence_duration_ms: Math.max(1, Math.round(opts.endpointingMs)),
          },
        },
      },
    };
    return new OpenAiTranscriptionStream(
      {
        url: socketUrl(o.baseUrl, '/realtime', { intent: 'transcription' }),
        headers: { Authorization: `Bearer ${o.apiKey}` },
        requestIdHeader: 'x-request-id',
        connectTimeoutMs: o.connectTimeoutMs,
        closeTimeoutMs: o.closeTimeoutMs,
        chunkMs: o.chunkMs,
        // The silence after speech goes frame by frame until endpointing has seen it all (our VAD hears the
        // end 200 ms after the last sound: that is the margin).
        promptMs: opts.endpointingMs,
        // The server VAD commits the turn after `silence_duration_ms` (the endpointing) of silence: the stream
        // keeps sending at least that plus a margin before the gate closes.
        holdMs: opts.gateSilence && o.silenceMs !== 'all' ? o.silenceMs : undefined,
      },
      session,
      opts.interim,
    );
  }
}

interface RealtimeEvent {
  type: string;
  item_id?: string;
  delta?: string;
  transcript?: string;
  error?: { type?: string; code?: string; message?: string };
}

/** OpenAI refuses to commit less than 100 ms of audio; that answer is not a failure of the stream. */
const EMPTY_COMMIT = 'input_audio_buffer_commit_empty';
const MIN_COMMIT_BYTES = 800;

class OpenAiTranscriptionStream extends SocketSttStream {
  /** Text so far of each item being transcribed (committed, not yet completed or failed). */
  private readonly items = new Map<string, string>();
  /** Commits we sent that OpenAI has not yet answered with `input_audio_buffer.committed`. */
  private commitsInFlight = 0;
  /** Speech began and its item is not committed yet: a flush has something to commit. */
  private speaking = false;
  /** Audio sent since OpenAI last said it committed the buffer (the server may not have reported speech in it yet). */
  private uncommittedBytes = 0;
  private closeAsked = false;

  constructor(
    connection: SocketConnection,
    private readonly session: object,
    private readonly reportInterim: boolean,
  ) {
    super(connection);
  }

  protected encode(frame: Uint8Array): string {
    this.uncommittedBytes += frame.length;
    return JSON.stringify({ type: 'input_audio_buffer.append', audio: Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('base64') });
  }

  protected opened(): void {
    this.send(JSON.stringify({ type: 'session.update', session: this.session }));
  }

  /** Mid-call, only a turn the server heard begin is committed: committing silence would transcribe nothing, at a cost. */
  protected requestFlush(): void {
    if (this.speaking) this.commit();
  }

  /**
   * On close, any audio not yet committed is: speech pushed just before close may not have been reported as
   * speech yet. OpenAI refuses a commit of under 100 ms, so less is not sent.
   */
  protected requestClose(): void {
    this.closeAsked = true;
    if (this.speaking || this.uncommittedBytes >= MIN_COMMIT_BYTES) this.commit();
    this.hangUpWhenDone();
  }

  /** Gated while the server VAD still hears speech (our detector took it for quiet): no audio would end it; a commit does. */
  protected override silenceGated(): void {
    if (this.speaking) this.commit();
  }

  private commit(): void {
    this.speaking = false;
    this.commitsInFlight++;
    this.send(JSON.stringify({ type: 'input_audio_buffer.commit' }));
  }

  protected receive(message: string | Buffer): void {
    if (typeof message !== 'string') return;
    const event = JSON.parse(message) as RealtimeEvent;
    switch (event.type) {
      case 'input_audio_buffer.speech_started':
        this.speaking = true;
        this.emit({ type: 'speech_started' });
        break;
      case 'input_audio_buffer.committed':
        this.speaking = false;
        this.uncommittedBytes = 0;
        this.commitsInFlight = Math.max(0, this.commitsInFlight - 1);
        if (event.item_id) this.items.set(event.item_id, this.items.get(event.item_id) ?? '');
        break;
      case 'conversation.item.input_audio_transcription.delta':
        this.onDelta(event);
        break;
      case 'conversation.item.input_audio_transcription.completed':
        this.onCompleted(event);
        break;
      case 'conversation.item.input_audio_transcription.failed':
        // One utterance could not be transcribed; the stream goes on (the caller will be asked again).
        if (event.item_id) this.items.delete(event.item_id);
        break;
      case 'error':
        this.onError(event);
        break;
    }
    this.hangUpWhenDone();
  }

  private onDelta(event: RealtimeEvent): void {
    if (!event.item_id || !event.delta) return;
    const text = (this.items.get(event.item_id) ?? '') + event.delta;
    this.items.set(event.item_id, text);
    if (this.reportInterim && text.trim()) this.emit({ type: 'transcript', text: text.trim(), final: false, endOfTurn: false });
  }

  private onCompleted(event: RealtimeEvent): void {
    if (event.item_id) this.items.delete(event.item_id);
    const text = (event.transcript ?? '').trim();
    if (text) this.emit({ type: 'transcript', text, final: true, endOfTurn: true });
  }

  private onError(event: RealtimeEvent): void {
    if (event.error?.code === EMPTY_COMMIT) {
      this.commitsInFlight = Math.max(0, this.commitsInFlight - 1);
      return;
    }
    // Any other error is about the session (model, language, format): no transcript would follow.
    this.fail(classifyStreamError(event.error));
  }

  /** After close(): once every commit is answered and every committed item transcribed, close the socket. */
  private hangUpWhenDone(): void {
    if (this.closeAsked && this.commitsInFlight === 0 && this.items.size === 0) this.hangUp();
  }
}
