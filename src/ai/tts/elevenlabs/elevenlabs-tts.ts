/**
 * ElevenLabs streaming text-to-speech over HTTP (protocols.md §9):
 * `POST /v1/text-to-speech/{voice_id}/stream?output_format=ulaw_8000` answers a chunked body of headerless
 * μ-law 8 kHz, the telephony format itself, so the bytes go to the call as they are (no resampling).
 *
 * Plain HTTP (../http.ts), not the `@elevenlabs/elevenlabs-js` SDK: the SDK installs 108 MB for what is here two
 * HTTP requests (this one and voice cloning), and its generated client adds nothing a phone call needs.
 */
import { postForAudio } from '../http.js';
import type { TextToSpeech, TtsRequest, VoiceChoice } from '../tts.js';

/** ElevenLabs models; any other id is passed through (new models appear often). */
export type ElevenLabsModel = 'eleven_flash_v2_5' | 'eleven_turbo_v2_5' | 'eleven_multilingual_v2' | 'eleven_v3' | (string & {});

export interface ElevenLabsTtsOptions {
  apiKey: string;
  /** Default `https://api.elevenlabs.io`. */
  baseUrl?: string;
  /** Used when the call names none (`elevenLabsModel`). Default `eleven_flash_v2_5`: the lowest latency. */
  model?: ElevenLabsModel;
}

export const ELEVENLABS_DEFAULTS = {
  baseUrl: 'https://api.elevenlabs.io',
  model: 'eleven_flash_v2_5',
} as const;

/** ElevenLabs refuses `language_code` on the models that cannot enforce a language (only these can). */
const LANGUAGE_MODELS = new Set(['eleven_flash_v2_5', 'eleven_turbo_v2_5']);

/** The request body: the call's model and language, and an agent's `voice_settings` in ElevenLabs' spelling. */
export function elevenLabsBody(text: string, voice: VoiceChoice, language: string, defaultModel: string): Record<string, unknown> {
  const model = voice.model ?? defaultModel;
  const body: Record<string, unknown> = { text, model_id: model };
  if (LANGUAGE_MODELS.has(model)) body.language_code = language.split('-')[0].toLowerCase();
  const s = voice.settings;
  if (s) {
    const settings = {
      stability: s.stability,
      similarity_boost: s.similarityBoost,
      style: s.style,
      use_speaker_boost: s.useSpeakerBoost,
      speed: s.speed,
    };
    const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
    if (Object.keys(given).length) body.voice_settings = given;
  }
  return body;
}

export class ElevenLabsTts implements TextToSpeech {
  readonly provider = 'elevenlabs' as const;
  private readonly baseUrl: string;
  private readonly model: string;

  constructor(private readonly options: ElevenLabsTtsOptions) {
    this.baseUrl = (options.baseUrl ?? ELEVENLABS_DEFAULTS.baseUrl).replace(/\/+$/, '');
    this.model = options.model ?? ELEVENLABS_DEFAULTS.model;
  }

  synthesize(req: TtsRequest): AsyncIterable<Uint8Array> {
    const url = `${this.baseUrl}/v1/text-to-speech/${encodeURIComponent(req.voice.voice)}/stream?output_format=ulaw_8000`;
    return postForAudio({
      provider: 'elevenlabs',
      url,
      headers: { 'xi-api-key': this.options.apiKey, 'content-type': 'application/json', accept: 'audio/basic' },
      body: JSON.stringify({ ...elevenLabsBody(req.text, req.voice, req.language, this.model), ...(req.previousText ? { previous_text: req.previousText } : {}) }),
      signal: req.signal,
      requestIdHeader: 'request-id',
    });
  }
}
