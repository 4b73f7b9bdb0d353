/**
 * A fake ElevenLabs (protocols.md §9): streaming text-to-speech
 * `POST /v1/text-to-speech/{voice_id}/stream?output_format=…` and instant voice cloning
 * `POST /v1/voices/add` (multipart), both behind `xi-api-key`. Bodies are checked like the service (422
 * `detail` on bad input); a voice must exist (the premade defaults, or one cloned here) or the answer is
 * 404 `voice_not_found`. Audio is a tone whose length follows the text, in `ulaw_8000`.
 */
import { mulawToneFor, startAudioFake, type AudioFake, type FakeReply } from '../audio-fake-common.js';

export const FAKE_ELEVENLABS_KEY = 'xi-fake-key';
const FORMATS = ['ulaw_8000', 'alaw_8000', 'pcm_8000', 'pcm_16000', 'pcm_22050', 'pcm_24000', 'pcm_44100', 'mp3_44100_128', 'mp3_22050_32'];
const LANGUAGE_MODELS = ['eleven_flash_v2_5', 'eleven_turbo_v2_5'];
const MODELS = [...LANGUAGE_MODELS, 'eleven_multilingual_v2', 'eleven_flash_v2', 'eleven_turbo_v2', 'eleven_v3', 'eleven_monolingual_v1'];
const SETTINGS: Record<string, 'unit' | 'boolean' | 'speed'> = { stability: 'unit', similarity_boost: 'unit', style: 'unit', use_speaker_boost: 'boolean', speed: 'speed' };

/** A cloned voice, as the fake received it. */
export interface ClonedVoice {
  voiceId: string;
  name: string;
  files: { name: string; type: string; size: number }[];
  removeBackgroundNoise?: string;
}

export interface ElevenLabsFake extends AudioFake {
  /** Voice ids that exist: ElevenLabs' premade defaults, and every voice cloned here. */
  voices: Set<string>;
  cloned: ClonedVoice[];
}

function detail(status: number, code: string, message: string): FakeReply {
  return { status, json: { detail: { status: code, message } }, headers: { 'request-id': 'el_req_fake' } };
}

function checkSettings(s: unknown): string | null {
  if (s === undefined || s === null) return null;
  if (typeof s !== 'object') return 'voice_settings must be an object';
  for (const [k, v] of Object.entries(s)) {
    const kind = SETTINGS[k];
    if (!kind) return `unknown voice setting ${k}`;
    if (kind === 'boolean' ? typeof v !== 'boolean' : typeof v !== 'number') return `${k} has the wrong type`;
    if (kind === 'unit' && !((v as number) >= 0 && (v as number) <= 1)) return `${k} must be between 0 and 1`;
    if (kind === 'speed' && !((v as number) >= 0.7 && (v as number) <= 1.2)) return `${k} must be between 0.7 and 1.2`;
  }
  return null;
}

export async function startElevenLabsFake(): Promise<ElevenLabsFake> {
  const voices = new Set(['EXAVITQu4vr4xnSDxMaL', 'JBFqnCBsd6RMkjVDRZzb', '21m00Tcm4TlvDq8ikWAM']);
  const cloned: ClonedVoice[] = [];
  const base = await startAudioFake(async (req) => {
    if (req.headers['xi-api-key'] !== FAKE_ELEVENLABS_KEY) return detail(401, 'invalid_api_key', 'Invalid API key');
    const tts = /^\/v1\/text-to-speech\/([^/]+)\/stream$/.exec(req.path);
    if (req.method === 'POST' && tts) {
      const voiceId = decodeURIComponent(tts[1]);
      const format = req.query.get('output_format') ?? 'mp3_44100_128';
      if (!FORMATS.includes(format)) return detail(422, 'invalid_output_format', 'output_format is not valid');
      const b = req.json;
      if (!b || typeof b.text !== 'string' || b.text.length === 0) return detail(422, 'invalid_text', 'text is required');
      const model = b.model_id ?? 'eleven_multilingual_v2';
      if (!MODELS.includes(model)) return detail(422, 'model_not_found', 'model_id is not a known model');
      if (b.language_code !== undefined && !LANGUAGE_MODELS.includes(model)) {
        return detail(400, 'unsupported_language', 'language_code is only supported by eleven_flash_v2_5 and eleven_turbo_v2_5');
      }
      const bad = checkSettings(b.voice_settings);
      if (bad) return detail(422, 'invalid_voice_settings', bad);
      if (!voices.has(voiceId)) return detail(404, 'voice_not_found', 'A voice with this id was not found');
      return { audio: mulawToneFor(b.text), contentType: 'audio/basic', headers: { 'request-id': 'el_req_fake' } };
    }
    if (req.method === 'POST' && req.path === '/v1/voices/add') {
      const type = String(req.headers['content-type'] ?? '');
      if (!type.startsWith('multipart/form-data')) return detail(422, 'invalid_content_type', 'multipart/form-data is required');
      const form = await new Response(new Uint8Array(req.body), { headers: { 'content-type': type } }).formData();
      const name = form.get('name');
      if (typeof name !== 'string' || !name) return detail(422, 'invalid_name', 'name is required');
      const files = form.getAll('files').filter((f) => typeof f !== 'string') as { name: string; type: string; size: number }[];
      if (files.length === 0) return detail(422, 'invalid_files', 'at least one file is required');
      const voiceId = `clone${String(cloned.length + 1).padStart(15, '0')}`;
      const rbn = form.get('remove_background_noise');
      cloned.push({ voiceId, name, files: files.map((f) => ({ name: f.name, type: f.type, size: f.size })), removeBackgroundNoise: typeof rbn === 'string' ? rbn : undefined });
      voices.add(voiceId);
      return { status: 200, json: { voice_id: voiceId, requires_verification: false } };
    }
    return detail(404, 'not_found', 'Not found');
  });
  return Object.assign(base, { voices, cloned });
}
