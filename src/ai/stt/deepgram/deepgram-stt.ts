/**
 * Deepgram live streaming speech-to-text (protocols.md §8): one WebSocket per call to `/v1/listen` with the
 * telephony settings in the query, the callee's μ-law frames as binary messages, `KeepAlive` while no audio
 * flows (the callee's long silences are not sent: ../socket-stream.ts, the silence gate), `Finalize` on flush
 * and `CloseStream` on close.
 *
 * Deepgram fixes a transcript in spans (`is_final`) and says separately when the speaker paused
 * (`speech_final`, after `endpointing` ms of silence). On noisy lines endpointing may never fire, so
 * `UtteranceEnd` (after `utterance_end_ms` without new words) ends the turn too — whichever comes first; the
 * other is then ignored. Each `is_final` span is one final piece of the utterance (stt.ts), each interim the
 * span being heard after it.
 */
import { DEFAULT_STT_CHUNK_MS, DEFAULT_STT_SILENCE_MS, MULAW_BYTES_PER_SECOND, SILENCE_MARGIN_MS, SocketSttStream, socketUrl } from '../socket-stream.js';
import type { SpeechToText, SttOptions, SttStream } from '../stt.js';
import { deepgramLanguage } from './language.js';

/** Models for phone audio; any other Deepgram model id is passed through. */
export type DeepgramModel = 'nova-3' | 'nova-2-phonecall' | 'nova-2' | (string & {});

export interface DeepgramSttOptions {
  apiKey: string;
  /** `wss://api.deepgram.com` (or `https://…`, turned into `wss://`); a local fake in tests. */
  baseUrl?: string;
  model?: DeepgramModel;
  /** A `KeepAlive` is sent when no audio went out for this long (Deepgram closes an idle stream after ~10 s). */
  keepAliveMs?: number;
  /** Silence after the last word that ends a turn when endpointing does not (`utterance_end_ms`, ≥ 1000). */
  utteranceEndMs?: number;
  /** Audio per message (ms; default 100): frames are sent in chunks of this much (docs/voice.md "Speech-to-text chunking"). */
  chunkMs?: number;
  /**
   * Silence after the callee's speech still streamed (ms; default 1500) when the caller gates (`gateSilence`);
   * then `KeepAlive` only, until speech starts again. `'all'`: every frame is sent (docs/voice.md).
   */
  silenceMs?: number | 'all';
  /** Longest wait for the handshake. */
  connectTimeoutMs?: number;
  /** Longest wait, on close, for Deepgram's last results and its closing of the socket. */
  closeTimeoutMs?: number;
}

export const DEEPGRAM_DEFAULTS = {
  baseUrl: 'wss://api.deepgram.com',
  model: 'nova-3',
  keepAliveMs: 4000,
  utteranceEndMs: 1000,
  chunkMs: DEFAULT_STT_CHUNK_MS,
  silenceMs: DEFAULT_STT_SILENCE_MS as number | 'all',
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 5000,
} as const;

export class DeepgramStt implements SpeechToText {
  readonly provider = 'deepgram' as const;

  constructor(private readonly options: DeepgramSttOptions) {}

  stream(opts: SttOptions): SttStream {
    const o = { ...DEEPGRAM_DEFAULTS, ...this.options };
    const url = socketUrl(o.baseUrl, '/v1/listen', {
      model: o.model,
      encoding: 'mulaw',
      sample_rate: String(MULAW_BYTES_PER_SECOND),
      channels: '1',
      language: deepgramLanguage(opts.language),
      punctuate: 'true',
      smart_format: 'true',
      // Always on: utterance_end_ms needs interim results; `opts.interim` only decides whether we pass them on.
      interim_results: 'true',
      endpointing: String(Math.max(10, Math.round(opts.endpointingMs))),
      utterance_end_ms: String(o.utteranceEndMs),
      vad_events: 'true',
    });
    return new DeepgramStream(
      {
        url,
        headers: { Authorization: `Token ${o.apiKey}` },
        requestIdHeader: 'dg-request-id',
        errorHeader: 'dg-error',
        connectTimeoutMs: o.connectTimeoutMs,
        closeTimeoutMs: o.closeTimeoutMs,
        chunkMs: o.chunkMs,
        // The silence after speech goes frame by frame until endpointing has seen it all (our VAD hears the
        // end 200 ms after the last sound: that is the margin).
        promptMs: opts.endpointingMs,
        // Gated, Deepgram must still hear the silence UtteranceEnd counts (the noisy-line end of turn), as it
        // hears the endpointing's (the stream keeps `promptMs + SILENCE_MARGIN_MS` at least).
        holdMs: opts.gateSilence && o.silenceMs !== 'all' ? Math.max(o.silenceMs, o.utteranceEndMs + SILENCE_MARGIN_MS) : undefined,
      },
      o.keepAliveMs,
      opts.interim,
    );
  }
}

/** The messages we read; other types (Metadata) and fields are ignored. */
interface DeepgramMessage {
  type?: string;
  is_final?: boolean;
  speech_final?: boolean;
  from_finalize?: boolean;
  channel?: { alternatives?: { transcript?: string }[] };
  description?: string;
}

class DeepgramStream extends SocketSttStream {
  /** A turn is open: something was said since the last end of turn (an interim or a final piece). */
  private inTurn = false;
  /** The latest interim of the span being heard, for an `UtteranceEnd` that arrives before its `is_final`. */
  private interim = '';

  constructor(
    connection: ConstructorParameters<typeof SocketSttStream>[0],
    private readonly keepAliveMs: number,
    private readonly reportInterim: boolean,
  ) {
    super(connection);
  }

  protected encode(frame: Uint8Array): Uint8Array {
    return frame;
  }

  protected opened(): void {
    this.every(Math.max(50, this.keepAliveMs / 2), () => {
      if (Date.now() - this.lastSentAt >= this.keepAliveMs) this.send(JSON.stringify({ type: 'KeepAlive' }));
    });
  }

  protected requestFlush(): void {
    this.send(JSON.stringify({ type: 'Finalize' }));
  }

  protected requestClose(): void {
    // Deepgram flushes, sends the last Results and Metadata, then closes the socket itself.
    this.send(JSON.stringify({ type: 'CloseStream' }));
  }

  protected override closedByRequest(): void {
    this.endTurn();
  }

  /**
   * Gated while Deepgram may still hear a turn (speech our detector took for quiet; its results may not have
   * reached us yet): no audio would end it, `Finalize` does. One small message a turn; when the turn had
   * ended, Deepgram answers an empty result and nothing is emitted (`endTurn` says nothing twice).
   */
  protected override silenceGated(): void {
    this.requestFlush();
  }

  protected receive(message: string | Buffer): void {
    if (typeof message !== 'string') return;
    const msg = JSON.parse(message) as DeepgramMessage;
    switch (msg.type) {
      case 'Results':
        return this.onResults(msg);
      case 'SpeechStarted':
        return this.emit({ type: 'speech_started' });
      case 'UtteranceEnd':
        return this.endTurn();
      case 'Error':
        // Sent before Deepgram closes a stream it cannot go on with; the close itself is classified.
        return;
    }
  }

  private onResults(msg: DeepgramMessage): void {
    const text = msg.channel?.alternatives?.[0]?.transcript?.trim() ?? '';
    if (!msg.is_final) {
      if (!text) return;
      this.inTurn = true;
      this.interim = text;
      if (this.reportInterim) this.emit({ type: 'transcript', text, final: false, endOfTurn: false });
      return;
    }
    this.interim = '';
    // A `Finalize` answer (from_finalize) is the end of the turn the pipeline asked to end.
    if (msg.speech_final || msg.from_finalize) return this.endTurn(text);
    if (!text) return;
    this.inTurn = true;
    this.emit({ type: 'transcript', text, final: true, endOfTurn: false });
  }

  /**
   * The end of the utterance (endpointing, UtteranceEnd, Finalize or close), once: with its last piece, or
   * the interim Deepgram had not fixed yet, or empty when the finals already said everything.
   */
  private endTurn(lastPiece = this.interim): void {
    const said = this.inTurn || lastPiece !== '';
    this.inTurn = false;
    this.interim = '';
    if (said) this.emit({ type: 'transcript', text: lastPiece, final: true, endOfTurn: true });
  }
}
