/**
 * Recordings on `/v1` (000, 001, FACES.md): `GET /v1/calls/:callSid/recording?format=mp3|wav` → a signed,
 * short-lived URL (key auth), and that URL itself, `GET /v1/recordings/:sid.:ext?token=`, which takes the
 * token alone (`recordingMediaRoutes`, registered outside the face's key check).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { RECORDING_FORMATS, type RecordingFormat } from '../../../core/index.js';
import { sendRecording } from '../../shared/recording-media.js';
import type { FaceOptions } from '../../shared/options.js';
import { ErrorBody } from '../schemas.js';

const Format = Type.Union(RECORDING_FORMATS.map((f) => Type.Literal(f)), { description: 'Audio format (default mp3)' });

const RecordingResponse = Type.Object({
  // 001's keys and 000's, both.
  recording_url: Type.String(),
  expires_at: Type.String({ format: 'date-time' }),
  url: Type.String(),
  mime: Type.String(),
});

export const recordingRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.get(
    '/calls/:callSid/recording',
    {
      schema: {
        summary: 'A signed, short-lived URL of the call recording',
        tags: ['CallMyCall'],
        params: Type.Object({ callSid: Type.String({ minLength: 1, maxLength: 64 }) }),
        querystring: Type.Object({ format: Type.Optional(Format) }),
        response: { 200: RecordingResponse, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const format: RecordingFormat = req.query.format ?? 'mp3';
      const call = await core.calls.find(req.org.id, req.params.callSid);
      const rec = await core.recordings.forCall(req.org.id, call.id);
      const { url, expiresAt } = core.recordings.signedUrl(rec, format, req.org.keyId);
      return { recording_url: url, expires_at: expiresAt.toISOString(), url, mime: format === 'mp3' ? 'audio/mpeg' : 'audio/wav' };
    },
  );
};

/** `GET /v1/recordings/:sid.:ext?token=`: the signed URL's bytes, with Range requests. No API key: the token is the key. */
export const recordingMediaRoutes: FastifyPluginAsyncTypebox<FaceOptions> = async (app, { core }) => {
  app.get(
    '/recordings/:file',
    {
      config: { signedUrl: true },
      schema: {
        summary: 'Recording audio through a signed, short-lived URL (the token alone authenticates)',
        tags: ['CallMyCall'],
        security: [],
        params: Type.Object({ file: Type.String({ pattern: '^RE[0-9a-f]{32}\\.(mp3|wav)$', description: '`<recording sid>.<mp3|wav>`' }) }),
        querystring: Type.Object({ token: Type.String({ minLength: 1, maxLength: 2000 }) }),
        response: { 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 416: Type.Null() },
      },
    },
    async (req, reply) => {
      const [sid, ext] = req.params.file.split('.') as [string, RecordingFormat];
      const media = await core.recordings.mediaByToken(sid, ext, req.query.token);
      return sendRecording(req, reply, media);
    },
  );
};


