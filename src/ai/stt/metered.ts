/**
 * A speech-to-text whose streams report the audio they sent to one call's usage meter (billing: core/credits,
 * "transcription" per minute). Each stream reports once, with every second it sent: when it is closed, or when
 * it fails (a failed stream sends nothing more), whichever comes first. Providers bill the audio streamed to
 * them, silence included, so that is what is counted — not the seconds of speech recognised.
 *
 * @example const stt = meteredStt(createStt(config.speech), usageMeter);
 */
import type { UsageReporter } from '../../core/credits/usage.js';
import type { SpeechToText, SttEvent, SttOptions, SttStream } from './stt.js';

export function meteredStt(stt: SpeechToText, usage: UsageReporter): SpeechToText {
  return {
    provider: stt.provider,
    stream: (opts: SttOptions) => new MeteredStream(stt.stream(opts), usage),
  };
}

class MeteredStream implements SttStream {
  private reported = false;

  constructor(
    private readonly inner: SttStream,
    private readonly usage: UsageReporter,
  ) {}

  get audioSeconds(): number {
    return this.inner.audioSeconds;
  }

  push(frame: Uint8Array): void {
    this.inner.push(frame);
  }

  flush(): void {
    this.inner.flush();
  }

  onEvent(listener: (event: SttEvent) => void): void {
    this.inner.onEvent((event) => {
      if (event.type === 'error') this.report();
      listener(event);
    });
  }

  async close(): Promise<void> {
    await this.inner.close();
    this.report();
  }

  private report(): void {
    if (this.reported) return;
    this.reported = true;
    this.usage.add({ sttSeconds: this.inner.audioSeconds });
  }
}
