/**
 * Azure Speech text-to-speech over REST (protocols.md §10): `POST {region host}/cognitiveservices/v1` with
 * an SSML body, answered in `raw-8khz-8bit-mono-mulaw` (headerless μ-law 8 kHz: the telephony format, so
 * no conversion). Azure streams the body as it synthesises.
 *
 * Plain HTTP (../http.ts), not `microsoft-cognitiveservices-speech-sdk`: the SDK speaks its own WebSocket protocol,
 * cannot be pointed at a local fake by base URL, and brings a browser-oriented runtime for one POST.
 */
import { postForAudio } from '../http.js';
import type { TextToSpeech, TtsRequest } from '../tts.js';
import { buildSsml } from './ssml.js';

export interface AzureTtsOptions {
  apiKey: string;
  /** The region's host, `https://{region}.tts.speech.microsoft.com` (a fake's URL in tests). */
  baseUrl: string;
  /** Sent as `User-Agent` (Azure asks for an application name). Default `switchboard`. */
  userAgent?: string;
}

export class AzureTts implements TextToSpeech {
  readonly provider = 'azure' as const;
  private readonly url: string;

  constructor(private readonly options: AzureTtsOptions) {
    this.url = options.baseUrl.replace(/\/+$/, '') + '/cognitiveservices/v1';
  }

  synthesize(req: TtsRequest): AsyncIterable<Uint8Array> {
    return postForAudio({
      provider: 'azure',
      url: this.url,
      headers: {
        'Ocp-Apim-Subscription-Key': this.options.apiKey,
        'Content-Type': 'application/ssml+xml',
        'X-Microsoft-OutputFormat': 'raw-8khz-8bit-mono-mulaw',
        'User-Agent': this.options.userAgent ?? 'switchboard',
      },
      body: buildSsml(req.text, req.voice),
      signal: req.signal,
      requestIdHeader: 'x-requestid',
    });
  }
}
