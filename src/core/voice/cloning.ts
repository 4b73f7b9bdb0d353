/**
 * Voice cloning (001 `POST /v1/elevenlabs/voices`): the samples are checked here — how many, how big, and
 * that each really is audio (by its bytes, not its declared type) — before anything is sent to ElevenLabs.
 * The clone itself is the ElevenLabs adapter's, handed in by the app (the core does not import adapters).
 */
import { fileTypeFromBuffer } from 'file-type';
import { SwitchboardError, validationError } from '../errors.js';

export interface VoiceSample {
  filename: string;
  /** The type the client declared. */
  mimetype: string;
  data: Uint8Array;
}

export interface CloneVoiceInput {
  name: string;
  files: VoiceSample[];
  removeBackgroundNoise?: boolean;
}

/** The provider's clone: ElevenLabs instant voice cloning. Rejects with an error carrying `status` when the provider refuses. */
export type CloneVoice = (input: CloneVoiceInput) => Promise<{ voiceId: string }>;

/**
 * Limits of one request: ElevenLabs takes up to 25 samples; 10 MB each and 50 MB in all keep the memory a
 * request holds (the whole upload is read before it is checked and sent) bounded.
 */
export const VOICE_SAMPLE_LIMITS = { maxFiles: 25, maxFileBytes: 10 * 1024 * 1024, maxTotalBytes: 50 * 1024 * 1024, maxNameLength: 100 } as const;

/** Audio containers ElevenLabs takes, as detected from the bytes (file-type's names). */
const AUDIO_TYPES = new Set(['audio/mpeg', 'audio/wav', 'audio/x-wav', 'audio/vnd.wave', 'audio/ogg', 'audio/opus', 'audio/flac', 'audio/x-flac', 'audio/mp4', 'audio/x-m4a', 'audio/aac', 'audio/webm', 'video/webm', 'audio/x-aiff', 'audio/aiff']);

export class VoiceCloning {
  constructor(private readonly clone?: CloneVoice) {}

  /** 400 when this server cannot clone voices (ElevenLabs is not configured). */
  ensureAvailable(): CloneVoice {
    if (!this.clone) throw new SwitchboardError('SB_ERR_VALIDATION', 'Voice cloning needs ElevenLabs: ELEVENLABS_API_KEY is not set on this server', { reason: 'elevenlabs_not_configured' });
    return this.clone;
  }

  /** Checks the request, then clones: `{voiceId, name}`. 400 naming the field on bad input; 400 too when ElevenLabs is not configured. */
  async add(input: CloneVoiceInput): Promise<{ voiceId: string; name: string }> {
    const clone = this.ensureAvailable();
    const name = input.name.trim();
    if (!name) throw validationError('name', 'name is required');
    if (name.length > VOICE_SAMPLE_LIMITS.maxNameLength) throw validationError('name', `name must be at most ${VOICE_SAMPLE_LIMITS.maxNameLength} characters`);
    await checkSamples(input.files);
    try {
      const { voiceId } = await clone({ ...input, name });
      return { voiceId, name };
    } catch (err) {
      const status = (err as { status?: number }).status;
      // ElevenLabs refusing the samples themselves (400/422) is the client's to fix; anything else is ours.
      if (status === 400 || status === 422) throw new SwitchboardError('SB_ERR_VALIDATION', 'ElevenLabs could not clone a voice from these files', { field: 'files' }, false, { cause: err });
      throw new SwitchboardError('SB_ERR_PROVIDER', 'ElevenLabs voice cloning failed', { provider: 'elevenlabs' }, status === undefined || status === 429 || status >= 500, { cause: err });
    }
  }
}

/** At least one file, at most `maxFiles`, each non-empty, within `maxFileBytes` and audio by its bytes. */
export async function checkSamples(files: VoiceSample[]): Promise<void> {
  if (files.length === 0) throw validationError('files', 'files must hold at least one audio sample');
  if (files.length > VOICE_SAMPLE_LIMITS.maxFiles) throw validationError('files', `files may hold at most ${VOICE_SAMPLE_LIMITS.maxFiles} samples`);
  if (files.reduce((n, f) => n + f.data.length, 0) > VOICE_SAMPLE_LIMITS.maxTotalBytes) throw validationError('files', 'files must be at most 50 MB in all');
  for (const f of files) {
    if (f.data.length === 0) throw validationError('files', 'files must not be empty');
    if (f.data.length > VOICE_SAMPLE_LIMITS.maxFileBytes) throw validationError('files', 'each file must be at most 10 MB');
    const type = await fileTypeFromBuffer(f.data);
    if (!type || !AUDIO_TYPES.has(type.mime)) throw validationError('files', 'files must be audio (mp3, wav, ogg, flac, m4a, aac or webm)');
  }
}
