/**
 * A fake Azure Speech text-to-speech REST endpoint (protocols.md §10): `POST /cognitiveservices/v1` with
 * `Ocp-Apim-Subscription-Key`, `Content-Type: application/ssml+xml` and `X-Microsoft-OutputFormat`. The
 * SSML must be well formed (tags balanced, `&` only in entities), have a `<speak>` root and a
 * `<voice name>` (400 otherwise, with no body, as Azure does). Audio: a tone whose length follows the
 * spoken text, in `raw-8khz-8bit-mono-mulaw`.
 */
import { mulawToneFor, startAudioFake, type AudioFake, type FakeReply } from '../audio-fake-common.js';

export const FAKE_AZURE_KEY = 'azure-fake-key';
const FORMATS = ['raw-8khz-8bit-mono-mulaw', 'riff-8khz-8bit-mono-mulaw', 'raw-16khz-16bit-mono-pcm', 'audio-24khz-48kbitrate-mono-mp3'];

/** Why `ssml` is not a document Azure would speak, or null. */
export function ssmlProblem(ssml: string): string | null {
  if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(ssml)) return 'bare &';
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*("[^"<]*"|'[^'<]*'))*)\s*(\/?)>/g;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = tag.exec(ssml))) {
    if (ssml.slice(at, m.index).includes('<') || ssml.slice(at, m.index).includes('>')) return 'stray angle bracket';
    at = m.index + m[0].length;
    if (m[1]) {
      if (stack.pop() !== m[2]) return `unbalanced </${m[2]}>`;
    } else if (!m[5]) stack.push(m[2]);
  }
  if (/[<>]/.test(ssml.slice(at))) return 'stray angle bracket';
  if (stack.length) return `unclosed <${stack[stack.length - 1]}>`;
  if (!/^\s*<speak[\s>]/.test(ssml)) return 'no <speak> root';
  if (!/<voice\s+name="[^"]+"/.test(ssml)) return 'no <voice name>';
  return null;
}

/** The words the SSML speaks (tags dropped, entities decoded). */
export function spokenText(ssml: string): string {
  return ssml
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

const empty = (status: number): FakeReply => ({ status, json: null, headers: { 'x-requestid': 'az-req-fake' } });

export function startAzureSpeechFake(): Promise<AudioFake> {
  return startAudioFake((req) => {
    if (req.method !== 'POST' || req.path !== '/cognitiveservices/v1') return empty(404);
    if (req.headers['ocp-apim-subscription-key'] !== FAKE_AZURE_KEY) return empty(401);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/ssml+xml')) return empty(415);
    if (!FORMATS.includes(String(req.headers['x-microsoft-outputformat'] ?? ''))) return empty(400);
    const ssml = req.body.toString('utf8');
    if (ssmlProblem(ssml)) return empty(400);
    return { audio: mulawToneFor(spokenText(ssml)), contentType: 'audio/basic', headers: { 'x-requestid': 'az-req-fake' } };
  });
}
