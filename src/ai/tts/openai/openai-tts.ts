/**
 * OpenAI speech (protocols.md §10) through the official `openai` package: `client.audio.speech.create` with
 * `response_format: pcm` (24 kHz 16-bit mono: OpenAI has no μ-law output), read as it streams in and
 * resampled to μ-law 8 kHz chunk by chunk (pcm-to-mulaw.ts).
 */
import OpenAI from 'openai';
import { keptAliveFetch } from '../../../lib/kept-fetch.js';
import { TtsError, kindOfStatus, networkFailure } from '../errors.js';
import { readBody } from '../http.js';
import { pcmToMulaw } from '../pcm-to-mulaw.js';
import type { TextToSpeech, TtsRequest } from '../tts.js';

/** OpenAI speech models; any other id is passed through. */
export type OpenAiTtsModel = 'gpt-4o-mini-tts' | 'tts-1' | 'tts-1-hd' | (string & {});

export interface OpenAiTtsOptions {
  apiKey: string;
  /** Up to and including `/v1`. Default `https://api.openai.com/v1`. */
  baseUrl?: string;
  /** Default `gpt-4o-mini-tts`: it streams the first audio soonest and takes `instructions`. */
  model?: OpenAiTtsModel;
}

export const OPENAI_TTS_DEFAULTS = {
  baseUrl: 'https://api.openai.com/v1',
  model: 'gpt-4o-mini-tts',
  /** What `response_format: pcm` is. */
  sampleRate: 24_000,
} as const;

export class OpenAiTts implements TextToSpeech {
  readonly provider = 'openai' as const;
  private readonly client: OpenAI;
  private readonly model: string;

  constructor(options: OpenAiTtsOptions) {
    // No SDK retries: on a live call a late reply is worse than an error the pipeline can act on. Its connection is
    // kept between turns (src/lib/kept-fetch.ts): Node's own fetch drops it after 4 s idle.
    this.client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl ?? OPENAI_TTS_DEFAULTS.baseUrl, maxRetries: 0, fetch: keptAliveFetch() });
    this.model = options.model ?? OPENAI_TTS_DEFAULTS.model;
  }

  synthesize(req: TtsRequest): AsyncIterable<Uint8Array> {
    return pcmToMulawUnlessAborted(this.pcm(req), req.signal);
  }

  /** OpenAI's 24 kHz PCM, chunk by chunk. */
  private async *pcm(req: TtsRequest): AsyncGenerator<Uint8Array> {
    const { signal } = req;
    if (signal.aborted) return;
    let res: Response;
    try {
      res = await this.client.audio.speech.create(
        { model: req.voice.model ?? this.model, voice: req.voice.voice, input: req.text, response_format: 'pcm' },
        { signal },
      );
    } catch (err) {
      if (signal.aborted) return;
      throw classify(err);
    }
    yield* readBody('openai', res.body, signal);
  }
}

/** Resampling starts only once audio arrives, and an abort before it builds nothing. */
async function* pcmToMulawUnlessAborted(pcm: AsyncGenerator<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  if (signal.aborted) return;
  yield* pcmToMulaw(pcm, OPENAI_TTS_DEFAULTS.sampleRate, signal);
}

/** The SDK's errors as `TtsError`s (its status and request id kept). */
function classify(err: unknown): TtsError {
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    return new TtsError('openai', kindOfStatus(err.status), err.status, err.requestID ?? undefined, { cause: err });
  }
  return networkFailure('openai', err);
}
