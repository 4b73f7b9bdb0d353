/**
 * A fake OpenAI speech endpoint (protocols.md §10): `POST /v1/audio/speech` with `Authorization: Bearer`,
 * the body checked like the service (model, voice, input, response_format, speed), OpenAI's error JSON on
 * failure, and a streamed tone whose length follows the input: 24 kHz 16-bit PCM for `pcm`.
 */
import { pcmToneFor, startAudioFake, type AudioFake } from '../audio-fake-common.js';

export const FAKE_OPENAI_KEY = 'sk-fake-speech';
const MODELS = ['gpt-4o-mini-tts', 'tts-1', 'tts-1-hd'];
const VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse', 'marin', 'cedar'];
const FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'];

function error(status: number, message: string, param: string | null, code: string | null) {
  return { status, json: { error: { message, type: 'invalid_request_error', param, code } }, headers: { 'x-request-id': 'req_fake_speech' } };
}

/** Starts the fake; give the adapter `${fake.url}/v1` as its base URL. */
export function startOpenAiSpeechFake(): Promise<AudioFake> {
  return startAudioFake((req) => {
    if (req.method !== 'POST' || req.path !== '/v1/audio/speech') return error(404, 'Not found', null, null);
    if (req.headers.authorization !== `Bearer ${FAKE_OPENAI_KEY}`) return error(401, 'Incorrect API key provided.', null, 'invalid_api_key');
    const b = req.json;
    if (!b || typeof b !== 'object') return error(400, 'We could not parse the JSON body of your request.', null, null);
    if (!MODELS.includes(b.model)) return error(400, `Invalid model.`, 'model', 'invalid_value');
    if (!VOICES.includes(b.voice)) return error(400, `Invalid voice.`, 'voice', 'invalid_value');
    if (typeof b.input !== 'string' || b.input.length === 0 || b.input.length > 4096) return error(400, 'Invalid input.', 'input', 'invalid_value');
    const format = b.response_format ?? 'mp3';
    if (!FORMATS.includes(format)) return error(400, 'Invalid response_format.', 'response_format', 'invalid_value');
    if (b.speed !== undefined && !(b.speed >= 0.25 && b.speed <= 4)) return error(400, 'Invalid speed.', 'speed', 'invalid_value');
    if (b.instructions !== undefined && String(b.model).startsWith('tts-1')) return error(400, 'instructions are not supported by this model.', 'instructions', null);
    // Only `pcm` is meaningful here; the others are answered with the same bytes (their decoders are not under test).
    return { audio: pcmToneFor(b.input, 24_000), contentType: format === 'pcm' ? 'audio/pcm' : `audio/${format}`, headers: { 'x-request-id': 'req_fake_speech' } };
  });
}
