/**
 * Voice cloning (001): `POST /v1/elevenlabs/voices`, multipart `name`, `files` (one or more audio samples),
 * `remove_background_noise`, proxied to ElevenLabs instant voice cloning. The whole upload is read and
 * checked (core/voice/cloning.ts: count, size, audio by its bytes) before anything goes to ElevenLabs; the
 * multipart parser lives in this plugin alone.
 */
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { validationError, VOICE_SAMPLE_LIMITS } from '../../../core/index.js';
import type { FaceOptions } from '../../shared/options.js';
import { ErrorBody } from '../schemas.js';

const CloneVoiceResponse = Type.Object({
  success: Type.Literal(true),
  voice_id: Type.String({ description: 'Usable as a call’s elevenLabsVoice / 11labsVoice.' }),
  name: Type.String(),
});

interface Upload {
  name?: string;
  removeBackgroundNoise?: boolean;
  files: { filename: string; mimetype: string; data: Buffer }[];
}

/** The multipart parser's limit errors, as the 400s naming the field that 001's clients can act on. */
function limitError(err: unknown): Error {
  switch ((err as { code?: string }).code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return validationError('files', 'each file must be at most 10 MB');
    case 'FST_FILES_LIMIT':
      return validationError('files', `files may hold at most ${VOICE_SAMPLE_LIMITS.maxFiles} samples`);
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return validationError('files', 'too many form fields');
    default:
      return err as Error;
  }
}

async function readUpload(req: FastifyRequest): Promise<Upload> {
  if (!req.isMultipart()) throw validationError('files', 'Send multipart/form-data with name and files');
  const upload: Upload = { files: [] };
  let total = 0;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'files') {
          part.file.resume();
          throw validationError(part.fieldname, `${part.fieldname} is not a field of this request (files are sent as files)`);
        }
        upload.files.push({ filename: part.filename, mimetype: part.mimetype, data: await part.toBuffer() });
        total += upload.files.at(-1)!.data.length;
        // Stop reading at once rather than hold more than the limit (the core checks the rest).
        if (total > VOICE_SAMPLE_LIMITS.maxTotalBytes) throw validationError('files', 'files must be at most 50 MB in all');
      } else if (part.fieldname === 'name') {
        upload.name = String(part.value);
      } else if (part.fieldname === 'remove_background_noise') {
        const v = String(part.value).toLowerCase();
        if (v !== 'true' && v !== 'false') throw validationError('remove_background_noise', 'remove_background_noise must be true or false');
        upload.removeBackgroundNoise = v === 'true';
      } else {
        throw validationError(part.fieldname, `${part.fieldname} is not a field of this request`);
      }
    }
  } catch (err) {
    throw limitError(err);
  }
  return upload;
}

export const voiceRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  await app.register(multipart, {
    limits: { fileSize: VOICE_SAMPLE_LIMITS.maxFileBytes, files: VOICE_SAMPLE_LIMITS.maxFiles, fields: 5, parts: VOICE_SAMPLE_LIMITS.maxFiles + 5 },
  });

  app.post(
    '/elevenlabs/voices',
    {
      schema: {
        summary: 'Clone a voice with ElevenLabs from audio samples (multipart: name, files, remove_background_noise)',
        description:
          'multipart/form-data: `name` (required), `files` (one or more audio samples: mp3, wav, ogg, flac, m4a, aac or webm; ' +
          'at most 25, 10 MB each), `remove_background_noise` (true|false). Checked before anything is sent to ElevenLabs. ' +
          'The answer’s voice_id is usable as a call’s elevenLabsVoice. 400 when ElevenLabs is not configured on the server.',
        tags: ['CallMyCall'],
        consumes: ['multipart/form-data'],
        response: { 200: CloneVoiceResponse, 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 502: ErrorBody },
      },
    },
    async (req) => {
      // No key: say so before reading an upload that could not be used.
      core.voices.ensureAvailable();
      const upload = await readUpload(req);
      if (upload.name === undefined) throw validationError('name', 'Missing name');
      const voice = await core.voices.add({ name: upload.name, files: upload.files, removeBackgroundNoise: upload.removeBackgroundNoise });
      return { success: true as const, voice_id: voice.voiceId, name: voice.name };
    },
  );
};
