/**
 * Streaming speech-to-text, behind one small interface: the cascaded audio pipeline (src/engine/voice/)
 * pushes the callee's μ-law frames in and reads interim and final transcripts out. Providers' wire formats
 * stop in their adapter (deepgram/, openai/, offline/); the pipeline never asks which one it has.
 *
 * @example
 *   const stream = stt.stream({ language: 'en', endpointingMs: 300, interim: true });
 *   stream.onEvent((e) => { if (e.type === 'transcript' && e.final) console.log(e.text); });
 *   for await (const frame of audio.frames()) stream.push(frame);
 *   await stream.close();
 */

export type SttProvider = 'deepgram' | 'openai' | 'offline';

export interface SttOptions {
  /** BCP 47-ish language code of the call (`en`, `sv`, `es-ES`). */
  language: string;
  /** Milliseconds of silence after speech that end an utterance (a final transcript with `endOfTurn`). */
  endpointingMs: number;
  /** Report interim transcripts (they may change) as well as final ones. */
  interim: boolean;
  /**
   * The caller runs a voice activity detector and calls `speechResumed()` when speech starts and
   * `speechPaused()` when it stops, from the stream's first frame on: the stream may then stop sending the
   * silence once it has lasted STT_SILENCE_MS (the silence gate, docs/voice.md "Speech-to-text chunking"), and
   * starts so (nothing said yet). Without it every frame is sent.
   */
  gateSilence?: boolean;
}

export type SttEvent =
  /** The provider heard speech begin (where it says so: Deepgram `SpeechStarted`, OpenAI `speech_started`). */
  | { type: 'speech_started' }
  /**
   * A transcript. Interim ones (`final: false`) are superseded by later ones; a final one is fixed. `endOfTurn`:
   * the speaker paused long enough (endpointing) — the utterance is over and the agent may answer. Finals are
   * consecutive pieces: the utterance is the texts of its finals joined with spaces, an interim covers what
   * follows its last final, and the one `endOfTurn` event of an utterance carries its last piece (empty when
   * the earlier finals already said it all).
   */
  | { type: 'transcript'; text: string; final: boolean; endOfTurn: boolean }
  /** The stream failed (the connection dropped, the provider refused the audio); no more events follow. */
  | { type: 'error'; error: Error };

/** One utterance stream: audio in, events out. Lives as long as the call (providers keep it alive). */
export interface SttStream {
  /**
   * Appends one frame of the callee's audio: G.711 μ-law, 8 kHz, mono (any length; Twilio sends 20 ms). A
   * stream may hold frames to send several in one message (the WebSocket providers' `chunkMs`).
   */
  push(frame: Uint8Array): void;
  /**
   * Our voice activity detector heard the callee stop: audio held for a chunk goes at once, and the silence
   * that follows goes as it comes, so that the provider's endpointing is not delayed by chunking. With
   * `gateSilence`, audio stops once the silence has lasted STT_SILENCE_MS.
   */
  speechPaused(): void;
  /**
   * The detector hears the callee (again): a pause inside the utterance ends, chunking resumes; a gated stream
   * first sends the last few hundred ms it kept (the start of the word, before the detector was sure).
   */
  speechResumed(): void;
  /** Asks for the final transcript of what was pushed so far now, without waiting for endpointing. */
  flush(): void;
  /** Receives the stream's events, in order (one listener; events before it are kept). Must not throw. */
  onEvent(listener: (event: SttEvent) => void): void;
  /** Ends the stream: flushes, waits (bounded) for the last final transcript, closes the connection. Never rejects. */
  close(): Promise<void>;
  /** Seconds of audio sent so far (usage for billing): silence the gate held back is not counted (nor billed). */
  readonly audioSeconds: number;
}

export interface SpeechToText {
  readonly provider: SttProvider;
  /** Opens a stream; connection failures arrive as an `error` event, never as a throw. */
  stream(opts: SttOptions): SttStream;
}
