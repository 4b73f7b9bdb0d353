/**
 * Offline text-to-speech: espeak-ng on this machine (src/speech/espeak.ts), no key and no network. The
 * voice is an espeak-ng variant (`m3`, `f3`, `klatt`, …; empty for the language's own), the language the
 * request's. A clause is synthesised whole (espeak-ng takes tens of milliseconds for one) and handed over
 * as 100 ms μ-law chunks; aborting stops espeak-ng and sox.
 */
import { speakMulaw } from '../../../speech/espeak.js';
import { TtsError } from '../errors.js';
import type { TextToSpeech, TtsRequest } from '../tts.js';

/** 100 ms of μ-law 8 kHz. */
const CHUNK_BYTES = 800;

export class EspeakTts implements TextToSpeech {
  readonly provider = 'espeak' as const;

  async *synthesize(req: TtsRequest): AsyncIterable<Uint8Array> {
    if (req.signal.aborted) return;
    let audio: Uint8Array;
    try {
      audio = await speakMulaw(req.text, { language: req.language, variant: req.voice.voice || undefined, signal: req.signal });
    } catch (err) {
      if (req.signal.aborted) return; // barge-in: an end, not a failure
      // espeak-ng or sox is missing or failed (the cause names which): as a provider's server failure.
      throw new TtsError('espeak', 'server', undefined, undefined, { cause: err });
    }
    for (let at = 0; at < audio.length && !req.signal.aborted; at += CHUNK_BYTES) yield audio.subarray(at, at + CHUNK_BYTES);
  }
}
