/**
 * ElevenLabs instant voice cloning (protocols.md §9): `POST /v1/voices/add`, multipart `name`, one `files`
 * part per audio sample, `remove_background_noise`. The new voice id is then usable as a call's
 * `elevenLabsVoice`.
 */
import { httpFailure, networkFailure } from '../errors.js';
import { ELEVENLABS_DEFAULTS } from './elevenlabs-tts.js';

export interface VoiceSampleFile {
  filename: string;
  mimetype: string;
  data: Uint8Array;
}

export interface AddVoiceRequest {
  name: string;
  files: VoiceSampleFile[];
  removeBackgroundNoise?: boolean;
  signal?: AbortSignal;
}

/** Clones a voice from `files`; rejects with a `TtsError` (provider `elevenlabs`) when ElevenLabs refuses. */
export async function addElevenLabsVoice(account: { apiKey: string; baseUrl?: string }, req: AddVoiceRequest): Promise<{ voiceId: string; requiresVerification: boolean }> {
  const form = new FormData();
  form.append('name', req.name);
  for (const f of req.files) form.append('files', new Blob([f.data], { type: f.mimetype }), f.filename);
  if (req.removeBackgroundNoise !== undefined) form.append('remove_background_noise', String(req.removeBackgroundNoise));
  const url = (account.baseUrl ?? ELEVENLABS_DEFAULTS.baseUrl).replace(/\/+$/, '') + '/v1/voices/add';
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'xi-api-key': account.apiKey }, body: form, signal: req.signal });
  } catch (err) {
    throw networkFailure('elevenlabs', err);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw httpFailure('elevenlabs', res.status, text, res.headers.get('request-id') ?? undefined);
  let body: { voice_id?: unknown; requires_verification?: unknown } | null;
  try {
    body = JSON.parse(text) as typeof body;
  } catch (err) {
    throw networkFailure('elevenlabs', err);
  }
  if (typeof body?.voice_id !== 'string') throw httpFailure('elevenlabs', 502, 'no voice_id in the answer');
  return { voiceId: body.voice_id, requiresVerification: body.requires_verification === true };
}
