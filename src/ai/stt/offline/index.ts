/**
 * Offline speech-to-text: CMU PocketSphinx on this machine (src/speech/recognizer.ts), no key and no
 * network. English only (Debian packages the English model alone); one recogniser process per stream,
 * started with the first audio and ended by `close`. It reports final transcripts only — each one ends a
 * turn — and no `speech_started`: PocketSphinx's command-line recogniser tells neither.
 */
import { Recognizer, type RecognizerTuning } from '../../../speech/recognizer.js';
import { SttError } from '../errors.js';
import type { SpeechToText, SttEvent, SttOptions, SttStream } from '../stt.js';

/** Languages the offline recogniser has a model for (BCP 47 primary tags). */
const LANGUAGES = new Set(['en']);

export interface OfflineSttOptions extends RecognizerTuning {
  /** The recogniser to run (tests point it at a missing one). */
  program?: string;
}

export class OfflineStt implements SpeechToText {
  readonly provider = 'offline' as const;

  constructor(private readonly opts: OfflineSttOptions = {}) {}

  stream(opts: SttOptions): SttStream {
    return new OfflineSttStream(opts, this.opts);
  }
}

class OfflineSttStream implements SttStream {
  private readonly recognizer: Recognizer;
  private listener: ((e: SttEvent) => void) | undefined;
  private queued: SttEvent[] = [];
  private failed = false;

  constructor(opts: SttOptions, offline: OfflineSttOptions) {
    this.recognizer = new Recognizer({ endpointingMs: opts.endpointingMs, ...offline });
    this.recognizer.onUtterance((text) => this.emit({ type: 'transcript', text, final: true, endOfTurn: true }));
    // The recogniser is missing or died (the cause names the program): as a provider's server failure.
    this.recognizer.onError((cause) => this.emit({ type: 'error', error: new SttError('server', undefined, undefined, { cause }) }));
    const primary = opts.language.toLowerCase().split('-')[0];
    if (!LANGUAGES.has(primary)) this.emit({ type: 'error', error: new SttError('bad_request', undefined, undefined, { cause: new Error('the offline recogniser knows English only') }) });
  }

  get audioSeconds(): number {
    return this.recognizer.audioSeconds;
  }

  push(frame: Uint8Array): void {
    if (!this.failed) this.recognizer.push(frame);
  }

  /** The recogniser reads every frame as it comes: nothing is held. */
  speechPaused(): void {}

  speechResumed(): void {}

  flush(): void {
    this.recognizer.flush();
  }

  onEvent(listener: (event: SttEvent) => void): void {
    this.listener = listener;
    for (const e of this.queued.splice(0)) listener(e);
  }

  close(): Promise<void> {
    return this.recognizer.close();
  }

  private emit(e: SttEvent): void {
    if (this.failed) return;
    if (e.type === 'error') this.failed = true;
    if (this.listener) this.listener(e);
    // Bounded: a stream nobody listens to keeps its last hundred events.
    else if (this.queued.push(e) > 100) this.queued.shift();
  }
}
